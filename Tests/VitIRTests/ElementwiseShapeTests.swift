import Testing
@testable import VitIR

/// Elementwise ops: numpy broadcasting, comparisons and logic, unary ops, Clip, Where, Cast.
@Suite struct ElementwiseShapeTests {
    static let arithmetic: [Op] = [.add, .sub, .mul, .div, .pow, .max, .min]
    static let comparisons: [Op] = [.equal, .less, .lessOrEqual, .greater, .greaterOrEqual]
    static let floatOnlyUnary: [Op] = [.sqrt, .reciprocal, .exp, .log, .erf, .sin, .cos, .tanh, .sigmoid,
                                       .floor, .ceil, .gelu(approximate: .none), .gelu(approximate: .tanh)]
    static let numericUnary: [Op] = [.neg, .abs, .relu]

    // MARK: Broadcasting

    @Test("broadcast: equal shapes, size-1 stretching, rank extension",
          arguments: [
              ([2, 3], [2, 3], [2, 3]),
              ([2, 1, 4], [3, 1], [2, 3, 4]),      // both operands stretch
              ([5], [2, 3, 5], [2, 3, 5]),          // left operand rank-extended
              ([2, 3, 5], [1], [2, 3, 5]),          // right operand rank-extended
              ([], [2, 3], [2, 3]),                 // scalar
              ([], [], []),
              ([0, 3], [1, 3], [0, 3]),             // a zero extent wins over 1
              ([1, 1, 7], [6, 1], [1, 6, 7]),
          ] as [([Int], [Int], [Int])])
    func broadcastShapes(_ a: [Int], _ b: [Int], _ expected: [Int]) throws {
        #expect(try broadcast(a, b) == expected)
        #expect(try broadcast(b, a) == expected)
    }

    @Test("broadcast: incompatible extents fail and name both shapes and the axis")
    func broadcastFailure() {
        let error = #expect(throws: ShapeRuleError.self) { try broadcast([2, 3], [4, 3]) }
        #expect(error?.expected.contains("[2, 3]") == true)
        #expect(error?.expected.contains("[4, 3]") == true)
        #expect(error?.expected.contains("2 vs 4") == true)
        // Rank extension does not rescue a mismatch on the trailing axis.
        #expect(throws: ShapeRuleError.self) { try broadcast([3], [2, 4]) }
        #expect(throws: ShapeRuleError.self) { try broadcast([0], [2]) }
    }

    // MARK: Arithmetic

    @Test("arithmetic ops broadcast and keep the dtype", arguments: arithmetic)
    func arithmeticValid(_ op: Op) {
        expectType(op, [f32(2, 3), f32(2, 3)], f32(2, 3))
        expectType(op, [f32(2, 1, 4), f32(3, 1)], f32(2, 3, 4))
        expectType(op, [f32(), f32(4, 5)], f32(4, 5))
        expectType(op, [i64(3), i64(2, 3)], i64(2, 3))
    }

    @Test("arithmetic ops reject incompatible shapes, bool and wrong arity", arguments: arithmetic)
    func arithmeticInvalid(_ op: Op) {
        expectRejected(op, [f32(2, 3), f32(4, 3)], mentioning: ["[2, 3]", "[4, 3]"])
        expectRejected(op, [bool(2), bool(2)], mentioning: ["bool"])
        expectRejected(op, [f32(2)], mentioning: ["2 inputs, got 1"])
        expectRejected(op, [f32(2), f32(2), f32(2)], mentioning: ["got 3"])
    }

    @Test("arithmetic ops other than Pow require one dtype", arguments: [Op.add, .sub, .mul, .div, .max, .min])
    func arithmeticDTypeMismatch(_ op: Op) {
        expectRejected(op, [f32(2), f16(2)], mentioning: ["float32", "float16"])
        expectRejected(op, [f32(2), i64(2)])
    }

    @Test("Pow allows an exponent of another numeric dtype and keeps the base's")
    func powMixedDTypes() {
        expectType(.pow, [f32(2, 3), i64()], f32(2, 3))
        expectType(.pow, [f16(4), f32(1)], f16(4))
        expectRejected(.pow, [f32(4), bool(4)], mentioning: ["bool"])
    }

    @Test("symbolic dimensions are rejected with a clear message")
    func symbolicDims() {
        let sym = TensorType(.float32, Shape([.symbol("batch"), .fixed(3)]))
        expectRejected(.add, [sym, f32(3)], mentioning: ["static shapes", "batch"])
    }

    // MARK: Comparisons and logic

    @Test("comparisons broadcast and produce bool", arguments: comparisons)
    func comparisonValid(_ op: Op) {
        expectType(op, [f32(3, 1), f32(1, 4)], bool(3, 4))
        expectType(op, [i64(2, 5), i64()], bool(2, 5))
    }

    @Test("comparisons reject mixed dtypes and bad broadcasts", arguments: comparisons)
    func comparisonInvalid(_ op: Op) {
        expectRejected(op, [f32(3), i64(3)], mentioning: ["float32", "int64"])
        expectRejected(op, [f32(3), f32(4)], mentioning: ["3 vs 4"])
    }

    @Test("Equal compares bools; the ordering comparisons are numeric-only (ONNX type constraints)")
    func comparisonBool() {
        expectType(.equal, [bool(2, 1), bool(3)], bool(2, 3))
        for op in [Op.less, .lessOrEqual, .greater, .greaterOrEqual] {
            expectRejected(op, [bool(2), bool(2)], mentioning: ["bool"])
            expectType(op, [ty(.uint8, [2]), ty(.uint8, [2])], bool(2))
        }
    }

