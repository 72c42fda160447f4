import CBLAS
import CDNNL
import Dispatch
import Foundation
import VitIR

/// The process-wide bound on the threads the interpreter computes with: `parallelChunks` (every
/// parallel loop of the kernels, oneDNN's GEMMs included: see FastPaths/OneDNNGemm.swift) and
/// OpenBLAS's threads. The default is the
/// active processor count; the program that embeds the interpreter chooses another once, at
/// startup (`vitexport --threads N`). Results do not depend on it where the kernel's summation
/// order does not (every `parallelChunks` loop writes disjoint elements computed the same way
/// whatever the split; see `ThreadingTests`).
public enum Threading {
    /// Largest accepted limit. OpenBLAS caps its own threads at its compile-time maximum.
    public static let maximum = WorkerThreads.maximum

    /// Active processor count (≥ 1): the default limit.
    public static let coreCount = WorkerThreads.coreCount

    /// Current limit, in 1…`maximum` (VitIR's `WorkerThreads.limit`, which the seeded weight
    /// fill also follows).
    public static var limit: Int { WorkerThreads.limit }

    /// Sets the limit, clamped to 1…`maximum`, for the interpreter's loops (oneDNN's GEMMs
    /// among them), OpenBLAS's threads and the seeded weight fill. Call before running a graph
    /// (a kernel already running keeps its split).
    public static func setLimit(_ threads: Int) {
        openblas_set_num_threads(Int32(WorkerThreads.setLimit(threads)))
    }

    /// oneDNN sizes a parallel region by the calling thread's OpenMP setting, which is per
    /// thread; the interpreter calls it from its own workers, one thread each.
    static func useOneOpenMPThread() {
        if omp_get_max_threads() != 1 { omp_set_num_threads(1) }
    }

}

/// Calls `body` on contiguous sub-ranges covering `0..<count`, concurrently on up to
/// `Threading.limit` threads when every chunk would get at least `grain` items, else once on
/// the calling thread. `body` must only write disjoint memory per sub-range.
func parallelChunks(_ count: Int, grain: Int = 1 << 15, _ body: (Range<Int>) -> Void) {
    let chunks = Swift.min(Threading.limit, count / Swift.max(grain, 1))
    guard chunks > 1 else {
        if count > 0 { body(0..<count) }
        return
    }
    // Chunks write disjoint memory and `concurrentPerform` returns only after all of them ran,
    // so sharing the non-Sendable body across the workers is sound.
    withoutActuallyEscaping(body) { work in
        nonisolated(unsafe) let work = work
        DispatchQueue.concurrentPerform(iterations: chunks) { c in
            work((count * c / chunks)..<(count * (c + 1) / chunks))
        }
    }
}
