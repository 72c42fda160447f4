import VitIR

/// The kind of reduction.
enum Reduction { case sum, mean, max }

/// ONNX ReduceSum/ReduceMean/ReduceMax (axes empty = all, keepdims). The reduced axes are moved
/// last (a copy unless already trailing) so rows reduce independently. Floats accumulate in
/// Double (tolerance class: rounding; ReduceMax exact, NaN propagates); integers in wrapping
/// Int64, with the integer mean truncated toward zero (numpy mean then astype).
func reduce(_ x: Tensor, _ kind: Reduction, _ r: ReduceAttributes, _ out: TensorType) throws -> Tensor {
    let rank = x.shape.count
    let axes = try normalizeAxes(r.axes.isEmpty ? Array(0..<rank) : r.axes, rank: rank)
    let kept = (0..<rank).filter { !axes.contains($0) }
    let perm = kept + axes.sorted()
    let n = axes.map { x.shape[$0] }.reduce(1, *)
    let rows = kept.map { x.shape[$0] }.reduce(1, *)
    let permuted = perm == Array(0..<rank) ? x : transpose(x, perm: perm)
    let outShape = out.shape.ints ?? []
    if x.dtype.isFloatingPoint {
        return withFloats(permuted) { src in
            makeFloats(out.dtype, outShape) { dst in
                parallelChunks(rows, grain: Swift.max(1, (1 << 15) / Swift.max(n, 1))) { range in
                    for row in range {
                        let p = src.baseAddress! + row * n
                        switch kind {
                        case .max:
                            var m = -Float.infinity
                            for j in 0..<n {
                                if p[j].isNaN { m = p[j]; break }
                                if p[j] > m { m = p[j] }
                            }
                            dst[row] = m
                        case .sum, .mean:
                            var s = 0.0
                            for j in 0..<n { s += Double(p[j]) }
                            dst[row] = Float(kind == .mean ? s / Double(n) : s)
                        }
                    }
                }
            }
        }
    }
    return withInts(permuted) { src in
        makeInts(out.dtype, outShape) { dst in
            for row in 0..<rows {
                let p = src.baseAddress! + row * n
                switch kind {
                case .max:
                    var m = Int64.min
                    for j in 0..<n { m = Swift.max(m, p[j]) }
                    dst[row] = m
                case .sum, .mean:
                    var s: Int64 = 0
                    for j in 0..<n { s = s &+ p[j] }
                    dst[row] = kind == .mean && n > 0 ? s / Int64(n) : s
                }
            }
        }
    }
}

/// ONNX TopK: the k largest (or smallest) elements along an axis, with int64 indices. Ties keep
/// the lower index first; NaN orders above every number (numpy's sort order). `sorted = false`
/// returns the same (sorted) order, which ONNX permits. Tolerance class: exact.
func topK(_ x: Tensor, _ t: TopKAttributes, _ out: [TensorType]) throws -> [Tensor] {
    let a = try normalizeAxis(t.axis, rank: x.shape.count)
    let n = x.shape[a], inner = x.shape[(a + 1)...].reduce(1, *), outer = x.shape[..<a].reduce(1, *)
    let k = t.k
    let outShape = out[0].shape.ints ?? []
    // Ordering keys: floats as Float, integers as Int64.
    func selectIndices<T>(_ v: UnsafeBufferPointer<T>, _ before: (T, T) -> Bool) -> [Int] {
        var picked = [Int](repeating: 0, count: outer * k * inner)
        var order = [Int](repeating: 0, count: n)
        for o in 0..<outer {
            for i in 0..<inner {
                let base = o * n * inner + i
                for j in 0..<n { order[j] = j }
                order.sort { p, q in
                    let vp = v[base + p * inner], vq = v[base + q * inner]
                    if before(vp, vq) { return true }
                    if before(vq, vp) { return false }
                    return p < q
                }
                for j in 0..<k { picked[(o * k + j) * inner + i] = order[j] }
            }
        }
        return picked
    }
    let picked: [Int]
    if x.dtype.isFloatingPoint {
        let above: (Float, Float) -> Bool = { p, q in (p.isNaN && !q.isNaN) || p > q }
        let below: (Float, Float) -> Bool = { p, q in (!p.isNaN && q.isNaN) || p < q }
        picked = withFloats(x) { selectIndices($0, t.largest ? above : below) }
    } else {
        picked = withInts(x) { selectIndices($0, t.largest ? { $0 > $1 } : { $0 < $1 }) }
    }
    // Values: copy the selected elements' bytes.
    var tables: [Int] = []
    tables.reserveCapacity(picked.count)
    for (flat, j) in picked.enumerated() {
        let o = flat / (k * inner), i = flat % inner
        tables.append((o * n + j) * inner + i)
    }
    let flatSource = try reshaped(x, [x.count])
    let values = try reshaped(gatherAxes(flatSource, outShape: [picked.count], tables: [tables]), outShape)
    let indices = Tensor(picked.map(Int64.init), shape: outShape)
    return [values, indices]
}

extension ReductionOp {
    /// Runs the op's kernel; `types` are the shape rule's output types.
    func evaluate(_ x: [Tensor], _ types: [TensorType]) throws -> [Tensor] {
        switch self {
        case .reduceMean(let r): [try reduce(x[0], .mean, r, types[0])]
        case .reduceSum(let r): [try reduce(x[0], .sum, r, types[0])]
        case .reduceMax(let r): [try reduce(x[0], .max, r, types[0])]
        case .topK(let t): try VitInterp.topK(x[0], t, types)
        }
    }
}
