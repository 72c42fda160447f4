/// The single validator of the op set: given input types, returns output types or says what
/// was expected. Runs at trace time (via `Tracer.apply`), in the verifier and on ONNX import.
/// Semantics follow the ONNX operator definitions (negative axes count from the end,
/// numpy broadcasting, explicit pads as [begin..., end...]).
public func inferTypes(_ op: Op, _ inputs: [TensorType]) throws(ShapeRuleError) -> [TensorType] {
    var dims: [[Int]] = []
    for t in inputs {
        guard let d = t.shape.ints else { throw ShapeRuleError("static shapes (symbolic dimension in \(t.shape))") }
        dims.append(d)
    }
    func arity(_ n: ClosedRange<Int>) throws(ShapeRuleError) {
        guard n.contains(inputs.count) else {
            let want = n.lowerBound == n.upperBound ? "\(n.lowerBound)" : "\(n.lowerBound)…\(n.upperBound)"
            throw ShapeRuleError("\(want) input\(n.upperBound == 1 ? "" : "s"), got \(inputs.count)")
        }
    }
    func float(_ i: Int) throws(ShapeRuleError) {
        guard inputs[i].dtype.isFloatingPoint else {
            throw ShapeRuleError("input \(i) to be floating point, got \(inputs[i].dtype.rawValue)")
        }
    }
    func sameDType(_ idx: [Int]) throws(ShapeRuleError) {
        let first = inputs[idx[0]].dtype
        for i in idx.dropFirst() where inputs[i].dtype != first {
            throw ShapeRuleError("inputs \(idx.map(String.init).joined(separator: ", ")) to share one dtype, got \(idx.map { inputs[$0].dtype.rawValue }.joined(separator: ", "))")
        }
    }
    func out(_ dtype: DType, _ shape: [Int]) -> [TensorType] { [TensorType(dtype, Shape(shape))] }
    /// ONNX MatMul and Gemm take float, int32 or int64 (uint8 needs MatMulInteger).
    func matMulDType() throws(ShapeRuleError) {
        guard inputs[0].dtype != .bool, inputs[0].dtype != .uint8 else {
            throw ShapeRuleError("float, int32 or int64 inputs, got \(inputs[0].dtype.rawValue)")
        }
    }

    switch op {
    case .add, .sub, .mul, .div, .pow, .max, .min:
        try arity(2...2)
        if case .pow = op {} else { try sameDType([0, 1]) }
        guard inputs[0].dtype != .bool, inputs[1].dtype != .bool else { throw ShapeRuleError("numeric inputs, got bool") }
        return out(inputs[0].dtype, try broadcast(dims[0], dims[1]))
    case .equal, .less, .lessOrEqual, .greater, .greaterOrEqual:
        try arity(2...2)
        try sameDType([0, 1])
        // ONNX: only Equal is defined on bool; Less/Greater(OrEqual) take numeric types.
        if op != .equal, inputs[0].dtype == .bool { throw ShapeRuleError("numeric inputs (only Equal compares bool), got bool") }
        return out(.bool, try broadcast(dims[0], dims[1]))
    case .and, .or:
        try arity(2...2)
        guard inputs[0].dtype == .bool, inputs[1].dtype == .bool else {
            throw ShapeRuleError("bool inputs, got \(inputs[0].dtype.rawValue) and \(inputs[1].dtype.rawValue)")
        }
        return out(.bool, try broadcast(dims[0], dims[1]))
    case .not:
        try arity(1...1)
        guard inputs[0].dtype == .bool else { throw ShapeRuleError("a bool input, got \(inputs[0].dtype.rawValue)") }
        return [inputs[0]]
    case .sqrt, .reciprocal, .exp, .log, .erf, .sin, .cos, .tanh, .sigmoid, .floor, .ceil, .gelu:
        try arity(1...1)
        try float(0)
        return [inputs[0]]
    case .neg, .abs, .relu, .identity:
        try arity(1...1)
        if case .identity = op {} else if inputs[0].dtype == .bool { throw ShapeRuleError("a numeric input, got bool") }
        // ONNX Neg and Relu are defined on signed types only (Abs also on unsigned).
        if op == .neg || op == .relu, inputs[0].dtype == .uint8 { throw ShapeRuleError("a signed input, got uint8") }
        return [inputs[0]]
    case .clip(let lo, let hi):
        try arity(1...1)
        if let lo, let hi, lo > hi { throw ShapeRuleError("min ≤ max, got min \(lo) > max \(hi)") }
        guard inputs[0].dtype != .bool else { throw ShapeRuleError("a numeric input, got bool") }
        return [inputs[0]]
    case .where:
        try arity(3...3)
        guard inputs[0].dtype == .bool else { throw ShapeRuleError("a bool condition, got \(inputs[0].dtype.rawValue)") }
        try sameDType([1, 2])
        return out(inputs[1].dtype, try broadcast(try broadcast(dims[0], dims[1]), dims[2]))
    case .cast(let to):
        try arity(1...1)
        return out(to, dims[0])

    case .matMul:
        try arity(2...2)
        try sameDType([0, 1])
        try matMulDType()
        return out(inputs[0].dtype, try matMulShape(dims[0], dims[1]))
    case .gemm(let g):
        try arity(2...3)
        try sameDType(Array(0..<inputs.count))
        try matMulDType()
        guard dims[0].count == 2, dims[1].count == 2 else {
            throw ShapeRuleError("rank-2 A and B, got \(Shape(dims[0])) and \(Shape(dims[1]))")
        }
        let (m, ka) = g.transA ? (dims[0][1], dims[0][0]) : (dims[0][0], dims[0][1])
        let (kb, n) = g.transB ? (dims[1][1], dims[1][0]) : (dims[1][0], dims[1][1])
        guard ka == kb else { throw ShapeRuleError("A's K (\(ka)) to equal B's K (\(kb))") }
        if inputs.count == 3 {
            let c = try broadcast(dims[2], [m, n])
            guard c == [m, n] else { throw ShapeRuleError("C unidirectionally broadcastable to [\(m), \(n)], got \(Shape(dims[2]))") }
        }
        return out(inputs[0].dtype, [m, n])
    case .conv(let c):
        try arity(2...3)
        try float(0)
        try sameDType(Array(0..<inputs.count))
        let x = dims[0], w = dims[1], s = c.kernelShape.count
        guard x.count == s + 2, w.count == s + 2 else {
            throw ShapeRuleError("X and W of rank \(s + 2) for a \(s)-d kernel, got \(Shape(x)) and \(Shape(w))")
        }
        try checkSpatialAttributes(s, strides: c.strides, pads: c.pads, dilations: c.dilations)
        guard c.group >= 1, x[1] % c.group == 0, w[0] % c.group == 0, x[1] / c.group == w[1] else {
            throw ShapeRuleError("W's input channels (\(w[1])) × group (\(c.group)) to equal X's channels (\(x[1])), and output channels divisible by group")
        }
        guard Array(w[2...]) == c.kernelShape else {
            throw ShapeRuleError("W's spatial shape \(Shape(Array(w[2...]))) to equal kernel_shape \(Shape(c.kernelShape))")
        }
        if inputs.count == 3, dims[2] != [w[0]] { throw ShapeRuleError("bias of shape [\(w[0])], got \(Shape(dims[2]))") }
        var o = [x[0], w[0]]
        for i in 0..<s {
            let span = (c.kernelShape[i] - 1) * c.dilations[i] + 1
            let padded = x[i + 2] + c.pads[i] + c.pads[i + s]
            guard padded >= span else {
                throw ShapeRuleError("padded input extent \(padded) on spatial axis \(i) ≥ dilated kernel extent \(span)")
            }
            o.append((padded - span) / c.strides[i] + 1)
        }
        return out(inputs[0].dtype, o)
    case .convTranspose(let c):
        try arity(2...3)
        try float(0)
        try sameDType(Array(0..<inputs.count))
        let x = dims[0], w = dims[1], s = c.kernelShape.count
        guard x.count == s + 2, w.count == s + 2 else {
            throw ShapeRuleError("X and W of rank \(s + 2) for a \(s)-d kernel, got \(Shape(x)) and \(Shape(w))")
        }
        try checkSpatialAttributes(s, strides: c.strides, pads: c.pads, dilations: c.dilations)
        guard c.outputPadding.count == s, zip(c.outputPadding, c.strides).allSatisfy({ $0 >= 0 && ($0 < $1 || $0 == 0) }) else {
            throw ShapeRuleError("output_padding of length \(s), each smaller than its stride, got \(c.outputPadding)")
        }
        guard c.group >= 1, w[0] == x[1], x[1] % c.group == 0 else {
            throw ShapeRuleError("W's first dimension (\(w[0])) to equal X's channels (\(x[1])), divisible by group (\(c.group))")
        }
        guard Array(w[2...]) == c.kernelShape else {
            throw ShapeRuleError("W's spatial shape \(Shape(Array(w[2...]))) to equal kernel_shape \(Shape(c.kernelShape))")
        }
        let m = w[1] * c.group
        if inputs.count == 3, dims[2] != [m] { throw ShapeRuleError("bias of shape [\(m)], got \(Shape(dims[2]))") }
        var o = [x[0], m]
        for i in 0..<s {
            let e = c.strides[i] * (x[i + 2] - 1) + c.outputPadding[i] + (c.kernelShape[i] - 1) * c.dilations[i] + 1
                - c.pads[i] - c.pads[i + s]
            guard e > 0 else { throw ShapeRuleError("a positive output extent on spatial axis \(i), got \(e)") }
            o.append(e)
        }
        return out(inputs[0].dtype, o)
    case .maxPool(let p):
        try arity(1...1)
        try float(0)
        let x = dims[0], s = p.kernelShape.count
        guard x.count == s + 2 else { throw ShapeRuleError("X of rank \(s + 2) for a \(s)-d kernel, got \(Shape(x))") }
        try checkSpatialAttributes(s, strides: p.strides, pads: p.pads, dilations: p.dilations)
        guard p.kernelShape.allSatisfy({ $0 >= 1 }) else { throw ShapeRuleError("positive kernel_shape, got \(p.kernelShape)") }
        var o = [x[0], x[1]]
        for i in 0..<s {
            let span = (p.kernelShape[i] - 1) * p.dilations[i] + 1
            let padded = x[i + 2] + p.pads[i] + p.pads[i + s]
            guard padded >= span else {
                throw ShapeRuleError("padded input extent \(padded) on spatial axis \(i) ≥ dilated kernel extent \(span)")
            }
            guard p.pads[i] < span, p.pads[i + s] < span else {
                throw ShapeRuleError("pads smaller than the kernel extent on spatial axis \(i)")
            }
            var n = p.ceilMode ? ceilDiv(padded - span, p.strides[i]) + 1 : (padded - span) / p.strides[i] + 1
            // ONNX: with ceil_mode, a last window starting in the end padding is dropped.
            if p.ceilMode, (n - 1) * p.strides[i] >= x[i + 2] + p.pads[i] { n -= 1 }
            o.append(n)
        }
        return out(inputs[0].dtype, o)

    case .softmax(let axis):
        try arity(1...1)
        try float(0)
        _ = try normalizeAxis(axis, rank: dims[0].count)
        return [inputs[0]]
    case .layerNormalization(let axis, _):
        try arity(2...3)
        try float(0)
        try sameDType(Array(0..<inputs.count))
        let a = try normalizeAxis(axis, rank: dims[0].count)
        let normShape = Array(dims[0][a...])
        for i in 1..<inputs.count {
            let b = try broadcast(dims[i], normShape)
            guard b == normShape else {
                throw ShapeRuleError("\(i == 1 ? "scale" : "bias") broadcastable to the normalized shape \(Shape(normShape)), got \(Shape(dims[i]))")
            }
        }
        return [inputs[0]]
    case .groupNormalization(let groups, _):
        try arity(3...3)
        try float(0)
        try sameDType([0, 1, 2])
        let x = dims[0]
        guard x.count >= 2 else { throw ShapeRuleError("X of rank ≥ 2 (N, C, …), got \(Shape(x))") }
        guard groups >= 1, x[1] % groups == 0 else {
            throw ShapeRuleError("channels (\(x[1])) divisible by num_groups (\(groups))")
        }
        guard dims[1] == [x[1]], dims[2] == [x[1]] else {
            throw ShapeRuleError("scale and bias of shape [\(x[1])] (one per channel), got \(Shape(dims[1])) and \(Shape(dims[2]))")
        }
        return [inputs[0]]

    case .reduceMean(let r), .reduceSum(let r), .reduceMax(let r):
        try arity(1...1)
        guard inputs[0].dtype != .bool else { throw ShapeRuleError("a numeric input, got bool") }
        let x = dims[0]
        let axes = try normalizeAxes(r.axes.isEmpty ? Array(0..<x.count) : r.axes, rank: x.count)
        if case .reduceMax = op, axes.contains(where: { x[$0] == 0 }) {
            throw ShapeRuleError("non-empty reduced axes for ReduceMax")
        }
        var o: [Int] = []
        for (i, d) in x.enumerated() {
            if axes.contains(i) { if r.keepDims { o.append(1) } } else { o.append(d) }
        }
        return out(inputs[0].dtype, o)
    case .topK(let t):
        try arity(1...1)
        guard inputs[0].dtype != .bool else { throw ShapeRuleError("a numeric input, got bool") }
        let a = try normalizeAxis(t.axis, rank: dims[0].count)
        guard t.k >= 0, t.k <= dims[0][a] else {
            throw ShapeRuleError("0 ≤ k ≤ \(dims[0][a]) (extent of axis \(t.axis)), got k = \(t.k)")
        }
        var o = dims[0]
        o[a] = t.k
        return [TensorType(inputs[0].dtype, Shape(o)), TensorType(.int64, Shape(o))]

    case .gather(let axis):
        try arity(2...2)
        guard inputs[1].dtype == .int64 || inputs[1].dtype == .int32 else {
            throw ShapeRuleError("int64 or int32 indices, got \(inputs[1].dtype.rawValue)")
        }
        let a = try normalizeAxis(axis, rank: dims[0].count)
        return out(inputs[0].dtype, Array(dims[0][..<a]) + dims[1] + Array(dims[0][(a + 1)...]))
    case .gatherElements(let axis):
        try arity(2...2)
        guard inputs[1].dtype == .int64 || inputs[1].dtype == .int32 else {
            throw ShapeRuleError("int64 or int32 indices, got \(inputs[1].dtype.rawValue)")
        }
        guard dims[0].count == dims[1].count else {
            throw ShapeRuleError("data and indices of equal rank, got \(dims[0].count) and \(dims[1].count)")
        }
        let a = try normalizeAxis(axis, rank: dims[0].count)
        for i in 0..<dims[0].count where i != a && dims[1][i] > dims[0][i] {
            throw ShapeRuleError("indices extent ≤ data extent on axis \(i) (\(dims[1][i]) > \(dims[0][i]))")
        }
        return out(inputs[0].dtype, dims[1])
    case .reshape(let shape):
        try arity(1...1)
        guard shape.allSatisfy({ $0 >= 0 }) else { throw ShapeRuleError("a resolved target shape (no -1), got \(shape)") }
        let n = dims[0].reduce(1, *), m = shape.reduce(1, *)
        guard n == m else {
            throw ShapeRuleError("target shape \(Shape(shape)) with \(m) elements to match the input's \(n)")
        }
        return out(inputs[0].dtype, shape)
    case .transpose(let perm):
        try arity(1...1)
        guard perm.sorted() == Array(0..<dims[0].count) else {
            throw ShapeRuleError("perm to be a permutation of 0..<\(dims[0].count), got \(perm)")
        }
        return out(inputs[0].dtype, perm.map { dims[0][$0] })
    case .concat(let axis):
        guard !inputs.isEmpty else { throw ShapeRuleError("at least one input") }
        try sameDType(Array(0..<inputs.count))
        let r = dims[0].count
        let a = try normalizeAxis(axis, rank: r)
        var o = dims[0]
        for (i, d) in dims.enumerated().dropFirst() {
            guard d.count == r else { throw ShapeRuleError("inputs of equal rank, input \(i) has \(Shape(d))") }
            for j in 0..<r where j != a && d[j] != o[j] {
                throw ShapeRuleError("equal extents off the concat axis; input \(i) \(Shape(d)) differs from \(Shape(dims[0])) on axis \(j)")
            }
            o[a] += d[a]
        }
        return out(inputs[0].dtype, o)
    case .split(let axis, let sizes):
        try arity(1...1)
        let a = try normalizeAxis(axis, rank: dims[0].count)
        guard !sizes.isEmpty, sizes.allSatisfy({ $0 >= 0 }), sizes.reduce(0, +) == dims[0][a] else {
            throw ShapeRuleError("split sizes summing to \(dims[0][a]) (extent of axis \(axis)), got \(sizes)")
        }
        return sizes.map { s in
            var o = dims[0]
            o[a] = s
            return TensorType(inputs[0].dtype, Shape(o))
        }
    case .slice(let s):
        try arity(1...1)
        let r = dims[0].count
        guard s.starts.count == s.ends.count, s.axes.count == s.starts.count, s.steps.count == s.starts.count else {
            throw ShapeRuleError("starts, ends, axes and steps of equal length")
        }
        let axes = try normalizeAxes(s.axes, rank: r)
        var o = dims[0]
        for (k, a) in axes.enumerated() {
            guard s.steps[k] != 0 else { throw ShapeRuleError("non-zero steps") }
            o[a] = sliceCount(extent: dims[0][a], start: s.starts[k], end: s.ends[k], step: s.steps[k])
        }
        return out(inputs[0].dtype, o)
    case .squeeze(let axes):
        try arity(1...1)
        let ax = try normalizeAxes(axes, rank: dims[0].count)
        for a in ax where dims[0][a] != 1 {
            throw ShapeRuleError("squeezed axis \(a) of extent 1, got \(dims[0][a])")
        }
        return out(inputs[0].dtype, dims[0].enumerated().filter { !ax.contains($0.offset) }.map(\.element))
    case .unsqueeze(let axes):
        try arity(1...1)
        let r = dims[0].count + axes.count
        let ax = try normalizeAxes(axes, rank: r)
        var o: [Int] = []
        var src = dims[0].makeIterator()
        for i in 0..<r { o.append(ax.contains(i) ? 1 : src.next()!) }
        return out(inputs[0].dtype, o)
    case .expand(let shape):
        try arity(1...1)
        return out(inputs[0].dtype, try broadcast(dims[0], shape))
    case .tile(let repeats):
        try arity(1...1)
        guard repeats.count == dims[0].count, repeats.allSatisfy({ $0 >= 0 }) else {
            throw ShapeRuleError("\(dims[0].count) non-negative repeats, got \(repeats)")
        }
        return out(inputs[0].dtype, zip(dims[0], repeats).map(*))
    case .pad(let p):
        try arity(1...1)
        let r = dims[0].count
        guard p.pads.count == 2 * r else { throw ShapeRuleError("\(2 * r) pads ([begin…, end…]), got \(p.pads.count)") }
        var o = dims[0]
        for i in 0..<r {
            o[i] += p.pads[i] + p.pads[i + r]
            guard o[i] >= 0 else { throw ShapeRuleError("a non-negative padded extent on axis \(i), got \(o[i])") }
            if p.mode == .reflect, p.pads[i] >= dims[0][i] || p.pads[i + r] >= dims[0][i] {
                throw ShapeRuleError("reflect pads smaller than the extent \(dims[0][i]) on axis \(i)")
            }
        }
        return out(inputs[0].dtype, o)
    case .resize(let r):
        try arity(1...1)
        try float(0)
        guard r.sizes.count == dims[0].count, r.sizes.allSatisfy({ $0 > 0 }) else {
            throw ShapeRuleError("\(dims[0].count) positive output sizes, got \(r.sizes)")
        }
        if let sc = r.scales, sc.count != r.sizes.count || sc.contains(where: { !($0 > 0) }) {
            throw ShapeRuleError("\(r.sizes.count) positive scales, got \(sc)")
        }
        return out(inputs[0].dtype, r.sizes)
    case .gridSample:
        try arity(2...2)
        try float(0)
        try sameDType([0, 1])
        let x = dims[0], g = dims[1]
        guard x.count == 4, g.count == 4, g[3] == 2, g[0] == x[0] else {
            throw ShapeRuleError("X [N, C, H, W] and grid [N, Ho, Wo, 2] with equal N, got \(Shape(x)) and \(Shape(g))")
        }
        return out(inputs[0].dtype, [x[0], x[1], g[1], g[2]])
    case .pseudoInverse:
        try arity(1...1)
        try float(0)
        guard dims[0].count == 2 else { throw ShapeRuleError("a rank-2 matrix, got \(Shape(dims[0]))") }
        return out(inputs[0].dtype, [dims[0][1], dims[0][0]])
    case .range(let start, let limit, let delta, let dtype):
        try arity(0...0)
        guard delta != 0 else { throw ShapeRuleError("a non-zero delta") }
        return out(dtype, [Swift.max(Int(((limit - start) / delta).rounded(.up)), 0)])
    }
}

