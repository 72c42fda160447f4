import Testing
import VitIR
@testable import VitInterp
import VitModels
import VitPasses

/// The interpreter's Transpose + MatMul fusion (VitInterp/FastPaths/TransposedOperandMatMul.swift)
/// on a traced DINOv2 backbone: it takes each block's q · Kᵀ, and the fused run's features agree
/// with the plain run's.
@Suite struct AttentionFusionTests {
    @Test func backboneAttentionScoresReadKUntransposed() throws {
        let config = try tinyDINOv2()
        var graph = try traceModel(config, parameters: nil)
        _ = try optimize(&graph)
        let plan = transposedOperandPlan(graph, excluded: [])
        // Two blocks, one q · Kᵀ each, with K read transposed (transB) from its Transpose's input.
        #expect(plan.operandsOfMatMul.count == 2)
        #expect(plan.operandsOfMatMul.values.allSatisfy { !$0.transA && $0.transB })
        #expect(plan.viewTransposes.count == 2)
        let image = Tensor(dinov2RandomValues(3 * 16 * 16, seed: 11), shape: [1, 3, 16, 16])
        let fused = try Interpreter(graph).run(feeds: ["image": image])
        let plain = try Interpreter(graph).run(feeds: ["image": image], options: Interpreter.Options(fuse: false))
        let f = try #require(fused["features"]), p = try #require(plain["features"])
        #expect(f.shape == p.shape)
        // Rounding class: a few float32 ulps through two blocks of width 8, far below 1e-4.
        #expect(relativeMaxError(f, p) < 1e-4)
    }
}

/// The interpreter's MatMul → Softmax → MatMul fusion (VitInterp/FastPaths/AttentionPerHead.swift)
/// on traced models: it takes every self-attention (each backbone block's, each decoder
/// layer's), and the fused run equals the run without it bit for bit.
@Suite struct AttentionPerHeadModelTests {
    /// The planned chains of `graph` and the names of their probabilities (observing them
    /// leaves the chains out).
    func chains(_ graph: Graph) -> (AttentionPlan, Set<String>) {
        let plan = attentionPlan(graph, excluded: [], transposed: transposedOperandPlan(graph, excluded: []))
        return (plan, Set(plan.byScores.values.map { graph.name(of: graph.nodes[$0.softmax].outputs[0]) }))
    }

    @Test func backboneBlocksRunAttentionPerHead() throws {
        var graph = try traceModel(try tinyDINOv2(), parameters: nil)
        _ = try optimize(&graph)
        let (plan, probabilities) = chains(graph)
        #expect(plan.byScores.count == 2)  // one per block
        let image = Tensor(dinov2RandomValues(3 * 16 * 16, seed: 11), shape: [1, 3, 16, 16])
        let fused = try Interpreter(graph).run(feeds: ["image": image])
        let unfused = try Interpreter(graph).run(feeds: ["image": image], hooks: Interpreter.Hooks(observe: probabilities))
        #expect(try #require(fused["features"]).bitwiseEqual(try #require(unfused["features"])))
    }

    @Test func detectorSelfAttentionsRunPerHead() throws {
        var graph = try traceModel(ModelConfig.load("dino-tiny"))
        _ = try optimize(&graph)
        let (plan, probabilities) = chains(graph)
        // dino-tiny: 2 backbone blocks and 2 decoder layers' self-attention; the deformable
        // attentions have no MatMul → Softmax → MatMul chain.
        let scopes = plan.byScores.keys.map { graph.nodes[$0].scope }
        #expect(scopes.filter { $0.contains("backbone") }.count == 2)
        #expect(scopes.filter { $0.contains("decoder") }.count == 2)
        #expect(plan.byScores.count == 4)
        let feeds = try Dictionary(uniqueKeysWithValues: graph.inputs.map { id in
            let t = graph.type(of: id)
            let dims = try #require(t.shape.ints)
            return (graph.name(of: id), Tensor(dinov2RandomValues(dims.reduce(1, *), seed: 3), shape: dims))
        })
        let fused = try Interpreter(graph).run(feeds: feeds)
        let unfused = try Interpreter(graph).run(feeds: feeds, hooks: Interpreter.Hooks(observe: probabilities))
        for name in fused.outputNames {
            #expect(try #require(fused[name]).bitwiseEqual(try #require(unfused[name])), "\(name)")
        }
    }
}

/// The interpreter's GridSample → Mul → ReduceSum fusion (VitInterp/FastPaths/GridSampleWeightedSum.swift)
/// on the traced dino-tiny: it takes the deformable attentions' levels whose value image is not
/// larger than its samples, and the fused run equals the run without it bit for bit.
@Suite struct WeightedSamplingModelTests {
    @Test func deformableAttentionsSampleAndSumInOnePass() throws {
        var graph = try traceModel(ModelConfig.load("dino-tiny"))
        _ = try optimize(&graph)
        let plan = weightedSamplingPlan(graph, excluded: [], mulReduce: mulReduceSumPlan(graph, excluded: []))
        let scopes = plan.byGridSample.keys.map { graph.nodes[$0].scope }
        // Every encoder level (2 layers × 4 levels: [8, 8] × 28², 14², 7², 4² images sampled at
        // 1045 queries × 4 points) and the decoder's three smaller levels (100 queries); its
        // 28² level (200 KB) is larger than its samples (102 KB) and left to the plain kernels.
        #expect(scopes.filter { $0.contains("encoder") }.count == 8)
        #expect(scopes.filter { $0.contains("decoder") }.count == 6)
        #expect(graph.nodes.filter { $0.op.name == "GridSample" }.count == 16)
        // The heads' Transposes run as views where the value projection stays live anyway
        // (every level but each layer's last, whose view would outlive the copy it saves).
        #expect(plan.viewTransposes.count == 14 - 4)
        #expect(plan.byGridSample.values.filter(\.channelsLast).count == plan.viewTransposes.count)
        let feeds = try Dictionary(uniqueKeysWithValues: graph.inputs.map { id in
            let dims = try #require(graph.type(of: id).shape.ints)
            return (graph.name(of: id), Tensor(dinov2RandomValues(dims.reduce(1, *), seed: 5), shape: dims))
        })
        let samples = Set(plan.byGridSample.keys.map { graph.name(of: graph.nodes[$0].outputs[0]) })
        let fused = try Interpreter(graph).run(feeds: feeds)
        let unfused = try Interpreter(graph).run(feeds: feeds, hooks: Interpreter.Hooks(observe: samples))
        for name in fused.outputNames {
            #expect(try #require(fused[name]).bitwiseEqual(try #require(unfused[name])), "\(name)")
        }
        #expect(fused.peakBytes <= (try #require(plannedMemory(graph))).peakActivationBytes)
    }
}
