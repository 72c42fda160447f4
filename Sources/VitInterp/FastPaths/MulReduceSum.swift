import VitIR

// Fast path of a Mul whose only use is a ReduceSum over the product's last axis
// (Kernels/Elementwise.swift, Kernels/Reduce.swift): deformable attention's weighted sum of
// each level's samples ([heads, d, Nq, P] · [heads, 1, Nq, P], summed over P). The product is
// never stored: each row's products are summed as they are made. The interpreter's run plans
// it (`mulReduceSumPlan`): the Mul node computes the sum, which the ReduceSum node then binds.
//
// Applies when: both Mul operands and the product are float32, the product has rank ≥ 1 and
// exactly one use, that use is a ReduceSum whose only reduced axis is the last one (keepdims
// either way), and neither value is hooked or a graph output (`Interpreter.Options.fuse`,
// the interpreter's fusions switch, turns it off).
// Tolerance class: bit-exact. Each product is rounded to Float as Mul rounds it and the row is
// summed in Double in index order, then rounded once, as `reduce` sums a row.
// Pinned by FastPathTests.mulReduceSum and InterpreterTests' fused-vs-plain run.

/// Mul node index → the ReduceSum node index that binds the fused sum.
typealias MulReduceSumPlan = [Int: Int]

/// Finds every Mul → ReduceSum(last axis) pair of `graph` that `mulReduceLastAxis` computes,
/// leaving out pairs touching `excluded` values (hooked values).
func mulReduceSumPlan(_ graph: Graph, excluded: Set<ValueID>) -> MulReduceSumPlan {
    let uses = graph.useCounts()
    var producer: [Int: Int] = [:]  // product value index → Mul node index
    var plan: MulReduceSumPlan = [:]
    for (i, node) in graph.nodes.enumerated() {
        if case .elementwise(.mul) = node.op, node.inputs.count == 2, node.outputs.count == 1,
           node.inputs.allSatisfy({ graph.type(of: $0).dtype == .float32 }),
           graph.type(of: node.outputs[0]).dtype == .float32, graph.type(of: node.outputs[0]).rank >= 1,
           uses[node.outputs[0].index] == 1, !excluded.contains(node.outputs[0]) {
            producer[node.outputs[0].index] = i
        }
        guard case .reduction(.reduceSum(let r)) = node.op, node.inputs.count == 1, node.outputs.count == 1,
              let m = producer[node.inputs[0].index], !excluded.contains(node.outputs[0]) else { continue }
        let rank = graph.type(of: node.inputs[0]).rank
        guard let axes = try? normalizeAxes(r.axes.isEmpty ? Array(0..<rank) : r.axes, rank: rank),
              axes == [rank - 1] else { continue }
        plan[m] = i
    }
    return plan
}

/// ReduceSum over the last axis of the product `a · b` (float32, broadcast to `shape`), typed `out`.
/// Rows along the last leading axis are walked with fixed strides; the other leading axes
/// only set each such line's start.
func mulReduceLastAxis(_ a: Tensor, _ b: Tensor, productShape shape: [Int], _ out: TensorType) -> Tensor {
    let n = shape.last ?? 1, rows = shape.dropLast().reduce(1, *)
    let sa = broadcastStrides(a.shape, to: shape), sb = broadcastStrides(b.shape, to: shape)
    let lead = Array(shape.dropLast()), innerA = sa.last ?? 0, innerB = sb.last ?? 0
    // Lines: runs of `line` rows along the last leading axis (one row when there is none).
    let line = lead.last ?? 1, lines = line == 0 ? 0 : rows / line
    let lineA = lead.isEmpty ? 0 : sa[lead.count - 1], lineB = lead.isEmpty ? 0 : sb[lead.count - 1]
    return withFloats(a) { pa in
        withFloats(b) { pb in
            makeFloats(out.dtype, out.shape.ints ?? []) { dst in
                guard n > 0 else { return }  // empty sums: the zeros the output starts as
                parallelChunks(lines, grain: Swift.max(1, (1 << 14) / Swift.max(n * line, 1))) { range in
                    for l in range {
                        // The line's start in each operand, from its index over the other leading axes.
                        var rest = l, oa = 0, ob = 0
                        for axis in stride(from: lead.count - 2, through: 0, by: -1) {
                            let i = rest % lead[axis]
                            rest /= lead[axis]
                            oa += i * sa[axis]
                            ob += i * sb[axis]
                        }
                        var p = pa.baseAddress! + oa, q = pb.baseAddress! + ob
                        let d = dst.baseAddress! + l * line
                        for r in 0..<line {
                            var s = 0.0
                            if innerA == 1, innerB == 1 {
                                for j in 0..<n { s += Double(p[j] * q[j]) }
                            } else {
                                for j in 0..<n { s += Double(p[j * innerA] * q[j * innerB]) }
                            }
                            d[r] = Float(s)
                            p += lineA
                            q += lineB
                        }
                    }
                }
            }
        }
    }
}
