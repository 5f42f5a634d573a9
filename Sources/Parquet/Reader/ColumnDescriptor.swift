import Columnar

/// A top-level column of a file as this library reads it: its leaf in the Parquet schema and its columnar type.
struct ColumnDescriptor: Sendable {
    /// The top-level name.
    var name: String
    /// The leaf's index among the file's leaf columns (its column chunk index in each row group).
    var leafIndex: Int
    var physicalType: PhysicalType
    /// For FIXED_LEN_BYTE_ARRAY.
    var typeLength: Int
    var maxDefinitionLevel: Int
    var maxRepetitionLevel: Int
    /// For lists: the definition level at which a list is present (not null); elements present at `maxDefinitionLevel`.
    var listDefinitionLevel: Int
    /// The type of the column (a list type for repeated leaves).
    var type: DataType
    /// Whether the column (the list, for lists) can be null.
    var nullable: Bool
    /// Whether list elements can be null.
    var elementNullable: Bool

    /// The type of the leaf values (the element type for lists).
    var leafType: DataType {
        if case .list(let inner) = type { return inner }
        return type
    }
}

/// The file schema turned into top-level columns; unsupported nested columns are listed with the reason.
struct SchemaMapping: Sendable {
    var columns: [ColumnDescriptor]
    var unsupported: [(name: String, reason: String)]
    var leafCount: Int

    init(_ elements: [SchemaElement]) throws(DecodeError) {
        guard let root = elements.first else { throw DecodeError("empty schema") }
        columns = []
        unsupported = []
        var index = 1
        var leaf = 0
        let children = Int(root.numChildren ?? 0)
        guard children >= 0, children < elements.count else { throw DecodeError("schema root claims \(children) children, the schema has \(elements.count - 1) elements") }

        // Walks one subtree; returns the leaves it holds (with their levels and the path of repetitions).
        struct Leaf { var element: SchemaElement; var def: Int; var rep: Int; var path: [SchemaElement] }
        func walk(_ depth: Int, def: Int, rep: Int, path: [SchemaElement]) throws(DecodeError) -> [Leaf] {
            guard depth < 64 else { throw DecodeError("schema nested deeper than 64 levels") }
            guard index < elements.count else { throw DecodeError("schema ends before all children were listed") }
            let e = elements[index]
            index += 1
            var d = def, r = rep
            switch e.repetition ?? .required {
            case .required: break
            case .optional: d += 1
            case .repeated: d += 1; r += 1
            }
            let n = Int(e.numChildren ?? 0)
            if e.numChildren == nil || e.type != nil {
                guard e.type != nil else { throw DecodeError("schema element '\(e.name)' has neither a type nor children") }
                return [Leaf(element: e, def: d, rep: r, path: path + [e])]
            }
            guard n >= 0, n <= elements.count - index else { throw DecodeError("schema element '\(e.name)' claims \(n) children") }
            var leaves: [Leaf] = []
            for _ in 0..<n { leaves += try walk(depth + 1, def: d, rep: r, path: path + [e]) }
            return leaves
        }

        for _ in 0..<children {
            let top = elements[index]
            let leaves = try walk(0, def: 0, rep: 0, path: [])
            defer { leaf += leaves.count }
            guard leaves.count == 1, let only = leaves.first else {
                unsupported.append((top.name, "nested structure with \(leaves.count) leaf columns (structs and maps are not supported)"))
                continue
            }
            do {
                columns.append(try Self.describe(top: top, leaf: only.element, path: only.path, def: only.def, rep: only.rep, leafIndex: leaf))
            } catch {
                unsupported.append((top.name, error.message))
            }
        }
        leafCount = leaf
        guard index == elements.count else { throw DecodeError("schema has \(elements.count - index) elements outside the tree") }
    }

