/// The closed op set, grouped in families. Each family is one enum in one file of
/// `Sources/VitIR/Ops/` that holds, per op, its attributes, ONNX name, shape rule and cost; the
/// interpreter and the ONNX layer each keep one file per family with an exhaustive `switch`
/// over it, so an op added to a family without a kernel or an ONNX mapping is a compile error.
///
/// Every op mirrors one ONNX operator. Inputs that ONNX takes as tensors but that must be
/// static for a shape to be known (Reshape's shape, Slice's starts, TopK's K, Resize's sizes, …)
/// are attributes here and become initializers at export. Ops are built with the static
/// members each family file declares (`Op.add`, `.softmax(axis: -1)`, `.gridSample(attrs)`),
/// which also serve as patterns (`case .add:`) and in `==`.
public enum Op: Hashable, Sendable {
    case elementwise(ElementwiseOp)
    case linearAlgebra(LinearAlgebraOp)
    case convolution(ConvolutionOp)
    case normalization(NormalizationOp)
    case reduction(ReductionOp)
    case movement(MovementOp)
    case sampling(SamplingOp)
    case quantization(QuantizationOp)

    /// The family member that defines this op.
    public var definition: any OpDefinition {
        switch self {
        case .elementwise(let d): d
        case .linearAlgebra(let d): d
        case .convolution(let d): d
        case .normalization(let d): d
        case .reduction(let d): d
        case .movement(let d): d
        case .sampling(let d): d
        case .quantization(let d): d
        }
    }

    /// The ONNX operator name.
    public var name: String { definition.name }
    /// Attributes as ordered (key, value) text pairs, for dumps. Empty for attribute-free ops.
    public var attributeSummary: [(String, String)] { definition.attributeSummary }
    /// Number of outputs the op produces.
    public var outputCount: Int { definition.outputCount }
}

/// What the IR knows of one op: its name, attributes, shape rule and cost. Implemented by
/// each family enum in `Sources/VitIR/Ops/`.
public protocol OpDefinition: Hashable, Sendable {
    /// The ONNX operator name.
    var name: String { get }
    /// Attributes as ordered (key, value) text pairs for dumps; empty when there are none.
    var attributeSummary: [(String, String)] { get }
    /// Number of outputs.
    var outputCount: Int { get }
    /// The shape rule: output types from input types, or what the op expected. Inputs have
    /// static shapes (`ShapeRuleInputs.dims`); semantics follow the ONNX operator definition.
    func inferTypes(_ inputs: ShapeRuleInputs) throws(ShapeRuleError) -> [TensorType]
    /// Estimated floating-point operations (a multiply-add counts 2). Contractions are exact;
    /// elementwise, normalization and reduction ops count one FLOP per element as an
    /// order-of-magnitude figure; data movement counts 0.
    func estimatedFLOPs(_ shapes: CostShapes) -> Int
}

/// Text of an int list in dumps: `[1,2,3]`.
func attributeText(_ a: [Int]) -> String { "[" + a.map(String.init).joined(separator: ",") + "]" }
