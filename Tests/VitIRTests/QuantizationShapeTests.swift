import Testing
@testable import VitIR

func i8(_ dims: Int...) -> TensorType { ty(.int8, dims) }
func u8(_ dims: Int...) -> TensorType { ty(.uint8, dims) }

@Suite struct QuantizationShapeTests {
    @Test("QuantizeLinear: the zero point's dtype (else uint8), x's shape; scale per tensor or per axis")
    func quantizeLinear() {
        let toU8 = Op.quantizeLinear(QuantizeAttributes())
        let toI8 = Op.quantizeLinear(QuantizeAttributes(axis: 0, outputDType: .int8))
        expectType(toU8, [f32(2, 3), f32()], u8(2, 3))
        expectType(toU8, [f32(2, 3), f32(1), u8(1)], u8(2, 3))
        expectType(toU8, [f32(2, 3), f32(3), u8(3)], u8(2, 3))              // per axis 1
        expectType(toI8, [f32(2, 3), f32(2), i8(2)], i8(2, 3))              // per axis 0
        expectType(.quantizeLinear(QuantizeAttributes(axis: -1, outputDType: .int8)), [f16(4, 5), f16(5)], i8(4, 5))
        expectRejected(toU8, [f32(2, 3), f32(2)], mentioning: ["axis 1 (3)", "[2]"])
        expectRejected(toU8, [f32(2, 3), f32(1, 3)], mentioning: ["blocked"])
        expectRejected(toU8, [f32(2, 3), f32(), i8()], mentioning: ["uint8", "int8"])
        expectRejected(toU8, [f32(2, 3), f32(3), u8(1)], mentioning: ["zero point shaped like the scale"])
        expectRejected(toU8, [i32(2, 3), f32()], mentioning: ["floating point"])
        expectRejected(toU8, [f32(2, 3), f16()], mentioning: ["float32", "float16"])
        expectRejected(toU8, [f32(2, 3), i64()], mentioning: ["floating-point scale"])
        expectRejected(.quantizeLinear(QuantizeAttributes(axis: 2)), [f32(2, 3), f32(3)], mentioning: ["axis in [-2, 1]"])
        expectRejected(.quantizeLinear(QuantizeAttributes(outputDType: .int32)), [f32(2), f32()], mentioning: ["int32"])
        expectRejected(toU8, [f32(2)], mentioning: ["2…3 inputs"])
    }

    @Test("DequantizeLinear: the scale's dtype, x's shape; 8-bit or int32 input")
    func dequantizeLinear() {
        expectType(.dequantizeLinear(), [u8(2, 3), f32(), u8()], f32(2, 3))
        expectType(.dequantizeLinear(axis: 0), [i8(4, 3), f32(4)], f32(4, 3))
        expectType(.dequantizeLinear(), [i8(4, 3), f16(3), i8(3)], f16(4, 3))
        expectType(.dequantizeLinear(), [i32(4), f32()], f32(4))
        expectRejected(.dequantizeLinear(), [f32(2), f32()], mentioning: ["int8, uint8 or int32"])
        expectRejected(.dequantizeLinear(), [u8(2, 3), f32(), i8()], mentioning: ["uint8", "int8"])
        expectRejected(.dequantizeLinear(axis: 0), [i8(4, 3), f32(3)], mentioning: ["axis 0 (4)"])
        expectRejected(.dequantizeLinear(), [i8(4, 3), i32()], mentioning: ["floating-point scale"])
    }

    @Test("int8 is a one-byte integer type; MatMul refuses it like uint8")
    func int8DType() {
        #expect(DType.int8.byteSize == 1 && DType.int8.isInteger && DType.int8.isQuantized)
        #expect(DType.int8.quantizedRange == -128...127 && DType.uint8.quantizedRange == 0...255)
        expectRejected(.matMul, [i8(2, 2), i8(2, 2)], mentioning: ["int8"])
    }
}
