import Testing
import VitIR
import VitInterp

@Suite struct MatMulTests {
    @Test func twoByThreeTimesThreeByTwo() throws {
        let y = try eval1(.matMul, [f32([1, 2, 3, 4, 5, 6], [2, 3]), f32([7, 8, 9, 10, 11, 12], [3, 2])])
        expectClose(y, [58, 64, 139, 154], shape: [2, 2])
    }

    @Test func batchAxesBroadcast() throws {
        // numpy: arange(12).reshape(2,1,2,3) @ arange(18).reshape(3,3,2)
        let y = try eval1(.matMul, [f32(ramp(12), [2, 1, 2, 3]), f32(ramp(18), [3, 3, 2])])
        expectClose(y, [10, 13, 28, 40, 28, 31, 100, 112, 46, 49, 172, 184,
                        46, 67, 64, 94, 172, 193, 244, 274, 298, 319, 424, 454], shape: [2, 3, 2, 2])
    }

    @Test func sharedRightOperandStacksBatches() throws {
        let y = try eval1(.matMul, [f32(ramp(12), [2, 2, 3]), f32([1, 0, 0, 1, 1, 1], [3, 2])])
        expectClose(y, [2, 3, 8, 9, 14, 15, 20, 21], shape: [2, 2, 2])
    }

    @Test func oneDimensionalOperandsArePromotedAndDropped() throws {
        let v = f32([1, 2, 3], [3]), m = f32([1, 2, 3, 4, 5, 6], [3, 2])
        expectClose(try eval1(.matMul, [v, m]), [22, 28], shape: [2])
        expectClose(try eval1(.matMul, [f32([1, 2, 3, 4, 5, 6], [2, 3]), v]), [14, 32], shape: [2])
        expectClose(try eval1(.matMul, [v, v]), [14], shape: [])
    }

    @Test func integerMatMul() throws {
        let y = try eval1(.matMul, [i64([1, 2, 3, 4], [2, 2]), i64([5, 6, 7, 8], [2, 2])])
        #expect(y.dtype == .int64 && y.int64s == [19, 22, 43, 50])
    }

    @Test func emptyInnerDimensionGivesZeros() throws {
        expectClose(try eval1(.matMul, [f32([], [2, 0]), f32([], [0, 3])]), [0, 0, 0, 0, 0, 0], shape: [2, 3])
    }

    @Test func mismatchedInnerDimensionIsAShapeError() {
        expectKernelError(.shapeRule) { _ = try eval1(.matMul, [f32(ramp(6), [2, 3]), f32(ramp(4), [2, 2])]) }
    }
}

@Suite struct GemmTests {
    @Test func transposesAlphaBetaAndBroadcastC() throws {
        // A [3,2]ᵀ · B [2,3]ᵀ = [2,2]; 2·AB + 0.5·[10, 20] (reference evaluator).
        let a = f32([1, 2, 3, 4, 5, 6], [3, 2]), b = f32([1, 0, 2, 0, 1, -1], [2, 3])
        let y = try eval1(.gemm(GemmAttributes(alpha: 2, beta: 0.5, transA: true, transB: true)), [a, b, f32([10, 20], [2])])
        expectClose(y, [27, 6, 33, 6], shape: [2, 2])
    }

    @Test func withoutCAndWithScalarC() throws {
        let a = f32([1, 2, 3, 4], [2, 2]), b = f32([1, 1, 1, 1], [2, 2])
        expectClose(try eval1(.gemm(GemmAttributes()), [a, b]), [3, 3, 7, 7])
        expectClose(try eval1(.gemm(GemmAttributes(beta: 2)), [a, b, .scalar(Float(1))]), [5, 5, 9, 9])
        expectClose(try eval1(.gemm(GemmAttributes()), [a, b, f32([1, 2], [2, 1])]), [4, 4, 9, 9])
    }

    @Test func integerGemmIsUnsupported() {
        expectKernelError(.unsupported, containing: "Gemm") {
            _ = try eval1(.gemm(GemmAttributes()), [i64([1], [1, 1]), i64([1], [1, 1])])
        }
    }
}
