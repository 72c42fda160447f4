/// Reductions over axes: ONNX ReduceMean, ReduceSum, ReduceMax, and TopK.
public enum ReductionOp: Hashable, Sendable {
    case reduceMean(ReduceAttributes)
    case reduceSum(ReduceAttributes)
    case reduceMax(ReduceAttributes)
    /// ONNX TopK; outputs (values, int64 indices).
    case topK(TopKAttributes)
}

/// Reduction axes (empty = all axes, ONNX's default with noop_with_empty_axes = 0).
public struct ReduceAttributes: Hashable, Sendable {
    public var axes: [Int], keepDims: Bool
    public init(axes: [Int], keepDims: Bool = true) { self.axes = axes; self.keepDims = keepDims }
}

public struct TopKAttributes: Hashable, Sendable {
    public var k: Int, axis: Int, largest: Bool, sorted: Bool
    public init(k: Int, axis: Int = -1, largest: Bool = true, sorted: Bool = true) {
        self.k = k; self.axis = axis; self.largest = largest; self.sorted = sorted
    }
}

extension Op {
    public static func reduceMean(_ a: ReduceAttributes) -> Op { .reduction(.reduceMean(a)) }
    public static func reduceSum(_ a: ReduceAttributes) -> Op { .reduction(.reduceSum(a)) }
    public static func reduceMax(_ a: ReduceAttributes) -> Op { .reduction(.reduceMax(a)) }
    public static func topK(_ a: TopKAttributes) -> Op { .reduction(.topK(a)) }
}

extension ReductionOp: OpDefinition {
    public var name: String {
        switch self {
        case .reduceMean: "ReduceMean"
        case .reduceSum: "ReduceSum"
        case .reduceMax: "ReduceMax"
        case .topK: "TopK"
        }
    }

    public var attributeSummary: [(String, String)] {
        switch self {
        case .reduceMean(let r), .reduceSum(let r), .reduceMax(let r):
            [("axes", attributeText(r.axes)), ("keepdims", "\(r.keepDims)")]
        case .topK(let t): [("k", "\(t.k)"), ("axis", "\(t.axis)"), ("largest", "\(t.largest)"), ("sorted", "\(t.sorted)")]
        }
    }

    public var outputCount: Int {
        switch self {
        case .topK: 2
        case .reduceMean, .reduceSum, .reduceMax: 1
        }
    }

    public func inferTypes(_ x: ShapeRuleInputs) throws(ShapeRuleError) -> [TensorType] {
        let dims = x.dims
        switch self {
        case .reduceMean(let r), .reduceSum(let r), .reduceMax(let r):
            try x.arity(1...1)
            try x.numeric(0)
            let xs = dims[0]
            let axes = try normalizeAxes(r.axes.isEmpty ? Array(0..<xs.count) : r.axes, rank: xs.count)
            if case .reduceMax = self, axes.contains(where: { xs[$0] == 0 }) {
                throw ShapeRuleError("non-empty reduced axes for ReduceMax")
            }
            var o: [Int] = []
            for (i, d) in xs.enumerated() {
                if axes.contains(i) { if r.keepDims { o.append(1) } } else { o.append(d) }
            }
            return x.out(o)
        case .topK(let t):
            try x.arity(1...1)
            try x.numeric(0)
            let a = try normalizeAxis(t.axis, rank: dims[0].count)
            guard t.k >= 0, t.k <= dims[0][a] else {
                throw ShapeRuleError("0 ≤ k ≤ \(dims[0][a]) (extent of axis \(t.axis)), got k = \(t.k)")
            }
            var o = dims[0]
            o[a] = t.k
            return [TensorType(x[0].dtype, Shape(o)), TensorType(.int64, Shape(o))]
        }
    }

    public func estimatedFLOPs(_ s: CostShapes) -> Int { s.inputElements(0) }
}
