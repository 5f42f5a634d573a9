import Foundation
import Testing

/// Certificates made by openssl for a test: a CA, a server certificate for 127.0.0.1 and localhost, a client certificate
/// signed by the CA, and a rogue CA's client certificate the server must refuse.
struct TestCertificates {
    let dir: URL

    init() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try makeCA("ca")
        try makeCA("rogue-ca")
        try issue("server", by: "ca", commonName: "localhost", extensions: "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth")
        try issue("client", by: "ca", commonName: "ranking-model", extensions: "extendedKeyUsage=clientAuth")
        try issue("rogue-client", by: "rogue-ca", commonName: "intruder", extensions: "extendedKeyUsage=clientAuth")
    }

    func path(_ name: String) -> String { dir.appendingPathComponent(name).path }

    func openssl(_ arguments: [String]) throws {
        let result = try runProcess(URL(fileURLWithPath: "/usr/bin/openssl"), arguments, in: dir, timeout: 60)
        guard result.status == 0 else { throw ServerProcessError(log: "openssl \(arguments.joined(separator: " ")): \(result.stderr)") }
    }

    func makeCA(_ name: String) throws {
        try openssl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", "\(name).key",
                     "-out", "\(name).pem", "-days", "2", "-subj", "/CN=\(name)"])
    }

    /// A key and a certificate `name.pem` signed by `ca`, written to temporary names first and then renamed (a
    /// renewal replaces the files the server reads at once).
    func issue(_ name: String, by ca: String, commonName: String, extensions: String) throws {
        try extensions.write(to: dir.appendingPathComponent("\(name).ext"), atomically: true, encoding: .utf8)
        try openssl(["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", "\(name).key.new",
                     "-out", "\(name).csr", "-subj", "/CN=\(commonName)"])
        try openssl(["x509", "-req", "-in", "\(name).csr", "-CA", "\(ca).pem", "-CAkey", "\(ca).key", "-CAcreateserial",
                     "-out", "\(name).pem.new", "-days", "2", "-extfile", "\(name).ext"])
        for file in ["\(name).key", "\(name).pem"] {
            _ = rename(path(file + ".new"), path(file))
        }
    }
}

/// Python: TLS handshakes and calls against the server's three faces, printing one JSON object per line.
private let tlsProbe = #"""
import json, socket, ssl, sys, time, os
import grpc
sys.path.insert(0, sys.argv[1])
from featurestore.v1 import serving_pb2, serving_pb2_grpc

certs, grpc_port, http_port, catalog_port, mode = sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), sys.argv[6]
def read(name):
    with open(os.path.join(certs, name), "rb") as f:
        return f.read()

def grpc_call(client=("client.pem", "client.key"), secure=True, channel=None):
    if channel is None:
        if secure:
            creds = grpc.ssl_channel_credentials(read("ca.pem"), read(client[1]) if client else None, read(client[0]) if client else None)
            channel = grpc.secure_channel(f"127.0.0.1:{grpc_port}", creds)
        else:
            channel = grpc.insecure_channel(f"127.0.0.1:{grpc_port}")
    stub = serving_pb2_grpc.FeatureServingStub(channel)
    try:
        reply = stub.ListFeatureServices(serving_pb2.ListFeatureServicesRequest(), timeout=5)
        return "ok", [s.name for s in reply.feature_services]
    except grpc.RpcError as e:
        return e.code().name, e.details()

def https(port, path, client=True):
    context = ssl.create_default_context(cafile=os.path.join(certs, "ca.pem"))
    if client:
        context.load_cert_chain(os.path.join(certs, "client.pem"), os.path.join(certs, "client.key"))
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
            with context.wrap_socket(raw, server_hostname="localhost") as tls:
                tls.sendall(f"GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n".encode())
                data = b""
                while True:
                    chunk = tls.recv(65536)
                    if not chunk:
                        break
                    data += chunk
                subject = dict(x[0] for x in tls.getpeercert()["subject"])
                return data.split(b" ")[1].decode(), subject["commonName"]
    except (ssl.SSLError, ConnectionError, OSError) as e:
        return "refused", type(e).__name__

