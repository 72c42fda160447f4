import CBLAS
import CDNNL
import Synchronization

// Fast path of every float GEMM (Kernels/MatMul.swift `sgemm`, behind MatMul, Gemm, Conv and
// ConvTranspose): oneDNN's `dnnl_sgemm` (JIT-generated AVX2/AVX-512 kernels) instead of
// OpenBLAS's `cblas_sgemm`, which stays as the plain kernel beside it.
//
// Applies when: `GEMMBackend.current` is `.oneDNN` (the default), m, n > 0 and k > 0 (the
// caller handles the empty cases).
// Tolerance class vs `cblas_sgemm`: rounding, not bit-exact. Both compute each element as a
// Float dot product of length k, in orders of each library's choosing (blocking of k); each is
// within k·2⁻²⁴·Σⱼ|aⱼ·bⱼ| of
// the exact dot product, so they differ by at most twice that.
// Pinned by FastPathTests.oneDNNGemm.

/// Which library computes float GEMMs, process-wide; the embedding program chooses once, at
/// startup (`vitexport --gemm`).
public enum GEMMBackend: String, Sendable, CaseIterable {
    case oneDNN = "onednn"
    case openBLAS = "openblas"

    public static var current: GEMMBackend { storage.load(ordering: .relaxed) == 0 ? .oneDNN : .openBLAS }

    public static func select(_ backend: GEMMBackend) {
        storage.store(backend == .oneDNN ? 0 : 1, ordering: .relaxed)
    }

    private static let storage = Atomic<Int>(0)
}

/// Row-major C (m×n) = alpha · op(A) · op(B) + beta · C through `dnnl_sgemm`, with the operand
/// layouts of `sgemm`; m, n, k > 0. A block oneDNN refuses (it validates only its arguments,
/// which are valid here) is computed by `cblas_sgemm` instead.
///
/// oneDNN runs single-threaded here (its OpenMP team set to one thread), and the rows of C are
/// split into contiguous blocks over `parallelChunks`' workers instead: the interpreter's own
/// loops and OpenMP's spinning team would otherwise compete for the same cores, which measured
/// 4–10× more CPU time per run on a loaded 2-core machine. The blocks are `gemmRowBlocks`'s,
/// within each group of `rowGroup` rows (a batch element's rows; 0 or a size that does not
/// divide m: all rows are one group), so neither `--threads` nor the batch moves a row into
/// another block: oneDNN may sum a row in another order when a call holds another number of
/// rows (it picks copy-based or no-copy kernels, and their tails, by the call's shape), so the
/// blocks are what keeps outputs identical at any thread count and each image's rows identical
/// in any batch (pinned by ThreadingTests). `inTurn`: the same blocks one after another on the
/// calling thread (a worker that already holds a share of the work), so the same bits.
/// `epilogue` runs on each block's rows of C right after its GEMM, on the same worker, while
/// they are still in cache.
func oneDNNGemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
                _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, beta: Float,
                _ c: UnsafeMutablePointer<Float>, rowGroup: Int = 0, inTurn: Bool = false,
                epilogue: ((Range<Int>) -> Void)? = nil) {
    let group = rowGroup > 0 && m % rowGroup == 0 ? rowGroup : m
    let perGroup = gemmRowBlocks(rows: group, n: n, k: k)
    let lda = transA ? m : k, ldb = transB ? k : n
    func compute(_ blocks: Range<Int>) {
        for block in blocks {
            let rows = gemmRowBlock(block % perGroup, of: perGroup, rows: group)
            let lo = block / perGroup * group + rows.lowerBound
            oneDNNGemmOnThisThread(transA: transA, transB: transB, m: rows.count, n: n, k: k, alpha: alpha,
                                   a + (transA ? lo : lo * k), lda: lda, b, ldb: ldb, beta: beta, c + lo * n)
            epilogue?(lo..<(lo + rows.count))
        }
    }
    if inTurn { return compute(0..<(m / group * perGroup)) }
    parallelChunks(m / group * perGroup, grain: 1, compute)
}

/// How many row blocks `oneDNNGemm` computes a group of `rows` rows of op(A) in (n columns,
/// depth k): blocks of at least ~4 MFLOP and 8 rows, at most one per core. A function of the
/// shape and the machine only, never of `Threading.limit`.
func gemmRowBlocks(rows: Int, n: Int, k: Int) -> Int {
    let grain = Swift.max(8, (1 << 21) / Swift.max(1, n * k))
    return Swift.max(1, Swift.min(Threading.coreCount, rows / grain))
}

/// The rows of block `j` of `blocks` near-equal blocks over `rows` rows.
func gemmRowBlock(_ j: Int, of blocks: Int, rows: Int) -> Range<Int> {
    (rows * j / blocks)..<(rows * (j + 1) / blocks)
}

/// The rows per batch element of an operand whose leading axes stack into GEMM rows: those of
/// one index of the first axis when it has batch axes (rank ≥ 3), else 0 (one group).
func stackedRowGroup(_ shape: [Int]) -> Int {
    guard shape.count >= 3, shape[0] > 0 else { return 0 }
    return shape.dropFirst().dropLast().reduce(1, *)
}

/// One `dnnl_sgemm` call on the calling thread (its OpenMP team set to one thread), op(A)'s
/// rows `lda` apart and op(B)'s `ldb` apart (C's `n`); m, n, k > 0. A call oneDNN refuses is
/// computed by `cblas_sgemm` instead.
func oneDNNGemmOnThisThread(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
                            _ a: UnsafePointer<Float>, lda: Int, _ b: UnsafePointer<Float>, ldb: Int, beta: Float,
                            _ c: UnsafeMutablePointer<Float>) {
    Threading.useOneOpenMPThread()
    let status = dnnl_sgemm(transA ? 84 : 78, transB ? 84 : 78,  // 'T' : 'N'
                            Int64(m), Int64(n), Int64(k), alpha, a, Int64(lda), b, Int64(ldb), beta, c, Int64(n))
    if status != dnnl_success {
        cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(n))
    }
}
