import Testing
import VitIR
import VitInterp

@Suite struct ElementwiseTests {
    @Test func addBroadcastsRowAndColumn() throws {
        let y = try eval1(.add, [f32([1, 2], [2, 1]), f32([10, 20, 30], [3])])
        expectClose(y, [11, 21, 31, 12, 22, 32], shape: [2, 3])
    }

    @Test func subMulDivBroadcastScalar() throws {
        let x = f32([1, 2, 3, 4], [2, 2])
        expectClose(try eval1(.sub, [x, .scalar(Float(1))]), [0, 1, 2, 3])
        expectClose(try eval1(.mul, [.scalar(Float(2)), x]), [2, 4, 6, 8])
        expectClose(try eval1(.div, [x, f32([2, 4], [2])]), [0.5, 0.5, 1.5, 1])
    }

    @Test func broadcastOverMiddleAxis() throws {
        // [2, 3, 2] + [2, 1, 2]: the 1 is broadcast in the middle.
        let a = f32(ramp(12), [2, 3, 2]), b = f32([100, 200, 300, 400], [2, 1, 2])
        expectClose(try eval1(.add, [a, b]), [100, 201, 102, 203, 104, 205, 306, 407, 308, 409, 310, 411])
    }

    /// Float ops on random broadcast shapes, short innermost axes among them (walked as blocks,
    /// `BroadcastWalk.shortRunBlock`) and long ones (walked as runs), against each output
    /// element computed from its own index.
    @Test func floatBroadcastEqualsPerElementIndexing() throws {
        var rng = SplitMix(seed: 61)
        let ops: [(Op, (Float, Float) -> Float)] = [(.add, { $0 + $1 }), (.sub, { $0 - $1 }), (.mul, { $0 * $1 }), (.div, { $0 / $1 })]
        for trial in 0..<120 {
            let rank = rng.int(1...5)
            let shape = (0..<rank).map { _ in [1, 2, 3, 4, 9, 17][rng.int(0...5)] }
            func operand() -> [Int] { Array(shape.map { rng.int(0...2) == 0 ? 1 : $0 }.dropFirst(rng.int(0...(rank - 1)))) }
            let sa = operand(), sb = operand()
            func random(_ s: [Int]) -> Tensor { Tensor((0..<s.reduce(1, *)).map { _ in rng.float(in: -4...4) }, shape: s) }
            let a = random(sa), b = random(sb)
            let (op, f) = ops[trial % ops.count]
            let type = try inferTypes(op, [a.type, b.type])[0]
            let out = try evaluate(op, [a, b])[0]
            let outShape = type.shape.ints ?? []
            // Row-major strides of the output, and each operand's (0 along a broadcast axis).
            func strides(_ s: [Int]) -> [Int] {
                var r = Array(repeating: 1, count: s.count)
                for k in stride(from: s.count - 2, through: 0, by: -1) { r[k] = r[k + 1] * s[k + 1] }
                return r
            }
            func broadcastStrides(_ s: [Int]) -> [Int] {
                let own = strides(s), pad = outShape.count - s.count
                return outShape.indices.map { k in k < pad || s[k - pad] == 1 ? 0 : own[k - pad] }
            }
            let outStrides = strides(outShape), stridesA = broadcastStrides(sa), stridesB = broadcastStrides(sb)
            let fa = a.floats, fb = b.floats, fo = out.floats
            for flat in 0..<fo.count {
                var ia = 0, ib = 0
                for k in outShape.indices {
                    let i = (flat / outStrides[k]) % outShape[k]
                    ia += i * stridesA[k]
                    ib += i * stridesB[k]
                }
                let expected = f(fa[ia], fb[ib])
                guard fo[flat].bitPattern == expected.bitPattern else {
                    Issue.record("\(op.name) \(sa) with \(sb): element \(flat) is \(fo[flat]), expected \(expected)")
                    break
                }
            }
        }
    }

