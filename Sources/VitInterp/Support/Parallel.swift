import Dispatch
import Foundation

/// Worker count for `parallelChunks`: the active processor count.
let workerCount = Swift.max(1, ProcessInfo.processInfo.activeProcessorCount)

/// Calls `body` on contiguous sub-ranges covering `0..<count`, concurrently on all cores when
/// every chunk would get at least `grain` items, else once on the calling thread. `body` must
/// only write disjoint memory per sub-range.
func parallelChunks(_ count: Int, grain: Int = 1 << 15, _ body: (Range<Int>) -> Void) {
    let chunks = Swift.min(workerCount, count / Swift.max(grain, 1))
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
