import VitIR

// Fast path of MatMul (Kernels/MatMul.swift): when every batch element of A is multiplied by
// the same B (a linear layer on [batch…, tokens, features]), the batches stack into the rows
// of one GEMM instead of one GEMM per batch element.
//
// Applies when: float operands and B of rank ≤ 2 or with batch extents all 1 (any A shape,
// empty extents included).
// Tolerance class vs `matMulReference`: rounding, not bit-exact. Both compute each element as
// a Float dot product of length k, but OpenBLAS picks its micro-kernels and their k-order by
// the GEMM's m, so a row can sum in another order when the batches are stacked; each result
// is within k·2⁻²⁴·Σⱼ|aⱼ·bⱼ| of the exact dot product, so they differ by at most twice that.
// Pinned by FastPathTests.sharedRightMatMul.

/// Whether `sharedRightMatMul` computes `matMul(a, b, _)`.
func sharedRightMatMulApplies(_ a: Tensor, _ b: Tensor) -> Bool {
    a.dtype.isFloatingPoint && b.shape.dropLast(2).allSatisfy { $0 == 1 }
}

/// MatMul with a batch-free B: C [rows, n] = A [rows, k] · B [k, n], where rows are all of A's
/// leading axes; a 1-d A is one row and a 1-d B one column.
func sharedRightMatMul(_ a: Tensor, _ b: Tensor, _ out: TensorType) -> Tensor {
    let k = b.shape.count == 1 ? b.shape[0] : b.shape[b.shape.count - 2]
    let n = b.shape.count == 1 ? 1 : b.shape[b.shape.count - 1]
    let rows = a.shape.count == 1 ? 1 : a.shape.dropLast().reduce(1, *)
    return withFloats(a) { pa in
        withFloats(b) { pb in
            makeFloats(out.dtype, out.shape.ints ?? [], writesAll: true) { pc in
                sgemm(m: rows, n: n, k: k, pa.baseAddress!, pb.baseAddress!, pc.baseAddress!,
                      rowGroup: stackedRowGroup(a.shape))
            }
        }
    }
}