func ceilDiv(_ a: Int, _ b: Int) -> Int { (a + b - 1) / b }

/// Numpy broadcasting of two shapes.
public func broadcast(_ a: [Int], _ b: [Int]) throws(ShapeRuleError) -> [Int] {
    let r = Swift.max(a.count, b.count)
    var o = Array(repeating: 0, count: r)
    for i in 0..<r {
        let x = i < r - a.count ? 1 : a[i - (r - a.count)]
        let y = i < r - b.count ? 1 : b[i - (r - b.count)]
        guard x == y || x == 1 || y == 1 else {
            throw ShapeRuleError("broadcastable shapes, got \(Shape(a)) and \(Shape(b)) (axis \(i - r): \(x) vs \(y))")
        }
        o[i] = x == 1 ? y : x
    }
    return o
}

/// numpy.matmul shape rule: 1-d operands are promoted and the added axis removed.
func matMulShape(_ a: [Int], _ b: [Int]) throws(ShapeRuleError) -> [Int] {
    guard !a.isEmpty, !b.isEmpty else { throw ShapeRuleError("operands of rank ≥ 1, got \(Shape(a)) and \(Shape(b))") }
    let a2 = a.count == 1 ? [1] + a : a
    let b2 = b.count == 1 ? b + [1] : b
    guard a2[a2.count - 1] == b2[b2.count - 2] else {
        throw ShapeRuleError("A's last dimension (\(a2.last!)) to equal B's second-to-last (\(b2[b2.count - 2])), got \(Shape(a)) and \(Shape(b))")
    }
    var o = try broadcast(Array(a2.dropLast(2)), Array(b2.dropLast(2)))
    if a.count > 1 { o.append(a2[a2.count - 2]) }
    if b.count > 1 { o.append(b2[b2.count - 1]) }
    return o
}