    private static func describe(top: SchemaElement, leaf: SchemaElement, path: [SchemaElement], def: Int, rep: Int,
                                 leafIndex: Int) throws(DecodeError) -> ColumnDescriptor {
        let valueType = try dataType(of: leaf)
        guard let physical = leaf.type else { throw DecodeError("leaf without a physical type") }
        let length = Int(leaf.typeLength ?? 0)
        if physical == .fixedLenByteArray, length <= 0 { throw DecodeError("FIXED_LEN_BYTE_ARRAY without a positive type_length") }
        if rep == 0 {
            return ColumnDescriptor(name: top.name, leafIndex: leafIndex, physicalType: physical, typeLength: length,
                                    maxDefinitionLevel: def, maxRepetitionLevel: 0, listDefinitionLevel: 0, type: valueType,
                                    nullable: def > 0, elementNullable: false)
        }
        guard rep == 1 else { throw DecodeError("lists of lists are not supported") }
        // The list is present from the definition level of the repeated node's parent (+1 when the top is optional).
        // 3-level: optional group (LIST) { repeated group list { optional T element } }
        // 2-level: optional group (LIST) { repeated T element }  /  bare: repeated T name
        let topOptional = top.repetition == .optional
        let listPresent = topOptional ? 1 : 0
        let elementNullable = leaf.repetition == .optional
        return ColumnDescriptor(name: top.name, leafIndex: leafIndex, physicalType: physical, typeLength: length,
                                maxDefinitionLevel: def, maxRepetitionLevel: 1, listDefinitionLevel: listPresent,
                                type: .list(valueType), nullable: topOptional, elementNullable: elementNullable)
    }

    /// The columnar type of a primitive leaf, from its logical type, else its converted type, else its physical type.
    static func dataType(of e: SchemaElement) throws(DecodeError) -> DataType {
        guard let physical = e.type else { throw DecodeError("'\(e.name)' has no physical type") }
        if let logical = e.logicalType {
            switch logical {
            case .string, .enumType, .json:
                if physical == .byteArray { return .string }
            case .decimal(let scale, let precision):
                return .decimal(precision: Int(precision), scale: Int(scale))
            case .date:
                if physical == .int32 { return .date32 }
            case .timestamp(let utc, let unit):
                if physical == .int64 { return .timestamp(unit, utc: utc) }
            case .integer(let width, let signed):
                switch (width, signed, physical) {
                case (8, true, .int32): return .int8
                case (16, true, .int32): return .int16
                case (32, true, .int32): return .int32
                case (64, true, .int64): return .int64
                case (8, false, .int32): return .uint8
                case (16, false, .int32): return .uint16
                case (32, false, .int32): return .uint32
                case (64, false, .int64): return .uint64
                default: throw DecodeError("'\(e.name)': integer annotation (\(width) bits) does not fit its physical type")
                }
            case .time:
                throw DecodeError("'\(e.name)': TIME columns are not supported")
            case .uuid:
                return .fixedBinary(16)
            default:
                break
            }
        } else if let converted = e.convertedType {
            switch (converted, physical) {
            case (.utf8, .byteArray), (.enumType, .byteArray), (.json, .byteArray): return .string
            case (.decimal, _): return .decimal(precision: Int(e.precision ?? 0), scale: Int(e.scale ?? 0))
            case (.date, .int32): return .date32
            case (.timestampMillis, .int64): return .timestamp(.milliseconds, utc: true)
            case (.timestampMicros, .int64): return .timestamp(.microseconds, utc: true)
            case (.int8, .int32): return .int8
            case (.int16, .int32): return .int16
            case (.int32, .int32): return .int32
            case (.int64, .int64): return .int64
            case (.uint8, .int32): return .uint8
            case (.uint16, .int32): return .uint16
            case (.uint32, .int32): return .uint32
            case (.uint64, .int64): return .uint64
            case (.timeMillis, _), (.timeMicros, _), (.interval, _):
                throw DecodeError("'\(e.name)': \(converted) columns are not supported")
            default: break
            }
        }
        switch physical {
        case .boolean: return .bool
        case .int32: return .int32
        case .int64: return .int64
        case .int96: return .timestamp(.nanoseconds, utc: false)
        case .float: return .float32
        case .double: return .float64
        case .byteArray: return .binary
        case .fixedLenByteArray: return .fixedBinary(Int(e.typeLength ?? 0))
        }
    }
}
