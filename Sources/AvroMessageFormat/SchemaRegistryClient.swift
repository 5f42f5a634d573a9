import Avro
import ErrorChain
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A client of a Confluent Schema Registry (its REST API): schemas by id (`GET /schemas/ids/{id}`) and a subject's
/// latest version (`GET /subjects/{subject}/versions/latest`), with HTTP basic authentication.
///
/// Answers are fetched once: a schema id never changes its schema, so found and unknown ids are both kept.
struct SchemaRegistryClient: Sendable {
    /// The registry's base URL (`http://registry:8081`).
    let url: URL
    /// `user:password`, for basic authentication.
    let userInfo: String?
    /// How long one request may take.
    let timeout: TimeInterval

    /// What the registry says about a schema id.
    enum Lookup: Sendable {
        /// An Avro schema.
        case schema(AvroSchema)
        /// No such id, or a schema that is not Avro or does not parse: messages naming it are dead letters.
        case unusable(String)
    }

    private struct SchemaAnswer: Decodable {
        var schema: String
        var schemaType: String?
        var id: Int?
    }

    private struct ErrorAnswer: Decodable {
        var error_code: Int?
        var message: String?
    }

    /// The schema of `id`.
    ///
    /// - Throws: a ``RegistryError`` when the registry cannot be asked now (unreachable, a server error): the
    ///   ingester retries the batch rather than dead-lettering good messages.
    func schema(id: Int32) async throws(RegistryError) -> Lookup {
        switch try await get("schemas/ids/\(id)") {
        case .found(let data):
            guard let answer = try? JSONDecoder().decode(SchemaAnswer.self, from: data) else {
                return .unusable("the registry's answer for schema id \(id) is not a schema")
            }
            if let type = answer.schemaType, type.uppercased() != "AVRO" {
                return .unusable("schema id \(id) is a \(type) schema, not Avro")
            }
            do {
                return .schema(try AvroSchema(parsing: answer.schema))
            } catch {
                return .unusable("schema id \(id) does not parse: \(error.message)")
            }
        case .notFound(let message):
            return .unusable("schema id \(id) is not in the registry (\(message))")
        }
    }

    /// The latest schema registered under `subject`, or nil when the subject has none (or it is not Avro).
    func latest(subject: String) async throws(RegistryError) -> AvroSchema? {
        let escaped = subject.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(CharacterSet(charactersIn: "/"))) ?? subject
        switch try await get("subjects/\(escaped)/versions/latest") {
        case .found(let data):
            guard let answer = try? JSONDecoder().decode(SchemaAnswer.self, from: data),
                  answer.schemaType == nil || answer.schemaType?.uppercased() == "AVRO" else { return nil }
            return try? AvroSchema(parsing: answer.schema)
        case .notFound:
            return nil
        }
    }

    private enum Answer {
        case found(Data)
        case notFound(String)
    }

    private func get(_ path: String) async throws(RegistryError) -> Answer {
        var request = URLRequest(url: url.appendingPathComponent(path), timeoutInterval: timeout)
        request.setValue("application/vnd.schemaregistry.v1+json, application/json", forHTTPHeaderField: "Accept")
        if let userInfo {
            request.setValue("Basic " + Data(userInfo.utf8).base64EncodedString(), forHTTPHeaderField: "Authorization")
        }
        let data: Data, response: URLResponse
        do {
            (data, response) = try await URLSession.shared.data(for: request)
        } catch {
            throw RegistryError("cannot reach the schema registry at \(url.absoluteString)", cause: error)
        }
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        let message = (try? JSONDecoder().decode(ErrorAnswer.self, from: data))?.message ?? "HTTP \(status)"
        switch status {
        case 200..<300: return .found(data)
        case 401: throw RegistryError("the schema registry refused the credentials (HTTP \(status): \(message))")
        // Not found, forbidden for this schema, or an id it cannot take: about this id, not the registry.
        case 400..<500 where status != 408 && status != 429: return .notFound("HTTP \(status): \(message)")
        default: throw RegistryError("the schema registry answered HTTP \(status) for \(path): \(message)")
        }
    }
}

/// The schema registry cannot be asked now.
struct RegistryError: ChainedError {
    var message: String
    var cause: (any Error & Sendable)?

    init(_ message: String, cause: (any Error & Sendable)? = nil) {
        self.message = message
        self.cause = cause
    }

    var errorCode: String { "schema_registry" }

    var description: String { ErrorChain.render(self) }
}
