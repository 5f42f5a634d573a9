import FeatureServing
import FeatureStoreClient
import Foundation
import GRPCCore
import Logging
import ServiceLifecycle
import Testing

/// The Swift client library (`FeatureStoreClient`) against a running FeatureServer.
@Suite("FeatureStoreClient: the Swift client of FeatureServer", .serialized, .timeLimit(.minutes(3)))
struct FeatureStoreClientTests {
    static func now() -> Int64 { Int64(Date().timeIntervalSince1970 * 1_000_000) }

    /// One local server, with deadlines generous enough for a loaded test machine.
    static func local(_ port: Int, token: String? = nil) -> ClientConfiguration {
        ClientConfiguration(endpoints: [.init(host: "127.0.0.1", port: port)], token: token, timeout: .seconds(30))
    }

    @Test("push then typed lookups by feature list and by service: values, statuses and event times; a bad feature name is INVALID_ARGUMENT with the server's message")
    func pushAndLookups() async throws {
        let f = try await ServerFixture()
        let t = Self.now() - 5_000_000
        try await withFeatureStoreClient(Self.local(f.port)) { client in
            let pushed = try await client.push(view: "stats", entities: .int64("driver_id", [1, 2]), eventTimestamps: [t, t],
                                               features: ["conv": [0.5, nil], "trips": [7, 9], "tags": [["a", "b"], []]])
            #expect(pushed.received == 2 && pushed.written == 2)
            let got = try await client.onlineFeatures(.features(["stats:conv", "stats:trips", "stats:tags"]), entities: .int64("driver_id", [1, 2, 3]))
            #expect(got.entityCount == 3)
            #expect(got["conv"]?.values == [.double(0.5), .null, .null])
            #expect(got["conv"]?.statuses == [.present, .nullValue, .notFound])
            #expect(got["trips"]?.values == [.int(7), .int(9), .null])
            #expect(got["tags"]?.values.first == .list([.string("a"), .string("b")]))
            #expect(got["conv"]?.eventTimestamps == [t, t, nil])
            #expect(got.row(0)["trips"] == .int(7))
            // An integer for a float feature is taken as that number, as over HTTP/JSON.
            try await client.push(view: "stats", entities: .int64("driver_id", [5]), eventTimestamps: [t], features: ["conv": [.int(2)], "trips": [1], "tags": [[]]])
            #expect(try await client.onlineFeatures(.features(["stats:conv"]), entities: .int64("driver_id", [5]))["conv"]?.values == [.double(2)])
            let service = try await client.onlineFeatures(.service("ranking"), entities: .int64("driver_id", [1]).with("origin", .strings(["a"])).with("dest", .strings(["b"])),
                                                          fullFeatureNames: true)
            #expect(service["stats__conv"]?.values == [.double(0.5)])
            #expect(service["route_stats__minutes"]?.statuses == [.notFound])
            do {
                _ = try await client.onlineFeatures(.features(["stats:nope"]), entities: .int64("driver_id", [1]))
                Issue.record("an unknown feature was answered")
            } catch let error as FeatureStoreClientError {
                #expect(error.code == .invalidArgument && error.message.contains("nope"), "\(error)")
            }
        }
    }

    @Test("bearer tokens: the configured token is sent; without one the server refuses with UNAUTHENTICATED, not retried")
    func tokens() async throws {
        let f = try await ServerFixture(auth: true)
        try await withFeatureStoreClient(Self.local(f.port, token: ServerFixture.readerToken)) { client in
            let got = try await client.onlineFeatures(.features(["stats:conv"]), entities: .int64("driver_id", [1]))
            #expect(got["conv"]?.statuses == [.notFound])
        }
        try await withFeatureStoreClient(Self.local(f.port)) { client in
            do {
                _ = try await client.onlineFeatures(.features(["stats:conv"]), entities: .int64("driver_id", [1]))
                Issue.record("a call without a token was answered")
            } catch let error as FeatureStoreClientError {
                #expect(error.code == .unauthenticated && error.attempts == 1, "\(error)")
            }
        }
    }

