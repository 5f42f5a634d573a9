@testable import FeatureServing
import FeatureServingAPI
import FeatureStoreCore
import Foundation
import ServingSettings
import GRPCCore
import GRPCNIOTransportCore
import GRPCNIOTransportHTTP2Posix
import SwiftProtobuf
import Testing

@Suite("Bearer-token auth", .serialized, .timeLimit(.minutes(5)))
struct AuthTests {
    /// A lookup of `view` (or a push to it) over gRPC with `token`; the status code that came back.
    static func grpcCode(_ f: ServerFixture, push: Bool, view: String, token: String?) async throws -> RPCError.Code? {
        try await f.withClient { client in
            let metadata: Metadata = token.map(bearer) ?? [:]
            do {
                if push {
                    _ = try await client.pushFeatures(.with {
                        $0.featureView = view
                        $0.entities = view == "stats" ? ["driver_id": ints([1])] : ["origin": strings(["A"]), "dest": strings(["B"])]
                        $0.eventTimestampsMicros = [1]
                    }, metadata: metadata)
                } else {
                    _ = try await client.getOnlineFeatures(.with {
                        $0.entities = view == "stats" ? ["driver_id": ints([1])] : ["origin": strings(["A"]), "dest": strings(["B"])]
                        $0.featureRefs = .with { $0.refs = [view] }
                    }, metadata: metadata)
                }
                return nil
            } catch let error as RPCError {
                return error.code
            }
        }
    }

    @Test("gRPC: no token or an unknown token is UNAUTHENTICATED, a token without the scope PERMISSION_DENIED, the right scope OK")
    func grpcCodes() async throws {
        let f = try await ServerFixture(auth: true)
        #expect(try await Self.grpcCode(f, push: false, view: "stats", token: nil) == .unauthenticated)
        #expect(try await Self.grpcCode(f, push: false, view: "stats", token: "not-a-known-token-000") == .unauthenticated)
        #expect(try await Self.grpcCode(f, push: false, view: "stats", token: ServerFixture.routeReaderToken) == .permissionDenied)
        #expect(try await Self.grpcCode(f, push: false, view: "route_stats", token: ServerFixture.routeReaderToken) == nil)
        #expect(try await Self.grpcCode(f, push: false, view: "stats", token: ServerFixture.readerToken) == nil)
        #expect(try await Self.grpcCode(f, push: true, view: "stats", token: ServerFixture.readerToken) == .permissionDenied)
        #expect(try await Self.grpcCode(f, push: true, view: "stats", token: ServerFixture.statsWriterToken) == nil)
        #expect(try await Self.grpcCode(f, push: true, view: "route_stats", token: ServerFixture.statsWriterToken) == .permissionDenied)
        try await f.stop()
    }

    @Test("gRPC: a service lookup needs read on every view of the service, and the error names the missing scope")
    func serviceNeedsEveryView() async throws {
        let f = try await ServerFixture(auth: true)
        let message: String? = try await f.withClient { client in
            do {
                _ = try await client.getOnlineFeatures(.with {
                    $0.entities = ["driver_id": ints([1]), "origin": strings(["A"]), "dest": strings(["B"])]
                    $0.featureService = "ranking"
                }, metadata: bearer(ServerFixture.routeReaderToken))
                return nil
            } catch let error as RPCError {
                return error.message
            }
        }
        #expect(message == "token 'route_reader' has no scope read:stats (its scopes: read:route_stats)")
        try await f.stop()
    }

    @Test("write:* lets a token push to every view, and writing never implies reading")
    func writeAnyView() async throws {
        let f = try await ServerFixture(auth: true)
        #expect(try await Self.grpcCode(f, push: true, view: "stats", token: ServerFixture.writerAllToken) == nil)
        #expect(try await Self.grpcCode(f, push: true, view: "route_stats", token: ServerFixture.writerAllToken) == nil)
        #expect(try await Self.grpcCode(f, push: false, view: "stats", token: ServerFixture.writerAllToken) == .permissionDenied)
        let push = #"{"feature_view": "route_stats", "entities": {"origin": ["A"], "dest": ["B"]}, "event_timestamps": [1]}"#
        #expect(try await f.http("POST", "/v1/push", json: push, token: ServerFixture.writerAllToken).status == 200)
        try await f.stop()
    }

    @Test("HTTP: a service lookup needs read on every view of the service, and the error names the missing scope")
    func httpServiceNeedsEveryView() async throws {
        let f = try await ServerFixture(auth: true)
        let lookup = #"{"feature_service": "ranking", "entities": {"driver_id": [1], "origin": ["A"], "dest": ["B"]}}"#
        let denied = try await f.http("POST", "/v1/online-features", json: lookup, token: ServerFixture.routeReaderToken)
        #expect(denied.status == 403)
        #expect((denied.json["error"] as? [String: Any])?["code"] as? String == "PERMISSION_DENIED")
        #expect((denied.json["error"] as? [String: Any])?["message"] as? String == "token 'route_reader' has no scope read:stats (its scopes: read:route_stats)")
        #expect(try await f.http("POST", "/v1/online-features", json: lookup, token: ServerFixture.readerToken).status == 200)
        try await f.stop()
    }

