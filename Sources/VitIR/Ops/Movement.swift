/// Data movement: ONNX Gather, GatherElements, Reshape, Transpose, Concat, Split, Slice,
/// Squeeze, Unsqueeze, Expand, Tile, Pad and Range, with their shape-carrying inputs static.
public enum MovementOp: Hashable, Sendable {
    case gather(axis: Int)
    case gatherElements(axis: Int)
    /// `shape` is fully resolved (no 0 or -1) when traced.
    case reshape(shape: [Int])
    case transpose(perm: [Int])
    case concat(axis: Int)
    case split(axis: Int, sizes: [Int])
    case slice(SliceAttributes)
    case squeeze(axes: [Int])
    case unsqueeze(axes: [Int])
    case expand(shape: [Int])
    case tile(repeats: [Int])
    case pad(PadAttributes)
    /// ONNX Range with static start/limit/delta.
    case range(start: Double, limit: Double, delta: Double, dtype: DType)
}

/// ONNX Slice with static starts/ends/axes/steps (ends may exceed the extent; they clamp).
public struct SliceAttributes: Hashable, Sendable {
    public var starts: [Int], ends: [Int], axes: [Int], steps: [Int]
    public init(starts: [Int], ends: [Int], axes: [Int]? = nil, steps: [Int]? = nil) {
        self.starts = starts; self.ends = ends
        self.axes = axes ?? Array(0..<starts.count)
        self.steps = steps ?? Array(repeating: 1, count: starts.count)
    }
}

public enum PadMode: String, Hashable, Sendable { case constant, reflect, edge }

/// ONNX Pad with static pads ([begin..., end...] over all axes) and constant value.
public struct PadAttributes: Hashable, Sendable {
    public var pads: [Int], mode: PadMode, value: Float
    public init(pads: [Int], mode: PadMode = .constant, value: Float = 0) { self.pads = pads; self.mode = mode; self.value = value }
}

extension Op {
    public static func gather(axis: Int) -> Op { .movement(.gather(axis: axis)) }
    public static func gatherElements(axis: Int) -> Op { .movement(.gatherElements(axis: axis)) }
    public static func reshape(shape: [Int]) -> Op { .movement(.reshape(shape: shape)) }
    public static func transpose(perm: [Int]) -> Op { .movement(.transpose(perm: perm)) }
    public static func concat(axis: Int) -> Op { .movement(.concat(axis: axis)) }
    public static func split(axis: Int, sizes: [Int]) -> Op { .movement(.split(axis: axis, sizes: sizes)) }
    public static func slice(_ a: SliceAttributes) -> Op { .movement(.slice(a)) }
    public static func squeeze(axes: [Int]) -> Op { .movement(.squeeze(axes: axes)) }
    public static func unsqueeze(axes: [Int]) -> Op { .movement(.unsqueeze(axes: axes)) }
    public static func expand(shape: [Int]) -> Op { .movement(.expand(shape: shape)) }
    public static func tile(repeats: [Int]) -> Op { .movement(.tile(repeats: repeats)) }
    public static func pad(_ a: PadAttributes) -> Op { .movement(.pad(a)) }
    public static func range(start: Double, limit: Double, delta: Double, dtype: DType) -> Op {
        .movement(.range(start: start, limit: limit, delta: delta, dtype: dtype))
    }
}

extension MovementOp: OpDefinition {
    public var name: String {
        switch self {
        case .gather: "Gather"
        case .gatherElements: "GatherElements"
        case .reshape: "Reshape"
        case .transpose: "Transpose"
        case .concat: "Concat"
        case .split: "Split"
        case .slice: "Slice"
        case .squeeze: "Squeeze"
        case .unsqueeze: "Unsqueeze"
        case .expand: "Expand"
        case .tile: "Tile"
        case .pad: "Pad"
        case .range: "Range"
        }
    }

