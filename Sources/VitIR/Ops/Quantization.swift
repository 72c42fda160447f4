/// Linear quantization: ONNX QuantizeLinear and DequantizeLinear (opsets 13…21) with 8-bit
/// integers, per tensor or per axis. float8, int4/uint4, int16 and blocked quantization
/// (`block_size`, opset 21) are outside the IR.
public enum QuantizationOp: Hashable, Sendable {
    /// ONNX QuantizeLinear(x, y_scale, y_zero_point?):
    /// y = saturate(round_half_to_even(x / y_scale) + y_zero_point).
    case quantizeLinear(QuantizeAttributes)
    /// ONNX DequantizeLinear(x, x_scale, x_zero_point?): y = (x − x_zero_point) · x_scale,
    /// in the scale's dtype.
    case dequantizeLinear(axis: Int)
}

/// QuantizeLinear's attributes. `outputDType` is int8 or uint8: the zero point's dtype when
/// the zero point is given (the shape rule checks they agree), else ONNX's default uint8 or
/// opset 21's `output_dtype`.
public struct QuantizeAttributes: Hashable, Sendable {
    /// The axis a 1-D scale of more than one element runs along (ONNX default 1).
    public var axis: Int
    public var outputDType: DType
    public init(axis: Int = 1, outputDType: DType = .uint8) {
        self.axis = axis; self.outputDType = outputDType
    }
}

extension Op {
    public static func quantizeLinear(_ a: QuantizeAttributes) -> Op { .quantization(.quantizeLinear(a)) }
    public static func dequantizeLinear(axis: Int = 1) -> Op { .quantization(.dequantizeLinear(axis: axis)) }
}

extension DType {
    /// True for the 8-bit integer types linear quantization produces (int8, uint8).
    public var isQuantized: Bool { self == .int8 || self == .uint8 }

    /// The representable range of an 8-bit quantized type (saturation bounds).
    public var quantizedRange: ClosedRange<Int> { self == .int8 ? -128...127 : 0...255 }
}

/// How a scale applies: to the whole tensor (a scalar or a one-element 1-D scale, as ONNX's
/// reference reads it) or along one axis (a 1-D scale as long as that axis).
public enum QuantizationGranularity: Hashable, Sendable {
    case perTensor
    case perAxis(Int)

    /// The granularity of `scaleDims` applied to `xDims` along `axis`, or what was expected.
    public static func of(scale scaleDims: [Int], x xDims: [Int], axis: Int) throws(ShapeRuleError) -> QuantizationGranularity {
        if scaleDims.isEmpty || scaleDims == [1] { return .perTensor }
        guard scaleDims.count == 1 else {
            throw ShapeRuleError("a scalar or 1-D scale (blocked quantization is unsupported), got \(Shape(scaleDims))")
        }
        let a = try normalizeAxis(axis, rank: xDims.count)
        guard scaleDims[0] == xDims[a] else {
            throw ShapeRuleError("a per-axis scale as long as axis \(a) (\(xDims[a])), got \(Shape(scaleDims))")
        }
        return .perAxis(a)
    }
}

extension QuantizationOp: OpDefinition {
    public var name: String {
        switch self {
        case .quantizeLinear: "QuantizeLinear"
        case .dequantizeLinear: "DequantizeLinear"
        }
    }

    public var attributeSummary: [(String, String)] {
        switch self {
        case .quantizeLinear(let q): [("axis", "\(q.axis)"), ("output_dtype", q.outputDType.rawValue)]
        case .dequantizeLinear(let axis): [("axis", "\(axis)")]
        }
    }

    public var outputCount: Int { 1 }

    public func inferTypes(_ x: ShapeRuleInputs) throws(ShapeRuleError) -> [TensorType] {
        try x.arity(2...3)
        let dims = x.dims
        guard x[1].dtype.isFloatingPoint else { throw ShapeRuleError("a floating-point scale, got \(x[1].dtype.rawValue)") }
        let axis: Int
        switch self {
        case .quantizeLinear(let q):
            axis = q.axis
            try x.float(0)
            try x.sameDType([0, 1])
            guard q.outputDType.isQuantized else { throw ShapeRuleError("output dtype int8 or uint8, got \(q.outputDType.rawValue)") }
            if x.count == 3, x[2].dtype != q.outputDType {
                throw ShapeRuleError("a zero point of the output dtype \(q.outputDType.rawValue), got \(x[2].dtype.rawValue)")
            }
        case .dequantizeLinear(let a):
            axis = a
            guard x[0].dtype.isQuantized || x[0].dtype == .int32 else {
                throw ShapeRuleError("int8, uint8 or int32 input, got \(x[0].dtype.rawValue)")
            }
            if x.count == 3 { try x.sameDType([0, 2]) }
        }
        _ = try QuantizationGranularity.of(scale: dims[1], x: dims[0], axis: axis)
        if x.count == 3, dims[2] != dims[1] {
            throw ShapeRuleError("a zero point shaped like the scale \(Shape(dims[1])), got \(Shape(dims[2]))")
        }
        switch self {
        case .quantizeLinear(let q): return x.out(q.outputDType, dims[0])
        case .dequantizeLinear: return x.out(x[1].dtype, dims[0])
        }
    }

    public func estimatedFLOPs(_ s: CostShapes) -> Int { 2 * s.outputElements }
}
