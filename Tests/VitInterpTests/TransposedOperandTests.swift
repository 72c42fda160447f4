import Testing
import VitIR
@testable import VitInterp

extension FastPathTests {
    // MARK: MatMul reading a transposed operand

    /// One case: op(A) and op(B) shapes as MatMul sees them, which operands are stored
    /// transposed, and the dtype.
    struct TransposedCase: CustomStringConvertible {
        var a: [Int], b: [Int], transA: Bool, transB: Bool, dtype: DType = .float32
        var description: String { "A \(a)\(transA ? "ᵀ" : "") B \(b)\(transB ? "ᵀ" : "") \(dtype)" }
    }

    @Test func transposedOperandMatMul() throws {
        var rng = SplitMix(seed: 97)
        var cases = [
            TransposedCase(a: [1, 12, 1025, 64], b: [1, 12, 64, 1025], transA: false, transB: true),  // ViT-B q · Kᵀ
            TransposedCase(a: [1, 12, 64, 1025], b: [1, 12, 1025, 64], transA: true, transB: false),
            TransposedCase(a: [3, 1, 5, 7], b: [4, 7, 6], transA: true, transB: true),  // batch broadcast
            TransposedCase(a: [2, 1, 5, 7], b: [1, 3, 7, 6], transA: false, transB: true),
            TransposedCase(a: [5, 7], b: [7, 6], transA: true, transB: true),  // rank 2
            TransposedCase(a: [2, 3, 5, 7], b: [7, 6], transA: false, transB: true),  // stacked rows
            TransposedCase(a: [2, 3, 5, 7], b: [1, 1, 7, 6], transA: true, transB: false),
            TransposedCase(a: [7], b: [2, 7, 6], transA: false, transB: true),  // 1-d A
            TransposedCase(a: [2, 5, 7], b: [7], transA: true, transB: false),  // 1-d B
            TransposedCase(a: [2, 0, 7], b: [7, 6], transA: true, transB: true),  // empty m
            TransposedCase(a: [2, 5, 0], b: [2, 0, 6], transA: true, transB: true),  // empty k
            TransposedCase(a: [1, 4, 33, 16], b: [1, 4, 16, 33], transA: false, transB: true, dtype: .float16),
            TransposedCase(a: [3, 9, 20], b: [3, 20, 11], transA: true, transB: true, dtype: .float16),
        ]
        for _ in 0..<30 {
            let batch = (0..<rng.int(0...2)).map { _ in rng.int(1...3) }
            let m = rng.int(1...40), k = rng.int(1...70), n = rng.int(1...40)
            let transA = rng.bool()
            cases.append(TransposedCase(a: batch + [m, k], b: (rng.bool() ? batch : []) + [k, n],
                                        transA: transA, transB: !transA || rng.bool()))
        }
        for c in cases { try checkTransposedOperand(c, &rng) }
    }

    /// Runs `transposedOperandMatMul` on the stored (untransposed) operands and MatMul on their
    /// Transposes; expects the documented rounding bound per element.
    func checkTransposedOperand(_ c: TransposedCase, _ rng: inout SplitMix) throws {
        func random(_ shape: [Int]) -> Tensor {
            fromFloats((0..<shape.reduce(1, *)).map { _ in rng.float(in: -2...2) }, dtype: c.dtype, shape: shape)
        }
        func swapPerm(_ rank: Int) -> [Int] { Array(0..<(rank - 2)) + [rank - 1, rank - 2] }
        let aStored = random(c.transA ? swappingLastTwo(c.a) : c.a), bStored = random(c.transB ? swappingLastTwo(c.b) : c.b)
        let opA = c.transA ? transposeReference(aStored, perm: swapPerm(c.a.count)) : aStored
        let opB = c.transB ? transposeReference(bStored, perm: swapPerm(c.b.count)) : bStored
        let type = try inferTypes(.matMul, [opA.type, opB.type])[0]
        let fast = VitInterp.transposedOperandMatMul(aStored, transA: c.transA, bStored, transB: c.transB, type)
        let reference = matMulReference(opA, opB, type)
        #expect(fast.type == reference.type, "\(c)")
        // Σⱼ|aⱼ·bⱼ| per element, itself a GEMM (of absolute values, so its own rounding is
        // relative k·2⁻²⁴, covered by the factor 1.001).
        let absType = TensorType(.float32, type.shape)
        let magnitude = matMulReference(Tensor(opA.floats.map(Swift.abs), shape: opA.shape),
                                        Tensor(opB.floats.map(Swift.abs), shape: opB.shape), absType).floats
        let k = c.a.count == 1 ? c.a[0] : c.a[c.a.count - 1]
        let narrow = c.dtype != .float32
        for (i, (f, r)) in zip(fast.floats, reference.floats).enumerated() {
            var bound = 1.001 * 2 * Double(k) * 0x1p-24 * Double(magnitude[i])
            // One rounding each to float16: at most one of its ulps apart on top.
            if narrow { bound += Double(Swift.max(Swift.abs(f), Swift.abs(r))) * 0x1p-10 + 0x1p-24 }
            if !(f.isFinite && r.isFinite && Double(Swift.abs(f - r)) <= bound) {
                Issue.record("element \(i): fused \(f) plain \(r), bound \(bound) (\(c))")
                return
            }
        }
    }
}

