public import Columnar
import Dispatch
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Several Parquet files read as one table: a file, a folder (searched recursively), or a glob (`data/*.parquet`).
///
/// Hive-style folders (`date=2024-01-01/part-0.parquet`) add their keys as string columns after the files' columns.
/// Every file must have the same columns with the same types; a file that differs is an error naming it.
public struct ParquetDataset: Sendable {
    /// The path as given.
    public let path: String
    /// The files, in path order.
    public let files: [ParquetFile]
    /// The Hive partition values of each file (key -> value), in `files` order.
    public let partitions: [[String: String]]
    /// The partition keys, in folder order.
    public let partitionKeys: [String]
    /// The files' columns followed by the partition keys (strings).
    public let schema: Schema

    /// Opens every file of the dataset at `path` and checks their schemas agree.
    public init(path: String) throws(ParquetError) {
        self.path = path
        let paths = try Self.dataFiles(at: path)
        guard !paths.isEmpty else { throw ParquetError("no Parquet files found", at: ParquetLocation(file: path)) }
        var files: [ParquetFile] = []
        for p in paths { files.append(try ParquetFile(path: p)) }
        var base = files[0].schema
        func shape(_ s: Schema) -> [String] { s.fields.map { "\($0.name):\($0.type)" } }
        for file in files.dropFirst() where shape(file.schema) != shape(base) {
            let detail = Self.schemaDifference(base, file.schema)
            throw ParquetError("schema differs from \(files[0].path): \(detail)", at: ParquetLocation(file: file.path))
        }
        // Hive partitions: key=value folder names below the dataset root.
        let root = Self.isGlob(path) ? "" : path
        var partitions: [[String: String]] = []
        var keys: [String] = []
        for file in files {
            var values: [String: String] = [:]
            let relative = root.isEmpty || !file.path.hasPrefix(root) ? file.path : String(file.path.dropFirst(root.count))
            for component in relative.split(separator: "/").dropLast() {
                guard let eq = component.firstIndex(of: "="), eq != component.startIndex else { continue }
                let key = String(component[..<eq])
                values[key] = String(component[component.index(after: eq)...]).removingPercentEscapes
                if !keys.contains(key) { keys.append(key) }
            }
            partitions.append(values)
        }
        // A column is nullable in the dataset when it is in any file.
        for (i, field) in base.fields.enumerated() where files.contains(where: { $0.schema.fields[i].nullable }) {
            _ = field
            base.fields[i].nullable = true
        }
        for key in keys where base.index(of: key) != nil {
            throw ParquetError("partition key '\(key)' is also a column of the files", at: ParquetLocation(file: path))
        }
        self.files = files
        self.partitions = partitions
        self.partitionKeys = keys
        self.schema = Schema(base.fields + keys.map { Field($0, .string, nullable: true) })
    }

    /// The number of rows of all the files, from their footers.
    public var rowCount: Int { files.reduce(0) { $0 + $1.rowCount } }

    /// Reads `columns` (all when nil) of every file, skipping row groups the predicate excludes, in file order.
    public func read(columns: [String]? = nil, where predicate: RangePredicate? = nil) throws(ParquetError) -> Table {
        let names = columns ?? schema.fields.map(\.name)
        for name in names where schema.index(of: name) == nil {
            throw ParquetError("no column '\(name)'; the dataset has: \(schema.fields.map(\.name).joined(separator: ", "))", at: ParquetLocation(file: path))
        }
        let fileColumns = names.filter { !partitionKeys.contains($0) }
        let files = self.files
        var fragments: [(file: Int, group: Int)] = []
        for (i, file) in files.enumerated() {
            let groups = predicate.map { file.rowGroups(matching: $0) } ?? Array(0..<file.rowGroupCount)
            fragments += groups.map { (i, $0) }
        }
        let decoded: [Column]
        if fragments.isEmpty {
            decoded = try fileColumns.map { name throws(ParquetError) -> Column in
                guard let d = files[0].mapping.columns.first(where: { $0.name == name }) else {
                    throw ParquetError("column '\(name)' cannot be read", at: ParquetLocation(file: files[0].path, column: name))
                }
                return try ParquetFile.emptyColumn(d)
            }
        } else {
            decoded = try ChunkAssembler.read(columns: fileColumns, fragments: fragments.map { Fragment(file: files[$0.file], rowGroup: $0.group) },
                                              parallel: true)
        }
        var out: [Column] = []
        var fields: [Field] = []
        for name in names {
            let field = schema.field(named: name)!
            fields.append(field)
            if let c = fileColumns.firstIndex(of: name) {
                out.append(decoded[c])
            } else {
                // A partition key: its value repeated over each fragment's rows.
                var values: [String?] = []
                for (f, g) in fragments {
                    let value = partitions[f][name]
                    values.append(contentsOf: repeatElement(value, count: files[f].rowCount(ofRowGroup: g)))
                }
                out.append(Column(strings: values))
            }
        }
        do {
            return try Table(schema: Schema(fields), columns: out)
        } catch {
            throw ParquetError("", at: ParquetLocation(file: path), cause: error)
        }
    }

