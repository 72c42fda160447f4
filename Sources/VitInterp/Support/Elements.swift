import VitIR

// Typed element access shared by the kernels. Floating-point kernels compute in Float32:
// float16 and bfloat16 widen exactly and round back to nearest even. Integer kernels compute
// in Int64 and wrap back to int32/uint8/int8 (two's complement truncation, as numpy's astype).

/// The elements of `t` as Float32: a view when `t` is float32, an exact copy for float16,
/// bfloat16 and integers up to 2^24.
func withFloats<R>(_ t: Tensor, _ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
    if t.dtype == .float32 { return try t.withElements(as: Float.self, body) }
    if t.dtype == .float16 { return try withNonNilBase(widenedHalves(t), body) }
    return try withNonNilBase(t.floats, body)
}

/// Calls `body` with `values`' elements through a buffer whose base address is never nil,
/// even when `values` is empty (kernels unwrap base addresses of empty tensors too).
func withNonNilBase<T: Numeric, R>(_ values: [T], _ body: (UnsafeBufferPointer<T>) throws -> R) rethrows -> R {
    let padded = values.isEmpty ? [0] : values
    return try padded.withUnsafeBufferPointer { try body(UnsafeBufferPointer(rebasing: $0[0..<values.count])) }
}

/// A tensor of floating-point `dtype` whose elements `body` writes as Float32. They start as
/// zeros, unless `writesAll` (the kernel writes every element, whatever the shape and values):
/// then a float32 tensor's storage, or a float16 tensor's Float32 scratch, is not zeroed first
/// (`Tensor.overwriting`; debug builds fill it with NaNs instead, so the tests catch an
/// element left unwritten).
func makeFloats(_ dtype: DType, _ shape: [Int], writesAll: Bool = false,
                _ body: (UnsafeMutableBufferPointer<Float>) throws -> Void) rethrows -> Tensor {
    if dtype == .float32, writesAll {
        return try Tensor.overwriting(.float32, shape) { raw in try body(raw.bindMemory(to: Float.self)) }
    }
    if dtype == .float32 { return try Tensor.float32(shape, body) }
    let n = shape.reduce(1, *)
    if dtype == .float16 {
        // Float32 scratch, narrowed once: zeroed unless the kernel writes it all (debug builds
        // fill it with NaNs then, as Tensor.overwriting does).
        let scratch = UnsafeMutableBufferPointer<Float>.allocate(capacity: Swift.max(n, 1))
        defer { scratch.deallocate() }
        var fill: Float = 0
        #if DEBUG
        if writesAll { fill = .nan }
        #endif
        if !writesAll || fill.isNaN { scratch.initialize(repeating: fill) }
        let values = UnsafeMutableBufferPointer(rebasing: scratch[0..<n])
        try body(values)
        return narrowedToHalves(UnsafeBufferPointer(values), shape: shape)
    }
    var values = [Float](repeating: 0, count: Swift.max(n, 1))
    try values.withUnsafeMutableBufferPointer { try body(UnsafeMutableBufferPointer(rebasing: $0[0..<n])) }
    return fromFloats(Array(values.prefix(n)), dtype: dtype, shape: shape)
}

/// Rounds Float32 values to `dtype` (float16/bfloat16 to nearest even; other dtypes by `Cast`).
func fromFloats(_ values: [Float], dtype: DType, shape: [Int]) -> Tensor {
    switch dtype {
    case .float32:
        return Tensor(values, shape: shape)
    case .float16:
        return values.withUnsafeBufferPointer { narrowedToHalves($0, shape: shape) }
    case .bfloat16:
        return Tensor(dtype: dtype, shape: shape) { raw in
            let p = raw.bindMemory(to: UInt16.self)
            for i in values.indices { p[i] = floatToBFloat16(values[i]) }
        }
    case .int64, .int32, .uint8, .int8, .bool:
        return castFloats(values, to: dtype, shape: shape)
    }
}

/// The elements of an integer or bool tensor as Int64: a view for int64, a copy otherwise.
func withInts<R>(_ t: Tensor, _ body: (UnsafeBufferPointer<Int64>) throws -> R) rethrows -> R {
    switch t.dtype {
    case .int64: return try t.withElements(as: Int64.self, body)
    case .int32: return try t.withElements(as: Int32.self) { try withNonNilBase($0.map(Int64.init), body) }
    case .uint8, .bool: return try t.withElements(as: UInt8.self) { try withNonNilBase($0.map(Int64.init), body) }
    case .int8: return try t.withElements(as: Int8.self) { try withNonNilBase($0.map(Int64.init), body) }
    case .float32, .float16, .bfloat16:
        return try withFloats(t) { f in try withNonNilBase(f.map(truncateToInt64), body) }
    }
}

