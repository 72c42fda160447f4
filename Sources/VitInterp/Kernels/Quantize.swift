import VitIR

/// ONNX QuantizeLinear (opsets 13…21, 8-bit): y = saturate(round(x / scale) + zero_point) per
/// tensor or along one axis. The quotient is taken in Float32 and rounded to x's dtype (exact
/// for float16/bfloat16 operands: 24 ≥ 2·11 + 2 bits, so the double rounding is innocuous),
/// then rounded half to even (numpy's `rint`) and saturated to the output type's range. A NaN
/// quotient saturates to the range's minimum, as the reference's `rint(nan).astype(int32)`
/// (INT32_MIN on x86) does after adding the zero point and clipping. Tolerance class: exact.
/// Takes the fast path `quantize8Runs` where it applies.
func quantizeLinear(_ x: [Tensor], _ q: QuantizeAttributes, _ out: TensorType) throws -> Tensor {
    if let fast = try quantize8Runs(x, q) { return fast }
    return try quantizeLinearReference(x, q, out)
}

func quantizeLinearReference(_ x: [Tensor], _ q: QuantizeAttributes, _ out: TensorType) throws -> Tensor {
    let granularity = try QuantizationGranularity.of(scale: x[1].shape, x: x[0].shape, axis: q.axis)
    let lanes = QuantizationLanes(granularity, shape: x[0].shape)
    let scales = x[1].floats
    let zeros = x.count > 2 ? x[2].int64s : Array(repeating: Int64(0), count: scales.count)
    let range = q.outputDType.quantizedRange
    let (lo, hi) = (Float(range.lowerBound), Float(range.upperBound))
    let narrow = x[0].dtype
    return withFloats(x[0]) { src in
        makeInts(q.outputDType, x[0].shape) { dst in
            for i in 0..<src.count {
                let c = lanes.channel(of: i)
                var quotient = src[i] / scales[c]
                if narrow == .float16 { quotient = float16ToFloat(floatToFloat16(quotient)) }
                if narrow == .bfloat16 { quotient = bfloat16ToFloat(floatToBFloat16(quotient)) }
                let r = quotient.rounded(.toNearestOrEven) + Float(zeros[c])
                // r + zero point is exact for |r| < 2^24; beyond that it saturates either way.
                dst[i] = r.isNaN ? Int64(lo) : Int64(Swift.min(Swift.max(r, lo), hi))
            }
        }
    }
}

/// ONNX DequantizeLinear (opsets 13…21; int8, uint8 or int32 input): y = (x − zero_point) ·
/// scale, computed in Float32 and rounded to the scale's dtype, per tensor or along one axis.
/// Tolerance class: exact (one rounding of an exact difference times the scale). Takes the fast
/// path `dequantize8Runs` where it applies.
func dequantizeLinear(_ x: [Tensor], axis: Int, _ out: TensorType) throws -> Tensor {
    if let fast = try dequantize8Runs(x, axis: axis, out) { return fast }
    return try dequantizeLinearReference(x, axis: axis, out)
}

func dequantizeLinearReference(_ x: [Tensor], axis: Int, _ out: TensorType) throws -> Tensor {
    let granularity = try QuantizationGranularity.of(scale: x[1].shape, x: x[0].shape, axis: axis)
    let lanes = QuantizationLanes(granularity, shape: x[0].shape)
    let scales = x[1].floats
    let zeros = x.count > 2 ? x[2].int64s : Array(repeating: Int64(0), count: scales.count)
    return withInts(x[0]) { src in
        makeFloats(out.dtype, x[0].shape) { dst in
            for i in 0..<src.count {
                let c = lanes.channel(of: i)
                dst[i] = Float(src[i] - zeros[c]) * scales[c]
            }
        }
    }
}

/// Which scale an element of a row-major tensor uses: 0 for per-tensor, else its index along
/// the quantization axis ((i / inner) mod extent).
struct QuantizationLanes {
    let inner: Int
    let extent: Int

    init(_ g: QuantizationGranularity, shape: [Int]) {
        switch g {
        case .perTensor: (inner, extent) = (1, 1)
        case .perAxis(let a): (inner, extent) = (shape[(a + 1)...].reduce(1, *), shape[a])
        }
    }

    func channel(of i: Int) -> Int { extent == 1 ? 0 : (i / inner) % extent }
}

extension QuantizationOp {
    /// Runs the op's kernel; `types` are the shape rule's output types.
    func evaluate(_ x: [Tensor], _ types: [TensorType]) throws -> [Tensor] {
        switch self {
        case .quantizeLinear(let q): [try VitInterp.quantizeLinear(x, q, types[0])]
        case .dequantizeLinear(let axis): [try VitInterp.dequantizeLinear(x, axis: axis, types[0])]
        }
    }
}
