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
