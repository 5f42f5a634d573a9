public import FeatureServingAPI
import FeatureStoreCore
public import GRPCCore
import SwiftProtobuf
import ErrorChain
import ServiceLifecycle

/// The `featurestore.v1.FeatureServing` gRPC service: protobuf in and out around the shared ``ServingCore``.
public struct ServingService: Featurestore_V1_FeatureServing.ServiceProtocol {
    let core: ServingCore

    /// The service over `core`.
    public init(core: ServingCore) {
        self.core = core
    }

    /// The `authorization` metadata value (`Bearer <token>`), if sent.
    private static func authorization(_ metadata: Metadata) -> String? {
        for value in metadata[stringValues: "authorization"] { return value }
        return nil
    }

    private func serve<T>(_ method: ServingMetrics.Method, _ body: () async throws(ServingError) -> T) async throws(RPCError) -> T {
        do {
            return try await core.call(method, .grpc, body)
        } catch {
            throw error.rpcError
        }
    }

    /// The feature selection of a lookup request (`features` must name a service or at least one reference).
    private static func selection(_ message: Featurestore_V1_GetOnlineFeaturesRequest, field: String) throws(ServingError) -> FeatureSelection {
        switch message.features {
        case .featureService(let name):
            return .service(name)
        case .featureRefs(let refs):
            var parsed: [FeatureReference] = []
            parsed.reserveCapacity(refs.refs.count)
            for (i, text) in refs.refs.enumerated() {
                guard let ref = FeatureReference(parsing: text) else {
                    throw .invalid("\(field)feature_refs.refs[\(i)]: '\(text)' is not 'view' or 'view:feature'")
                }
                parsed.append(ref)
            }
            guard !parsed.isEmpty else { throw .invalid("\(field)feature_refs: empty (name at least one feature)") }
            return .references(parsed)
        case nil:
            throw .invalid("\(field)features: set feature_service or feature_refs")
        }
    }

    /// One lookup for an authenticated caller; `field` prefixes request field names in errors (`lookup.` in streams).
    private func lookup(_ message: Featurestore_V1_GetOnlineFeaturesRequest, principal: AccessPolicy.Principal?,
                        field: String) async throws(ServingError) -> Featurestore_V1_GetOnlineFeaturesResponse {
        let selection = try Self.selection(message, field: field)
        var fields = LookupFields.protobuf
        if !field.isEmpty {
            fields = LookupFields(entities: field + "entities", features: field + "features")
            fields.requestContext = field + "request_context"
        }
        let result = try await core.lookup(entities: message.entities, requestContext: message.requestContext, selection: selection,
                                           fullFeatureNames: message.fullFeatureNames, principal: principal, fields: fields)
        return Featurestore_V1_GetOnlineFeaturesResponse(result)
    }

    /// A lookup of a feature service or of feature references (`view` or `view:feature`) for the request's entity rows.
    public func getOnlineFeatures(request: ServerRequest<Featurestore_V1_GetOnlineFeaturesRequest>,
                                  context: ServerContext) async throws -> ServerResponse<Featurestore_V1_GetOnlineFeaturesResponse> {
        let authorization = Self.authorization(request.metadata)
        let message = request.message
        let response = try await serve(.getOnlineFeatures) { () async throws(ServingError) in
            try await lookup(message, principal: try core.access.authenticate(authorization), field: "")
        }
        return ServerResponse(message: response)
    }

    /// One lookup of a stream, answered with its id: the features, or that lookup's error.
    private func answer(_ message: Featurestore_V1_LookupStreamRequest, principal: AccessPolicy.Principal?) async -> Featurestore_V1_LookupStreamResponse {
        var answer = Featurestore_V1_LookupStreamResponse()
        answer.id = message.id
        do throws(ServingError) {
            answer.features = try await core.call(.lookupStream, .grpc) { () async throws(ServingError) in
                try await lookup(message.lookup, principal: principal, field: "lookup.")
            }
        } catch {
            answer.error = .with {
                $0.code = Int32(error.rpcError.code.rawValue)
                $0.message = ErrorChain.render(error)
            }
        }
        return answer
    }

