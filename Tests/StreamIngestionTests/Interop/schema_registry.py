"""A Confluent Schema Registry for the tests, answering as the real one does (the REST API's JSON and error codes):
register a schema under a subject, schemas by id, a subject's versions and latest version. Basic authentication
with USER:PASSWORD. Prints its port, then serves until killed.

python schema_registry.py USER:PASSWORD [PORT]
"""
import base64
import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

credentials = sys.argv[1]
schemas = []            # id - 1 -> {"schema": text, "schemaType": type}
subjects = {}           # subject -> [id, ...] (version - 1 -> id)


class Registry(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def answer(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/vnd.schemaregistry.v1+json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def authorized(self):
        expected = "Basic " + base64.b64encode(credentials.encode()).decode()
        if self.headers.get("Authorization") == expected:
            return True
        self.answer(401, {"error_code": 401, "message": "Unauthorized"})
        return False

    def do_GET(self):
        if not self.authorized():
            return
        parts = [p for p in self.path.split("?")[0].split("/") if p]
        if parts[:2] == ["schemas", "ids"] and len(parts) == 3:
            i = int(parts[2])
            if 1 <= i <= len(schemas):
                body = {"schema": schemas[i - 1]["schema"]}
                if schemas[i - 1]["schemaType"] != "AVRO":
                    body["schemaType"] = schemas[i - 1]["schemaType"]
                return self.answer(200, body)
            return self.answer(404, {"error_code": 40403, "message": f"Schema {i} not found"})
        if parts == ["subjects"]:
            return self.answer(200, sorted(subjects))
        if len(parts) == 4 and parts[0] == "subjects" and parts[2] == "versions":
            subject = parts[1]
            if subject not in subjects:
                return self.answer(404, {"error_code": 40401, "message": f"Subject '{subject}' not found."})
            versions = subjects[subject]
            n = len(versions) if parts[3] == "latest" else int(parts[3])
            if not 1 <= n <= len(versions):
                return self.answer(404, {"error_code": 40402, "message": f"Version {parts[3]} not found."})
            i = versions[n - 1]
            return self.answer(200, {"subject": subject, "version": n, "id": i, "schema": schemas[i - 1]["schema"]})
        self.answer(404, {"error_code": 404, "message": "HTTP 404 Not Found"})

    def do_POST(self):
        if not self.authorized():
            return
        parts = [p for p in self.path.split("?")[0].split("/") if p]
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))) or b"{}")
        if len(parts) == 3 and parts[0] == "subjects" and parts[2] == "versions":
            text = json.dumps(json.loads(body["schema"]), sort_keys=True, separators=(",", ":"))
            kind = body.get("schemaType", "AVRO")
            found = next((k + 1 for k, s in enumerate(schemas) if s["schema"] == text and s["schemaType"] == kind), None)
            if found is None:
                schemas.append({"schema": text, "schemaType": kind})
                found = len(schemas)
            versions = subjects.setdefault(parts[1], [])
            if found not in versions:
                versions.append(found)
            return self.answer(200, {"id": found})
        if len(parts) == 2 and parts[0] == "subjects":
            # Lookup of a schema under a subject.
            text = json.dumps(json.loads(body["schema"]), sort_keys=True, separators=(",", ":"))
            for n, i in enumerate(subjects.get(parts[1], [])):
                if schemas[i - 1]["schema"] == text:
                    return self.answer(200, {"subject": parts[1], "version": n + 1, "id": i, "schema": text})
            return self.answer(404, {"error_code": 40403, "message": "Schema not found"})
        self.answer(404, {"error_code": 404, "message": "HTTP 404 Not Found"})


server = ThreadingHTTPServer(("127.0.0.1", int(sys.argv[2]) if len(sys.argv) > 2 else 0), Registry)
print(server.server_address[1], flush=True)
server.serve_forever()
