import Foundation
import Testing
import VitIR
@testable import VitModels

// Configuration errors of the detector: each names the key, the offending value and the fix.
// The messages are pinned; they are the user interface of a failed export.

/// The committed tiny detector configuration as a JSON object, edited by `edit`.
private func tinyDetectorJSON(_ edit: (inout [String: Any]) -> Void = { _ in }) throws -> Data {
    let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../Models/configs/dino-tiny.json").standardized
    var object = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
    edit(&object)
    return try JSONSerialization.data(withJSONObject: object)
}

/// Sets `value` at the dotted `path` of a nested JSON object.
private func set(_ object: inout [String: Any], _ path: String, _ value: Any) {
    let keys = path.split(separator: ".").map(String.init)
    func assign(_ o: inout [String: Any], _ k: ArraySlice<String>) {
        guard let first = k.first else { return }
        if k.count == 1 { o[first] = value; return }
        var child = o[first] as? [String: Any] ?? [:]
        assign(&child, k.dropFirst())
        o[first] = child
    }
    assign(&object, keys[...])
}

private func configProblems(_ data: Data) -> [String] {
    do {
        _ = try ModelConfig.parse(data, source: "test.json")
        return []
    } catch let error as ConfigError {
        return error.problems
    } catch {
        return ["unexpected \(error)"]
    }
}

/// The seed's failure: DINOv2 at its native patch 14 under the pyramid. detrex raises
/// `IndexError: list index out of range` deep in SimpleFeaturePyramid.forward; here the
/// configuration is rejected naming the key and the fix.
@Test func detectorRejectsNativePatch14WithResampleHint() throws {
    let data = try tinyDetectorJSON { c in
        set(&c, "image_size", [518, 518])
        set(&c, "detector.backbone.patch_size", 14)
        set(&c, "detector.backbone.export_patch_size", 14)
        set(&c, "detector.backbone.pos_embed_grid", [37, 37])
    }
    #expect(configProblems(data) == [
        "detector.backbone.export_patch_size: the backbone stride 14 is not a power of two, so the pyramid's levels (stride / scale factor) cannot be the power-of-two strides p2…p6 it names; resample the patch embedding to 16: set \"export_patch_size\": 16 and \"patch_resample\": \"pinv\" in detector.backbone (ViTDet appendix A.2; timm resample_patch_embed)",
    ])
}

@Test func detectorRejectsFractionalAndUnsupportedScaleFactors() throws {
    let fractional = try tinyDetectorJSON { c in
        set(&c, "image_size", [518, 518])
        set(&c, "detector.backbone.patch_size", 14)
        set(&c, "detector.backbone.export_patch_size", 14)
        set(&c, "detector.pyramid.scale_factors", [4.0, 2.0, 1.0, 0.5])
    }
    let problems = configProblems(fractional)
    #expect(problems.count == 2)
    #expect(problems.last == "detector.pyramid.scale_factors[0]: 4.0 gives the fractional stride 14/4.0 = 3.5; choose scale factors that divide the backbone stride 14")

    let unsupported = try tinyDetectorJSON { c in set(&c, "detector.pyramid.scale_factors", [2.0, 1.0, 0.25]) }
    #expect(configProblems(unsupported) == [
        "detector.pyramid.scale_factors[2]: 0.25 is not supported; ViTDet's pyramid builds 4.0, 2.0, 1.0 and 0.5",
    ])

    let gap = try tinyDetectorJSON { c in set(&c, "detector.pyramid.scale_factors", [4.0, 1.0, 0.5]) }
    #expect(configProblems(gap) == [
        "detector.pyramid.scale_factors: [4.0, 1.0, 0.5] gives strides [4, 16, 32], which are not consecutive powers of two; list the factors in decreasing order, each half the previous (e.g. [2.0, 1.0, 0.5])",
    ])
}

/// The seed's IndexError in its other form: the top block pools a level no scale factor
/// produces.
@Test func detectorRejectsMissingTopBlockInput() throws {
    let data = try tinyDetectorJSON { c in set(&c, "detector.pyramid.scale_factors", [4.0, 2.0, 1.0]) }
    #expect(configProblems(data) == [
        "detector.pyramid.top_block.in_feature: \"p5\" is not a pyramid output (the scale factors [4.0, 2.0, 1.0] on stride 16 give p2, p3, p4); use one of those, or add the scale factor that produces it",
    ])
}

@Test func detectorRejectsIndivisibleImageWithoutPadding() throws {
    let data = try tinyDetectorJSON { c in set(&c, "image_size", [230, 224]) }
    #expect(configProblems(data) == [
        "image_size: height 230 is not divisible by the patch size 16; use 224 or 240, or set detector.dynamic_pad to true (timm dynamic_img_pad)",
    ])
    let padded = try tinyDetectorJSON { c in
        set(&c, "image_size", [230, 224])
        set(&c, "detector.dynamic_pad", true)
    }
    #expect(configProblems(padded) == [])
}

@Test func detectorRejectsLevelCountMismatch() throws {
    let data = try tinyDetectorJSON { c in set(&c, "detector.transformer.num_levels", 3) }
    #expect(configProblems(data) == [
        "detector.transformer.num_levels: 3 differs from the 4 pyramid levels (p3, p4, p5, p6); set it to 4",
    ])
}

/// Configurations built in code skip `ModelConfig.parse`; tracing checks the same relations.
@Test func detectorTraceRejectsWhatValidationRejects() throws {
    var config = try ModelConfig.load("dino-tiny")
    config.detector?.backbone.exportPatchSize = 14
    config.detector?.backbone.patchSize = 14
    config.imageSize = [224, 224]
    do {
        _ = try traceModel(config)
        Issue.record("expected a configuration error")
    } catch let error as ConfigError {
        #expect(error.problems.first?.hasPrefix("detector.backbone.export_patch_size: the backbone stride 14 is not a power of two") == true)
    }
}

@Test func detectorScaleFactorFourIsSupported() throws {
    var config = try ModelConfig.load("dino-tiny")
    config.detector?.pyramid.scaleFactors = [4.0, 2.0, 1.0, 0.5]
    config.detector?.transformer.numLevels = 5
    let graph = try traceModel(config)
    let names = Set(graph.initializers.keys.map { graph.name(of: $0) })
    // ViTDet's 4× branch: ConvTranspose, channel LN, GELU, ConvTranspose, then 1×1 and 3×3.
    for key in ["backbone.simfp_2.0.weight", "backbone.simfp_2.1.weight", "backbone.simfp_2.3.weight",
                "backbone.simfp_2.4.weight", "backbone.simfp_2.4.norm.weight", "backbone.simfp_2.5.weight"] {
        #expect(names.contains(key), "missing \(key)")
    }
    #expect(graph.type(of: graph.outputs[0]).shape.ints == [1, 100, 4])
}
