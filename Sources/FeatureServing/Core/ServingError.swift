/// Why a call failed, in the terms both faces of the server share: a gRPC status code, an HTTP status and a message
/// that names the offending field of the request.
public struct ServingError: Error, Sendable, CustomStringConvertible, Equatable {
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

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    /// A request that cannot be served, naming the field at fault.
    static func invalid(_ message: String) -> ServingError { ServingError(.invalidArgument, message) }

    public var description: String { "\(code.rawValue): \(message)" }
}
