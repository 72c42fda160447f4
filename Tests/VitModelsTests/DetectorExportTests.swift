import Foundation
import ONNXProto
import Testing
import VitIR
import VitInterp
import VitModels
import VitONNX
import VitPasses

// What the exported detector contains: every shape-derived value folded to a constant, names
// equal to detrex's state-dict keys, weights that exercise every parameter.

private func opCounts(_ graph: Graph) -> [String: Int] {
    graph.nodes.reduce(into: [:]) { $0[$1.op.name, default: 0] += 1 }
}

@Test func detectorExportHasNoShapeComputation() throws {
    let config = try ModelConfig.load("dino-tiny")
    let traced = try traceModel(config)
    var folded = traced
    _ = try optimize(&folded)
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("vitexport-detector-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    let path = dir.appendingPathComponent("dino-tiny.onnx").path
    let report = try writeModel(folded, to: path, options: ExportOptions(opset: 17))
    let exported = try importModel(path: path)

    // The file's own node list: lowering may add ONNX ops the IR lacks (a decomposition, a
    // Shape-based reshape), so this is where shape computation would show. Range is an IR
    // op, so the traced graph is checked for it too.
    let file = try Onnx_ModelProto(serializedBytes: Data(contentsOf: URL(fileURLWithPath: path)))
    let fileOps = Set(file.graph.node.map(\.opType))
    #expect(file.graph.node.count == report.nodeCount)
    #expect(fileOps.isSuperset(of: ["MatMul", "GridSample", "TopK", "GatherElements"]), "\(fileOps.sorted())")
    for op in ["Shape", "ConstantOfShape", "Range", "NonZero", "Size", "Loop", "If"] {
        #expect(!fileOps.contains(op), "\(op) in the exported file")
    }
    #expect(opCounts(traced)["Range"] == nil)
    // Every node left after folding reads at least one non-constant value.
    let constantOnly = folded.nodes.filter { n in n.inputs.allSatisfy { folded.initializers[$0] != nil } }
    #expect(constantOnly.map(\.name) == [])
    // Positions, reference points and proposals are constants: the only sines left are the
    // decoder's query embeddings of the (data-dependent) reference boxes, one per layer.
    let layers = try #require(config.detector?.transformer.decoderLayers)
    #expect(opCounts(folded)["Sin"] == layers)
    #expect(opCounts(folded)["Cos"] == layers)
    #expect(folded.nodes.count < traced.nodes.count)
    #expect(exported.outputs.map { exported.name(of: $0) } == ["boxes", "scores", "labels"])
    #expect(exported.type(of: exported.outputs[2]).dtype == .int64)
}

@Test func detectorInitializersAreDetrexKeys() throws {
    let graph = try traceModel(try ModelConfig.load("dino-tiny"))
    let names = Set(graph.initializers.keys.map { graph.name(of: $0) })
    for key in ["backbone.net.timm_model.model.blocks.1.attn.qkv.weight", "backbone.net.timm_model.model.pos_embed",
                "backbone.simfp_3.0.weight", "backbone.simfp_3.0.bias", "backbone.simfp_3.1.norm.weight",
                "backbone.simfp_4.1.weight", "backbone.simfp_5.2.norm.bias", "neck.convs.3.conv.bias",
                "neck.convs.0.norm.weight", "transformer.level_embeds", "transformer.tgt_embed.weight",
                "transformer.encoder.layers.0.attentions.0.sampling_offsets.weight",
                "transformer.encoder.layers.1.ffns.0.layers.0.0.weight",
                "transformer.decoder.layers.1.attentions.0.attn.in_proj_weight",
                "transformer.decoder.layers.1.attentions.0.attn.out_proj.bias",
                "transformer.decoder.layers.0.attentions.1.value_proj.weight",
                "transformer.decoder.ref_point_head.layers.1.weight", "transformer.decoder.norm.weight",
                "transformer.enc_output.weight", "transformer.enc_output_norm.bias",
                "class_embed.1.weight", "class_embed.2.bias", "bbox_embed.0.layers.2.weight", "bbox_embed.2.layers.0.bias"] {
        #expect(names.contains(key), "missing initializer \(key)")
    }
    // Each module's parameters appear once, however often the module is applied (the
    // tracer would suffix a repeated name with _1).
    let repeated = names.filter { $0.hasSuffix("_1") && !$0.hasSuffix("const_1") }
    #expect(repeated.isEmpty, "\(repeated.sorted())")
}

/// Seeded weights exercise everything: no all-zero tensor, and sampling offsets of several
/// pixels (a border token of p3 then samples outside its map, where zero padding applies).
@Test func detectorSeededWeightsExerciseEveryParameter() throws {
    let graph = try traceModel(try ModelConfig.load("dino-tiny"))
    for (id, t) in graph.initializers where t.dtype == .float32 && t.count > 1 {
        #expect(t.floats.contains { $0 != 0 }, "\(graph.name(of: id)) is all zeros")
    }
    let key = "transformer.encoder.layers.0.attentions.0.sampling_offsets.bias"
    let bias = try #require(graph.initializers.first { graph.name(of: $0.key) == key }?.value).floats
    #expect(bias.contains { $0 < -1 } && bias.contains { $0 > 1 })
}

/// A detrex checkpoint loads strictly whichever copy of the shared heads it carries; copies
/// that disagree, a missing key and an unknown key are errors listing the keys.
@Test func detectorCheckpointBindsStrictly() throws {
    let config = try ModelConfig.load("dino-tiny")
    let file = try SafetensorsFile(path: detectorFixtures.appendingPathComponent("dino-tiny.weights.safetensors").path)
    var tensors: [String: Tensor] = [:]
    for name in file.names { tensors[name] = try file.tensor(named: name) }
    #expect(tensors["transformer.decoder.class_embed.0.weight"] != nil && tensors["class_embed.0.weight"] != nil)

    func bind(_ t: [String: Tensor]) throws -> Graph {
        try traceModel(config, parameters: CheckpointParameters(tensors: try normalizedDetectorCheckpoint(t, source: "t"), source: "t"))
    }
    _ = try bind(tensors)
    let decoderOnly = tensors.filter { !$0.key.hasPrefix("class_embed.") && !$0.key.hasPrefix("bbox_embed.") }
    _ = try bind(decoderOnly)

    var conflicting = tensors
    conflicting["transformer.decoder.class_embed.1.bias"] = Tensor([Float](repeating: 0, count: 80), shape: [80])
    #expect(throws: CheckpointBindingError.self) { try bind(conflicting) }

    var broken = tensors
    broken["transformer.level_embeds"] = nil
    broken["transformer.extra"] = Tensor([Float(1)], shape: [1])
    do {
        _ = try bind(broken)
        Issue.record("expected a binding error")
    } catch let error as CheckpointBindingError {
        #expect(error.missing == ["transformer.level_embeds"])
        #expect(error.unexpected == ["transformer.extra"])
    }
}
