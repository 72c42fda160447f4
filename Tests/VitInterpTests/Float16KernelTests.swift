import Testing
import VitIR
import VitInterp

/// Every kernel family on float16 inputs keeps float16 storage and computes as runtimes do:
/// inputs widen exactly to float32, the float32 kernel runs (float32 accumulation), and each
/// output is rounded once to float16 (nearest even). The oracle is the float32 kernel on the
/// widened inputs, its output cast to float16: the two must agree bit for bit, and the output
/// must be float16 (integer outputs, such as TopK's indices, unchanged).
@Suite struct Float16KernelTests {
    /// Deterministic values in [−scale, scale), rounded to float16.
    static func halves(_ shape: [Int], scale: Float = 2, seed: UInt32 = 3) throws -> Tensor {
        var state = seed
        let values = (0..<shape.reduce(1, *)).map { _ -> Float in
            state = state &* 1_664_525 &+ 1_013_904_223
            return (Float(state >> 8) / 8_388_608 - 1) * scale
        }
        return try eval1(.cast(to: .float16), [f32(values, shape)])
    }

    /// Runs `op` on `inputs` (float16 where floating) and on their float32 widening, and
    /// expects each float16 output to be the float32 output rounded once.
    func expectRoundedOnce(_ op: Op, _ inputs: [Tensor], sourceLocation: Testing.SourceLocation = #_sourceLocation) throws {
        #expect(inputs.contains { $0.dtype == .float16 }, sourceLocation: sourceLocation)
        let wide = try inputs.map { $0.dtype == .float16 ? try eval1(.cast(to: .float32), [$0]) : $0 }
        let half = try evaluate(op, inputs)
        let full = try evaluate(op, wide)
        for (h, f) in zip(half, full) {
            if f.dtype == .float32 {
                #expect(h.dtype == .float16, "\(op.name) output is \(h.dtype)", sourceLocation: sourceLocation)
                let rounded = try eval1(.cast(to: .float16), [f])
                #expect(h.bitwiseEqual(rounded), "\(op.name): float16 output is not the float32 result rounded once",
                        sourceLocation: sourceLocation)
            } else {
                #expect(h.bitwiseEqual(f), "\(op.name): \(f.dtype) output differs", sourceLocation: sourceLocation)
            }
        }
    }

    @Test func matMulAndGemm() throws {
        try expectRoundedOnce(.matMul, [try Self.halves([2, 3, 17, 9]), try Self.halves([9, 5], seed: 5)])
        try expectRoundedOnce(.matMul, [try Self.halves([1, 64, 40]), try Self.halves([1, 40, 33], seed: 9)])
        try expectRoundedOnce(.gemm(GemmAttributes(alpha: 0.5, beta: 2, transB: true)),
                              [try Self.halves([7, 12]), try Self.halves([5, 12], seed: 4), try Self.halves([5], seed: 8)])
    }

    @Test func convolutionFamily() throws {
        let x = try Self.halves([1, 4, 9, 8])
        try expectRoundedOnce(.conv(ConvAttributes(kernelShape: [3, 3], pads: [1, 1, 1, 1])),
                              [x, try Self.halves([6, 4, 3, 3], seed: 5), try Self.halves([6], seed: 6)])
        // 1×1: the pointwise fast path.
        try expectRoundedOnce(.conv(ConvAttributes(kernelShape: [1, 1])), [x, try Self.halves([5, 4, 1, 1], seed: 7)])
        try expectRoundedOnce(.convTranspose(ConvTransposeAttributes(kernelShape: [2, 2], strides: [2, 2])),
                              [x, try Self.halves([4, 3, 2, 2], seed: 8)])
        try expectRoundedOnce(.maxPool(PoolAttributes(kernelShape: [2, 2], strides: [2, 2])), [x])
    }

    @Test(arguments: [false, true]) func gridSample(alignCorners: Bool) throws {
        for mode in [GridSampleMode.bilinear, .nearest, .bicubic] {
            let attributes = GridSampleAttributes(mode: mode, paddingMode: .zeros, alignCorners: alignCorners)
            try expectRoundedOnce(.gridSample(attributes), [try Self.halves([2, 3, 6, 7]), try Self.halves([2, 4, 5, 2], scale: 1.2, seed: 11)])
        }
    }

    @Test func normalizations() throws {
        let x = try Self.halves([2, 6, 5, 4], scale: 8)
        try expectRoundedOnce(.softmax(axis: -1), [x])
        try expectRoundedOnce(.softmax(axis: 1), [x])
        try expectRoundedOnce(.layerNormalization(axis: -1, epsilon: 1e-5),
                              [x, try Self.halves([4], seed: 5), try Self.halves([4], seed: 6)])
        try expectRoundedOnce(.groupNormalization(numGroups: 3, epsilon: 1e-5),
                              [x, try Self.halves([6], seed: 7), try Self.halves([6], seed: 8)])
    }

    @Test func reductions() throws {
        let x = try Self.halves([3, 50, 7], scale: 30)
        try expectRoundedOnce(.reduceMean(ReduceAttributes(axes: [1])), [x])
        try expectRoundedOnce(.reduceSum(ReduceAttributes(axes: [1, 2], keepDims: false)), [x])
        try expectRoundedOnce(.reduceMax(ReduceAttributes(axes: [2])), [x])
        try expectRoundedOnce(.topK(TopKAttributes(k: 5, axis: 1)), [x])
    }

    @Test func elementwiseAndMovement() throws {
        let a = try Self.halves([4, 9], scale: 6), b = try Self.halves([9], scale: 3, seed: 4)
        for op in [Op.add, .sub, .mul, .div, .pow, .max] { try expectRoundedOnce(op, [a, b]) }
        for op in [Op.sigmoid, .exp, .log, .sin, .cos, .erf, .gelu(approximate: .none), .clip(min: -1, max: 1e-3)] {
            try expectRoundedOnce(op, [a])
        }
        try expectRoundedOnce(.where, [Tensor([true, false, true, false, true, true, false, false, true], shape: [9]), a, b])
        try expectRoundedOnce(.concat(axis: 0), [a, try Self.halves([2, 9], seed: 8)])
        try expectRoundedOnce(.gather(axis: 1), [a, i64([8, 0, 3], [3])])
        try expectRoundedOnce(.resize(ResizeAttributes(sizes: [1, 2, 7, 10], mode: .linear)), [try Self.halves([1, 2, 4, 5])])
    }
}
