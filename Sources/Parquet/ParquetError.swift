public import ErrorChain
/// Where in a file a problem was found: as precise as is known.
public struct ParquetLocation: Sendable, Hashable, CustomStringConvertible {
    /// The file's path.
    public var file: String
    /// The row group's index (0-based), when known.
    public var rowGroup: Int?
    /// The column's name, when known.
    public var column: String?
    /// Byte offset in the file (of the page or structure being read).
    public var offset: Int?

    /// A place in `file`, as precise as the parts given.
    public init(file: String, rowGroup: Int? = nil, column: String? = nil, offset: Int? = nil) {
        self.file = file
        self.rowGroup = rowGroup
        self.column = column
        self.offset = offset
    }

    /// The known parts, comma-separated: `path, row group 2, column 'fare', offset 4096`.
    public var description: String {
        var parts = [file]
        if let rowGroup { parts.append("row group \(rowGroup)") }
        if let column { parts.append("column '\(column)'") }
        if let offset { parts.append("offset \(offset)") }
        return parts.joined(separator: ", ")
    }
}

/// A Parquet file that cannot be read or written: what is wrong and where.
public struct ParquetError: ChainedError {
    /// What is wrong, without the cause's text.
    public var message: String
    /// Where: the file, row group, column and byte offset known.
    public var location: ParquetLocation?
    /// The error that caused it (a codec's, a file system's).
    public var cause: (any Error & Sendable)?

    /// An error described by `message` at `location`, caused by `cause`.
    public init(_ message: String, at location: ParquetLocation? = nil, cause: (any Error & Sendable)? = nil) {
        self.message = message
        self.location = location
        self.cause = cause
    }

    /// `parquet`.
    public var errorCode: String { "parquet" }
    /// The chain: place and message, then the cause's.
    public var description: String { ErrorChain.render(self) }

    /// The place, then the message.
    public var headline: String {
        guard let location else { return message }
        return message.isEmpty ? "\(location)" : "\(location): \(message)"
    }

    /// The same error, placed at `location` unless it already has a place.
    func located(_ location: ParquetLocation) -> ParquetError {
        var copy = self
        if copy.location == nil {
            copy.location = location
        } else {
            // Keep the finer details already known, fill in the rest.
            if copy.location!.file.isEmpty { copy.location!.file = location.file }
            copy.location!.rowGroup = copy.location!.rowGroup ?? location.rowGroup
            copy.location!.column = copy.location!.column ?? location.column
            copy.location!.offset = copy.location!.offset ?? location.offset
        }
        return copy
    }
}

/// Decoding problems below the file level (Thrift, encodings), placed by the caller.
struct DecodeError: Error {
    var message: String
    init(_ message: String) { self.message = message }
}
