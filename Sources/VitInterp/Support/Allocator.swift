#if canImport(Glibc)
import Glibc
#endif

/// The process-wide malloc policy, an explicit choice of the program that embeds the
/// interpreter. Library code never changes it; the interpreter's results do not depend on it.
public enum AllocatorPolicy {
    /// Keeps large freed blocks in glibc's heap for reuse instead of returning them to the
    /// system. Call once, at startup, before other threads allocate; later calls do nothing.
    ///
    /// By default glibc serves blocks above its mmap threshold (at most 32 MB) with a fresh
    /// `mmap` and returns them with `munmap`, so every large kernel output (a ViT-B attention
    /// matrix is 48 MB) is page-faulted and zeroed by the kernel again: ~0.6 ms per MB, over a
    /// second per ViT-B/16-512 run. Serving them from the heap (`M_MMAP_MAX` 0; threads other
    /// than the main one still fall back to `mmap` for blocks larger than their 64 MB arenas)
    /// and never trimming it (`M_TRIM_THRESHOLD`) lets freed tensor memory be reused.
    ///
    /// Trade-off: the heap keeps its peak size until the process exits, for every allocation in
    /// the process, not only tensors; a long-lived process that runs one large model and then
    /// does other work keeps that memory. Fine for a command-line run or a benchmark. Without
    /// glibc (or if `mallopt` is not found) it does nothing. `mallopt` (not in Swift's Glibc
    /// module) is looked up with `dlsym`, so other C libraries are left alone.
    public static func useLargeBlockReuse() {
        _ = largeBlockReuse
    }

    private static let largeBlockReuse: Void = {
        #if canImport(Glibc)
        typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "mallopt") else { return }
        let mallopt = unsafeBitCast(symbol, to: Mallopt.self)
        let trimThreshold: Int32 = -1, mmapMax: Int32 = -4  // M_TRIM_THRESHOLD, M_MMAP_MAX (malloc.h)
        _ = mallopt(mmapMax, 0)
        _ = mallopt(trimThreshold, Int32.max)
        #endif
    }()
}
