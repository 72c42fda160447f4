import VitIR

/// ONNX Cast between all dtypes, as numpy's `astype` on x86:
/// - float → float32/float16/bfloat16: exact widening, narrowing rounds to nearest even;
/// - float → int64/int32: truncation toward zero; NaN and out-of-range values give the type's
///   minimum; float → uint8/int8 goes through int32 and wraps;
/// - float or integer → bool: `x != 0` (NaN is true);
/// - integer → integer wraps (two's complement); integer → float rounds to nearest;
/// - bool → numbers: 0 or 1.
/// Tolerance class: exact (every result is the correctly rounded or specified value).
func cast(_ x: Tensor, to dtype: DType) -> Tensor {
    if x.dtype == dtype { return x }
    if x.dtype.isFloatingPoint {
        return withFloats(x) { fromFloatsOrCast(Array($0), dtype: dtype, shape: x.shape) }
    }
    return withInts(x) { fromInts(Array($0), dtype: dtype, shape: x.shape) }
}

private func fromFloatsOrCast(_ values: [Float], dtype: DType, shape: [Int]) -> Tensor {
    dtype.isFloatingPoint ? fromFloats(values, dtype: dtype, shape: shape) : castFloats(values, to: dtype, shape: shape)
}

/// Float32 values to an integer or bool dtype with `cast`'s rules.
func castFloats(_ values: [Float], to dtype: DType, shape: [Int]) -> Tensor {
    Tensor(dtype: dtype, shape: shape) { raw in
        switch dtype {
        case .int64:
            let p = raw.bindMemory(to: Int64.self)
            for i in values.indices { p[i] = truncateToInt64(values[i]) }
        case .int32:
            let p = raw.bindMemory(to: Int32.self)
            for i in values.indices { p[i] = truncateToInt32(values[i]) }
        case .uint8:
            let p = raw.bindMemory(to: UInt8.self)
            for i in values.indices { p[i] = UInt8(truncatingIfNeeded: truncateToInt32(values[i])) }
        case .int8:
            let p = raw.bindMemory(to: Int8.self)
            for i in values.indices { p[i] = Int8(truncatingIfNeeded: truncateToInt32(values[i])) }
        case .bool:
            let p = raw.bindMemory(to: UInt8.self)
            for i in values.indices { p[i] = values[i] != 0 ? 1 : 0 }
        case .float32, .float16, .bfloat16:
            break  // handled by fromFloats
        }
    }
}