def peer_name(port, alpn):
    context = ssl.create_default_context(cafile=os.path.join(certs, "ca.pem"))
    context.load_cert_chain(os.path.join(certs, "client.pem"), os.path.join(certs, "client.key"))
    context.set_alpn_protocols([alpn])
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
        with context.wrap_socket(raw, server_hostname="localhost") as tls:
            return dict(x[0] for x in tls.getpeercert()["subject"])["commonName"]

if mode == "faces":
    print(json.dumps({"case": "grpc mtls", "result": grpc_call()}))
    print(json.dumps({"case": "grpc plaintext", "result": grpc_call(secure=False)}))
    print(json.dumps({"case": "grpc no client certificate", "result": grpc_call(client=None)}))
    print(json.dumps({"case": "grpc rogue client certificate", "result": grpc_call(client=("rogue-client.pem", "rogue-client.key"))}))
    print(json.dumps({"case": "https healthz", "result": https(http_port, "/healthz")}))
    print(json.dumps({"case": "https catalog", "result": https(catalog_port, "/api/v1/catalog")}))
    print(json.dumps({"case": "https no client certificate", "result": https(http_port, "/healthz", client=False)}))
elif mode == "held":
    # One connection opened before the renewal keeps serving after it.
    creds = grpc.ssl_channel_credentials(read("ca.pem"), read("client.key"), read("client.pem"))
    channel = grpc.secure_channel(f"127.0.0.1:{grpc_port}", creds)
    print(json.dumps({"case": "held before", "result": grpc_call(channel=channel)}), flush=True)
    open(os.path.join(certs, "held.ready"), "w").close()
    deadline = time.time() + 60
    while not os.path.exists(os.path.join(certs, "renewed")) and time.time() < deadline:
        time.sleep(0.05)
    print(json.dumps({"case": "held after", "result": grpc_call(channel=channel)}))
elif mode == "names":
    print(json.dumps({"case": "names", "result": [peer_name(grpc_port, "h2"), peer_name(http_port, "http/1.1"), peer_name(catalog_port, "http/1.1")]}))
