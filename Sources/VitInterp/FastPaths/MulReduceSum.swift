import VitIR

// Fast path of a Mul whose only use is a ReduceSum over the product's last axis
// (Kernels/Elementwise.swift, Kernels/Reduce.swift): deformable attention's weighted sum of
// each level's samples ([heads, d, Nq, P] · [heads, 1, Nq, P], summed over P). The product is
// never stored: each row's products are summed as they are made. The interpreter's run plans
// it (`mulReduceSumPlan`): the Mul node computes the sum, which the ReduceSum node then binds.
//
// Applies when: both Mul operands and the product are float32, or all three float16, the
// product has rank ≥ 1 and exactly one use, that use is a ReduceSum whose only reduced axis is
// the last one (keepdims either way), and neither value is hooked or a graph output
// (`Interpreter.Options.fuse`, the interpreter's fusions switch, turns it off).
// Tolerance class: bit-exact. Each product is rounded to Float as Mul rounds it (float16: then
// to float16 precision, as the plain Mul stores it) and the row is summed in Double in index
// order, then rounded once, as `reduce` sums a row (float16: to Float, then to float16 as the
// plain ReduceSum stores it).
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
           [.float32, .float16].contains(graph.type(of: node.outputs[0]).dtype),
           node.inputs.allSatisfy({ graph.type(of: $0).dtype == graph.type(of: node.outputs[0]).dtype }),
           graph.type(of: node.outputs[0]).rank >= 1,
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

/// How `mulReduceLastAxis` walks a product of `shape` broadcast from operands of shapes `a`
/// and `b`: rows of `n` elements (strides `inner` along them), in `lines` runs of `line` rows
/// along the last leading axis (one row when there is none) at fixed strides `lineStrides`; the
/// other leading axes only set each line's start (`start`).
private struct ProductLines {
    let n: Int, line: Int, lines: Int, lead: [Int], sa: [Int], sb: [Int]
    let inner: (Int, Int), lineStrides: (Int, Int)

    init(_ shape: [Int], _ a: [Int], _ b: [Int]) {
        (sa, sb) = (broadcastStrides(a, to: shape), broadcastStrides(b, to: shape))
        (n, lead) = (shape.last ?? 1, Array(shape.dropLast()))
        line = lead.last ?? 1
        lines = line == 0 ? 0 : lead.reduce(1, *) / line
        inner = (sa.last ?? 0, sb.last ?? 0)
        lineStrides = lead.isEmpty ? (0, 0) : (sa[lead.count - 1], sb[lead.count - 1])
    }

    /// Grain for `parallelChunks` over the lines: about 16K products per chunk.
    var grain: Int { Swift.max(1, (1 << 14) / Swift.max(n * line, 1)) }

    /// Line `l`'s start in each operand, from its index over the leading axes but the last.
    func start(_ l: Int) -> (Int, Int) {
        var rest = l, oa = 0, ob = 0
        for axis in stride(from: lead.count - 2, through: 0, by: -1) {
            let i = rest % lead[axis]
            rest /= lead[axis]
            oa += i * sa[axis]
            ob += i * sb[axis]
        }
        return (oa, ob)
    }
}

/// ReduceSum over the last axis of the product `a · b` (float32, or float16 with `out` float16,
/// broadcast to `shape`), typed `out`, walked as `ProductLines` says.
func mulReduceLastAxis(_ a: Tensor, _ b: Tensor, productShape shape: [Int], _ out: TensorType) -> Tensor {
    let g = ProductLines(shape, a.shape, b.shape), n = g.n
    if out.dtype == .float16 { return mulReduceLastAxisHalf(a, b, g, out) }
    return withFloats(a) { pa in
        withFloats(b) { pb in
            makeFloats(out.dtype, out.shape.ints ?? []) { dst in
                guard n > 0 else { return }  // empty sums: the zeros the output starts as
                parallelChunks(g.lines, grain: g.grain) { range in
                    for l in range {
                        let (oa, ob) = g.start(l)
                        var p = pa.baseAddress! + oa, q = pb.baseAddress! + ob
                        let d = dst.baseAddress! + l * g.line
                        for r in 0..<g.line {
                            var s = 0.0
                            if g.inner == (1, 1) {
                                for j in 0..<n { s += Double(p[j] * q[j]) }
                            } else {
                                for j in 0..<n { s += Double(p[j * g.inner.0] * q[j * g.inner.1]) }
                            }
                            d[r] = Float(s)
                            p += g.lineStrides.0
                            q += g.lineStrides.1
                        }
                    }
                }
            }
        }
    }
}

