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
        func random(_ shape: [Int]) throws -> Tensor { try rng.tensor(shape, in: -1...1, dtype) }
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
        return (try t.finish(), ["x": try random([2, 5, 8])])
    }

    @Test(arguments: [DType.float32, .float16]) func planTakesSingleUseProductsWithAnInitializerBias(dtype: DType) throws {
        let (g, _) = try graph(dtype: dtype)
        let plan = linearBiasPlan(g, excluded: [])
        let ops = g.nodes.map(\.op.name)
        // The first two linears; not the MatMul whose product is an output, not y + z.
        #expect(plan.biasOfMatMul.count == 2)
        #expect(plan.biasOfMatMul.keys.allSatisfy { ops[$0] == "MatMul" })
        // The first linear's Relu runs in its epilogue, in either dtype.
        #expect(plan.passThrough.keys.sorted().map { ops[$0] } == ["Add", "Relu", "Add"])
        #expect(plan.epilogueOfMatMul.values.flatMap { $0.map(\.name) } == ["relu"])
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

    /// x [2, 5, 8] through linear layers followed by each epilogue step (Gelu; LayerScale Mul then
    /// a residual Add of the input; Relu; a residual Add in the other operand order), and by
    /// nodes the epilogue must not take: an Add of a value computed after the layer's MatMul, a
    /// Mul by an activation, and a Mul by a vector that a ReduceSum sums (the Mul + ReduceSum
    /// fusion's). `exposing`: the values the epilogues would skip are graph outputs too, so
    /// every chain ends at its bias.
    func epilogueGraph(exposing: Bool = false, _ dtype: DType = .float32) throws -> (Graph, [String: Tensor]) {
        var rng = SplitMix(seed: 11)
        func random(_ shape: [Int]) throws -> Tensor { try rng.tensor(shape, in: -1...1, dtype) }
        let t = Tracer(name: "epilogues")
        let x = t.input("x", TensorType(dtype, [2, 5, 8]))
        func linear(_ v: SymbolicTensor, _ name: String) throws -> SymbolicTensor {
            let product = try t.apply(.matMul, [v, t.parameter("\(name).w", random([8, 8]))], name: "\(name).MatMul")[0]
            let sum = try t.apply(.add, [product, t.parameter("\(name).b", random([8]))], name: "\(name).Add")[0]
            if exposing, ["fc1", "fc2", "fc3", "fc4"].contains(name) { try t.output("\(name).sum", sum) }
            return sum
        }
        let h = try t.apply(.gelu(approximate: .none), [linear(x, "fc1")], name: "fc1.Gelu")[0]
        let scaled = try t.apply(.mul, [linear(h, "fc2"), t.parameter("ls", random([1, 8]))], name: "fc2.Mul")[0]
        if exposing { try t.output("fc2.scaled", scaled) }
        let y1 = try t.apply(.add, [x, scaled], name: "fc2.Residual")[0]
        let r = try t.apply(.relu, [linear(y1, "fc3")], name: "fc3.Relu")[0]
        let y2 = try t.apply(.add, [linear(r, "fc4"), y1], name: "fc4.Residual")[0]
        let late = try linear(y2, "fc5")
        let z = try t.apply(.add, [late, t.apply(.relu, [y2])[0]])[0]
        let w = try t.apply(.mul, [linear(z, "fc6"), z])[0]
        let weighted = try t.apply(.mul, [linear(w, "fc7"), t.parameter("g", random([8]))])[0]
        try t.output("w", w)
        try t.output("s", t.apply(.reduceSum(ReduceAttributes(axes: [2], keepDims: false)), [weighted])[0])
        return (try t.finish(), ["x": try random([2, 5, 8])])
    }

    @Test(arguments: [DType.float32, .float16])
    func epiloguePlanTakesActivationsScalesAndEarlierResiduals(_ dtype: DType) throws {
        let (g, _) = try epilogueGraph(dtype)
        let mulReduce = mulReduceSumPlan(g, excluded: [])
        let plan = linearBiasPlan(g, excluded: [], claimed: Set(mulReduce.keys))
        func steps(_ layer: String) -> [String] {
            let m = g.nodes.firstIndex { $0.name == "\(layer).MatMul" }!
            return plan.epilogueOfMatMul[m]?.map(\.name) ?? []
        }
        #expect(plan.biasOfMatMul.count == 7)
        #expect(steps("fc1") == ["gelu"])
        #expect(steps("fc2") == ["scale", "residual"])
        #expect(steps("fc3") == ["relu"])
        #expect(steps("fc4") == ["residual"])
        #expect(steps("fc5").isEmpty && steps("fc6").isEmpty && steps("fc7").isEmpty)
        #expect(plan.passThrough.count == 7 + 5)
        #expect(mulReduce.count == 1)
        #expect(linearBiasPlan(g, excluded: []).epilogueOfMatMul.count == 5)  // fc7's Mul, unclaimed
        // A hooked value inside a chain ends it there.
        let scaledValue = g.nodes.first { $0.name == "fc2.Mul" }!.outputs[0]
        let cut = linearBiasPlan(g, excluded: [scaledValue])
        #expect(cut.epilogueOfMatMul[g.nodes.firstIndex { $0.name == "fc2.MatMul" }!]?.map(\.name) == ["scale"])
    }

    @Test(arguments: [DType.float32, .float16])
    func epilogueRunAgreesWithThePlainRun(_ dtype: DType) throws {
        let (g, feeds) = try epilogueGraph(dtype)
        let fused = try Interpreter(g).run(feeds: feeds)
        let plain = try Interpreter(g).run(feeds: feeds, options: Interpreter.Options(fuse: false))
        // With the values the epilogues skip also exposed, each chain ends at its bias; the
        // fused GEMMs are the same calls, so each output is the same to the bit.
        let (exposed, _) = try epilogueGraph(exposing: true, dtype)
        #expect(linearBiasPlan(exposed, excluded: [], claimed: Set(mulReduceSumPlan(exposed, excluded: []).keys))
            .epilogueOfMatMul.isEmpty)
        let unchained = try Interpreter(exposed).run(feeds: feeds)
        for name in ["w", "s"] {
            let f = try #require(fused[name]), p = try #require(plain[name])
            #expect(f.shape == p.shape)
            // float32: length-8 products of values within a few units, seven layers: far below
            // 1e-4 apart unless the fusion computed something else (a scale applied twice, a
            // residual left out). float16 rounds the product before the bias: the same bits.
            if dtype == .float16 { #expect(f.dtype == .float16 && f.bitwiseEqual(p), "\(name)") }
            #expect(zip(f.floats, p.floats).allSatisfy { Swift.abs($0 - $1) <= 1e-4 * Swift.max(1, Swift.abs($1)) }, "\(name)")
            #expect(f.bitwiseEqual(try #require(unchained[name])), "\(name)")
        }
        #expect(fused.peakBytes <= plain.peakBytes)
    }
}

extension LinearEpilogue {
    var name: String {
        switch self {
        case .relu: "relu"
        case .gelu: "gelu"
        case .scale: "scale"
        case .residual: "residual"
        }
    }
}
