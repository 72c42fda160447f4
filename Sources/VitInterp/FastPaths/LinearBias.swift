import VitIR

// Fast path of a linear layer's two nodes, MatMul then Add of a bias (Kernels/MatMul.swift and
// Kernels/Elementwise.swift): the GEMM writes into rows pre-filled with the bias (beta 1), so
// the [rows, n] product is not read and written a second time by the Add. The interpreter's
// run plans it (`linearBiasPlan`) and runs the Add as a pass-through of the MatMul's value.
//
// Applies when: the MatMul's operands are float32 (or both float16) with a rank-2 B (an
// initializer), its output has exactly one use, that use is an Add whose other operand is an
// initializer of the same dtype holding n values in its last axis (shape [n] or [1, …, 1, n]),
// the Add's output type is the MatMul's, and neither value is hooked or a graph output
// (`Interpreter.Options.fuse`, on by default, turns it off).
// Tolerance class vs MatMul then Add: float32, rounding, not bit-exact. The fused GEMM adds the
// bias into its accumulation (at the start or after a k block, the library's choice) instead of
// to the rounded product; each is within (k + 1)·2⁻²⁴·(Σⱼ|aⱼ·bⱼ| + |bias|) of the exact value.
// float16, bit-exact: the GEMM's rows are rounded to float16 precision and the bias added in
// Float32 as the plain Add does, one pass over rows still in cache instead of a float16 product
// stored, widened and narrowed again.
// Pinned by FastPathTests.linearWithBias and InterpreterTests' fused-vs-plain run.

/// The fused pairs of a graph: MatMul node index → the bias initializer, and the Add node
/// indices that pass the fused MatMul's value on.
struct LinearBiasPlan {
    var biasOfMatMul: [Int: ValueID] = [:]
    var passThroughAdds: Set<Int> = []
}

/// Finds every MatMul → Add(bias) pair of `graph` that `linearWithBias` computes, leaving out
/// pairs touching `excluded` values (hooked values).
func linearBiasPlan(_ graph: Graph, excluded: Set<ValueID>) -> LinearBiasPlan {
    var plan = LinearBiasPlan()
    let uses = graph.useCounts()
    var producer: [Int: Int] = [:]  // value index → MatMul node index
    for (i, node) in graph.nodes.enumerated() {
        let dtype = graph.type(of: node.inputs.first ?? node.outputs[0]).dtype
        if case .linearAlgebra(.matMul) = node.op, node.outputs.count == 1, node.inputs.count == 2,
           dtype == .float32 || dtype == .float16, graph.initializers[node.inputs[1]] != nil,
           graph.type(of: node.inputs[1]).dtype == dtype, graph.type(of: node.inputs[1]).rank == 2,
           uses[node.outputs[0].index] == 1, !excluded.contains(node.outputs[0]) {
            producer[node.outputs[0].index] = i
        }
        guard case .elementwise(.add) = node.op, node.inputs.count == 2, node.outputs.count == 1,
              !excluded.contains(node.outputs[0]) else { continue }
        for (x, bias) in [(node.inputs[0], node.inputs[1]), (node.inputs[1], node.inputs[0])] {
            guard let m = producer[x.index], graph.initializers[bias] != nil else { continue }
            let t = graph.type(of: x), b = graph.type(of: bias)
            guard let n = t.shape.ints?.last, let bDims = b.shape.ints, b.dtype == t.dtype,
                  bDims.last == n, bDims.dropLast().allSatisfy({ $0 == 1 }), bDims.count <= t.rank,
                  graph.type(of: node.outputs[0]) == t else { continue }
            plan.biasOfMatMul[m] = bias
            plan.passThroughAdds.insert(i)
            producer[x.index] = nil
            break
        }
    }
    return plan
}

/// A [rows…, k] · B [k, n] + bias [n]: float32 as one GEMM into rows holding the bias; float16
/// as one GEMM whose rounded rows get the bias in the same pass.
func linearWithBias(_ a: Tensor, _ b: Tensor, _ bias: Tensor, _ out: TensorType) -> Tensor {
    let k = b.shape[0], n = b.shape[1]
    let rows = a.shape.count == 1 ? 1 : a.shape.dropLast().reduce(1, *), group = stackedRowGroup(a.shape)
    return withFloats(a) { pa in
        withFloats(b) { pb in
            withFloats(bias) { pbias in
                makeFloats(out.dtype, out.shape.ints ?? [], writesAll: true) { pc in
                    let c = pc.baseAddress!, z = pbias.baseAddress!
                    guard out.dtype == .float16 else {
                        for r in 0..<rows { (c + r * n).update(from: z, count: n) }
                        return sgemm(m: rows, n: n, k: k, pa.baseAddress!, pb.baseAddress!, beta: 1, c, rowGroup: group)
                    }
                    sgemm(m: rows, n: n, k: k, pa.baseAddress!, pb.baseAddress!, c, rowGroup: group)
                    parallelChunks(rows, grain: Swift.max(1, (1 << 14) / Swift.max(n, 1))) { range in
                        for r in range {
                            let row = c + r * n
                            roundThroughHalf(row, n)  // the float16 product the plain MatMul stores
                            for j in 0..<n { row[j] += z[j] }
                        }
                    }
                }
            }
        }
    }
}
