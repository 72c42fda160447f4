/// Element types a value can carry. The names follow ONNX's `TensorProto.DataType`.
public enum DType: String, Sendable, Hashable, CaseIterable, Codable {
    case float32, float16, bfloat16, int64, int32, uint8, int8, bool

    /// Bytes per element in contiguous storage.
    public var byteSize: Int {
        switch self {
        case .float32, .int32: 4
        case .float16, .bfloat16: 2
        case .int64: 8
        case .uint8, .int8, .bool: 1
        }
    }

    public var isFloatingPoint: Bool {
        switch self {
        case .float32, .float16, .bfloat16: true
        default: false
        }
    }

    public var isInteger: Bool { self == .int64 || self == .int32 || self == .uint8 || self == .int8 }

    /// Short spelling used by the dumps (`f32`, `i64`, …).
    public var shortName: String {
        switch self {
        case .float32: "f32"
        case .float16: "f16"
        case .bfloat16: "bf16"
        case .int64: "i64"
        case .int32: "i32"
        case .uint8: "u8"
        case .int8: "i8"
        case .bool: "bool"
        }
    }
}
