import Foundation
import Testing
import VitIR
import VitInterp
import VitModels
import VitPasses

// Parity with timm: each fixture case loads a checkpoint written by
// Tools/gen_dinov2_fixtures.py, resamples it as timm's checkpoint_filter_fn does (pseudo-inverse
// patch kernel, antialiased-bicubic position table), runs the folded graph in the interpreter
// and compares with timm's features_only output for the same input.
//
// Tolerance: max |ours − timm| ≤ 1e-4 · max |timm| (the acceptance bound). Both sides
// run float32; the differences come from summation order in matmuls/softmax/LayerNorm and
// from float32 vs float64 SVD in the pseudo-inverse, which measure around 1e-6 relative.

@Test(arguments: try dinov2FixtureCases())
func dinov2MatchesTimm(_ fixture: DINOv2FixtureCase) throws {
    let config = try ModelConfig.load(dinov2Fixture("\(fixture.case).config.json"))
    let io = try SafetensorsFile(path: dinov2Fixture("\(fixture.case).io.safetensors"))
    let weights = try CheckpointParameters(file: SafetensorsFile(path: dinov2Fixture(fixture.checkpoint)))
    #expect(weights.convertedFromOriginalDINOv2 == fixture.originalLayout)

    let expected = try io.float32Tensor(named: "features")
    let run = try runBackbone(config, parameters: weights, image: io.float32Tensor(named: "input"))
    #expect(run.features.shape == fixture.featuresShape)
    let error = relativeMaxError(run.features, expected)
    print("parity \(fixture.case): max abs err / max |timm| = \(error)")
    #expect(error <= 1e-4, "\(fixture.case): relative error \(error)")

    // The resampling is in the traced graph exactly when the patch or grid changes, and never
    // survives folding.
    let tracedOps = Set(run.traced.nodes.map(\.op.name))
    let resamples = fixture.patchSize != 14
    #expect(tracedOps.contains("PseudoInverse") == resamples)
    #expect(tracedOps.contains("Resize") == resamples)
    let foldedOps = Set(run.folded.nodes.map(\.op.name))
    #expect(!foldedOps.contains("PseudoInverse") && !foldedOps.contains("Resize"))
}

/// The folded graph holds the resampled kernel and table under names derived from their
/// checkpoint keys; the stored (pre-resampling) tensors are gone.
@Test func foldedResamplingKeepsKeyNames() throws {
    let config = try ModelConfig.load(dinov2Fixture("s14_to16_224.config.json"))
    var graph = try traceModel(config, parameters: CheckpointParameters(file: SafetensorsFile(path: dinov2Fixture("s14.safetensors"))))
    _ = try optimize(&graph)
    var byName: [String: Tensor] = [:]
    for (id, t) in graph.initializers { byName[graph.name(of: id)] = t }
    #expect(byName["patch_embed.proj.weight_resampled"]?.shape == [128, 3, 16, 16])
    #expect(byName["pos_embed_resampled"]?.shape == [1, 1 + 14 * 14, 128])
    #expect(byName["patch_embed.proj.weight"] == nil && byName["pos_embed"] == nil)
}

/// A batch of two images gives each image's single-image features (the prefix tokens are
/// broadcast over the batch). Tolerance 1e-5 · max |y|: only BLAS blocking may differ.
@Test func batchedBackboneEqualsSingleImages() throws {
    let config = try tinyDINOv2(regTokens: 4)
    let c = try #require(config.dinov2)
    let images = (0..<2).map { Tensor(dinov2RandomValues(3 * 16 * 16, seed: 20 + UInt64($0)), shape: [1, 3, 16, 16]) }
    let singles = try images.map { try runBackbone(config, parameters: nil, image: $0).features }

    let tracer = Tracer(name: "batched")
    let m = ModelContext(tracer: tracer, parameters: SeededParameters(seed: config.seed))
    let image = tracer.input("image", TensorType(.float32, [2, 3, 16, 16]))
    try tracer.output("features", dinov2Backbone(m, c, image: image))
    let batch = Tensor(images.flatMap(\.floats), shape: [2, 3, 16, 16])
    let y = try Interpreter(tracer.finish()).run(feeds: ["image": batch])["features"]!
    #expect(y.shape == [2, 8, 2, 2])
    let half = y.count / 2
    for (k, single) in singles.enumerated() {
        let part = Tensor(Array(y.floats[(k * half)..<((k + 1) * half)]), shape: [1, 8, 2, 2])
        #expect(relativeMaxError(part, single) <= 1e-5, "image \(k)")
    }
}

/// Under a parent scope (the detector's `backbone.net.timm_model.model`), every parameter and
/// resampled constant carries the full key.
@Test func backboneUnderAParentScopeUsesFullKeys() throws {
    let c = try #require(try tinyDINOv2().dinov2)
    let tracer = Tracer(name: "scoped")
    let m = ModelContext(tracer: tracer, parameters: SeededParameters(seed: 0))
    let image = tracer.input("image", TensorType(.float32, [1, 3, 16, 16]))
    let y = try m.scope("backbone.net.model") { try dinov2Backbone(m, c, image: image) }
    try tracer.output("features", y)
    var graph = try tracer.finish()
    _ = try optimize(&graph)
    let names = Set(graph.initializers.keys.map { graph.name(of: $0) })
    for key in ["backbone.net.model.patch_embed.proj.weight_resampled", "backbone.net.model.pos_embed_resampled",
                "backbone.net.model.cls_token", "backbone.net.model.blocks.1.ls2.gamma"] {
        #expect(names.contains(key), "\(key) in \(names.sorted())")
    }
    #expect(names.allSatisfy { $0.hasPrefix("backbone.net.model.") })
}
