#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A read-only memory map of a whole file: pages are read by the kernel only when touched,
/// so reading a few columns of a wide file reads only their bytes.
final class MappedFile: @unchecked Sendable {
    // Immutable after init: the mapping is read-only and lives as long as this object.
    let path: String
    let bytes: UnsafeRawBufferPointer

    init(path: String) throws(ParquetError) {
        self.path = path
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else {
            throw ParquetError("cannot open: \(String(cString: strerror(errno)))", at: ParquetLocation(file: path))
        }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw ParquetError("cannot stat: \(String(cString: strerror(errno)))", at: ParquetLocation(file: path)) }
        guard (st.st_mode & S_IFMT) == S_IFREG else { throw ParquetError("not a regular file", at: ParquetLocation(file: path)) }
        let size = Int(st.st_size)
        if size == 0 {
            bytes = UnsafeRawBufferPointer(start: nil, count: 0)
            return
        }
        guard let base = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), base != MAP_FAILED else {
            throw ParquetError("cannot map: \(String(cString: strerror(errno)))", at: ParquetLocation(file: path))
        }
        bytes = UnsafeRawBufferPointer(start: base, count: size)
    }

    deinit {
        if let base = bytes.baseAddress { munmap(UnsafeMutableRawPointer(mutating: base), bytes.count) }
    }
}