    @Test func integerDivisionTruncatesTowardZero() throws {
        let y = try eval1(.div, [i64([7, -7, 7, -7], [4]), i64([2, 2, -2, -2], [4])])
        #expect(y.dtype == .int64)
        #expect(y.int64s == [3, -3, -3, 3])
    }

    @Test func integerDivisionByZeroThrows() {
        expectKernelError(.invalidInput, containing: "division by zero") {
            _ = try eval1(.div, [i64([1, 2], [2]), i64([1, 0], [2])])
        }
    }

    @Test func int32ArithmeticWraps() throws {
        let y = try eval1(.add, [Tensor([Int32.max, 5], shape: [2]), Tensor([Int32(1), 6], shape: [2])])
        #expect(y.dtype == .int32)
        #expect(y.int64s == [Int64(Int32.min), 11])
    }

    @Test func powFloatAndInteger() throws {
        expectClose(try eval1(.pow, [f32([2, 4, -2], [3]), f32([3, 0.5, 2], [3])]), [8, 2, 4])
        #expect(try eval1(.pow, [i64([2, -3, 5, 2], [4]), i64([10, 3, 0, -1], [4])]).int64s == [1024, -27, 1, 0])
        // Float exponent on an integer base truncates toward zero.
        #expect(try eval1(.pow, [i64([2, 9], [2]), f32([0.5, 0.5], [2])]).int64s == [1, 3])
    }

    @Test func maxMinPropagateNaN() throws {
        let a = f32([1, .nan, 5], [3]), b = f32([2, 0, .nan], [3])
        let mx = try eval1(.max, [a, b]).floats, mn = try eval1(.min, [a, b]).floats
        #expect(mx[0] == 2 && mx[1].isNaN && mx[2].isNaN)
        #expect(mn[0] == 1 && mn[1].isNaN && mn[2].isNaN)
        #expect(try eval1(.max, [i64([1, 9], [2]), i64([4], [1])]).int64s == [4, 9])
    }

    @Test func comparisonsBroadcastToBool() throws {
        let a = f32([1, 2, 3, .nan], [4]), b = f32([2], [1])
        let less = try eval1(.less, [a, b])
        #expect(less.dtype == .bool)
        #expect(less.int64s == [1, 0, 0, 0])
        #expect(try eval1(.lessOrEqual, [a, b]).int64s == [1, 1, 0, 0])
        #expect(try eval1(.greater, [a, b]).int64s == [0, 0, 1, 0])
        #expect(try eval1(.greaterOrEqual, [a, b]).int64s == [0, 1, 1, 0])
        #expect(try eval1(.equal, [a, b]).int64s == [0, 1, 0, 0])
        #expect(try eval1(.equal, [i64([1, 2, 3], [3]), i64([3, 2, 1], [3])]).int64s == [0, 1, 0])
    }

    @Test func logic() throws {
        let a = Tensor([true, true, false, false], shape: [4]), b = Tensor([true, false, true, false], shape: [4])
        #expect(try eval1(.and, [a, b]).int64s == [1, 0, 0, 0])
        #expect(try eval1(.or, [a, b]).int64s == [1, 1, 1, 0])
        #expect(try eval1(.not, [a]).int64s == [0, 0, 1, 1])
    }

    @Test func unaryFloat() throws {
        let x = f32([-1.5, -0.5, 0.5, 2.5], [4])
        expectClose(try eval1(.floor, [x]), [-2, -1, 0, 2])
        expectClose(try eval1(.ceil, [x]), [-1, -0, 1, 3])
        expectClose(try eval1(.neg, [x]), [1.5, 0.5, -0.5, -2.5])
        expectClose(try eval1(.abs, [x]), [1.5, 0.5, 0.5, 2.5])
        expectClose(try eval1(.relu, [x]), [0, 0, 0.5, 2.5])
        expectClose(try eval1(.reciprocal, [x]), [-2 / 3, -2, 2, 0.4])
        expectClose(try eval1(.sqrt, [f32([4, 2], [2])]), [2, 1.4142135])
        expectClose(try eval1(.exp, [f32([0, 1], [2])]), [1, 2.7182817])
        expectClose(try eval1(.log, [f32([1, 2.7182817], [2])]), [0, 1])
        expectClose(try eval1(.erf, [f32([-1, 0, 0.5, 2], [4])]), [-0.8427008, 0, 0.5204999, 0.9953223])
        expectClose(try eval1(.sigmoid, [f32([-2, 0, 3], [3])]), [0.1192029, 0.5, 0.9525741])
        expectClose(try eval1(.tanh, [f32([0, 1], [2])]), [0, 0.7615942])
        expectClose(try eval1(.sin, [f32([0, Float.pi / 2], [2])]), [0, 1])
        expectClose(try eval1(.cos, [f32([0, Float.pi], [2])]), [1, -1])
    }