/// A tensor of integer or bool `dtype` whose elements `body` writes as Int64; int32, uint8 and
/// int8 wrap, bool is `!= 0`.
func makeInts(_ dtype: DType, _ shape: [Int],
              _ body: (UnsafeMutableBufferPointer<Int64>) throws -> Void) rethrows -> Tensor {
    if dtype == .int64 {
        return try Tensor(dtype: .int64, shape: shape) { raw in try body(raw.bindMemory(to: Int64.self)) }
    }
    let n = shape.reduce(1, *)
    var values = [Int64](repeating: 0, count: Swift.max(n, 1))
    try values.withUnsafeMutableBufferPointer { try body(UnsafeMutableBufferPointer(rebasing: $0[0..<n])) }
    return fromInts(Array(values.prefix(n)), dtype: dtype, shape: shape)
}

/// Converts Int64 values to `dtype`: integers wrap, bool is `!= 0`, floats round to nearest.
func fromInts(_ values: [Int64], dtype: DType, shape: [Int]) -> Tensor {
    Tensor(dtype: dtype, shape: shape) { raw in
        switch dtype {
        case .int64: _ = raw.bindMemory(to: Int64.self).initialize(from: values)
        case .int32:
            let p = raw.bindMemory(to: Int32.self)
            for i in values.indices { p[i] = Int32(truncatingIfNeeded: values[i]) }
        case .uint8:
            let p = raw.bindMemory(to: UInt8.self)
            for i in values.indices { p[i] = UInt8(truncatingIfNeeded: values[i]) }
        case .int8:
            let p = raw.bindMemory(to: Int8.self)
            for i in values.indices { p[i] = Int8(truncatingIfNeeded: values[i]) }
        case .bool:
            let p = raw.bindMemory(to: UInt8.self)
            for i in values.indices { p[i] = values[i] != 0 ? 1 : 0 }
        case .float32:
            let p = raw.bindMemory(to: Float.self)
            for i in values.indices { p[i] = Float(values[i]) }
        case .float16:
            let p = raw.bindMemory(to: UInt16.self)
            for i in values.indices { p[i] = floatToFloat16(Float(values[i])) }
        case .bfloat16:
            let p = raw.bindMemory(to: UInt16.self)
            for i in values.indices { p[i] = floatToBFloat16(Float(values[i])) }
        }
    }
}

/// A bool tensor whose bytes (0 or 1) `body` writes.
func makeBools(_ shape: [Int], _ body: (UnsafeMutableBufferPointer<UInt8>) throws -> Void) rethrows -> Tensor {
    try Tensor(dtype: .bool, shape: shape) { raw in try body(raw.bindMemory(to: UInt8.self)) }
}

/// Float to Int64 as numpy's astype on x86: truncation toward zero; NaN and values outside
/// the Int64 range give Int64.min.
func truncateToInt64(_ v: Float) -> Int64 {
    guard v.isFinite, v >= -9.223372e18, v < 9.223372e18 else { return Int64.min }
    return Int64(v)
}

/// Float to Int32 as numpy's astype on x86: truncation toward zero; NaN and values outside
/// the Int32 range give Int32.min.
func truncateToInt32(_ v: Float) -> Int32 {
    guard v.isFinite, v >= -2147483648, v < 2147483648 else { return Int32.min }
    return Int32(v)
}

/// The bit pattern of `value` converted to `dtype` (for fill values of data movement kernels).
func fillPattern(_ value: Float, _ dtype: DType) -> UInt64 {
    switch dtype {
    case .float32: UInt64(value.bitPattern)
    case .float16: UInt64(floatToFloat16(value))
    case .bfloat16: UInt64(floatToBFloat16(value))
    case .int64: UInt64(bitPattern: truncateToInt64(value))
    case .int32: UInt64(UInt32(bitPattern: truncateToInt32(value)))
    case .uint8: UInt64(UInt8(truncatingIfNeeded: truncateToInt32(value)))
    case .int8: UInt64(UInt8(bitPattern: Int8(truncatingIfNeeded: truncateToInt32(value))))
    case .bool: value != 0 ? 1 : 0
    }
}
