import Foundation
import Synchronization

/// The process-wide bound on the worker threads of every parallel loop: the interpreter's kernels
/// (VitInterp's `Threading`, which also bounds the BLAS, stores its limit here) and the seeded
/// weight fill (VitModels' `SeededParameters`). The default is the active processor count.
public enum WorkerThreads {
    /// Largest accepted limit.
    public static let maximum = 1024

    /// Active processor count (≥ 1): the default limit.
    public static let coreCount = Swift.max(1, ProcessInfo.processInfo.activeProcessorCount)

    /// Current limit, in 1…`maximum`.
    public static var limit: Int { storage.load(ordering: .relaxed) }

    /// Sets the limit, clamped to 1…`maximum`; returns the value stored.
    @discardableResult
    public static func setLimit(_ threads: Int) -> Int {
        let n = Swift.min(Swift.max(threads, 1), maximum)
        storage.store(n, ordering: .relaxed)
        return n
    }

    private static let storage = Atomic<Int>(coreCount)
}
