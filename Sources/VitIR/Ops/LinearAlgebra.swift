/// Contractions and the one non-ONNX op: ONNX MatMul and Gemm, and PseudoInverse.
public enum LinearAlgebraOp: Hashable, Sendable {
    /// ONNX MatMul (numpy.matmul semantics).
    case matMul
    /// ONNX Gemm: alpha·A'·B' + beta·C with optional transposes.
    case gemm(GemmAttributes)
    /// Moore–Penrose pseudo-inverse of a rank-2 float matrix (singular values below
    /// max(m, n)·ε·σ_max are treated as zero, as `torch.linalg.pinv`). Not an ONNX operator:
    /// it exists so weight resampling (FlexiViT's pinv of a resize matrix) is part of the
    /// traced graph, and must fold to a constant before export.
    case pseudoInverse
}

public struct GemmAttributes: Hashable, Sendable {
    public var alpha: Float = 1, beta: Float = 1, transA = false, transB = false
    public init(alpha: Float = 1, beta: Float = 1, transA: Bool = false, transB: Bool = false) {
        self.alpha = alpha; self.beta = beta; self.transA = transA; self.transB = transB
    }
}

extension Op {
    public static let matMul = Op.linearAlgebra(.matMul)
    public static let pseudoInverse = Op.linearAlgebra(.pseudoInverse)
    public static func gemm(_ a: GemmAttributes) -> Op { .linearAlgebra(.gemm(a)) }
}

extension LinearAlgebraOp: OpDefinition {
    public var name: String {
        switch self {
        case .matMul: "MatMul"
        case .gemm: "Gemm"
        case .pseudoInverse: "PseudoInverse"
        }
    }

    public var attributeSummary: [(String, String)] {
        switch self {
        case .gemm(let g): [("alpha", "\(g.alpha)"), ("beta", "\(g.beta)"), ("transA", "\(g.transA)"), ("transB", "\(g.transB)")]
        case .matMul, .pseudoInverse: []
        }
    }

    public var outputCount: Int { 1 }

    public func inferTypes(_ x: ShapeRuleInputs) throws(ShapeRuleError) -> [TensorType] {
        let dims = x.dims
        /// ONNX MatMul and Gemm take float, int32 or int64 (8-bit integers need MatMulInteger).
        func matMulDType() throws(ShapeRuleError) {
            guard x[0].dtype != .bool, !x[0].dtype.isQuantized else {
                throw ShapeRuleError("float, int32 or int64 inputs, got \(x[0].dtype.rawValue)")
            }
        }
        switch self {
        case .matMul:
            try x.arity(2...2)
            try x.sameDType([0, 1])
            try matMulDType()
            return x.out(try matMulShape(dims[0], dims[1]))
        case .gemm(let g):
            try x.arity(2...3)
            try x.sameDType(x.all)
            try matMulDType()
            guard dims[0].count == 2, dims[1].count == 2 else {
                throw ShapeRuleError("rank-2 A and B, got \(Shape(dims[0])) and \(Shape(dims[1]))")
            }
            let (m, ka) = g.transA ? (dims[0][1], dims[0][0]) : (dims[0][0], dims[0][1])
            let (kb, n) = g.transB ? (dims[1][1], dims[1][0]) : (dims[1][0], dims[1][1])
            guard ka == kb else { throw ShapeRuleError("A's K (\(ka)) to equal B's K (\(kb))") }
            if x.count == 3 {
                let c = try broadcast(dims[2], [m, n])
                guard c == [m, n] else { throw ShapeRuleError("C unidirectionally broadcastable to [\(m), \(n)], got \(Shape(dims[2]))") }
            }
            return x.out([m, n])
        case .pseudoInverse:
            try x.arity(1...1)
            try x.float(0)
            guard dims[0].count == 2 else { throw ShapeRuleError("a rank-2 matrix, got \(Shape(dims[0]))") }
            return x.out([dims[0][1], dims[0][0]])
        }
    }

    public func estimatedFLOPs(_ s: CostShapes) -> Int {
        let out = s.outputElements
        switch self {
        case .matMul:
            return 2 * out * (s.inputs[0].last ?? 1)
        case .gemm(let g):
            let a = s.inputs[0]
            return 2 * out * (g.transA ? a[0] : a[1]) + (s.inputs.count > 2 ? out : 0)
        case .pseudoInverse:
            // An SVD of an m×n matrix costs O(m·n·min(m, n)); count it as 4·m·n·min(m, n).
            let a = s.inputs[0]
            return 4 * a[0] * a[1] * Swift.min(a[0], a[1])
        }
    }
}
