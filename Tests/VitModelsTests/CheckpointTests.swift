import Foundation
import Testing
import VitIR
import VitInterp
import VitModels

/// The parameters a seeded trace of `config` binds: key → tensor.
private func seededCheckpoint(_ config: ModelConfig) throws -> [String: Tensor] {
    let graph = try traceModel(config)
    var out: [String: Tensor] = [:]
    for (id, t) in graph.initializers where graph.nodes.contains(where: { $0.inputs.contains(id) }) {
        let name = graph.name(of: id)
        if !name.contains("const") && !name.contains("resize_basis") { out[name] = t }
    }
    return out
}

private func bindingError(_ config: ModelConfig, _ tensors: [String: Tensor], prefix: String = "") -> CheckpointBindingError? {
    do {
        _ = try traceModel(config, parameters: CheckpointParameters(tensors: tensors, prefix: prefix, source: "test.safetensors"))
        return nil
    } catch let e as CheckpointBindingError {
        return e
    } catch {
        Issue.record("unexpected error \(error)")
        return nil
    }
}

@Test func seededCheckpointBindsExactlyAndReproducesTheSeededModel() throws {
    let config = try tinyDINOv2()
    let tensors = try seededCheckpoint(config)
    #expect(tensors["patch_embed.proj.weight"]?.shape == [8, 3, 4, 4])
    #expect(tensors["pos_embed"]?.shape == [1, 17, 8])
    #expect(tensors["blocks.1.ls2.gamma"]?.shape == [8])
    #expect(bindingError(config, tensors.merging(["norm.weight": Tensor.zeros(.float32, [8]), "norm.bias": Tensor.zeros(.float32, [8])]) { a, _ in a }) == nil,
            "the pruned final norm is accepted as deliberately unused")
    let image = Tensor(dinov2RandomValues(3 * 16 * 16, seed: 4), shape: [1, 3, 16, 16])
    let seeded = try runBackbone(config, parameters: nil, image: image).features
    let bound = try runBackbone(config, parameters: CheckpointParameters(tensors: tensors), image: image).features
    #expect(bound.bitwiseEqual(seeded))
}

@Test func strictBindingListsEveryMissingUnexpectedAndMisshapedKeyAtOnce() throws {
    let config = try tinyDINOv2()
    var tensors = try seededCheckpoint(config)
    tensors["blocks.0.attn.qkv.bias"] = nil
    tensors["cls_token"] = nil
    tensors["head.weight"] = Tensor.zeros(.float32, [10, 8])
    tensors["blocks.0.extra"] = Tensor.zeros(.float32, [1])
    tensors["blocks.1.mlp.fc1.weight"] = Tensor.zeros(.float32, [8, 16])
    tensors["pos_embed"] = Tensor.zeros(.float32, [1, 26, 8])
    tensors["blocks.1.ls1.gamma"] = Tensor([1, 2, 3, 4, 5, 6, 7, 8] as [Int64], shape: [8])
    let error = try #require(bindingError(config, tensors))
    #expect(error.missing == ["blocks.0.attn.qkv.bias", "cls_token"])
    #expect(error.unexpected == ["blocks.0.extra", "head.weight"])
    #expect(error.misshaped.map(\.key) == ["blocks.1.ls1.gamma", "blocks.1.mlp.fc1.weight", "pos_embed"])
    #expect(error.misshaped.first { $0.key == "pos_embed" }?.expected == [1, 17, 8])
    #expect(error.misshaped.first { $0.key == "pos_embed" }?.found == [1, 26, 8])
    let text = error.description
    for line in ["2 missing, 2 unexpected, 3 misshaped", "missing:    cls_token", "unexpected: head.weight",
                 "misshaped:  blocks.1.mlp.fc1.weight: model needs [16, 8], checkpoint has [8, 16]", "(int64, not a float type)"] {
        #expect(text.contains(line), "\(line) in:\n\(text)")
    }
}

@Test func prefixSelectsTheBackboneInsideALargerCheckpoint() throws {
    let config = try tinyDINOv2()
    let tensors = try seededCheckpoint(config)
    var parent: [String: Tensor] = ["pixel_mean": Tensor.zeros(.float32, [3]), "transformer.level_embeds": Tensor.zeros(.float32, [4, 8])]
    for (k, t) in tensors { parent["backbone.net.model." + k] = t }
    let binding = CheckpointParameters(tensors: parent, prefix: "backbone.net.model.")
    _ = try traceModel(config, parameters: binding)
    #expect(binding.ignoredOutsidePrefix == 2)
    // Keys under the prefix are still checked, and reported with the prefix.
    parent["backbone.net.model.stray"] = Tensor.zeros(.float32, [1])
    parent["backbone.net.model.cls_token"] = nil
    let error = try #require(bindingError(config, parent, prefix: "backbone.net.model."))
    #expect(error.unexpected == ["backbone.net.model.stray"])
    #expect(error.missing == ["backbone.net.model.cls_token"])
    #expect(error.note == nil)
    // A prefix that matches nothing says so.
    let wrong = try #require(bindingError(config, parent, prefix: "backbone.net.timm_model.model."))
    #expect(wrong.note?.contains("no checkpoint key starts with the prefix") == true)
    #expect(wrong.description.contains("note: "))
}