    @Test("And/Or take bool inputs only and broadcast", arguments: [Op.and, .or])
    func andOr(_ op: Op) {
        expectType(op, [bool(2, 1), bool(3)], bool(2, 3))
        expectRejected(op, [f32(2), bool(2)], mentioning: ["bool", "float32"])
        expectRejected(op, [bool(2), i64(2)], mentioning: ["int64"])
        expectRejected(op, [bool(2), bool(3)])
    }

    @Test("Not takes a bool input only")
    func not() {
        expectType(.not, [bool(2, 3)], bool(2, 3))
        expectRejected(.not, [f32(2)], mentioning: ["bool", "float32"])
        expectRejected(.not, [i64(2)], mentioning: ["int64"])
    }

    // MARK: Unary

    @Test("float-only unary ops keep the type for every float dtype", arguments: floatOnlyUnary)
    func floatUnaryValid(_ op: Op) {
        expectType(op, [f32(2, 3)], f32(2, 3))
        expectType(op, [f16(7)], f16(7))
        expectType(op, [ty(.bfloat16, [1, 2, 3])], ty(.bfloat16, [1, 2, 3]))
        expectType(op, [f32()], f32())
    }

    @Test("float-only unary ops reject int64 and bool", arguments: floatOnlyUnary)
    func floatUnaryInvalid(_ op: Op) {
        expectRejected(op, [i64(2, 3)], mentioning: ["floating point", "int64"])
        expectRejected(op, [bool(2)], mentioning: ["bool"])
        expectRejected(op, [f32(2), f32(2)], mentioning: ["1 input, got 2"])
    }

    @Test("Neg/Abs/Relu accept any numeric dtype but not bool", arguments: numericUnary)
    func numericUnaryOps(_ op: Op) {
        expectType(op, [f32(4, 4)], f32(4, 4))
        expectType(op, [i64(3)], i64(3))
        expectType(op, [i32(3)], i32(3))
        expectRejected(op, [bool(3)], mentioning: ["bool"])
        expectRejected(op, [], mentioning: ["got 0"])
    }

    @Test("Abs accepts uint8; Neg and Relu are signed-only in ONNX")
    func unsignedUnary() {
        expectType(.abs, [ty(.uint8, [3])], ty(.uint8, [3]))
        expectRejected(.neg, [ty(.uint8, [3])], mentioning: ["uint8"])
        expectRejected(.relu, [ty(.uint8, [3])], mentioning: ["uint8"])
    }

    @Test("Identity accepts any dtype and rank", arguments: [f32(2, 3), i64(), bool(5), ty(.uint8, [1, 2, 3, 4]), f16(0)])
    func identity(_ t: TensorType) {
        expectType(.identity, [t], t)
    }

    @Test("Identity takes exactly one input")
    func identityArity() {
        expectRejected(.identity, [f32(1), f32(1)])
        expectRejected(.identity, [])
    }

    @Test("Clip keeps the type; min must not exceed max; bool rejected")
    func clip() {
        expectType(.clip(min: 0, max: 6), [f32(2, 3)], f32(2, 3))
        expectType(.clip(min: nil, max: 1), [f16(4)], f16(4))
        expectType(.clip(min: nil, max: nil), [i64(4)], i64(4))
        expectType(.clip(min: 2, max: 2), [f32(1)], f32(1))
        expectRejected(.clip(min: 3, max: 1), [f32(2)], mentioning: ["3", "1"])
        expectRejected(.clip(min: 0, max: 1), [bool(2)], mentioning: ["bool"])
    }

    // MARK: Where, Cast

    @Test("Where broadcasts all three inputs and takes x's dtype")
    func whereValid() {
        expectType(.where, [bool(1, 3), f32(2, 1), f32(1)], f32(2, 3))
        expectType(.where, [bool(4, 1, 1), i64(5, 1), i64(1, 6)], i64(4, 5, 6))   // 3-way rank extension
        expectType(.where, [bool(), f32(2), f32(2)], f32(2))
    }

    @Test("Where requires a bool condition, matching x/y dtypes and broadcastable shapes")
    func whereInvalid() {
        expectRejected(.where, [f32(2), f32(2), f32(2)], mentioning: ["bool condition", "float32"])
        expectRejected(.where, [i64(2), f32(2), f32(2)], mentioning: ["int64"])
        expectRejected(.where, [bool(2), f32(2), f16(2)], mentioning: ["float32", "float16"])
        expectRejected(.where, [bool(3), f32(2), f32(2)])                  // condition vs x
        expectRejected(.where, [bool(2), f32(2), f32(5)])                  // (cond ∘ x) vs y
        expectRejected(.where, [bool(2), f32(2)], mentioning: ["3 inputs, got 2"])
    }

    @Test("Cast changes only the dtype", arguments: DType.allCases)
    func cast(_ to: DType) {
        expectType(.cast(to: to), [f32(2, 3)], ty(to, [2, 3]))
        expectType(.cast(to: to), [bool()], ty(to, []))
    }

    @Test("Cast takes exactly one input")
    func castArity() {
        expectRejected(.cast(to: .int64), [f32(1), f32(1)])
    }
}
