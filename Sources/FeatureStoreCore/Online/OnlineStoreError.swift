public import ErrorChain
/// An online store failure: a code saying what kind of failure it is, a message naming the view or key where known,
/// and the error that caused it, when one did (a SQLite error, a network error), kept whole for whoever handles it.
public struct OnlineStoreError: ChainedError {
    /// The kind of failure, which decides how a caller reacts (a server maps it to a status).
    public enum Code: String, Sendable, Hashable {
        /// The request itself is wrong (an unknown feature, a missing key, a wrong type), not the store.
        case invalidRequest
        /// The store cannot be reached or opened now; a later call may succeed.
        case unavailable
        /// Stored data cannot be read back (corrupt, or of another schema).
        case corrupt
        /// The offline data being materialized is bad or unreadable (the cause names the file, row group and column):
        /// not a failure of the store, and retrying will not help until the data is fixed.
        case badInput
        /// Any other failure of the store or of this program.
        case failed
    }

    /// What kind of failure it is.
    public var code: Code
    /// What went wrong, naming the view or key where known.
    public var message: String
    /// What caused it, when another error did.
    public var cause: (any Error & Sendable)?

    /// Whether the request itself is wrong (``Code/invalidRequest``).
    public var invalidRequest: Bool { code == .invalidRequest }

    /// - Parameters:
    ///   - code: the kind of failure.
    ///   - message: what went wrong, for people (the cause's text is not added: include what matters).
    ///   - cause: the error that caused it.
    public init(_ code: Code, _ message: String, cause: (any Error & Sendable)? = nil) {
        self.code = code
        self.message = message
        self.cause = cause
    }

    /// A failure of the store (``Code/failed``), or of the request when `invalidRequest`.
    public init(_ message: String, invalidRequest: Bool = false) {
        self.init(invalidRequest ? .invalidRequest : .failed, message)
    }

    /// `online_store.` and the code (`online_store.unavailable`).
    public var errorCode: String { "online_store.\(code.rawValue)" }
    /// The chain: the message, then the cause's.
    public var description: String { ErrorChain.render(self) }
}