/// `mulReduceLastAxis` of float16 `a` and `b`: read as stored (never widened whole), each
/// product made in Float from the widened operands and rounded to float16 precision, at most
/// 4096 products at a time (whole rows, or pieces of a longer row) gathered, widened and
/// rounded together.
private func mulReduceLastAxisHalf(_ a: Tensor, _ b: Tensor, _ g: ProductLines, _ out: TensorType) -> Tensor {
    a.withElements(as: UInt16.self) { ha in
        b.withElements(as: UInt16.self) { hb in
            makeFloats(.float16, out.shape.ints ?? []) { dst in
                guard g.n > 0 else { return }  // empty sums: the zeros the output starts as
                parallelChunks(g.lines, grain: g.grain) { range in
                    let scratch = HalfProductScratch()
                    defer { scratch.deallocate() }
                    for l in range {
                        let (oa, ob) = g.start(l)
                        scratch.sums(ha.baseAddress! + oa, hb.baseAddress! + ob, inner: g.inner, lineStrides: g.lineStrides,
                                     rows: g.line, n: g.n, dst.baseAddress! + l * g.line)
                    }
                }
            }
        }
    }
}

/// A worker's buffers for float16 products: the gathered halves of each operand, then their
/// Float products rounded to float16 precision.
private struct HalfProductScratch {
    static let capacity = 4096
    let ha = UnsafeMutablePointer<UInt16>.allocate(capacity: capacity), hb = UnsafeMutablePointer<UInt16>.allocate(capacity: capacity)
    let x = UnsafeMutablePointer<Float>.allocate(capacity: capacity), y = UnsafeMutablePointer<Float>.allocate(capacity: capacity)
    let partial = UnsafeMutablePointer<Double>.allocate(capacity: capacity)  // each row's sum so far

    func deallocate() { ha.deallocate(); hb.deallocate(); x.deallocate(); y.deallocate(); partial.deallocate() }

    /// d[r] = Σⱼ half(p[r·lineStrides.0 + j·inner.0] · q[r·lineStrides.1 + j·inner.1]) over
    /// j < n, summed in Double in index order, for r < rows: products made a block of rows at
    /// a time, or a piece of a row when a row is longer than the buffers.
    func sums(_ p: UnsafePointer<UInt16>, _ q: UnsafePointer<UInt16>, inner: (Int, Int), lineStrides: (Int, Int),
              rows: Int, n: Int, _ d: UnsafeMutablePointer<Float>) {
        let width = Swift.min(n, Self.capacity), block = Self.capacity / width
        for first in stride(from: 0, to: rows, by: block) {
            let count = Swift.min(block, rows - first)
            partial.update(repeating: 0, count: count)
            for j in stride(from: 0, to: n, by: width) {
                let w = Swift.min(width, n - j)
                let k = count * w
                if inner == (1, 1), lineStrides == (n, n) {  // the block's rows lie contiguous in both
                    widen(p + first * n + j, x, k, .best)
                    widen(q + first * n + j, y, k, .best)
                } else {
                    for r in 0..<count {
                        let pr = p + (first + r) * lineStrides.0 + j * inner.0, qr = q + (first + r) * lineStrides.1 + j * inner.1
                        for i in 0..<w { ha[r * w + i] = pr[i * inner.0]; hb[r * w + i] = qr[i * inner.1] }
                    }
                    widen(ha, x, k, .best)
                    widen(hb, y, k, .best)
                }
                for i in 0..<k { x[i] *= y[i] }
                roundThroughHalf(x, k)
                for r in 0..<count {
                    var sum = partial[r]
                    for i in 0..<w { sum += Double(x[r * w + i]) }
                    partial[r] = sum
                }
            }
            for r in 0..<count { d[first + r] = Float(partial[r]) }
        }
    }
}
