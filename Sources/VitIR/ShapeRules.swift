/// The single validator of the op set: given input types, returns output types or says what
/// was expected. Runs at trace time (via `Tracer.apply`), in the verifier and on ONNX import.
/// Each op's rule is `OpDefinition.inferTypes` in its family file (`Sources/VitIR/Ops/`);
/// semantics follow the ONNX operator definitions (negative axes count from the end, numpy
/// broadcasting, explicit pads as [begin..., end...]).
///
/// Every input and output has non-negative extents whose byte size is an `Int`, so kernels and
/// planners may multiply extents of checked types without overflow.
public func inferTypes(_ op: Op, _ inputs: [TensorType]) throws(ShapeRuleError) -> [TensorType] {
    let outputs = try op.definition.inferTypes(ShapeRuleInputs(inputs))
    for (k, t) in outputs.enumerated() {
        guard let d = t.shape.ints, Checked.byteCount(dims: d, t.dtype) != nil else {
            throw ShapeRuleError("output \(k) (\(t)) to have non-negative extents and a byte size that fits in 64 bits")
        }
    }
    return outputs
}

/// A shape rule's view of its inputs: types, static dims, and the checks most rules share.
public struct ShapeRuleInputs: Sendable {
    public let types: [TensorType]
    /// Static dims of each input (a symbolic dimension is rejected on construction).
    public let dims: [[Int]]

    public init(_ types: [TensorType]) throws(ShapeRuleError) {
        var dims: [[Int]] = []
        for t in types {
            guard let d = t.shape.ints else { throw ShapeRuleError("static shapes (symbolic dimension in \(t.shape))") }
            guard Checked.byteCount(dims: d, t.dtype) != nil else {
                throw ShapeRuleError("inputs with non-negative extents and a byte size that fits in 64 bits, got \(t)")
            }
            dims.append(d)
        }
        self.types = types
        self.dims = dims
    }

    public var count: Int { types.count }
    public subscript(_ i: Int) -> TensorType { types[i] }
    public var all: [Int] { Array(0..<types.count) }

    /// Requires the number of inputs to lie in `n`.
    public func arity(_ n: ClosedRange<Int>) throws(ShapeRuleError) {
        guard n.contains(count) else {
            let want = n.lowerBound == n.upperBound ? "\(n.lowerBound)" : "\(n.lowerBound)…\(n.upperBound)"
            throw ShapeRuleError("\(want) input\(n.upperBound == 1 ? "" : "s"), got \(count)")
        }
    }

    /// Requires input `i` to be floating point.
    public func float(_ i: Int) throws(ShapeRuleError) {
        guard types[i].dtype.isFloatingPoint else {
            throw ShapeRuleError("input \(i) to be floating point, got \(types[i].dtype.rawValue)")
        }
    }

    /// Requires input `i` not to be bool.
    public func numeric(_ i: Int) throws(ShapeRuleError) {
        guard types[i].dtype != .bool else { throw ShapeRuleError("a numeric input, got bool") }
    }

    /// Requires the inputs at `idx` to share one dtype.
    public func sameDType(_ idx: [Int]) throws(ShapeRuleError) {
        guard let firstIndex = idx.first else { return }
        let first = types[firstIndex].dtype
        for i in idx.dropFirst() where types[i].dtype != first {
            throw ShapeRuleError("inputs \(idx.map(String.init).joined(separator: ", ")) to share one dtype, got \(idx.map { types[$0].dtype.rawValue }.joined(separator: ", "))")
        }
    }

    /// Requires int64 or int32 indices at input `i`.
    public func indices(_ i: Int) throws(ShapeRuleError) {
        guard types[i].dtype == .int64 || types[i].dtype == .int32 else {
            throw ShapeRuleError("int64 or int32 indices, got \(types[i].dtype.rawValue)")
        }
    }

    /// One output of `dtype` and `shape`.
    public func out(_ dtype: DType, _ shape: [Int]) -> [TensorType] { [TensorType(dtype, Shape(shape))] }
    /// One output of input 0's dtype and `shape`.
    public func out(_ shape: [Int]) -> [TensorType] { out(types[0].dtype, shape) }
}

/// The static shapes a cost estimate reads.
public struct CostShapes: Sendable {
    public let inputs: [[Int]]
    public let outputs: [[Int]]
    public init(inputs: [[Int]], outputs: [[Int]]) { self.inputs = inputs; self.outputs = outputs }
    /// Element count of the first output (0 when there is none).
    public var outputElements: Int { outputs.first.map { $0.reduce(1, *) } ?? 0 }
    /// Element count of input `i`.
    public func inputElements(_ i: Int) -> Int { inputs[i].reduce(1, *) }
}

/// ⌈a / b⌉ for a ≥ 0, b > 0, without overflow.
func ceilDiv(_ a: Int, _ b: Int) -> Int { a == 0 ? 0 : (a - 1) / b + 1 }

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
/// Any `step` but 0 is accepted, `Int.min` included.
public func sliceCount(extent: Int, start: Int, end: Int, step: Int) -> Int {
    let (s, e) = sliceBounds(extent: extent, start: start, end: end, step: step)
    // Both bounds lie in [-1, extent], so their difference cannot overflow; the step's
    // magnitude is taken as unsigned so that Int.min has one.
    let span = step > 0 ? e - s : s - e
    guard span > 0 else { return 0 }
    return Int(UInt(span - 1) / step.magnitude) + 1
}

/// Clamped start and end of an ONNX Slice along one axis.
public func sliceBounds(extent: Int, start: Int, end: Int, step: Int) -> (Int, Int) {
    // A negative start or end plus a non-negative extent cannot overflow.
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
