import Testing
@testable import VitIR

/// MatMul (numpy.matmul semantics) and Gemm.
@Suite struct LinearShapeTests {
    @Test("MatMul: 2-d, 1-d promotion and batch broadcast",
          arguments: [
              ([2, 3], [3, 4], [2, 4]),
              ([3], [3], []),                      // vector · vector → scalar
              ([3], [3, 4], [4]),                  // 1-d A: prepended axis removed
              ([2, 3], [3], [2]),                  // 1-d B: appended axis removed
              ([3], [2, 3, 4], [2, 4]),            // 1-d A against a batch
              ([2, 5, 3], [3], [2, 5]),            // batch against 1-d B
              ([2, 1, 4, 3], [5, 3, 6], [2, 5, 4, 6]),  // batch dims broadcast, B rank-extended
              ([8, 12, 197, 64], [8, 12, 64, 197], [8, 12, 197, 197]),  // attention scores
              ([2, 197, 768], [768, 3072], [2, 197, 3072]),             // batched x · W
          ] as [([Int], [Int], [Int])])
    func matMulValid(_ a: [Int], _ b: [Int], _ expected: [Int]) {
        expectType(.matMul, [ty(.float32, a), ty(.float32, b)], ty(.float32, expected))
    }

    @Test("MatMul keeps an int32/int64 dtype; bool and uint8 are not ONNX MatMul types")
    func matMulDTypes() {
        expectType(.matMul, [i64(2, 3), i64(3, 1)], i64(2, 1))
        expectType(.matMul, [i32(3), i32(3)], i32())
        expectRejected(.matMul, [bool(2, 3), bool(3, 1)], mentioning: ["bool"])
        expectRejected(.matMul, [ty(.uint8, [2, 3]), ty(.uint8, [3, 1])], mentioning: ["uint8"])
    }

    @Test("MatMul rejects mismatched inner dimensions, naming both")
    func matMulInnerMismatch() {
        expectRejected(.matMul, [f32(2, 3), f32(4, 5)], mentioning: ["(3)", "(4)", "[2, 3]", "[4, 5]"])
        expectRejected(.matMul, [f32(3), f32(4)])               // 1-d · 1-d of different lengths
        expectRejected(.matMul, [f32(2, 3), f32(2)])            // 1-d B must match A's last axis
    }

    @Test("MatMul rejects batch dimensions that do not broadcast")
    func matMulBatchMismatch() {
        expectRejected(.matMul, [f32(2, 4, 3), f32(3, 3, 5)], mentioning: ["2 vs 3"])
    }

    @Test("MatMul rejects scalars, mixed dtypes and wrong arity")
    func matMulOther() {
        expectRejected(.matMul, [f32(), f32(3)], mentioning: ["rank ≥ 1"])
        expectRejected(.matMul, [f32(2, 3), f16(3, 4)], mentioning: ["float32", "float16"])
        expectRejected(.matMul, [f32(2, 3)], mentioning: ["2 inputs, got 1"])
    }

    // MARK: Gemm

    @Test("Gemm: transA / transB select M, K, N",
          arguments: [
              (false, false, [4, 3], [3, 5]),
              (true, false, [3, 4], [3, 5]),
              (false, true, [4, 3], [5, 3]),
              (true, true, [3, 4], [5, 3]),
          ] as [(Bool, Bool, [Int], [Int])])
    func gemmTranspose(_ transA: Bool, _ transB: Bool, _ a: [Int], _ b: [Int]) {
        let op = Op.gemm(GemmAttributes(alpha: 0.5, beta: 2, transA: transA, transB: transB))
        expectType(op, [ty(.float32, a), ty(.float32, b)], f32(4, 5))
    }

    @Test("Gemm: the transposed K must match")
    func gemmKMismatch() {
        // Without transA, A [3, 4] has K = 4 against B's K = 3.
        expectRejected(.gemm(GemmAttributes()), [f32(3, 4), f32(3, 5)], mentioning: ["(4)", "(3)"])
        // With transB, B [3, 5] has K = 5.
        expectRejected(.gemm(GemmAttributes(transB: true)), [f32(4, 3), f32(3, 5)], mentioning: ["(3)", "(5)"])
    }

    @Test("Gemm: C unidirectionally broadcastable to [M, N]",
          arguments: [[4, 5], [5], [1, 5], [4, 1], [1], []] as [[Int]])
    func gemmBiasValid(_ c: [Int]) {
        expectType(.gemm(GemmAttributes()), [f32(4, 3), f32(3, 5), ty(.float32, c)], f32(4, 5))
    }

    @Test("Gemm: C that would change or grow the output is rejected",
          arguments: [[4], [2, 5], [1, 4, 5], [5, 4], [4, 5, 1]] as [[Int]])
    func gemmBiasInvalid(_ c: [Int]) {
        expectRejected(.gemm(GemmAttributes()), [f32(4, 3), f32(3, 5), ty(.float32, c)])
    }

    @Test("Gemm: A and B must be rank 2 with one dtype")
    func gemmRankAndDType() {
        expectRejected(.gemm(GemmAttributes()), [f32(2, 4, 3), f32(3, 5)], mentioning: ["rank-2", "[2, 4, 3]"])
        expectRejected(.gemm(GemmAttributes()), [f32(3), f32(3, 5)])
        expectRejected(.gemm(GemmAttributes()), [f32(4, 3), f32(3, 5), f16(5)], mentioning: ["float16"])
        expectRejected(.gemm(GemmAttributes()), [f32(4, 3)], mentioning: ["2…3 inputs, got 1"])
        expectRejected(.gemm(GemmAttributes()), [bool(4, 3), bool(3, 5)], mentioning: ["bool"])
        expectType(.gemm(GemmAttributes()), [i64(4, 3), i64(3, 5), i64(5)], i64(4, 5))
    }
}
