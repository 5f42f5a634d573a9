#if canImport(Glibc)
import Glibc
#endif

/// Process-wide allocator settings for columnar workloads.
public enum MemoryPolicy {
    /// Keeps freed memory in the process instead of returning each large buffer to the kernel.
    ///
    /// glibc serves big allocations (column buffers of tens of MB) with `mmap` and unmaps them on free, so every
    /// new buffer is faulted in and zeroed page by page again; Arrow avoids this with its jemalloc pool. Called by
    /// the executables (featurectl, FeatureServer, the benchmarks) at start-up, never by the library on its own.
    /// Returns whether the allocator accepted the settings.
    @discardableResult
    public static func retainFreedMemory() -> Bool {
        #if canImport(Glibc)
        typealias MallOpt = @convention(c) (Int32, Int32) -> Int32
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "mallopt") else { return false }
        let mallopt = unsafeBitCast(symbol, to: MallOpt.self)
        let M_TRIM_THRESHOLD: Int32 = -1, M_MMAP_MAX: Int32 = -4
        // No mmap for allocations (they come from the heap and are reused), and no trimming of the heap.
        return mallopt(M_MMAP_MAX, 0) == 1 && mallopt(M_TRIM_THRESHOLD, Int32.max) == 1
        #else
        return false
        #endif
    }
}