    @Test func unaryInteger() throws {
        let x = Tensor([Int32.min, -3, 0, 4], shape: [4])
        #expect(try eval1(.neg, [x]).int64s == [Int64(Int32.min), 3, 0, -4])
        #expect(try eval1(.abs, [x]).int64s == [Int64(Int32.min), 3, 0, 4])
        #expect(try eval1(.relu, [x]).int64s == [0, 0, 0, 4])
    }

    @Test func geluExactAndTanh() throws {
        let x = f32([-3, -1, 0, 0.5, 2], [5])
        expectClose(try eval1(.gelu(approximate: .none), [x]), [-0.004049694, -0.1586553, 0, 0.3457312, 1.9545])
        expectClose(try eval1(.gelu(approximate: .tanh), [x]), [-0.003637392, -0.158808, 0, 0.345714, 1.954598])
    }

    @Test func clipBoundsAndNaN() throws {
        let x = f32([-2, 0.5, 3, .nan], [4])
        let y = try eval1(.clip(min: 0, max: 1), [x]).floats
        #expect(Array(y[0..<3]) == [0, 0.5, 1] && y[3].isNaN)
        expectClose(try eval1(.clip(min: nil, max: 1), [f32([-5, 5], [2])]), [-5, 1])
        #expect(try eval1(.clip(min: -1.5, max: 2.9), [i64([-5, 0, 5], [3])]).int64s == [-1, 0, 2])
    }

    @Test func whereBroadcastsAllThree() throws {
        let c = Tensor([true, false, true], shape: [3])
        let y = try eval1(.where, [c, f32([1, 2], [2, 1]), .scalar(Float(-1))])
        expectClose(y, [1, -1, 1, 2, -1, 2], shape: [2, 3])
        #expect(try eval1(.where, [c, i64([1, 2, 3], [3]), i64([7], [1])]).int64s == [1, 7, 3])
    }

    @Test func halfPrecisionComputesInFloatAndRoundsToNearestEven() throws {
        // 1 + 2⁻¹¹ is halfway between 1 and the next float16: ties go to the even 1.0.
        let one = cast16([1, 1]), tiny = cast16([0.00048828125, 0.00146484375])
        let y = try eval1(.add, [one, tiny])
        #expect(y.dtype == .float16)
        #expect(y.floats == [1, 1.001953125])
        let b = try eval1(.mul, [try eval1(.cast(to: .bfloat16), [f32([3], [1])]), try eval1(.cast(to: .bfloat16), [f32([1.5], [1])])])
        #expect(b.dtype == .bfloat16 && b.floats == [4.5])
    }

    @Test func shapeRuleViolationThrows() {
        expectKernelError(.shapeRule, containing: "broadcastable") {
            _ = try eval1(.add, [f32(ramp(6), [2, 3]), f32(ramp(4), [4])])
        }
        expectKernelError(.shapeRule, containing: "1 input") {
            _ = try eval1(.relu, [f32([1], [1]), f32([1], [1])])
        }
    }

    private func cast16(_ v: [Float]) -> Tensor {
        Tensor(dtype: .float16, shape: [v.count]) { raw in
            let p = raw.bindMemory(to: UInt16.self)
            for i in v.indices { p[i] = floatToFloat16(v[i]) }
        }
    }
}