/// The interpreter's planned Transpose(last two axes) + MatMul fusion: which pairs it takes,
/// and that a run with it agrees with the plain run (rounding class,
/// FastPaths/TransposedOperandMatMul.swift).
@Suite struct TransposedOperandFusionTests {
    /// q · kᵀ (attention scores, [1, 2, 9, 4]), vᵀ · q (A transposed), a linear layer whose
    /// A is a Transpose (with a bias: the linear fusion's), and a Transpose that is also a
    /// graph output (not fusable).
    func graph(_ dtype: DType = .float32) throws -> (Graph, [String: Tensor]) {
        var rng = SplitMix(seed: 7)
        func random(_ shape: [Int]) -> Tensor {
            fromFloats((0..<shape.reduce(1, *)).map { _ in rng.float(in: -1...1) }, dtype: dtype, shape: shape)
        }
        let swap = Op.transpose(perm: [0, 1, 3, 2])
        let t = Tracer(name: "attention")
        let q = t.input("q", TensorType(dtype, [1, 2, 9, 4])), k = t.input("k", TensorType(dtype, [1, 2, 9, 4]))
        let v = t.input("v", TensorType(dtype, [1, 2, 9, 4]))
        let scores = try t.apply(.matMul, [q, t.apply(swap, [k])[0]])[0]
        let mixed = try t.apply(.matMul, [t.apply(swap, [v])[0], q])[0]
        let w = t.parameter("w", random([9, 3])), b = t.parameter("b", random([3]))
        let linear = try t.apply(.add, [t.apply(.matMul, [t.apply(swap, [q])[0], w])[0], b])[0]
        let qt = try t.apply(.transpose(perm: [0, 1, 3, 2]), [q])[0]
        let kept = try t.apply(.matMul, [k, qt])[0]
        try t.output("scores", scores)
        try t.output("mixed", mixed)
        try t.output("linear", linear)
        try t.output("kept", kept)
        try t.output("qt", qt)
        let feeds = ["q": random([1, 2, 9, 4]), "k": random([1, 2, 9, 4]), "v": random([1, 2, 9, 4])]
        return (try t.finish(), feeds)
    }

    /// Index of the node producing the graph output `name`.
    func producer(_ g: Graph, _ name: String) -> Int {
        g.nodes.firstIndex { $0.outputs.contains { g.name(of: $0) == name } }!
    }

    @Test func planTakesSingleUseLastTwoTransposes() throws {
        let (g, _) = try graph()
        let plan = transposedOperandPlan(g, excluded: [])
        let scores = producer(g, "scores"), mixed = producer(g, "mixed")
        #expect(plan.operandsOfMatMul[scores].map { !$0.transA && $0.transB } == true)
        #expect(plan.operandsOfMatMul[mixed].map { $0.transA && !$0.transB } == true)
        // The linear layer's MatMul is taken here unless the bias fusion planned it.
        let linearMatMul = try #require(g.nodes.indices.first { g.nodes[$0].op == .matMul && g.nodes[$0].inputs.contains { g.initializers[$0] != nil } })
        #expect(plan.operandsOfMatMul[linearMatMul].map { $0.transA && !$0.transB } == true)
        #expect(transposedOperandPlan(g, excluded: [], planned: [linearMatMul]).operandsOfMatMul[linearMatMul] == nil)
        // The Transpose that is also a graph output has a second use: its MatMul is not taken.
        #expect(plan.operandsOfMatMul[producer(g, "kept")] == nil)
        #expect(!plan.viewTransposes.contains(producer(g, "qt")))
        #expect(plan.operandsOfMatMul.count == 3 && plan.viewTransposes.count == 3)
        #expect(plan.viewTransposes.allSatisfy { g.nodes[$0].op == .transpose(perm: [0, 1, 3, 2]) })
        // A hooked Transpose output is left alone.
        let kt = g.nodes[scores].inputs[1]
        #expect(transposedOperandPlan(g, excluded: [kt]).operandsOfMatMul[scores] == nil)
    }

