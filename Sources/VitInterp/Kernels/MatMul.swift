import CBLAS
import VitIR

/// Row-major C (m×n) = alpha · op(A) · op(B) + beta · C, where op(A) is m×k and op(B) is k×n;
/// A and B are stored untransposed as (m×k | k×m) and (k×n | n×k). Through the fast path
/// `oneDNNGemm` (FastPaths/, rounding) when `GEMMBackend.current` is oneDNN, else `cblasGemm`.
/// `rowGroup`: rows per batch element when the rows stack a batch (`stackedRowGroup`), else 0.
/// `epilogue`: an in-place pass over C's rows, called on disjoint row ranges covering 0..<m
/// once their products are final (each oneDNN block as soon as it is computed).
func sgemm(transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int, alpha: Float = 1,
           _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, beta: Float = 0,
           _ c: UnsafeMutablePointer<Float>, rowGroup: Int = 0, epilogue: ((Range<Int>) -> Void)? = nil) {
    if m > 0, n > 0, k > 0, GEMMBackend.current == .oneDNN {
        return oneDNNGemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a, b, beta: beta, c,
                          rowGroup: rowGroup, epilogue: epilogue)
    }
    cblasGemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a, b, beta: beta, c)
    if let epilogue { parallelChunks(m, grain: Swift.max(1, (1 << 14) / Swift.max(n, 1)), epilogue) }
}

/// `sgemm` through OpenBLAS's `cblas_sgemm`: the plain kernel.
func cblasGemm(transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int, alpha: Float = 1,
           _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, beta: Float = 0,
           _ c: UnsafeMutablePointer<Float>) {
    guard m > 0, n > 0 else { return }
    guard k > 0 else {
        for i in 0..<(m * n) { c[i] = beta == 0 ? 0 : beta * c[i] }
        return
    }
    cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                Int32(m), Int32(n), Int32(k), alpha, a, Int32(Swift.max(1, transA ? m : k)),
                b, Int32(Swift.max(1, transB ? k : n)), beta, c, Int32(Swift.max(1, n)))
}

/// ONNX MatMul (numpy.matmul): batch axes broadcast, a 1-d A is promoted to [1, K] and a 1-d B
/// to [K, 1] with the added axis dropped from the result. Floats go through `cblas_sgemm`
/// (tolerance class: rounding, summation order is BLAS's); integers use exact wrapping Int64
/// loops. Takes the fast path `sharedRightMatMul` (FastPaths/, rounding) for float operands
/// where B has no batch, else `matMulReference`.
func matMul(_ a: Tensor, _ b: Tensor, _ out: TensorType) -> Tensor {
    if sharedRightMatMulApplies(a, b) { return sharedRightMatMul(a, b, out) }
    return matMulReference(a, b, out)
}

/// `matMul` for every operand shape and dtype: one GEMM (or integer loop) per batch element.
func matMulReference(_ a: Tensor, _ b: Tensor, _ out: TensorType) -> Tensor {
    let aShape = a.shape.count == 1 ? [1] + a.shape : a.shape
    let bShape = b.shape.count == 1 ? b.shape + [1] : b.shape
    let m = aShape[aShape.count - 2], k = aShape[aShape.count - 1], n = bShape[bShape.count - 1]
    let aBatch = Array(aShape.dropLast(2)), bBatch = Array(bShape.dropLast(2))
    let batch = (try? broadcast(aBatch, bBatch)) ?? []
    let batchCount = batch.reduce(1, *)
    let aOffsets = batchOffsets(aBatch, batch).map { $0 * m * k }
    let bOffsets = batchOffsets(bBatch, batch).map { $0 * k * n }
    let outShape = out.shape.ints ?? []

    if a.dtype.isFloatingPoint {
        return withFloats(a) { pa in
            withFloats(b) { pb in
                makeFloats(out.dtype, outShape, writesAll: true) { po in
                    let A = pa.baseAddress!, B = pb.baseAddress!, C = po.baseAddress!
                    for i in 0..<batchCount {
                        sgemm(m: m, n: n, k: k, A + aOffsets[i], B + bOffsets[i], C + i * m * n)
                    }
                }
            }
        }
    }
    return withInts(a) { pa in
        withInts(b) { pb in
            makeInts(out.dtype, outShape) { po in
                for i in 0..<batchCount {
                    let A = pa.baseAddress! + aOffsets[i], B = pb.baseAddress! + bOffsets[i]
                    let C = po.baseAddress! + i * m * n
                    for r in 0..<m {
                        for c in 0..<n {
                            var s: Int64 = 0
                            for j in 0..<k { s = s &+ A[r * k + j] &* B[j * n + c] }
                            C[r * n + c] = s
                        }
                    }
                }
            }
        }
    }
}

/// For each flat index of the broadcast batch shape, the flat batch index of an operand with
/// batch shape `own`.
func batchOffsets(_ own: [Int], _ batch: [Int]) -> [Int] {
    let strides = broadcastStrides(own, to: batch)
    var offsets: [Int] = []
    offsets.reserveCapacity(batch.reduce(1, *))
    forEachIndex(batch) { index in
        var o = 0
        for i in index.indices { o += index[i] * strides[i] }
        offsets.append(o)
    }
    return offsets
}

/// ONNX Gemm: Y = alpha · A' · B' + beta · C, A' = transA ? Aᵀ : A, C unidirectionally
/// broadcast to [M, N]. Floats only, through `cblas_sgemm`; tolerance class: rounding.
func gemm(_ inputs: [Tensor], _ g: GemmAttributes, _ out: TensorType) throws -> Tensor {
    let a = inputs[0], b = inputs[1]
    guard a.dtype.isFloatingPoint else {
        throw KernelError(.unsupported, "Gemm on \(a.dtype.rawValue) (floating point only)")
    }
    let shape = out.shape.ints ?? []
    let m = shape[0], n = shape[1], k = g.transA ? a.shape[0] : a.shape[1]
    let c = inputs.count == 3 && g.beta != 0 ? broadcasted(inputs[2], to: shape) : nil
    return withFloats(a) { pa in
        withFloats(b) { pb in
            makeFloats(out.dtype, shape) { po in
                if let c { withFloats(c) { pc in _ = po.update(fromContentsOf: pc) } }
                sgemm(transA: g.transA, transB: g.transB, m: m, n: n, k: k, alpha: g.alpha,
                      pa.baseAddress!, pb.baseAddress!, beta: c == nil ? 0 : g.beta, po.baseAddress!)
            }
        }
    }
}

extension LinearAlgebraOp {
    /// Runs the op's kernel; `types` are the shape rule's output types.
    func evaluate(_ x: [Tensor], _ types: [TensorType]) throws -> [Tensor] {
        switch self {
        case .matMul: [VitInterp.matMul(x[0], x[1], types[0])]
        case .gemm(let g): [try VitInterp.gemm(x, g, types[0])]
        case .pseudoInverse: [try VitInterp.pseudoInverse(x[0])]
        }
    }
}