@Test func blocksAfterTheOutputAndTheFinalNormAreUsedOnlyWhenTraced() throws {
    let early = try tinyDINOv2(outIndex: 0)
    let full = try seededCheckpoint(try tinyDINOv2(finalNorm: true))
    #expect(full["norm.weight"] != nil)
    #expect(bindingError(early, full) == nil, "blocks.1.* and norm.* are pruned, as timm's FeatureGetterNet does")
    let withNorm = try tinyDINOv2(finalNorm: true)
    var noNorm = full
    noNorm["norm.bias"] = nil
    #expect(bindingError(withNorm, noNorm)?.missing == ["norm.bias"])
}

/// The original DINOv2 layout converts as timm's `_convert_dinov2`: registers renamed, the
/// table's cls slot folded into the cls token, mask_token dropped, w12/w3 renamed.
@Test func originalDINOv2LayoutIsConverted() throws {
    let d = 2
    let original: [String: Tensor] = [
        "mask_token": Tensor([9, 9] as [Float], shape: [1, d]),
        "cls_token": Tensor([1, 2] as [Float], shape: [1, 1, d]),
        "register_tokens": Tensor([5, 6, 7, 8] as [Float], shape: [1, 2, d]),
        "pos_embed": Tensor([10, 20, 30, 40, 50, 60] as [Float], shape: [1, 3, d]),
        "blocks.0.mlp.w12.weight": Tensor.zeros(.float32, [4, d]),
        "blocks.0.mlp.w3.bias": Tensor.zeros(.float32, [d]),
        "blocks.0.ls1.gamma": Tensor([1, 1] as [Float], shape: [d]),
    ]
    let binding = CheckpointParameters(tensors: original)
    #expect(binding.convertedFromOriginalDINOv2)
    let t = binding.tensors
    #expect(Set(t.keys) == ["cls_token", "reg_token", "pos_embed", "blocks.0.mlp.fc1.weight", "blocks.0.mlp.fc2.bias", "blocks.0.ls1.gamma"])
    #expect(t["cls_token"]?.floats == [11, 22])
    #expect(t["pos_embed"]?.shape == [1, 2, d])
    #expect(t["pos_embed"]?.floats == [30, 40, 50, 60])
    #expect(t["reg_token"]?.floats == [5, 6, 7, 8])
    // Without registers only the renames apply and the table keeps its cls slot.
    let plain = convertOriginalDINOv2(["mask_token": Tensor([0] as [Float], shape: [1, 1]), "cls_token": Tensor([1, 2] as [Float], shape: [1, 1, d]),
                                       "pos_embed": Tensor([10, 20, 30, 40] as [Float], shape: [1, 2, d])])
    #expect(plain["pos_embed"]?.floats == [10, 20, 30, 40])
    #expect(plain["cls_token"]?.floats == [1, 2])
    #expect(plain["mask_token"] == nil)
}

@Test func seededInitialisationIsDeterministicAndNonDegenerate() throws {
    let config = try tinyDINOv2(regTokens: 4)
    let image = Tensor(dinov2RandomValues(3 * 16 * 16, seed: 8), shape: [1, 3, 16, 16])
    let a = try runBackbone(config, parameters: nil, image: image).features
    let b = try runBackbone(config, parameters: nil, image: image).features
    #expect(a.bitwiseEqual(b))
    #expect(a.shape == [1, 8, 2, 2])
    let values = a.floats
    #expect(values.allSatisfy { $0.isFinite })
    // Non-degenerate: features vary across positions and channels, and depend on the image.
    let mean = values.reduce(0, +) / Float(values.count)
    let variance = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Float(values.count)
    #expect(variance > 1e-2)
    let other = try runBackbone(config, parameters: nil, image: Tensor(dinov2RandomValues(3 * 16 * 16, seed: 9), shape: [1, 3, 16, 16])).features
    #expect(maxAbsDiff(a, other) > 1e-2)
}
