import ArgumentParser
import Columnar
import Foundation
import Parquet

struct ParquetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "parquet",
        abstract: "Look at Parquet files: their schema and first rows.",
        subcommands: [Schema.self, Head.self])

    struct Schema: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the columns of a Parquet file, folder or glob.")

        @Argument(help: "A Parquet file, a folder of files, or a glob.", completion: .file())
        var path: String

        @OptionGroup var output: OutputOptions

        func run() throws {
            let dataset = try ParquetCommand.open(path)
            let rowGroups = dataset.files.reduce(0) { $0 + $1.rowGroupCount }
            if output.json {
                struct Out: Encodable {
                    struct Col: Encodable { var name: String; var type: String; var nullable: Bool; var physical: String? }
                    var path: String; var files: Int; var rows: Int; var rowGroups: Int; var createdBy: String?; var columns: [Col]
                    var unsupported: [String: String]
                    enum CodingKeys: String, CodingKey {
                        case path, files, rows, rowGroups = "row_groups", createdBy = "created_by", columns, unsupported
                    }
                }
                let first = dataset.files[0]
                try Console.printJSON(Out(path: path, files: dataset.files.count, rows: dataset.rowCount, rowGroups: rowGroups,
                                          createdBy: first.createdBy,
                                          columns: dataset.schema.fields.map { .init(name: $0.name, type: $0.type.description, nullable: $0.nullable, physical: first.physicalDescription(of: $0.name)) },
                                          unsupported: first.unsupportedColumns))
                return
            }
            let first = dataset.files[0]
            Console.print("\(path): \(dataset.rowCount) rows in \(rowGroups) row group\(rowGroups == 1 ? "" : "s")"
                          + (dataset.files.count > 1 ? " across \(dataset.files.count) files" : "")
                          + (first.createdBy.map { ", written by \($0)" } ?? ""))
            var table = TextTable("COLUMN", "TYPE", "NULLABLE", "PHYSICAL")
            for field in dataset.schema.fields {
                let physical = first.physicalDescription(of: field.name) ?? (dataset.partitionKeys.contains(field.name) ? "partition folder" : "")
                table.add(field.name, field.type.description, field.nullable ? "yes" : "no", physical)
            }
            for (name, reason) in first.unsupportedColumns.sorted(by: { $0.key < $1.key }) {
                table.add(name, "unsupported", "", reason)
            }
            Console.print(table.render())
        }
    }

    struct Head: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the first rows of a Parquet file, folder or glob.")

        @Argument(help: "A Parquet file, a folder of files, or a glob.", completion: .file())
        var path: String

        @Option(name: .shortAndLong, help: "How many rows.")
        var n: Int = 10

        @OptionGroup var output: OutputOptions

        func validate() throws {
            guard n >= 0 else { throw ValidationError("-n must be 0 or more") }
        }

        func run() throws {
            let dataset = try ParquetCommand.open(path)
            // Read row group by row group until enough rows are in.
            var parts: [Table] = []
            var have = 0
            outer: for (f, file) in dataset.files.enumerated() {
                for g in 0..<file.rowGroupCount where have < n {
                    var part = try file.read(rowGroups: [g])
                    for key in dataset.partitionKeys {
                        part.schema.fields.append(Field(key, .string))
                        part.columns.append(Column(strings: Array(repeating: dataset.partitions[f][key], count: part.rowCount)))
                    }
                    parts.append(part.slice(0..<min(part.rowCount, n - have)))
                    have += parts.last!.rowCount
                }
                if have >= n { break outer }
            }
            let fields = dataset.schema.fields
            var rows: [[(String, String, String)]] = [] // name, text, json
            for part in parts {
                for i in 0..<part.rowCount {
                    rows.append(zip(fields, part.columns).map { ($0.name, $1.text(at: i), $1.json(at: i)) })
                }
            }
            if output.json {
                let objects = rows.map { row in
                    "  {" + row.map { "\(Column.jsonString($0.0)): \($0.2)" }.joined(separator: ", ") + "}"
                }
                Console.print(objects.isEmpty ? "[]" : "[\n" + objects.joined(separator: ",\n") + "\n]")
                return
            }
            var table = TextTable(headers: fields.map(\.name))
            for row in rows { table.add(row: row.map { Summary.firstLine($0.1, limit: 40) }) }
            Console.print(table.render())
        }
    }

    static func open(_ path: String) throws -> ParquetDataset {
        do {
            return try ParquetDataset(path: path)
        } catch {
            Console.error("error: \(error)")
            throw ExitCode(1)
        }
    }
}

extension Column {
    /// A JSON string literal.
    static func jsonString(_ s: String) -> String { Column(strings: [s]).json(at: 0) }
}
