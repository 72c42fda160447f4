/// Normalizations: ONNX Softmax, LayerNormalization and GroupNormalization.
public enum NormalizationOp: Hashable, Sendable {
    case softmax(axis: Int)
    /// ONNX LayerNormalization(X, Scale, B?) over axes `axis..<rank`.
    case layerNormalization(axis: Int, epsilon: Float)
    /// ONNX GroupNormalization (opset 21 semantics: per-channel scale and bias).
    case groupNormalization(numGroups: Int, epsilon: Float)
}

extension Op {
    public static func softmax(axis: Int) -> Op { .normalization(.softmax(axis: axis)) }
    public static func layerNormalization(axis: Int, epsilon: Float) -> Op {
        .normalization(.layerNormalization(axis: axis, epsilon: epsilon))
    }
    public static func groupNormalization(numGroups: Int, epsilon: Float) -> Op {
        .normalization(.groupNormalization(numGroups: numGroups, epsilon: epsilon))
    }
}

extension NormalizationOp: OpDefinition {
    public var name: String {
        switch self {
        case .softmax: "Softmax"
        case .layerNormalization: "LayerNormalization"
        case .groupNormalization: "GroupNormalization"
        }
    }

    public var attributeSummary: [(String, String)] {
        switch self {
        case .softmax(let axis): [("axis", "\(axis)")]
        case .layerNormalization(let axis, let eps): [("axis", "\(axis)"), ("epsilon", "\(eps)")]
        case .groupNormalization(let g, let eps): [("num_groups", "\(g)"), ("epsilon", "\(eps)")]
        }
    }

    public var outputCount: Int { 1 }

    public func inferTypes(_ x: ShapeRuleInputs) throws(ShapeRuleError) -> [TensorType] {
        let dims = x.dims
        switch self {
        case .softmax(let axis):
            try x.arity(1...1)
            try x.float(0)
            _ = try normalizeAxis(axis, rank: dims[0].count)
            return [x[0]]
        case .layerNormalization(let axis, _):
            try x.arity(2...3)
            try x.float(0)
            try x.sameDType(x.all)
            let a = try normalizeAxis(axis, rank: dims[0].count)
            let normShape = Array(dims[0][a...])
            for i in 1..<x.count {
                let b = try broadcast(dims[i], normShape)
                guard b == normShape else {
                    throw ShapeRuleError("\(i == 1 ? "scale" : "bias") broadcastable to the normalized shape \(Shape(normShape)), got \(Shape(dims[i]))")
                }
            }
            return [x[0]]
        case .groupNormalization(let groups, _):
            try x.arity(3...3)
            try x.float(0)
            try x.sameDType([0, 1, 2])
            let xs = dims[0]
            guard xs.count >= 2 else { throw ShapeRuleError("X of rank ≥ 2 (N, C, …), got \(Shape(xs))") }
            guard groups >= 1, xs[1] % groups == 0 else {
                throw ShapeRuleError("channels (\(xs[1])) divisible by num_groups (\(groups))")
            }
            guard dims[1] == [xs[1]], dims[2] == [xs[1]] else {
                throw ShapeRuleError("scale and bias of shape [\(xs[1])] (one per channel), got \(Shape(dims[1])) and \(Shape(dims[2]))")
            }
            return [x[0]]
        }
    }

    public func estimatedFLOPs(_ s: CostShapes) -> Int { 5 * s.outputElements }
}
