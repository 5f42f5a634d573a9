/// An error that says what went wrong at its level and keeps what caused it: every error type of the project
/// conforms, from the C library wrappers up to the server.
///
/// - ``errorCode``: a stable, machine-readable name of the kind of failure (`invalid_data`, `unavailable`,
///   `malformed`), for programs and metrics;
/// - ``message``: what went wrong here, for people, without the cause's text;
/// - ``cause``: the error that caused it, kept whole (its own code, message and cause).
///
/// One place renders the chain (``ErrorChain/render(_:)``, also every conforming error's `description`): the
/// command line, the HTTP and gRPC faces and the logs show `message: cause's message: its cause's message`.
public protocol ChainedError: Error, Sendable, CustomStringConvertible {
    /// A stable name of the kind of failure.
    var errorCode: String { get }
    /// What went wrong at this level, without the cause's text.
    var message: String { get }
    /// This level as the chain shows it: ``message`` with the place it concerns, when the type knows one (a Parquet
    /// file and offset, a Redis node). By default the message.
    var headline: String { get }
    /// The error that caused this one, if another error did.
    var cause: (any Error & Sendable)? { get }
}

extension ChainedError {
    /// No cause unless the type keeps one.
    public var cause: (any Error & Sendable)? { nil }

    /// The message.
    public var headline: String { message }

    /// The rendered chain: ``message``, then each cause's.
    public var description: String { ErrorChain.render(self) }
}

/// Renders errors with their causes, the one way every face of the project shows them.
public enum ErrorChain {
    /// `message: cause's message: ...` for chained errors; other errors as Swift describes them.
    public static func render(_ error: any Error) -> String {
        var parts: [String] = []
        for link in links(of: error) {
            if let chained = link as? any ChainedError {
                if !chained.headline.isEmpty { parts.append(chained.headline) }
            } else {
                parts.append(String(describing: link))
            }
        }
        return parts.joined(separator: ": ")
    }

    /// The error and its causes, outermost first (at most 32: a cycle cannot make it loop).
    public static func links(of error: any Error) -> [any Error] {
        var out: [any Error] = [error]
        var current = error
        while out.count < 32, let chained = current as? any ChainedError, let cause = chained.cause {
            out.append(cause)
            current = cause
        }
        return out
    }

    /// The codes of the error and its causes, outermost first (`unavailable < io`), for logs.
    public static func codes(of error: any Error) -> [String] {
        links(of: error).map { ($0 as? any ChainedError)?.errorCode ?? String(describing: type(of: $0)) }
    }
}
