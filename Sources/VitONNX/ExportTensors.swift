import Foundation
import ONNXProto
import VitIR

/// `TypeProto` of a tensor value: element type and fixed (`dim_value`) or symbolic
/// (`dim_param`) dimensions.
func exportTypeProto(_ type: TensorType) -> Onnx_TypeProto {
    var shape = Onnx_TensorShapeProto()
    shape.dim = type.shape.dims.map { d in
        var dim = Onnx_TensorShapeProto.Dimension()
        switch d {
        case .fixed(let v): dim.dimValue = Int64(v)
        case .symbol(let s): dim.dimParam = s
        }
        return dim
    }
    var tensor = Onnx_TypeProto.Tensor()
    tensor.elemType = Int32(type.dtype.exportDataType.rawValue)
    tensor.shape = shape
    var proto = Onnx_TypeProto()
    proto.tensorType = tensor
    return proto
}

func exportValueInfo(_ name: String, _ type: TensorType) -> Onnx_ValueInfoProto {
    var info = Onnx_ValueInfoProto()
    info.name = name
    info.type = exportTypeProto(type)
    return info
}

/// A `TensorProto` header (name, dims, data type) without data.
func exportTensorHeader(_ name: String, _ tensor: Tensor) -> Onnx_TensorProto {
    var proto = Onnx_TensorProto()
    proto.name = name
    proto.dims = tensor.shape.map(Int64.init)
    proto.dataType = Int32(tensor.dtype.exportDataType.rawValue)
    return proto
}

/// The tensor's elements as ONNX `raw_data`: little-endian, row-major, bool as one byte 0/1.
func exportRawData(_ tensor: Tensor) -> Data {
    var data = Data(tensor.rawBytes)
    #if _endian(big)
    let width = tensor.dtype.byteSize
    if width > 1 {
        data.withUnsafeMutableBytes { p in
            var i = 0
            while i < p.count { p[i..<(i + width)].reverse(); i += width }
        }
    }
    #endif
    return data
}

/// A tensor of `shape` whose every element is `value` converted to `dtype` (float16/bfloat16
/// round to nearest even; integers truncate toward zero).
func exportFilledTensor(_ value: Double, _ dtype: DType, shape: [Int] = []) -> Tensor {
    Tensor(dtype: dtype, shape: shape) { raw in
        let n = shape.reduce(1, *)
        switch dtype {
        case .float32: for i in 0..<n { raw.storeBytes(of: Float(value), toByteOffset: 4 * i, as: Float.self) }
        case .float16: for i in 0..<n { raw.storeBytes(of: floatToFloat16(Float(value)), toByteOffset: 2 * i, as: UInt16.self) }
        case .bfloat16: for i in 0..<n { raw.storeBytes(of: floatToBFloat16(Float(value)), toByteOffset: 2 * i, as: UInt16.self) }
        case .int64: for i in 0..<n { raw.storeBytes(of: clampedInt64(value), toByteOffset: 8 * i, as: Int64.self) }
        case .int32: for i in 0..<n { raw.storeBytes(of: Int32(clamping: clampedInt64(value)), toByteOffset: 4 * i, as: Int32.self) }
        case .uint8: for i in 0..<n { raw.storeBytes(of: UInt8(clamping: clampedInt64(value)), toByteOffset: i, as: UInt8.self) }
        case .int8: for i in 0..<n { raw.storeBytes(of: Int8(clamping: clampedInt64(value)), toByteOffset: i, as: Int8.self) }
        case .bool: for i in 0..<n { raw.storeBytes(of: UInt8(value != 0 ? 1 : 0), toByteOffset: i, as: UInt8.self) }
        }
    }
}

/// `value` truncated toward zero and saturated to Int64 (NaN → 0), without trapping.
func clampedInt64(_ value: Double) -> Int64 {
    if value.isNaN { return 0 }
    if value >= 9.223372036854775e18 { return .max }
    if value <= -9.223372036854775e18 { return .min }
    return Int64(value)
}

/// A rank-1 int64 tensor, the form of ONNX's shape-carrying inputs.
func exportInt64Vector(_ values: [Int]) -> Tensor {
    Tensor(values.map(Int64.init), shape: [values.count])
}

/// A rank-1 float32 tensor (Resize `scales`, `roi`).
func exportFloatVector(_ values: [Float]) -> Tensor {
    Tensor(values, shape: [values.count])
}
