import ONNXProto
import VitIR

/// The one table between IR element types and ONNX `TensorProto.DataType` codes; export,
/// import and the checker bridge all read it.
extension DType {
    /// `TensorProto.DataType` of this element type (every IR dtype has one).
    var exportDataType: Onnx_TensorProto.DataType {
        switch self {
        case .float32: .float
        case .float16: .float16
        case .bfloat16: .bfloat16
        case .int64: .int64
        case .int32: .int32
        case .uint8: .uint8
        case .int8: .int8
        case .bool: .bool
        }
    }

    /// The IR element type of ONNX data type `code`, or nil for a type the IR lacks
    /// (DOUBLE, STRING, INT16, …): the inverse of `exportDataType`.
    init?(onnxDataType code: Int32) {
        guard let dtype = DType.allCases.first(where: { Int32($0.exportDataType.rawValue) == code }) else { return nil }
        self = dtype
    }
}
