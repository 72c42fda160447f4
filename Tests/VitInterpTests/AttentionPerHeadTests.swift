import Testing
import VitIR
@testable import VitInterp

extension FastPathTests {
    // MARK: attention one head at a time

    /// `attentionPerHead` against MatMul, Softmax, MatMul as the plain run computes them, bit
    /// for bit: k stored transposed (a planned view) or not, ranks 2–4, the ViT-B/16-512 shape
    /// (rows split over the workers) and random small ones.
    @Test func attentionPerHead() throws {
        var rng = SplitMix(seed: 31)
        // (batch axes, m, n, depth, d)
        var cases: [([Int], Int, Int, Int, Int)] = [([1, 12], 1025, 1025, 64, 64), ([], 5, 7, 3, 2), ([2, 3], 1, 1, 1, 1),
                                                     ([1, 8], 300, 300, 32, 32)]
        for _ in 0..<20 {
            cases.append(((0..<rng.int(0...2)).map { _ in rng.int(1...3) }, rng.int(1...40), rng.int(1...40), rng.int(1...20), rng.int(1...20)))
        }
        for (batch, m, n, depth, d) in cases {
            func random(_ shape: [Int]) -> Tensor {
                Tensor((0..<shape.reduce(1, *)).map { _ in rng.float(in: -3...3) }, shape: shape)
            }
            let q = random(batch + [m, depth]), v = random(batch + [n, d]), kStored = random(batch + [n, depth])
            let k = transposeReference(kStored, perm: Array(0..<batch.count) + [batch.count + 1, batch.count])
            let scoresType = TensorType(.float32, Shape(batch + [m, n])), outType = TensorType(.float32, Shape(batch + [m, d]))
            for transK in [true, false] {
                let scores = transK ? VitInterp.transposedOperandMatMul(q, transA: false, kStored, transB: true, scoresType)
                                    : matMul(q, k, scoresType)
                let plain = matMul(try softmax(scores, axis: -1), v, outType)
                let fused = VitInterp.attentionPerHead(q, transK ? kStored : k, transK: transK, v)
                #expect(fused.output.bitwiseEqual(plain), "batch \(batch) m \(m) n \(n) depth \(depth) d \(d) transK \(transK)")
                // One buffer per worker that took heads (two at most here), or one for all.
                #expect([1, 2].contains { fused.scratchBytes == $0 * m * n * 4 })
            }
            // float16: the plain float16 kernels round the scores, probabilities and output
            // (all but the ViT-B shape, whose plain float16 run is slow in a debug build; the
            // [1, 8] case has as many heads per worker).
            guard batch.reduce(m * n, *) < 1 << 20 else { continue }
            let (q16, k16, v16) = try (half(q), half(k), half(v))
            let plain16 = matMul(try softmax(matMul(q16, k16, TensorType(.float16, scoresType.shape)), axis: -1), v16,
                                 TensorType(.float16, outType.shape))
            let fused16 = VitInterp.attentionPerHead(q16, k16, transK: false, v16).output
            #expect(fused16.dtype == .float16 && fused16.bitwiseEqual(plain16), "float16 batch \(batch) m \(m) n \(n) depth \(depth) d \(d)")
        }
    }

    func half(_ t: Tensor) throws -> Tensor { try eval1(.cast(to: .float16), [t]) }
}

/// The interpreter's planned MatMul → Softmax → MatMul fusion (FastPaths/AttentionPerHead.swift):
/// which chains the plan takes, and that a run with it equals the run without it, bit for bit,
/// in less memory.
@Suite struct AttentionPlanTests {
    /// Output names of the chains `graph()` builds, fusable first.
    static let fusable = ["viewed", "stored"], unfusable = ["otherAxis", "scoresKept", "lateV", "broadcastV", "probsKept"]

    /// q, k, v [1, 2, 9, 4] and kt [1, 2, 4, 9]: attention with k transposed by a Transpose
    /// (read as a view), with kt as stored, and five chains the plan must leave: Softmax over
    /// another axis, scores that are also an output, v computed after the scores, v
    /// broadcast over the heads, and probabilities that are also an output.
    /// `only`, when given, keeps just the chains of those names.
    func graph(only: Set<String>? = nil, dtype: DType = .float32) throws -> (Graph, [String: Tensor]) {
        var rng = SplitMix(seed: 5)
        func random(_ shape: [Int]) -> Tensor {
            let values = Tensor((0..<shape.reduce(1, *)).map { _ in rng.float(in: -2...2) }, shape: shape)
            return dtype == .float32 ? values : try! eval1(.cast(to: dtype), [values])
        }
        let t = Tracer(name: "attention")
        let type = TensorType(dtype, [1, 2, 9, 4])
        let q = t.input("q", type), k = t.input("k", type), v = t.input("v", type)
        let kt = t.input("kt", TensorType(dtype, [1, 2, 4, 9])), shared = t.input("shared", TensorType(dtype, [1, 1, 9, 4]))
        func attention(_ name: String, k: SymbolicTensor, v: SymbolicTensor? = nil, axis: Int = -1, late: Bool = false,
                       keepScores: Bool = false, keepProbabilities: Bool = false) throws {
            guard only?.contains(name) ?? true else { return }
            let scores = try t.apply(.matMul, [q, k])[0]
            let values = late ? try t.apply(.relu, [v ?? q])[0] : (v ?? q)
            let probabilities = try t.apply(.softmax(axis: axis), [scores])[0]
            try t.output(name, t.apply(.matMul, [probabilities, values])[0])
            if keepScores { try t.output(name + ".scores", scores) }
            if keepProbabilities { try t.output(name + ".probabilities", probabilities) }
        }
        try attention("viewed", k: t.apply(.transpose(perm: [0, 1, 3, 2]), [k])[0], v: v)
        try attention("stored", k: kt, v: v)
        try attention("otherAxis", k: kt, v: v, axis: 2)
        try attention("scoresKept", k: kt, v: v, keepScores: true)
        try attention("lateV", k: kt, v: v, late: true)
        try attention("broadcastV", k: kt, v: shared)
        try attention("probsKept", k: kt, v: v, keepProbabilities: true)
        let feeds = ["q": random([1, 2, 9, 4]), "k": random([1, 2, 9, 4]), "v": random([1, 2, 9, 4]),
                     "kt": random([1, 2, 4, 9]), "shared": random([1, 1, 9, 4])]
        return (try t.finish(), feeds)
    }

