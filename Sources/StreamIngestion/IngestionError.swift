/// The ingestion cannot start (no Kafka settings, no stream views, an unknown view, a client that cannot be made).
public struct IngestionError: Error, Sendable, CustomStringConvertible, Equatable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
