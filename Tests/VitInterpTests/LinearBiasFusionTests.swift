import Testing
import VitIR
@testable import VitInterp

/// The interpreter's planned MatMul + bias Add fusion: which pairs it takes, and that a run
/// with it agrees with the plain run (rounding class, FastPaths/LinearBias.swift).
@Suite struct LinearBiasFusionTests {
    /// x [2, 5, 8] → linear (bias [4]) → relu → linear (bias [1, 3], operands of Add swapped),
    /// plus a MatMul whose product is also an output (not fusable) and an Add of two activations.
    func graph(dtype: DType = .float32) throws -> (Graph, [String: Tensor]) {
        var rng = SplitMix(seed: 5)
        func random(_ shape: [Int]) -> Tensor {
            let values = Tensor((0..<shape.reduce(1, *)).map { _ in rng.float(in: -1...1) }, shape: shape)
            return dtype == .float32 ? values : try! eval1(.cast(to: dtype), [values])
        }
        let t = Tracer(name: "linears")
        let x = t.input("x", TensorType(dtype, [2, 5, 8]))
        let h = try t.apply(.add, [t.apply(.matMul, [x, t.parameter("w1", random([8, 4]))])[0], t.parameter("b1", random([4]))])[0]
        let r = try t.apply(.relu, [h])[0]
        let y = try t.apply(.add, [t.parameter("b2", random([1, 3])), t.apply(.matMul, [r, t.parameter("w2", random([4, 3]))])[0]])[0]
        let p = try t.apply(.matMul, [r, t.parameter("w3", random([4, 3]))])[0]
        let z = try t.apply(.add, [p, t.parameter("b3", random([3]))])[0]
        let s = try t.apply(.add, [y, z])[0]
        try t.output("y", y)
        try t.output("p", p)
        try t.output("s", s)
        return (try t.finish(), ["x": random([2, 5, 8])])
    }

    @Test(arguments: [DType.float32, .float16]) func planTakesSingleUseProductsWithAnInitializerBias(dtype: DType) throws {
        let (g, _) = try graph(dtype: dtype)
        let plan = linearBiasPlan(g, excluded: [])
        let ops = g.nodes.map(\.op.name)
        // The first two linears; not the MatMul whose product is an output, not y + z.
        #expect(plan.biasOfMatMul.count == 2)
        #expect(plan.passThroughAdds.count == 2)
        #expect(plan.biasOfMatMul.keys.allSatisfy { ops[$0] == "MatMul" })
        #expect(plan.passThroughAdds.allSatisfy { ops[$0] == "Add" })
        let hookedProduct = g.nodes[plan.biasOfMatMul.keys.min()!].outputs[0]
        #expect(linearBiasPlan(g, excluded: [hookedProduct]).biasOfMatMul.count == 1)
    }

    @Test(arguments: [DType.float32, .float16]) func fusedRunAgreesWithThePlainRun(dtype: DType) throws {
        let (g, feeds) = try graph(dtype: dtype)
        let fused = try Interpreter(g).run(feeds: feeds)
        let plain = try Interpreter(g).run(feeds: feeds, options: Interpreter.Options(fuse: false))
        for name in ["y", "p", "s"] {
            // float16 rounds the product as the plain MatMul stores it: the same bits.
            if dtype == .float16 { #expect(try #require(fused[name]).bitwiseEqual(try #require(plain[name])), "\(name)") }
            let f = try #require(fused[name]).floats, p = try #require(plain[name]).floats
            #expect(f.count == p.count)
            // Products of length ≤ 8 of values in [-1, 1], biases in [-1, 1], two layers: far
            // below 1e-5 apart unless the fusion computed something else.
            #expect(zip(f, p).allSatisfy { Swift.abs($0 - $1) <= 1e-5 }, "\(name)")
        }
        #expect(fused.peakBytes <= plain.peakBytes)
    }
}
