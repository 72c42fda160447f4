import Foundation
import Testing
import VitIR
import VitInterp
import VitModels
import VitPasses

/// `Tests/Fixtures/dinov2`, written by `Tools/gen_dinov2_fixtures.py` from timm.
let dinov2Fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("Fixtures/dinov2")

func dinov2Fixture(_ name: String) -> String { dinov2Fixtures.appendingPathComponent(name).path }

/// One parity case of `cases.json`.
struct DINOv2FixtureCase: Decodable, CustomTestStringConvertible, Sendable {
    var `case`: String
    var checkpoint: String
    var timmModel: String
    var imageSize: [Int]
    var patchSize: Int
    var originalLayout: Bool
    var featuresShape: [Int]
    var testDescription: String { `case` }
}

func dinov2FixtureCases() throws -> [DINOv2FixtureCase] {
    let decoder = JSONDecoder()
    decoder.keyDecodingStrategy = .convertFromSnakeCase
    return try decoder.decode([DINOv2FixtureCase].self, from: Data(contentsOf: dinov2Fixtures.appendingPathComponent("cases.json")))
}

/// max |a − b| / max |b|: the parity measure (error relative to the reference's magnitude).
func relativeMaxError(_ a: Tensor, _ reference: Tensor) -> Float {
    let scale = reference.floats.map(abs).max() ?? 0
    return maxAbsDiff(a, reference) / max(scale, .leastNormalMagnitude)
}

/// Deterministic pseudo-random values in [-1, 1).
func dinov2RandomValues(_ count: Int, seed: UInt64) -> [Float] {
    var rng = SplitMix64(seed: seed)
    return (0..<count).map { _ in 2 * rng.nextUnit() - 1 }
}

/// Traces `config` with `parameters`, folds it and runs it on `image`; returns the folded
/// graph and its `features` output.
func runBackbone(_ config: ModelConfig, parameters: ParameterSource?, image: Tensor) throws -> (traced: Graph, folded: Graph, features: Tensor) {
    let traced = try traceModel(config, parameters: parameters)
    var folded = traced
    _ = try optimize(&folded)
    let result = try Interpreter(folded).run(feeds: ["image": image])
    return (traced, folded, result["features"]!)
}

/// A tiny DINOv2 configuration (patch 4 → 8, grid 4×4 checkpoint table → 2×2 image grid).
func tinyDINOv2(regTokens: Int = 0, outIndex: Int = -1, finalNorm: Bool = false, resample: String = "pinv") throws -> ModelConfig {
    let text = """
        {"name": "tiny-dinov2", "architecture": "dinov2", "image_size": [16, 16], "seed": 3,
         "dinov2": {"in_channels": 3, "embed_dim": 8, "depth": 2, "num_heads": 2, "mlp_layer": "mlp", "mlp_hidden_dim": 16,
           "reg_tokens": \(regTokens), "no_embed_class": \(regTokens > 0), "layer_scale": true, "layer_norm_eps": 1e-6,
           "patch_size": 4, "export_patch_size": \(resample == "none" ? 4 : 8), "patch_resample": "\(resample)",
           "pos_embed_grid": [4, 4], "out_index": \(outIndex), "final_norm": \(finalNorm)}}
        """
    return try ModelConfig.parse(Data(text.utf8), source: "tiny-dinov2.json")
}
