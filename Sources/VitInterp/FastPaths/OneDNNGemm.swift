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
/// 4–10× more CPU time per run on a loaded 2-core machine. Each block is an independent GEMM
/// on rows of op(A) with all of op(B), whose elements oneDNN sums in the same k order whatever
/// the block height (pinned by ThreadingTests).
func oneDNNGemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
                _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, beta: Float,
                _ c: UnsafeMutablePointer<Float>) {
    // At least ~4 MFLOP per block, and at least 8 rows, before splitting.
    let grain = Swift.max(8, (1 << 21) / Swift.max(1, n * k))
    let lda = transA ? m : k, ldb = transB ? k : n
    parallelChunks(m, grain: grain) { rows in
        let aRows = a + (transA ? rows.lowerBound : rows.lowerBound * k), cRows = c + rows.lowerBound * n
        oneDNNGemmOnThisThread(transA: transA, transB: transB, m: rows.count, n: n, k: k, alpha: alpha,
                               aRows, lda: lda, b, ldb: ldb, beta: beta, cRows)
    }
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
