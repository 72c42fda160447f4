import Testing
import VitIR
import VitInterp

@Suite struct CastTests {
    @Test func floatToIntegerTruncatesTowardZero() throws {
        let x = f32([2.7, -2.7, 0.5, .nan, 1e20], [5])
        #expect(try eval1(.cast(to: .int64), [x]).int64s == [2, -2, 0, Int64.min, Int64.min])
        #expect(try eval1(.cast(to: .int32), [x]).int64s == [2, -2, 0, Int64(Int32.min), Int64(Int32.min)])
        // uint8 goes through int32 and wraps, as numpy on x86.
        #expect(try eval1(.cast(to: .uint8), [f32([-1.5, 300.7, 2.9], [3])]).int64s == [255, 44, 2])
    }

    @Test func toBoolIsNonZero() throws {
        #expect(try eval1(.cast(to: .bool), [f32([0, -0, 0.5, .nan], [4])]).int64s == [0, 0, 1, 1])
        #expect(try eval1(.cast(to: .bool), [i64([0, -3], [2])]).int64s == [0, 1])
    }

    @Test func narrowingFloatsRoundToNearestEven() throws {
        let y = try eval1(.cast(to: .float16), [f32([65520, 1.00146484375, 1.00048828125, -0.0], [4])])
        #expect(y.dtype == .float16)
        #expect(y.floats[0] == .infinity)
        #expect(Array(y.floats[1...]) == [1.001953125, 1, -0.0])
        // 1 + 2⁻⁸ is halfway between bfloat16 neighbours 1 and 1 + 2⁻⁷.
        #expect(try eval1(.cast(to: .bfloat16), [f32([1.00390625, 1.01171875], [2])]).floats == [1, 1.015625])
        // float16 → bfloat16 goes through float32 (one rounding).
        let h = try eval1(.cast(to: .float16), [f32([0.1], [1])])
        #expect(try eval1(.cast(to: .bfloat16), [h]).floats == [Float(0.10009765625)])
    }

    @Test func integersWrapAndWiden() throws {
        #expect(try eval1(.cast(to: .int32), [i64([(1 << 32) + 5, -1], [2])]).int64s == [5, -1])
        #expect(try eval1(.cast(to: .uint8), [i64([300, -1], [2])]).int64s == [44, 255])
        expectClose(try eval1(.cast(to: .float32), [Tensor([true, false], shape: [2])]), [1, 0])
        expectClose(try eval1(.cast(to: .float32), [Tensor([Int32(-7), 16_777_217], shape: [2])]), [-7, 16_777_216])
        let u8 = try eval1(.cast(to: .uint8), [i64([200], [1])])
        #expect(try eval1(.cast(to: .int64), [u8]).int64s == [200])
        expectClose(try eval1(.cast(to: .float16), [u8]), [200])
    }

    @Test func sameDTypeIsIdentity() throws {
        let x = f32([1, 2], [2])
        #expect(try eval1(.cast(to: .float32), [x]).bitwiseEqual(x))
    }
}
