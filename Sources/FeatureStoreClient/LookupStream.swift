import FeatureServingAPI
import SwiftProtobuf
import GRPCCore
import GRPCNIOTransportHTTP2
import Synchronization

/// Many lookups on one long-lived `LookupStream` call: each ``lookup(_:entities:requestContext:fullFeatureNames:)``
/// sends its request at once and waits for its own answer (matched by id), so callers on several tasks share the
/// stream and keep many lookups in flight. A lookup the server refuses fails alone; the stream goes on. Open one with
/// ``FeatureStoreClient/withLookupStream(_:)``.
///
/// The stream stays on the server it was opened on: it is not retried elsewhere if that server goes away (its
/// lookups then fail with `UNAVAILABLE`; open another).
public final class LookupStream: Sendable {
    private let requests: AsyncStream<Featurestore_V1_LookupStreamRequest>.Continuation
    private let pending = Mutex<Pending>(Pending())

    private struct Pending {
        var next: UInt64 = 1
        var waiting: [UInt64: CheckedContinuation<Featurestore_V1_LookupStreamResponse, any Error>] = [:]
        var failure: FeatureStoreClientError?
    }

    init(requests: AsyncStream<Featurestore_V1_LookupStreamRequest>.Continuation) {
        self.requests = requests
    }

    /// The features of `selection` for each entity row of `entities` (see
    /// ``FeatureStoreClient/onlineFeatures(_:entities:requestContext:fullFeatureNames:)``).
    public func lookup(_ selection: FeatureSelection, entities: EntityKeys, requestContext: [String: [FeatureValue]] = [:],
                       fullFeatureNames: Bool = false) async throws(FeatureStoreClientError) -> OnlineFeatures {
        let lookup = FeatureStoreClient.request(selection, entities: entities, requestContext: requestContext, fullFeatureNames: fullFeatureNames)
        let response: Featurestore_V1_LookupStreamResponse
        do {
            response = try await withCheckedThrowingContinuation { continuation in
                let id: UInt64? = pending.withLock { state in
                    if let failure = state.failure {
                        continuation.resume(throwing: failure)
                        return nil
                    }
                    let id = state.next
                    state.next += 1
                    state.waiting[id] = continuation
                    return id
                }
                if let id { requests.yield(.with { $0.id = id; $0.lookup = lookup }) }
            }
        } catch let error as FeatureStoreClientError {
            throw error
        } catch {
            throw FeatureStoreClientError(code: .unknown, message: "\(error)", attempts: 1, cause: error)
        }
        switch response.result {
        case .features(let features)?:
            return OnlineFeatures(features)
        case .error(let error)?:
            throw FeatureStoreClientError(code: Status.Code(rawValue: Int(error.code)).flatMap { RPCError.Code($0) } ?? .unknown, message: error.message, attempts: 1)
        case nil:
            throw FeatureStoreClientError(code: .internalError, message: "an answer with neither features nor an error", attempts: 1)
        }
    }

    func answer(_ response: Featurestore_V1_LookupStreamResponse) {
        pending.withLock { $0.waiting.removeValue(forKey: response.id) }?.resume(returning: response)
    }

    /// Fails the lookups waiting and any later one.
    func fail(_ error: FeatureStoreClientError) {
        let waiting = pending.withLock { state in
            state.failure = state.failure ?? error
            defer { state.waiting = [:] }
            return state.waiting
        }
        for continuation in waiting.values { continuation.resume(throwing: error) }
    }
}

extension FeatureStoreClient {
    /// Runs `body` with a ``LookupStream`` on the next server, then ends the stream.
    public func withLookupStream<Result: Sendable>(_ body: @Sendable (LookupStream) async throws -> Result) async throws -> Result {
        let (requests, continuation) = AsyncStream.makeStream(of: Featurestore_V1_LookupStreamRequest.self)
        let stream = LookupStream(requests: continuation)
        let i = pick()
        let endpoint = configuration.endpoints[i]
        let stub = stub(i)
        // Long-lived: no deadline for the call (each lookup has none of its own on a stream).
        let options = CallOptions.defaults
        let metadata = self.metadata
        return try await withThrowingTaskGroup(of: Result?.self) { group in
            group.addTask {
                do {
                    try await stub.lookupStream(request: StreamingClientRequest(metadata: metadata) { writer in
                        for await request in requests { try await writer.write(request) }
                    }, options: options) { response in
                        for try await answer in response.messages { stream.answer(answer) }
                    }
                    // The server ended the stream (a graceful shutdown answers OK): lookups not answered are to be
                    // sent elsewhere, as after any unavailable server.
                    stream.fail(FeatureStoreClientError(code: .unavailable, message: "the server ended the lookup stream; open another", endpoint: endpoint, attempts: 1))
                } catch let error as RPCError {
                    stream.fail(FeatureStoreClientError(code: error.code, message: error.message, endpoint: endpoint, attempts: 1, cause: error))
                } catch {
                    stream.fail(FeatureStoreClientError(code: .unknown, message: "\(error)", endpoint: endpoint, attempts: 1, cause: error))
                }
                return nil
            }
            defer { continuation.finish() }
            let result = try await body(stream)
            continuation.finish()
            while let next = try await group.next() { if let next { return next } }
            return result
        }
    }
}