/// Resolves a possibly negative axis against `rank`.
public func normalizeAxis(_ axis: Int, rank: Int) throws(ShapeRuleError) -> Int {
    let a = axis < 0 ? axis + rank : axis
    guard a >= 0, a < rank else { throw ShapeRuleError("axis in [-\(rank), \(rank - 1)], got \(axis)") }
    return a
}

/// Resolves axes and rejects duplicates.
public func normalizeAxes(_ axes: [Int], rank: Int) throws(ShapeRuleError) -> [Int] {
    var out: [Int] = []
    for a in axes {
        let n = try normalizeAxis(a, rank: rank)
        guard !out.contains(n) else { throw ShapeRuleError("distinct axes, got \(axes)") }
        out.append(n)
    }
    return out
}

/// Element count of an ONNX Slice along one axis (starts/ends clamp, negative values wrap).
public func sliceCount(extent: Int, start: Int, end: Int, step: Int) -> Int {
    let (s, e) = sliceBounds(extent: extent, start: start, end: end, step: step)
    return step > 0 ? Swift.max(0, ceilDiv(e - s, step)) : Swift.max(0, ceilDiv(s - e, -step))
}

/// Clamped start and end of an ONNX Slice along one axis.
public func sliceBounds(extent: Int, start: Int, end: Int, step: Int) -> (Int, Int) {
    var s = start < 0 ? start + extent : start
    var e = end < 0 ? end + extent : end
    if step > 0 {
        s = Swift.min(Swift.max(s, 0), extent)
        e = Swift.min(Swift.max(e, 0), extent)
    } else {
        s = Swift.min(Swift.max(s, 0), extent - 1)
        e = Swift.min(Swift.max(e, -1), extent - 1)
    }
    return (s, e)
}

private func checkSpatialAttributes(_ s: Int, strides: [Int], pads: [Int], dilations: [Int]) throws(ShapeRuleError) {
    guard strides.count == s, strides.allSatisfy({ $0 >= 1 }) else { throw ShapeRuleError("\(s) positive strides, got \(strides)") }
    guard dilations.count == s, dilations.allSatisfy({ $0 >= 1 }) else { throw ShapeRuleError("\(s) positive dilations, got \(dilations)") }
    guard pads.count == 2 * s, pads.allSatisfy({ $0 >= 0 }) else { throw ShapeRuleError("\(2 * s) non-negative pads, got \(pads)") }
}