    /// The node producing the graph output `name`.
    func producer(_ g: Graph, _ name: String) -> Int {
        g.nodes.firstIndex { $0.outputs.contains { g.name(of: $0) == name } }!
    }

    func plan(_ g: Graph, excluded: Set<ValueID> = []) -> AttentionPlan {
        attentionPlan(g, excluded: excluded, transposed: transposedOperandPlan(g, excluded: excluded))
    }

    @Test func planTakesSingleUseLastAxisChains() throws {
        let (g, _) = try graph()
        let p = plan(g)
        #expect(Set(p.byScores.values.map(\.weighted)) == Set(Self.fusable.map { producer(g, $0) }))
        #expect(p.softmaxes == Set(p.byScores.values.map(\.softmax)))
        for (first, chain) in p.byScores {
            #expect(g.nodes[first].op == .matMul && g.nodes[chain.softmax].inputs == g.nodes[first].outputs)
            #expect(g.nodes[chain.weighted].inputs == [g.nodes[chain.softmax].outputs[0], chain.values])
        }
        // A hooked value (the probabilities, or the scores) leaves its chain out.
        let viewed = try #require(p.byScores.first { $0.value.weighted == producer(g, "viewed") })
        #expect(plan(g, excluded: [g.nodes[viewed.value.softmax].outputs[0]]).byScores.count == 1)
        #expect(plan(g, excluded: [g.nodes[viewed.key].outputs[0]]).byScores.count == 1)
        // A second MatMul the bias fusion (or any other) planned is left to it.
        #expect(attentionPlan(g, excluded: [], transposed: transposedOperandPlan(g, excluded: []),
                              planned: [viewed.value.weighted]).byScores.count == 1)
    }

    @Test(arguments: [DType.float32, .float16]) func fusedRunEqualsTheUnfusedRunBitForBit(dtype: DType) throws {
        let (g, feeds) = try graph(dtype: dtype)
        let fused = try Interpreter(g).run(feeds: feeds)
        // Observing the probabilities leaves the two chains out and nothing else.
        let p = plan(g)
        let probabilities = Set(p.byScores.values.map { g.name(of: g.nodes[$0.softmax].outputs[0]) })
        let unfused = try Interpreter(g).run(feeds: feeds, hooks: Interpreter.Hooks(observe: probabilities))
        #expect(unfused.observed.count == 2)
        for name in fused.outputNames {
            #expect(try #require(fused[name]).bitwiseEqual(try #require(unfused[name])), "\(name)")
        }
        // Rounding class against the plain kernels (no fusion at all): dot products of ≤ 9 terms.
        // float16 takes no other fusion (k's Transpose is stored), so there it is bit for bit.
        let plain = try Interpreter(g).run(feeds: feeds, options: Interpreter.Options(fuse: false))
        for name in Self.fusable {
            let f = try #require(fused[name]), r = try #require(plain[name])
            #expect(f.dtype == dtype)
            if dtype == .float16 { #expect(f.bitwiseEqual(r), "\(name)") }
            #expect(zip(f.floats, r.floats).allSatisfy { Swift.abs($0 - $1) <= 1e-5 }, "\(name)")
        }
        #expect(fused.peakBytes <= (try #require(plannedMemory(g))).peakActivationBytes)
    }

    /// One chain alone: its [1, 2, 9, 9] scores and probabilities (648 bytes each, both live
    /// while the Softmax runs) are never stored; the scores buffers (324 bytes each, one per
    /// worker taking heads: one or two, as ThreadingTests may change the limit meanwhile) are
    /// counted.
    @Test func fusedRunHoldsOneHeadsScores() throws {
        let (g, feeds) = try graph(only: ["viewed"])
        let probabilities = try #require(g.nodes.first { $0.op == .softmax(axis: -1) }).outputs[0]
        let fused = try Interpreter(g).run(feeds: feeds)
        let unfused = try Interpreter(g).run(feeds: feeds, hooks: Interpreter.Hooks(observe: [g.name(of: probabilities)]))
        #expect(try #require(fused["viewed"]).bitwiseEqual(try #require(unfused["viewed"])))
        // Unfused, while the Softmax runs: v (288 bytes), the scores and the probabilities
        // (q and k were freed after the first MatMul). Fused, while the first MatMul runs: q,
        // k, v, the output (288 bytes) and the buffer.
        #expect(unfused.peakBytes == 288 + 2 * 648)
        #expect(fused.peakBytes == 4 * 288 + 324 || fused.peakBytes == 4 * 288 + 2 * 324)
    }
}