    // MARK: Finding files

    static func isGlob(_ path: String) -> Bool { path.contains { "*?[".contains($0) } }

    /// The Parquet files a path names, sorted: the file itself, the data files below a folder (hidden `.x` and
    /// temporary `_x` names skipped), or the files a glob matches. An existing folder without data files, or a glob
    /// that matches nothing, gives an empty list; a path that does not exist is an error.
    public static func dataFiles(at path: String) throws(ParquetError) -> [String] {
        if isGlob(path) {
            var g = glob_t()
            defer { globfree(&g) }
            let rc = glob(path, 0, nil, &g)
            if rc == GLOB_NOMATCH { return [] }
            guard rc == 0 else { throw ParquetError("bad glob pattern", at: ParquetLocation(file: path)) }
            var out: [String] = []
            for i in 0..<Int(g.gl_pathc) {
                if let p = g.gl_pathv[i] { out.append(String(cString: p)) }
            }
            var files: [String] = []
            for p in out { files += try isDirectory(p) ? walk(p) : [p] }
            return files.sorted()
        }
        guard access(path, F_OK) == 0 else { throw ParquetError("no such file or folder", at: ParquetLocation(file: path)) }
        return try isDirectory(path) ? walk(path).sorted() : [path]
    }

    private static func isDirectory(_ path: String) throws(ParquetError) -> Bool {
        var st = stat()
        guard stat(path, &st) == 0 else { throw ParquetError("cannot stat: \(String(cString: strerror(errno)))", at: ParquetLocation(file: path)) }
        return (st.st_mode & S_IFMT) == S_IFDIR
    }

    /// Data files below a folder: `*.parquet` (and files without an extension in partition folders are not taken);
    /// hidden and temporary names (`.x`, `_x`) are skipped, as Spark and pyarrow do.
    private static func walk(_ dir: String) throws(ParquetError) -> [String] {
        guard let d = opendir(dir) else { throw ParquetError("cannot list: \(String(cString: strerror(errno)))", at: ParquetLocation(file: dir)) }
        defer { closedir(d) }
        var out: [String] = []
        while let entry = readdir(d) {
            let name = withUnsafePointer(to: entry.pointee.d_name) { String(cString: UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self)) }
            if name.hasPrefix(".") || name.hasPrefix("_") { continue }
            let full = dir.hasSuffix("/") ? dir + name : dir + "/" + name
            if try isDirectory(full) {
                out += try walk(full)
            } else if name.hasSuffix(".parquet") || name.hasSuffix(".parq") {
                out.append(full)
            }
        }
        return out
    }

    private static func schemaDifference(_ a: Schema, _ b: Schema) -> String {
        for field in a.fields {
            guard let other = b.field(named: field.name) else { return "column '\(field.name)' is missing" }
            if other.type != field.type { return "column '\(field.name)' is \(other.type), expected \(field.type)" }
        }
        if let extra = b.fields.first(where: { a.field(named: $0.name) == nil }) { return "extra column '\(extra.name)'" }
        return "columns are in another order"
    }
}

extension String {
    /// Decodes `%xx` escapes (Hive escapes special characters in partition values).
    var removingPercentEscapes: String {
        guard contains("%") else { return self }
        var bytes: [UInt8] = []
        var it = utf8.makeIterator()
        while let c = it.next() {
            if c == UInt8(ascii: "%"), let h = it.next(), let l = it.next(),
               let v = UInt8(String(decoding: [h, l], as: UTF8.self), radix: 16) {
                bytes.append(v)
            } else {
                bytes.append(c)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