    /// Many lookups on one stream, answered in request order with each request's id: the caller is authenticated once
    /// (a missing or unknown token ends the stream with UNAUTHENTICATED before any answer); a lookup that fails is
    /// answered with its error and the stream goes on. Each lookup is measured as a `LookupStream` call. A graceful
    /// shutdown ends the stream with OK: lookups sent and not answered by then are not answered (retry them elsewhere).
    public func lookupStream(request: StreamingServerRequest<Featurestore_V1_LookupStreamRequest>,
                             context: ServerContext) async throws -> StreamingServerResponse<Featurestore_V1_LookupStreamResponse> {
        let principal: AccessPolicy.Principal?
        do { principal = try core.access.authenticate(Self.authorization(request.metadata)) } catch { throw error.rpcError }
        return StreamingServerResponse { writer in
            // A graceful shutdown ends the stream (OK): an idle stream never holds the server open.
            do {
                try await cancelWhenGracefulShutdown {
                    for try await message in request.messages {
                        try await writer.write(await answer(message, principal: principal))
                    }
                }
            } catch is CancellationError {
                // Shutting down: the answers written stand, the caller retries elsewhere.
            }
            return [:]
        }
    }

    /// Writes the pushed rows to a view's online table; answers the rows received and written (older rows are not).
    public func pushFeatures(request: ServerRequest<Featurestore_V1_PushFeaturesRequest>,
                             context: ServerContext) async throws -> ServerResponse<Featurestore_V1_PushFeaturesResponse> {
        let authorization = Self.authorization(request.metadata)
        let message = request.message
        let result = try await serve(.pushFeatures) { () async throws(ServingError) in
            try await core.push(view: message.featureView, entities: message.entities, eventTimestamps: message.eventTimestampsMicros,
                          createdTimestamps: message.createdTimestampsMicros, features: message.features, authorization: authorization)
        }
        return ServerResponse(message: .with {
            $0.rowsReceived = Int32(result.received)
            $0.rowsWritten = Int32(result.written)
        })
    }

    /// Every feature view's definition.
    public func listFeatureViews(request: ServerRequest<Featurestore_V1_ListFeatureViewsRequest>,
                                 context: ServerContext) async throws -> ServerResponse<Featurestore_V1_ListFeatureViewsResponse> {
        let authorization = Self.authorization(request.metadata)
        let response = try await serve(.listFeatureViews) { () throws(ServingError) in
            let registry = try core.catalog(authorization: authorization)
            return Featurestore_V1_ListFeatureViewsResponse.with {
                $0.featureViews = registry.featureViews.map { Featurestore_V1_FeatureViewSpec($0, registry: registry) }
            }
        }
        return ServerResponse(message: response)
    }

    /// One feature view's definition, by name; NOT_FOUND when there is none.
    public func getFeatureView(request: ServerRequest<Featurestore_V1_GetFeatureViewRequest>,
                               context: ServerContext) async throws -> ServerResponse<Featurestore_V1_FeatureViewSpec> {
        let authorization = Self.authorization(request.metadata)
        let name = request.message.name
        let response = try await serve(.getFeatureView) { () throws(ServingError) in
            let registry = try core.catalog(authorization: authorization)
            guard let view = registry.featureView(named: name) else {
                throw ServingError(.notFound, "name: no feature view '\(name)'\(Suggestion.hint(for: name, in: registry.featureViews.map(\.name)))")
            }
            return Featurestore_V1_FeatureViewSpec(view, registry: registry)
        }
        return ServerResponse(message: response)
    }

    /// Every feature service: name, features, description, owner and tags.
    public func listFeatureServices(request: ServerRequest<Featurestore_V1_ListFeatureServicesRequest>,
                                    context: ServerContext) async throws -> ServerResponse<Featurestore_V1_ListFeatureServicesResponse> {
        let authorization = Self.authorization(request.metadata)
        let response = try await serve(.listFeatureServices) { () throws(ServingError) in
            let registry = try core.catalog(authorization: authorization)
            return Featurestore_V1_ListFeatureServicesResponse.with {
                $0.featureServices = registry.featureServices.map { service in
                    .with {
                        $0.name = service.name
                        $0.features = service.features.map(\.description)
                        $0.description_p = service.description
                        $0.owner = service.owner
                        $0.tags = service.tags
                    }
                }
            }
        }
        return ServerResponse(message: response)
    }
}

extension Featurestore_V1_GetOnlineFeaturesResponse {
    /// The column-wise protobuf form of a lookup's result.
    init(_ result: OnlineFeatures) {
        self.init()
        entityCount = Int32(result.entityCount)
        featureNames = result.columns.map(\.name)
        features = result.columns.map { column in
            var out = Featurestore_V1_FeatureColumn()
            out.name = column.name
            out.values = column.values.map(\.proto)
            out.statuses = column.statuses.map(\.proto)
            out.eventTimestampsMicros = column.eventTimestamps.map { $0 ?? 0 }
            return out
        }
    }
}