    @Test("gRPC: the catalog needs a read scope; health checking stays open")
    func grpcCatalogAndHealth() async throws {
        let f = try await ServerFixture(auth: true)
        try await f.withClient { client in
            await #expect(throws: RPCError.self) { _ = try await client.listFeatureViews(.init()) }
            let denied = await #expect(throws: RPCError.self) {
                _ = try await client.listFeatureViews(.init(), metadata: bearer(ServerFixture.statsWriterToken))
            }
            #expect(denied?.code == .permissionDenied)
            let views = try await client.listFeatureViews(.init(), metadata: bearer(ServerFixture.routeReaderToken))
            #expect(views.featureViews.count == 2)
        }
        try await withGRPCClient(transport: .http2NIOPosix(target: .ipv4(address: "127.0.0.1", port: f.port), transportSecurity: .plaintext)) { client in
            let status = try await Grpc_Health_V1_Health.Client(wrapping: client).check(.init()).status
            #expect(status == .serving)
        }
        try await f.stop()
    }

    @Test("HTTP: 401 without or with an unknown token, 403 without the scope, 200 with it; /healthz and /metrics stay open")
    func httpStatuses() async throws {
        let f = try await ServerFixture(auth: true)
        let lookup = #"{"features": ["stats"], "entities": {"driver_id": [1]}}"#
        let none = try await f.http("POST", "/v1/online-features", json: lookup)
        #expect(none.status == 401 && (none.json["error"] as? [String: Any])?["code"] as? String == "UNAUTHENTICATED")
        #expect(try await f.http("POST", "/v1/online-features", json: lookup, token: "not-a-known-token-000").status == 401)
        let denied = try await f.http("POST", "/v1/online-features", json: lookup, token: ServerFixture.statsWriterToken)
        #expect(denied.status == 403 && denied.body.contains("has no scope read:stats"))
        #expect(try await f.http("POST", "/v1/online-features", json: lookup, token: ServerFixture.readerToken).status == 200)
        let push = #"{"feature_view": "stats", "entities": {"driver_id": [1]}, "event_timestamps": [1]}"#
        #expect(try await f.http("POST", "/v1/push", json: push, token: ServerFixture.readerToken).status == 403)
        #expect(try await f.http("POST", "/v1/push", json: push, token: ServerFixture.statsWriterToken).status == 200)
        #expect(try await f.http("GET", "/healthz").status == 200)
        #expect(try await f.http("GET", "/metrics").status == 200)
        try await f.stop()
    }
}

@Suite("Access policy", .timeLimit(.minutes(5)))
struct AccessPolicyTests {
    let dir = FileManager.default.temporaryDirectory

    @Test("secrets load from the environment and from files; missing, short and shared secrets are start-up errors")
    func loading() throws {
        let config = AuthConfig(tokens: [TokenConfig(name: "a", scopes: [AccessScope(.read, view: nil)], secret: .environment("A_TOKEN"))])
        let policy = try AccessPolicy(config: config, repository: dir, environment: ["A_TOKEN": "  0123456789abcdef\n"])
        #expect(try policy.authenticate("Bearer 0123456789abcdef")?.name == "a")
        #expect(try policy.authenticate("bearer 0123456789abcdef")?.name == "a")
        #expect(throws: ServingError(.unauthenticated, "authorization: unknown bearer token")) { try policy.authenticate("Bearer 0123456789abcdeF") }
        #expect(throws: ServingError(.unauthenticated, "authorization: not a bearer token; send 'authorization: Bearer <token>'")) {
            try policy.authenticate("Basic 0123456789abcdef")
        }
        func message(_ config: AuthConfig, _ env: [String: String]) -> String? {
            do { _ = try AccessPolicy(config: config, repository: dir, environment: env); return nil } catch { return error.message }
        }
        #expect(message(config, [:]) == "auth token 'a': the environment variable A_TOKEN is not set")
        #expect(message(config, ["A_TOKEN": "short"]) == "auth token 'a': the secret is 5 characters; use at least 16 (for instance `openssl rand -hex 32`)")
        let missingFile = AuthConfig(tokens: [TokenConfig(name: "f", scopes: [], secret: .file("no/such.token"))])
        #expect(message(missingFile, [:])?.hasPrefix("auth token 'f': cannot read the secret file") == true)
        let twice = AuthConfig(tokens: [config.tokens[0], TokenConfig(name: "b", scopes: [], secret: .environment("A_TOKEN"))])
        #expect(message(twice, ["A_TOKEN": "0123456789abcdef"]) == "auth tokens 'a' and 'b' have the same secret")
        #expect(try AccessPolicy(config: nil, repository: dir).authenticate(nil) == nil)
    }

    @Test("token comparison is exact for every length and prefix")
    func constantTimeEquals() {
        let secret = Array("0123456789abcdef".utf8)
        #expect(AccessPolicy.constantTimeEquals(secret, secret))
        #expect(!AccessPolicy.constantTimeEquals(Array(secret.dropLast()), secret))
        #expect(!AccessPolicy.constantTimeEquals(secret + [0], secret))
        #expect(!AccessPolicy.constantTimeEquals(secret + secret, secret))
        #expect(!AccessPolicy.constantTimeEquals([], secret))
        for i in secret.indices {
            var other = secret
            other[i] ^= 1
            #expect(!AccessPolicy.constantTimeEquals(other, secret))
        }
    }
}
