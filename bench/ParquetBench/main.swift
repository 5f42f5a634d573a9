// Times the Parquet reader on one file: `parquet-bench FILE [--threads 1|2] [--repeat N] [--columns a,b]`.
// Prints one JSON line: the median and every run's wall time in seconds, and the rows read.
import Columnar
import Foundation
import Parquet

MemoryPolicy.retainFreedMemory()
let args = Array(CommandLine.arguments.dropFirst())
guard let path = args.first else {
    FileHandle.standardError.write(Data("usage: parquet-bench FILE [--threads 1|2] [--repeat N] [--columns a,b]\n".utf8))
    exit(2)
}
func option(_ name: String, in args: [String] = args) -> String? {
    guard let i = args.firstIndex(of: name), i + 1 < args.count else { return nil }
    return args[i + 1]
}
let parallel = (option("--threads") ?? "2") != "1"
let repeats = Int(option("--repeat") ?? "5") ?? 5
let columns = option("--columns")?.split(separator: ",").map(String.init)

var times: [Double] = []
var rows = 0
var checksum: Int64 = 0
for _ in 0..<repeats {
    let start = DispatchTime.now().uptimeNanoseconds
    do {
        let file = try ParquetFile(path: path)
        let table = try file.read(columns: columns, parallel: parallel)
        rows = table.rowCount
        // Touch the result so nothing is optimised away.
        if case .int64(let v)? = table.columns.first?.values { checksum &+= v[v.count / 2] }
    } catch {
        FileHandle.standardError.write(Data("\(error)\n".utf8))
        exit(1)
    }
    times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
}
let median = times.sorted()[times.count / 2]
print("{\"median\": \(median), \"runs\": \(times), \"rows\": \(rows), \"checksum\": \(checksum)}")
