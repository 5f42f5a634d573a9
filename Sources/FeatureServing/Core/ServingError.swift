public import ErrorChain
/// Why a call failed, in the terms both faces of the server share: a gRPC status code, an HTTP status and a message
/// that names the offending field of the request.
public struct ServingError: ChainedError, Equatable {
    /// The outcome codes, named as gRPC names them (metrics label calls with these names too).
    public enum Code: String, Sendable, CaseIterable {
        case ok = "OK"
        case invalidArgument = "INVALID_ARGUMENT"
        case unauthenticated = "UNAUTHENTICATED"
        case permissionDenied = "PERMISSION_DENIED"
        case notFound = "NOT_FOUND"
        case unavailable = "UNAVAILABLE"
        case `internal` = "INTERNAL"

        /// The HTTP status of the code.
        public var httpStatus: Int {
            switch self {
            case .ok: return 200
            case .invalidArgument: return 400
            case .unauthenticated: return 401
            case .permissionDenied: return 403
            case .notFound: return 404
            case .unavailable: return 503
            case .internal: return 500
            }
        }
    }

    /// The outcome.
    public var code: Code
    /// What went wrong, naming the request's field.
    public var message: String
    /// The error behind it (a store's): both faces send clients the rendered chain (message, then the causes').
    public var cause: (any Error & Sendable)?

    /// An outcome of `code` described by `message`, caused by `cause`.
    public init(_ code: Code, _ message: String, cause: (any Error & Sendable)? = nil) {
        self.code = code
        self.message = message
        self.cause = cause
    }

    /// The gRPC name of the code (`INVALID_ARGUMENT`).
    public var errorCode: String { code.rawValue }

    /// Equal code and message (the cause is not compared).
    public static func == (a: ServingError, b: ServingError) -> Bool { a.code == b.code && a.message == b.message }

    /// A request that cannot be served, naming the field at fault.
    static func invalid(_ message: String) -> ServingError { ServingError(.invalidArgument, message) }

    /// The gRPC name of the code, then the message and its causes (`INVALID_ARGUMENT: entities: ...`).
    public var description: String { "\(code.rawValue): \(ErrorChain.render(self))" }
}