"""#

@Suite("TLS and mutual TLS on every face (FeatureServer, openssl certificates, Python clients)", .serialized, .timeLimit(.minutes(10)))
struct TLSTests {
    /// A repository with the sample data applied and materialized, its `tls` section requiring client certificates
    /// and reloading every second.
    static func repository(_ certs: TestCertificates) async throws -> URL {
        let repo = FileManager.default.temporaryDirectory.appendingPathComponent("tls-repo-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: repo, withIntermediateDirectories: true)
        for file in try FileManager.default.contentsOfDirectory(atPath: packageRoot.appendingPathComponent("features").path) where file.hasSuffix(".yaml") {
            try FileManager.default.copyItem(at: packageRoot.appendingPathComponent("features/\(file)"), to: repo.appendingPathComponent(file))
        }
        let config = repo.appendingPathComponent("feature_store.yaml")
        let yaml = try String(contentsOf: config, encoding: .utf8) + """

            tls:
              certificate: \(certs.path("server.pem"))
              key: \(certs.path("server.key"))
              client_ca: \(certs.path("ca.pem"))
              reload_interval: 1s

            """
        try yaml.write(to: config, atomically: true, encoding: .utf8)
        for step in [["sample-data", "--repo", repo.path], ["apply", "--repo", repo.path]] {
            let result = try await featurectl(step)
            try #require(result.status == 0, "\(step): \(result.stderr)")
        }
        return repo
    }

    static func probe(_ certs: TestCertificates, _ server: ServerProcess, _ mode: String) -> [String] {
        [ "-c", tlsProbe, packageRoot.appendingPathComponent("examples/python/generated").path, certs.dir.path,
          String(server.grpcPort), String(server.httpPort), String(server.catalogPort), mode]
    }

    static func results(_ run: RunResult) -> [String: [Any]] {
        var out: [String: [Any]] = [:]
        for line in run.stdout.split(separator: "\n") {
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  let name = object["case"] as? String, let result = object["result"] as? [Any] else { continue }
            out[name] = result
        }
        return out
    }

    @Test("gRPC, HTTP/JSON and the catalog answer over TLS to a client with a certificate from the CA; plaintext, no certificate and a rogue CA's certificate are refused")
    func mutualTLSOnEveryFace() async throws {
        let certs = try TestCertificates()
        let repo = try await Self.repository(certs)
        // The generated Python stubs (client.py makes them when missing).
        _ = try await runPython([packageRoot.appendingPathComponent("examples/python/generate_stubs.py").path])
        let server = try ServerProcess(repository: repo)
        let run = try await runPython(Self.probe(certs, server, "faces"))
        let client = try await runPython([packageRoot.appendingPathComponent("examples/python/client.py").path,
                                          "--target", "localhost:\(server.grpcPort)", "--drivers", "1001,1002", "--json",
                                          "--ca", certs.path("ca.pem"), "--cert", certs.path("client.pem"), "--key", certs.path("client.key")])
        let status = server.terminate()
        #expect(run.status == 0, "\(run.stderr)")
        let r = Self.results(run)
        #expect(r["grpc mtls"]?.first as? String == "ok", "\(r)")
        #expect((r["grpc mtls"]?.last as? [String])?.contains("driver_ranking_v1") == true, "\(r)")
        #expect(r["grpc plaintext"]?.first as? String == "UNAVAILABLE", "\(r)")
        #expect(r["grpc no client certificate"]?.first as? String == "UNAVAILABLE", "\(r)")
        #expect(r["grpc rogue client certificate"]?.first as? String == "UNAVAILABLE", "\(r)")
        #expect(r["https healthz"].map { $0.map { "\($0)" } } == ["200", "localhost"], "\(r)")
        #expect(r["https catalog"].map { $0.map { "\($0)" } } == ["200", "localhost"], "\(r)")
        #expect(r["https no client certificate"]?.first as? String == "refused", "\(r)")
        #expect(client.status == 0, "\(client.stderr)")
        #expect(client.stdout.split(separator: "\n").count == 2, "\(client.stdout)")
        #expect(status == 0)
    }

    @Test("a renewed certificate is served to new connections within the reload interval while a connection opened before keeps working")
    func renewedCertificateWithoutDroppingConnections() async throws {
        let certs = try TestCertificates()
        let repo = try await Self.repository(certs)
        _ = try await runPython([packageRoot.appendingPathComponent("examples/python/generate_stubs.py").path])
        let server = try ServerProcess(repository: repo)
        defer { _ = server.terminate() }
        let before = try await runPython(Self.probe(certs, server, "names"))
        #expect(Self.results(before)["names"] as? [String] == ["localhost", "localhost", "localhost"], "\(before.stdout)\(before.stderr)")

        let heldArguments = Self.probe(certs, server, "held")
        let held = Task { try await runPython(heldArguments) }
        let ready = certs.dir.appendingPathComponent("held.ready")
        for _ in 0..<600 where !FileManager.default.fileExists(atPath: ready.path) { try await Task.sleep(for: .milliseconds(50)) }
        try certs.issue("server", by: "ca", commonName: "renewed.localhost", extensions: "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth")
        try await Task.sleep(for: .seconds(3))
        _ = FileManager.default.createFile(atPath: certs.dir.appendingPathComponent("renewed").path, contents: nil)
        let heldRun = try await held.value
        let after = try await runPython(Self.probe(certs, server, "names"))
        let h = Self.results(heldRun)
        #expect(h["held before"]?.first as? String == "ok" && h["held after"]?.first as? String == "ok", "\(heldRun.stdout)\(heldRun.stderr)")
        #expect(Self.results(after)["names"] as? [String] == ["renewed.localhost", "renewed.localhost", "renewed.localhost"], "\(after.stdout)\(after.stderr)")
        #expect(server.log.contains("TLS certificate reloaded"), "\(server.log)")
    }

    @Test("a missing key file stops the server at start with the tls setting and its place in feature_store.yaml")
    func missingKeyNamesTheSetting() async throws {
        let certs = try TestCertificates()
        let repo = try await Self.repository(certs)
        try FileManager.default.removeItem(atPath: certs.path("server.key"))
        let run = try await offPool {
            try runProcess(productsDirectory.appendingPathComponent("FeatureServer"), ["--repo", repo.path, "--grpc-port", "0", "--http-port", "0", "--catalog-port", "0"], timeout: 60)
        }
        #expect(run.status != 0)
        #expect(run.stderr.contains("feature_store.yaml:") && run.stderr.contains("tls.key: cannot read '\(certs.path("server.key"))'"), "\(run.stderr)")
    }
}
