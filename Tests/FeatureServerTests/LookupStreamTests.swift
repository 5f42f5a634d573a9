import FeatureServing
import FeatureServingAPI
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import SwiftProtobuf
import Testing

/// Lookups of one LookupStream, sent all at once, and the answers collected.
func streamLookups(_ client: Featurestore_V1_FeatureServing.Client<HTTP2ClientTransport.Posix>, metadata: Metadata = [:],
                   _ requests: [Featurestore_V1_LookupStreamRequest]) async throws -> [Featurestore_V1_LookupStreamResponse] {
    try await client.lookupStream(metadata: metadata) { writer in
        try await writer.write(contentsOf: requests)
    } onResponse: { response in
        var answers: [Featurestore_V1_LookupStreamResponse] = []
        for try await answer in response.messages { answers.append(answer) }
        return answers
    }
}

func streamRequest(_ id: UInt64, drivers: [Int64], refs: [String]) -> Featurestore_V1_LookupStreamRequest {
    .with {
        $0.id = id
        $0.lookup = .with {
            $0.entities = ["driver_id": ints(drivers)]
            $0.featureRefs = .with { $0.refs = refs }
        }
    }
}

@Suite("LookupStream: many lookups on one gRPC stream", .serialized, .timeLimit(.minutes(5)))
struct LookupStreamTests {
    @Test("answers come in request order with each request's id and the same features as the unary call")
    func answersInOrderWithIDs() async throws {
        let f = try await ServerFixture()
        try await f.withClient { client in
            _ = try await client.pushFeatures(.with {
                $0.featureView = "stats"
                $0.entities = ["driver_id": ints([1, 2])]
                $0.eventTimestampsMicros = [Int64(Date().timeIntervalSince1970 * 1e6) - 10_000_000, Int64(Date().timeIntervalSince1970 * 1e6) - 10_000_000]
                $0.features = ["conv": .with { $0.values = [.with { $0.doubleValue = 0.25 }, .with { $0.doubleValue = 0.75 }] }]
            })
            // Ids chosen by the caller: not increasing, one repeated.
            let ids: [UInt64] = (0..<200).map { UInt64(($0 * 7919) % 211) } + [5, 5]
            let requests = ids.enumerated().map { i, id in streamRequest(id, drivers: [Int64(1 + i % 3)], refs: ["stats:conv"]) }
            let answers = try await streamLookups(client, requests)
            #expect(answers.map(\.id) == ids)
            for (i, answer) in answers.enumerated() {
                let unary = try await client.getOnlineFeatures(requests[i].lookup)
                #expect(answer.features == unary, "answer \(i)")
            }
            #expect(answers[0].features.features[0].values[0].doubleValue == 0.25)
            #expect(answers[2].features.features[0].statuses == [.notFound])
        }
        try await f.stop()
    }

    @Test("a bad lookup is answered with its error, naming the field, and the stream goes on")
    func badLookupAnsweredStreamGoesOn() async throws {
        let f = try await ServerFixture()
        try await f.withClient { client in
            let answers = try await streamLookups(client, [
                streamRequest(1, drivers: [1], refs: ["stats:conv"]),
                streamRequest(2, drivers: [1], refs: ["stats:conf"]),
                streamRequest(3, drivers: [], refs: ["stats:conv"]),
                .with { $0.id = 4 },
                streamRequest(5, drivers: [1], refs: ["stats:conv"]),
            ])
            #expect(answers.map(\.id) == [1, 2, 3, 4, 5])
            #expect(answers[0].result == .features(answers[0].features) && answers[4].error == Featurestore_V1_LookupError())
            #expect(answers[1].error.code == Int32(RPCError.Code.invalidArgument.rawValue))
            #expect(answers[1].error.message.contains("feature view 'stats' has no feature 'conf'"), "\(answers[1].error.message)")
            #expect(answers[2].error.message.contains("lookup.entities: empty batch"), "\(answers[2].error.message)")
            #expect(answers[3].error.message.contains("lookup.features: set feature_service or feature_refs"), "\(answers[3].error.message)")
        }
        try await f.stop()
    }

    @Test("the token is checked once per stream: none is UNAUTHENTICATED before any answer, a scope missing is one lookup's PERMISSION_DENIED")
    func tokenCheckedPerStream() async throws {
        let f = try await ServerFixture(auth: true)
        try await f.withClient { client in
            let refused = await #expect(throws: RPCError.self) {
                _ = try await streamLookups(client, [streamRequest(1, drivers: [1], refs: ["stats:conv"])])
            }
            #expect(refused?.code == .unauthenticated)
            let answers = try await streamLookups(client, metadata: bearer(ServerFixture.routeReaderToken), [
                streamRequest(1, drivers: [1], refs: ["stats:conv"]),
                .with {
                    $0.id = 2
                    $0.lookup = .with {
                        $0.entities = ["origin": strings(["A"]), "dest": strings(["B"])]
                        $0.featureRefs = .with { $0.refs = ["route_stats:minutes"] }
                    }
                },
            ])
            #expect(answers.map(\.id) == [1, 2])
            #expect(answers[0].error.code == Int32(RPCError.Code.permissionDenied.rawValue))
            #expect(answers[1].features.featureNames == ["minutes"])
        }
        try await f.stop()
    }

    @Test("a graceful shutdown ends an open, idle stream with OK, so the server stops")
    func shutdownEndsIdleStream() async throws {
        let f = try await ServerFixture()
        let transport = try HTTP2ClientTransport.Posix(target: .ipv4(address: "127.0.0.1", port: f.port), transportSecurity: .plaintext)
        let client = GRPCClient(transport: transport)
        let connections = Task { try await client.runConnections() }
        let stub = Featurestore_V1_FeatureServing.Client(wrapping: client)
        let answered = AsyncStream<Void>.makeStream()
        let stream = Task {
            try await stub.lookupStream { writer in
                try await writer.write(streamRequest(1, drivers: [1], refs: ["stats:conv"]))
                // Idle from here on: the caller never ends its side.
                try await Task.sleep(for: .seconds(600))
            } onResponse: { response in
                var ids: [UInt64] = []
                for try await answer in response.messages {
                    ids.append(answer.id)
                    answered.continuation.yield()
                }
                return ids
            }
        }
        var iterator = answered.stream.makeAsyncIterator()
        _ = await iterator.next()
        let clock = ContinuousClock()
        let began = clock.now
        try await f.stop()
        #expect(clock.now - began < .seconds(30), "the server stopped with a stream open")
        stream.cancel()
        client.beginGracefulShutdown()
        connections.cancel()
    }
}