    @Test func planLeavesOtherPermutationsAndSecondUses() throws {
        let t = Tracer(name: "other")
        let x = t.input("x", TensorType(.float32, [2, 3, 4]))
        let notLastTwo = try t.apply(.transpose(perm: [1, 0, 2]), [x])[0]  // [3, 2, 4]
        let y = try t.apply(.matMul, [notLastTwo, t.input("w", TensorType(.float32, [4, 5]))])[0]
        let xt = try t.apply(.transpose(perm: [0, 2, 1]), [x])[0]  // [2, 4, 3], used twice
        let z = try t.apply(.matMul, [xt, x])[0]
        let z2 = try t.apply(.matMul, [x, xt])[0]
        try t.output("y", y)
        try t.output("z", z)
        try t.output("z2", z2)
        let plan = transposedOperandPlan(try t.finish(), excluded: [])
        #expect(plan.operandsOfMatMul.isEmpty && plan.viewTransposes.isEmpty)
    }

    /// x [2, 3, 4] split into two views [1, 3, 4]; the first transposed into a MatMul after a
    /// Relu of the second: the view of the first would keep all of x live past the Relu.
    @Test(arguments: [false, true]) func planKeepsWithinThePlannedMemory(secondIsOutput: Bool) throws {
        let t = Tracer(name: "views")
        let x = t.input("x", TensorType(.float32, [2, 3, 4]))
        let parts = try t.apply(.split(axis: 0, sizes: [1, 1]), [x])
        let kt = try t.apply(.transpose(perm: [0, 2, 1]), [parts[0]])[0]  // [1, 4, 3]
        let r = try t.apply(.relu, [parts[1]])[0]
        let y = try t.apply(.matMul, [t.apply(.relu, [r])[0], kt])[0]  // [1, 3, 3]
        try t.output("y", y)
        if secondIsOutput { try t.output("second", parts[1]) }
        let g = try t.finish()
        let plan = transposedOperandPlan(g, excluded: [])
        // x lives until the end anyway when its second part is an output: then the view is free.
        #expect(plan.operandsOfMatMul.count == (secondIsOutput ? 1 : 0))
        let feeds = ["x": Tensor((0..<24).map { Float($0) - 11 }, shape: [2, 3, 4])]
        let run = try Interpreter(g).run(feeds: feeds)
        let planned = try #require(plannedMemory(g)).peakActivationBytes
        #expect(run.peakBytes <= planned)
    }

    @Test(arguments: [DType.float32, .float16]) func fusedRunAgreesWithThePlainRun(dtype: DType) throws {
        let (g, feeds) = try graph(dtype)
        let fused = try Interpreter(g).run(feeds: feeds)
        let plain = try Interpreter(g).run(feeds: feeds, options: Interpreter.Options(fuse: false))
        for name in ["scores", "mixed", "linear", "kept", "qt"] {
            let f = try #require(fused[name]), p = try #require(plain[name])
            #expect(f.type == p.type, "\(name)")
            // Products of length ≤ 9 of values in [-1, 1]: float32 results within 2·9·2⁻²⁴·9
            // (< 1e-5); float16 ones within one float16 ulp (≤ 2⁻¹⁰·10) on top.
            let tolerance: Float = dtype == .float32 ? 1e-5 : 1e-5 + 10 * 0x1p-10
            #expect(zip(f.floats, p.floats).allSatisfy { Swift.abs($0 - $1) <= tolerance }, "\(name)")
        }
        #expect(fused["qt"]!.floats == plain["qt"]!.floats)
        #expect(fused.peakBytes <= plain.peakBytes)
        let planned = try #require(plannedMemory(g)).peakActivationBytes
        #expect(fused.peakBytes <= planned)
    }

    @Test func observedTransposeIsComputedAndNotFused() throws {
        let (g, feeds) = try graph()
        let scores = producer(g, "scores")
        let ktName = g.name(of: g.nodes[scores].inputs[1])
        let run = try Interpreter(g).run(feeds: feeds, hooks: Interpreter.Hooks(observe: [ktName]))
        let kt = try #require(run.observed[ktName])
        #expect(kt.bitwiseEqual(transposeReference(feeds["k"]!, perm: [0, 1, 3, 2])))
        let checked = try Interpreter(g).run(feeds: feeds, options: Interpreter.Options(checkFinite: true))
        #expect(checked["scores"]!.floats == run["scores"]!.floats)
    }
}
