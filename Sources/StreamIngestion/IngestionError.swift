public import ErrorChain
/// The ingestion cannot start (no Kafka settings, no stream views, an unknown view, a client that cannot be made).
public struct IngestionError: ChainedError, Equatable {
    /// What went wrong, naming the view, topic or file.
    public var message: String
    /// What caused it, when another error did (a `KafkaError` with librdkafka's code, a `ParquetError`).
    public var cause: (any Error & Sendable)?
    /// An error described by `message`, caused by `cause`.
    public init(_ message: String, cause: (any Error & Sendable)? = nil) {
        self.message = message
        self.cause = cause
    }
    /// `ingestion`.
    public var errorCode: String { "ingestion" }
    /// The message, then the causes' (`cannot connect to kafka: feature_store.yaml has no 'kafka' section`).
    public var description: String { ErrorChain.render(self) }

    /// Equal messages (the cause is not compared).
    public static func == (a: IngestionError, b: IngestionError) -> Bool { a.message == b.message }
}