    public var attributeSummary: [(String, String)] {
        switch self {
        case .gather(let axis), .gatherElements(let axis), .concat(let axis): [("axis", "\(axis)")]
        case .reshape(let s): [("shape", attributeText(s))]
        case .transpose(let p): [("perm", attributeText(p))]
        case .split(let axis, let sizes): [("axis", "\(axis)"), ("split", attributeText(sizes))]
        case .slice(let s):
            [("starts", attributeText(s.starts)), ("ends", attributeText(s.ends)), ("axes", attributeText(s.axes)),
             ("steps", attributeText(s.steps))]
        case .squeeze(let a), .unsqueeze(let a): [("axes", attributeText(a))]
        case .expand(let s): [("shape", attributeText(s))]
        case .tile(let r): [("repeats", attributeText(r))]
        case .pad(let p): [("pads", attributeText(p.pads)), ("mode", p.mode.rawValue), ("value", "\(p.value)")]
        case .range(let s, let l, let d, let t): [("start", "\(s)"), ("limit", "\(l)"), ("delta", "\(d)"), ("dtype", t.rawValue)]
        }
    }

    public var outputCount: Int {
        switch self {
        case .split(_, let sizes): sizes.count
        case .gather, .gatherElements, .reshape, .transpose, .concat, .slice, .squeeze, .unsqueeze, .expand, .tile,
             .pad, .range: 1
        }
    }

    public func inferTypes(_ x: ShapeRuleInputs) throws(ShapeRuleError) -> [TensorType] {
        switch self {
        case .range(let start, let limit, let delta, let dtype):
            try x.arity(0...0)
            guard delta != 0 else { throw ShapeRuleError("a non-zero delta") }
            let count = try checked(Checked.integer(((limit - start) / delta).rounded(.up)),
                                    "the element count of Range(\(start), \(limit), \(delta))")
            return x.out(dtype, [Swift.max(count, 0)])
        case .concat(let axis):
            return try concatTypes(x, axis: axis)
        case .gather(let axis):
            try x.arity(2...2)
            try x.indices(1)
            let d = x.dims[0]
            let a = try normalizeAxis(axis, rank: d.count)
            return x.out(Array(d[..<a]) + x.dims[1] + Array(d[(a + 1)...]))
        case .gatherElements(let axis):
            return try gatherElementsTypes(x, axis: axis)
        case .reshape(let shape):
            try x.arity(1...1)
            guard shape.allSatisfy({ $0 >= 0 }) else { throw ShapeRuleError("a resolved target shape (no -1), got \(shape)") }
            let n = x.dims[0].reduce(1, *)
            let m = try checked(Checked.product(shape), "the element count of target shape \(shape)")
            guard n == m else {
                throw ShapeRuleError("target shape \(Shape(shape)) with \(m) elements to match the input's \(n)")
            }
            return x.out(shape)
        case .transpose(let perm):
            try x.arity(1...1)
            let d = x.dims[0]
            guard perm.sorted() == Array(0..<d.count) else {
                throw ShapeRuleError("perm to be a permutation of 0..<\(d.count), got \(perm)")
            }
            return x.out(perm.map { d[$0] })
        case .split(let axis, let sizes):
            return try splitTypes(x, axis: axis, sizes: sizes)
        case .slice(let s):
            return try sliceTypes(x, s)
        case .squeeze(let axes):
            try x.arity(1...1)
            let d = x.dims[0]
            let ax = try normalizeAxes(axes, rank: d.count)
            for a in ax where d[a] != 1 { throw ShapeRuleError("squeezed axis \(a) of extent 1, got \(d[a])") }
            return x.out(d.enumerated().filter { !ax.contains($0.offset) }.map(\.element))
        case .unsqueeze(let axes):
            try x.arity(1...1)
            let d = x.dims[0]
            let r = d.count + axes.count
            let ax = try normalizeAxes(axes, rank: r)
            var o: [Int] = []
            var src = d.makeIterator()
            for i in 0..<r { o.append(ax.contains(i) ? 1 : src.next() ?? 1) }
            return x.out(o)
        case .expand(let shape):
            try x.arity(1...1)
            return x.out(try broadcast(x.dims[0], shape))
        case .tile(let repeats):
            try x.arity(1...1)
            let d = x.dims[0]
            guard repeats.count == d.count, repeats.allSatisfy({ $0 >= 0 }) else {
                throw ShapeRuleError("\(d.count) non-negative repeats, got \(repeats)")
            }
            var o: [Int] = []
            for (e, r) in zip(d, repeats) { o.append(try checked(Checked.multiply(e, r), "the tiled extent \(e) × \(r)")) }
            return x.out(o)
        case .pad(let p):
            return try padTypes(x, p)
        }
    }