    @Test("LookupStream: lookups from many tasks on one stream each get their own answer; a refused lookup fails alone")
    func lookupStream() async throws {
        let f = try await ServerFixture()
        let t = Self.now() - 5_000_000
        try await withFeatureStoreClient(Self.local(f.port)) { client in
            try await client.push(view: "stats", entities: .int64("driver_id", Array(1...50)), eventTimestamps: Array(repeating: t, count: 50),
                                  features: ["conv": (1...50).map { .double(Double($0)) }, "trips": (1...50).map { .int(Int64($0)) }, "tags": Array(repeating: [], count: 50)])
            try await client.withLookupStream { stream in
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for id in Int64(1)...50 {
                        group.addTask {
                            let got = try await stream.lookup(.features(["stats:trips"]), entities: .int64("driver_id", [id]))
                            #expect(got["trips"]?.values == [.int(id)])
                        }
                    }
                    group.addTask {
                        do {
                            _ = try await stream.lookup(.features(["stats:nope"]), entities: .int64("driver_id", [1]))
                            Issue.record("an unknown feature was answered on the stream")
                        } catch let error as FeatureStoreClientError {
                            #expect(error.code == .invalidArgument, "\(error)")
                        }
                    }
                    try await group.waitForAll()
                }
                // The stream goes on after the refused lookup.
                let again = try await stream.lookup(.features(["stats:conv"]), entities: .int64("driver_id", [3]))
                #expect(again["conv"]?.values == [.double(3)])
            }
        }
    }

    @Test("several addresses: one with no server is ejected after UNAVAILABLE and every call is answered by the other")
    func ejectsAnAddressThatIsDown() async throws {
        let f = try await ServerFixture()
        let dead = try Self.freePort()
        let configuration = ClientConfiguration(endpoints: [.init(host: "127.0.0.1", port: dead), .init(host: "127.0.0.1", port: f.port)],
                                                timeout: .seconds(30), retry: .init(maxAttempts: 3, initialBackoff: .milliseconds(5), maxBackoff: .milliseconds(20)))
        try await withFeatureStoreClient(configuration) { client in
            for _ in 0..<20 {
                let got = try await client.onlineFeatures(.features(["stats:conv"]), entities: .int64("driver_id", [1]))
                #expect(got.entityCount == 1)
            }
        }
    }

    @Test("retries: a lookup sent while the server is stopped is answered once it is started again on the same port")
    func retriesAcrossARestart() async throws {
        let f = try await ServerFixture()
        let port = try Self.freePort()
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        func start() throws -> (ServiceGroup, Task<Void, any Error>) {
            let group = ServiceGroup(configuration: .init(services: [.init(service: try GRPCFeatureServer(core: f.core, port: port))], logger: logger))
            return (group, Task { try await group.run() })
        }
        var (group, task) = try start()
        let configuration = ClientConfiguration(endpoints: [.init(host: "127.0.0.1", port: port)], timeout: .seconds(30),
                                                retry: .init(maxAttempts: 40, initialBackoff: .milliseconds(20), maxBackoff: .milliseconds(500)))
        let client = try FeatureStoreClient(configuration)
        let connections = Task { try await client.run() }
        defer { client.shutDown() }
        try await Self.eventually { _ = try await client.onlineFeatures(.features(["stats:conv"]), entities: .int64("driver_id", [1])) }
        await group.triggerGracefulShutdown()
        _ = try? await task.value
        let answered = Task { try await client.onlineFeatures(.features(["stats:conv"]), entities: .int64("driver_id", [1])) }
        try await Task.sleep(for: .milliseconds(400))
        (group, task) = try start()
        let got = try await answered.value
        #expect(got["conv"]?.statuses == [.notFound])
        client.shutDown()
        _ = try? await connections.value
        await group.triggerGracefulShutdown()
        _ = try? await task.value
    }

    static func eventually(_ body: () async throws -> Void) async throws {
        for attempt in 0..<100 {
            do { return try await body() } catch where attempt < 99 { try await Task.sleep(for: .milliseconds(20)) }
        }
    }

    /// A TCP port nothing listens on now.
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else { throw CocoaError(.fileReadUnknown) }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
