import Foundation
import Testing
import VitIR
import VitInterp

/// QuantizeLinear/DequantizeLinear on hand-checked values (ONNX's reference: rint, then the
/// zero point, then clip).
@Suite struct QuantizeTests {
    @Test func quantizeRoundsHalfToEvenThenSaturates() throws {
        let x = f32([0.5, 1.5, 2.5, -0.5, -1.5, 2.4999, 1000, -1000, .nan, .infinity], [10])
        let q = try eval1(.quantizeLinear(QuantizeAttributes(outputDType: .int8)), [x, f32([1], []), Tensor([Int8(0)], shape: [])])
        #expect(q.dtype == .int8)
        #expect(q.int64s == [0, 2, 2, 0, -2, 2, 127, -128, -128, 127])
        // uint8 with zero point 128 and scale 2: x / 2 = 1.25 → 1 (+128), −3 → −2 (+128) …
        let u = try eval1(.quantizeLinear(QuantizeAttributes()), [f32([2.5, -6, 3, 1000, -1000], [5]), f32([2], []), Tensor([UInt8(128)], shape: [])])
        #expect(u.dtype == .uint8)
        #expect(u.int64s == [129, 125, 130, 255, 0])
        // No zero point: uint8 and zero point 0, so negatives clip to 0.
        #expect(try eval1(.quantizeLinear(QuantizeAttributes()), [f32([-3, 3], [2]), f32([1], [1])]).int64s == [0, 3])
    }

    @Test func quantizePerAxisUsesEachChannelsScaleAndZeroPoint() throws {
        // x [2, 3], axis 1: column c uses scale s[c] and zero point z[c].
        let x = f32([1, 2, 3, -1, -2, -3], [2, 3])
        let s = f32([1, 2, 0.5], [3])
        let z = Tensor([Int8(0), Int8(10), Int8(-10)], shape: [3])
        let q = try eval1(.quantizeLinear(QuantizeAttributes(axis: 1, outputDType: .int8)), [x, s, z])
        #expect(q.int64s == [1, 11, -4, -1, 9, -16])
        // axis 0 on the same x: row r uses scale [1, 4][r].
        let q0 = try eval1(.quantizeLinear(QuantizeAttributes(axis: 0, outputDType: .int8)), [x, f32([1, 4], [2])])
        #expect(q0.int64s == [1, 2, 3, 0, 0, -1])   // −0.25 → 0, −0.5 → 0 (even), −0.75 → −1
    }

    @Test func dequantizeSubtractsZeroPointAndScales() throws {
        let x = Tensor([UInt8(0), 128, 255], shape: [3])
        expectClose(try eval1(.dequantizeLinear(), [x, f32([0.5], []), Tensor([UInt8(128)], shape: [])]), [-64, 0, 63.5], tolerance: 0)
        let w = Tensor([Int8(-128), 127, 1, -1], shape: [2, 2])
        expectClose(try eval1(.dequantizeLinear(axis: 0), [w, f32([0.1, 2], [2])]), [-12.8, 12.7, 2, -2], tolerance: 1e-6)
        expectClose(try eval1(.dequantizeLinear(), [Tensor([Int32(-70000), 3], shape: [2]), f32([0.5], [])]), [-35000, 1.5], tolerance: 0)
    }

    @Test func float16OperandsRoundTheQuotientToFloat16() throws {
        // 0.1 in float16 is 0.0999755859375; / 0.0999755859375 = 1 exactly in float16.
        let x = try eval1(.cast(to: .float16), [f32([0.1, 250.5, -0.3], [3])])
        let s = try eval1(.cast(to: .float16), [f32([0.1], [])])
        let q = try eval1(.quantizeLinear(QuantizeAttributes(outputDType: .int8)), [x, s])
        #expect(q.int64s == [1, 127, -3])
        let y = try eval1(.dequantizeLinear(), [q, s])
        #expect(y.dtype == .float16)
        // 127 · s = 12.6969 and −3 · s = −0.29993 round to float16's 12.6953125 and −0.2998046875 (a tie, to even).
        expectClose(y, [0.0999755859375, 12.6953125, -0.2998046875], tolerance: 0)
    }

    @Test func quantizeThenDequantizeIsWithinHalfAStep() throws {
        let values = (0..<1000).map { Float(sin(Double($0) * 12.9898)) * 8 }
        let s: Float = 6 / 127
        let q = try eval1(.quantizeLinear(QuantizeAttributes(outputDType: .int8)), [f32(values, [1000]), f32([s], [])])
        let y = try eval1(.dequantizeLinear(), [q, f32([s], [])]).floats
        for (v, r) in zip(values, y) where abs(v) <= 127 * s {
            #expect(abs(v - r) <= s / 2 * (1 + 1e-5), "\(v) → \(r)")
        }
    }
}