    public func estimatedFLOPs(_ s: CostShapes) -> Int { 0 }

    private func concatTypes(_ x: ShapeRuleInputs, axis: Int) throws(ShapeRuleError) -> [TensorType] {
        guard x.count > 0 else { throw ShapeRuleError("at least one input") }
        try x.sameDType(x.all)
        let dims = x.dims
        let r = dims[0].count
        let a = try normalizeAxis(axis, rank: r)
        var o = dims[0]
        for (i, d) in dims.enumerated().dropFirst() {
            guard d.count == r else { throw ShapeRuleError("inputs of equal rank, input \(i) has \(Shape(d))") }
            for j in 0..<r where j != a && d[j] != o[j] {
                throw ShapeRuleError("equal extents off the concat axis; input \(i) \(Shape(d)) differs from \(Shape(dims[0])) on axis \(j)")
            }
            o[a] = try checked(Checked.add(o[a], d[a]), "the concatenated extent on axis \(a)")
        }
        return x.out(o)
    }

    private func gatherElementsTypes(_ x: ShapeRuleInputs, axis: Int) throws(ShapeRuleError) -> [TensorType] {
        try x.arity(2...2)
        try x.indices(1)
        let (data, idx) = (x.dims[0], x.dims[1])
        guard data.count == idx.count else {
            throw ShapeRuleError("data and indices of equal rank, got \(data.count) and \(idx.count)")
        }
        let a = try normalizeAxis(axis, rank: data.count)
        for i in 0..<data.count where i != a && idx[i] > data[i] {
            throw ShapeRuleError("indices extent ≤ data extent on axis \(i) (\(idx[i]) > \(data[i]))")
        }
        return x.out(idx)
    }

    private func splitTypes(_ x: ShapeRuleInputs, axis: Int, sizes: [Int]) throws(ShapeRuleError) -> [TensorType] {
        try x.arity(1...1)
        let d = x.dims[0]
        let a = try normalizeAxis(axis, rank: d.count)
        guard !sizes.isEmpty, sizes.allSatisfy({ $0 >= 0 }), Checked.sum(sizes) == d[a] else {
            throw ShapeRuleError("split sizes summing to \(d[a]) (extent of axis \(axis)), got \(sizes)")
        }
        return sizes.map { s in
            var o = d
            o[a] = s
            return TensorType(x[0].dtype, Shape(o))
        }
    }

    private func sliceTypes(_ x: ShapeRuleInputs, _ s: SliceAttributes) throws(ShapeRuleError) -> [TensorType] {
        try x.arity(1...1)
        let d = x.dims[0]
        guard s.starts.count == s.ends.count, s.axes.count == s.starts.count, s.steps.count == s.starts.count else {
            throw ShapeRuleError("starts, ends, axes and steps of equal length")
        }
        let axes = try normalizeAxes(s.axes, rank: d.count)
        var o = d
        for (k, a) in axes.enumerated() {
            guard s.steps[k] != 0 else { throw ShapeRuleError("non-zero steps") }
            o[a] = sliceCount(extent: d[a], start: s.starts[k], end: s.ends[k], step: s.steps[k])
        }
        return x.out(o)
    }

    private func padTypes(_ x: ShapeRuleInputs, _ p: PadAttributes) throws(ShapeRuleError) -> [TensorType] {
        try x.arity(1...1)
        let d = x.dims[0]
        let r = d.count
        guard p.pads.count == 2 * r else { throw ShapeRuleError("\(2 * r) pads ([begin…, end…]), got \(p.pads.count)") }
        var o = d
        for i in 0..<r {
            o[i] = try checked(Checked.sum([o[i], p.pads[i], p.pads[i + r]]), "the padded extent on axis \(i)")
            guard o[i] >= 0 else { throw ShapeRuleError("a non-negative padded extent on axis \(i), got \(o[i])") }
            if p.mode == .reflect, p.pads[i] >= d[i] || p.pads[i + r] >= d[i] {
                throw ShapeRuleError("reflect pads smaller than the extent \(d[i]) on axis \(i)")
            }
        }
        return x.out(o)
    }
}
