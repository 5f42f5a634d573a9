import Foundation

/// Writing to the terminal: standard output for results, standard error for problems.
enum Console {
    static func print(_ text: String) {
        FileHandle.standardOutput.write(Data((text + "\n").utf8))
    }

    static func error(_ text: String) {
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }

    /// Pretty, key-sorted JSON with ISO-8601 dates.
    static func printJSON<T: Encodable>(_ value: T) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        // As the serving API writes them: a NaN or infinity (a profile's spread that overflows) is a string.
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        print(String(decoding: try encoder.encode(value), as: UTF8.self))
    }

    /// Whether standard output is a terminal (progress displays and colours only then).
    static var isTerminal: Bool { isatty(STDOUT_FILENO) != 0 }

    /// Whether standard error is a terminal (where progress is drawn).
    static var isTerminalError: Bool { isatty(STDERR_FILENO) != 0 }

    static func timestamp(_ date: Date) -> String {
        date.formatted(.iso8601)
    }
}

/// A plain text table with aligned columns.
struct TextTable {
    var headers: [String]
    var rows: [[String]] = []

    init(_ headers: String...) {
        self.headers = headers
    }

    init(headers: [String]) {
        self.headers = headers
    }

    mutating func add(_ cells: String...) {
        rows.append(cells)
    }

    mutating func add(row: [String]) {
        rows.append(row)
    }

    func render(indent: String = "") -> String {
        var widths = headers.map(\.count)
        for row in rows {
            for (i, cell) in row.enumerated() where i < widths.count {
                widths[i] = max(widths[i], cell.count)
            }
        }
        func line(_ cells: [String]) -> String {
            let padded = cells.enumerated().map { i, cell in
                i == cells.count - 1 ? cell : cell.padding(toLength: widths[i], withPad: " ", startingAt: 0)
            }
            return indent + padded.joined(separator: "  ")
        }
        return ([line(headers)] + rows.map(line)).joined(separator: "\n")
    }
}
