import Foundation
import Testing
import ModelZoo
import VitIR
@testable import VitModels

// `inspectCheckpoint`: the dry run of strict binding agrees with a real binding, on the
// committed fixtures and on edited copies of them.

private let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("Fixtures")

private func fixture(_ name: String) -> String { fixtures.appendingPathComponent(name).path }

private func temporaryFile(_ name: String) throws -> String {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("vitexport-inspect-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    return dir.appendingPathComponent(name).path
}

/// The error a real binding of `path` to `config` reports (nil when it binds).
private func realBindingError(_ config: String, path: String, prefix: String? = nil) throws -> CheckpointBindingError? {
    let c = try ModelConfig.load(config)
    do {
        _ = try traceModel(c, parameters: try checkpointParameters(for: c, path: path, prefix: prefix))
        return nil
    } catch let error as CheckpointBindingError {
        return error
    }
}

@Test func detectronCheckpointOfDinoTinyBindsToDinoTinyOnly() throws {
    let report = try inspectCheckpoint(path: fixture("pth/dino-tiny.pth"))
    #expect(report.format == "pytorch")
    #expect(report.layout == "\"model\" of a detectron2/detrex training checkpoint")
    #expect(report.topLevelKeys == ["model", "optimizer", "scheduler", "iteration"])
    #expect(report.binding.map(\.config) == ["dino-tiny"])
    #expect(report.closest == nil)
    #expect(report.bindings.count == ModelZoo.names.count)
    #expect(report.opaque == [OpaqueObject(path: "scheduler.schedule", reason: "needs global __main__.Schedule, which this reader does not execute")])
    #expect(report.pixelMean == [123.675, 116.28, 103.53])
    // Every tensor listed, with the shapes the safetensors original has.
    let original = try SafetensorsFile(path: fixture("detector/dino-tiny.weights.safetensors"))
    let byName = Dictionary(uniqueKeysWithValues: report.tensors.map { ($0.name, $0) })
    #expect(Set(byName.keys).isSuperset(of: original.names.filter { !$0.hasPrefix("transformer.decoder.") }))
    for name in original.names { if let t = byName[name] { #expect(t.shape == original.entries[name]!.shape, "\(name)") } }
    #expect(report.parameterCount == report.tensors.reduce(0) { $0 + $1.shape.reduce(1, *) })
    let text = report.text(limit: 10)
    #expect(text.contains("binds to:\n  dino-tiny (dino-detector)\n"))
    #expect(text.contains("  scheduler.schedule: needs global __main__.Schedule"))
}

@Test func editedCheckpointShowsTheClosestConfigurationsDifferencesAsARealBindingWould() throws {
    let original = try SafetensorsFile(path: fixture("detector/dino-tiny.weights.safetensors"))
    var tensors: [String: Tensor] = [:]
    for name in original.names { tensors[name] = try original.tensor(named: name) }
    let dropped = ["backbone.net.timm_model.model.blocks.0.ls1.gamma", "transformer.enc_output.weight"]
    for k in dropped { #expect(tensors.removeValue(forKey: k) != nil, "\(k) is in the fixture") }
    let reshaped = "transformer.tgt_embed.weight"
    let old = try #require(tensors[reshaped])
    tensors[reshaped] = Tensor.zeros(.float32, [old.shape[0] + 1, old.shape[1]])
    tensors["extra.weight"] = Tensor.zeros(.float32, [2])
    let path = try temporaryFile("edited.safetensors")
    try writeSafetensors(tensors, to: path)

    let report = try inspectCheckpoint(path: path, configs: ["dino-tiny", "tiny-convattn", "dino-dinov2-s"])
    #expect(report.binding.isEmpty)
    let closest = try #require(report.closest)
    #expect(closest.config == "dino-tiny")
    #expect(closest.missing == dropped.sorted())
    #expect(closest.unexpected == ["extra.weight"])
    #expect(closest.misshaped == ["\(reshaped): model needs \(old.shape), checkpoint has [\(old.shape[0] + 1), \(old.shape[1])]"])
    let real = try #require(try realBindingError("dino-tiny", path: path))
    #expect(real.missing == closest.missing && real.unexpected == closest.unexpected && real.misshaped.map(\.line) == closest.misshaped)
    let text = report.text(limit: 10)
    #expect(text.contains("binds to: no embedded configuration\nclosest: dino-tiny: 2 missing, 1 unexpected, 1 misshaped\n"))
    #expect(text.contains("  missing:    transformer.enc_output.weight\n"))
}

@Test func longDifferenceListsAreShortenedUnlessAllAreAsked() throws {
    let path = try temporaryFile("small.safetensors")
    try writeSafetensors(["w": Tensor.zeros(.float32, [3])], to: path)
    let report = try inspectCheckpoint(path: path, configs: ["tiny-convattn"])
    let closest = try #require(report.closest)
    #expect(closest.problemCount > 10)
    let short = report.text(limit: 10), all = report.text(limit: nil)
    #expect(short.contains("… and \(closest.problemCount - 10) more (--verbose lists all)"))
    #expect(all.components(separatedBy: "\n  missing:").count - 1 == closest.missing.count)
}

@Test func osSystemGlobalsAreListedAsOpaqueAndNeverRun() throws {
    let marker = "/tmp/vitexport-pwned"
    try? FileManager.default.removeItem(atPath: marker)
    let report = try inspectCheckpoint(path: fixture("pth/os_system.pth"), configs: ["tiny-convattn"])
    #expect(report.opaque.map(\.path) == ["model.hook", "callbacks[0]"])
    #expect(report.opaque.allSatisfy { $0.reason == "needs global os.system, which this reader does not execute" })
    let hook = try #require(report.tensors.first { $0.name == "hook" })
    #expect(hook.dtype == nil && hook.problem?.contains("os.system") == true)
    #expect(report.tensors.first { $0.name == "w" }?.shape == [2, 3])
    #expect(report.parameterCount == 6)
    #expect(!FileManager.default.fileExists(atPath: marker))
}

@Test func nestedBackboneBindsUnderTheDetectedPrefix() throws {
    let config = try temporaryFile("tiny-dinov2.json")
    let text = """
        {"name": "tiny-dinov2", "architecture": "dinov2", "image_size": [16, 16], "seed": 3,
         "dinov2": {"in_channels": 3, "embed_dim": 8, "depth": 2, "num_heads": 2, "mlp_layer": "mlp", "mlp_hidden_dim": 16,
           "reg_tokens": 4, "no_embed_class": true, "layer_scale": true, "layer_norm_eps": 1e-6,
           "patch_size": 4, "export_patch_size": 8, "patch_resample": "pinv",
           "pos_embed_grid": [4, 4], "out_index": -1, "final_norm": false}}
        """
    try text.write(toFile: config, atomically: true, encoding: .utf8)
    // A DINOv2 training checkpoint: float16, original layout, under "backbone." beside a head.
    let teacher = try inspectCheckpoint(path: fixture("pth/dinov2-teacher-tiny.pth"), configs: [config])
    #expect(teacher.binding.map(\.prefix) == ["backbone."])
    #expect(teacher.text(limit: 10).contains("  tiny-dinov2 (dinov2) with --weights-prefix backbone.\n"))
    // The release layout at the top level needs no prefix.
    let release = try inspectCheckpoint(path: fixture("pth/dinov2-release-tiny.pth"), configs: [config])
    #expect(release.binding.map(\.prefix) == [""])
}

@Test func recordedParameterRequestsAreTheTracedParameters() throws {
    for name in ["tiny-convattn", "dino-tiny"] {
        let config = try ModelConfig.load(name)
        let requests = try parameterRequests(for: config)
        let graph = try traceModel(config)
        var initializers: [String: [Int]] = [:]
        for (id, t) in graph.initializers { initializers[graph.name(of: id)] = t.shape }
        #expect(!requests.shapes.isEmpty)
        for (key, shape) in requests.shapes { #expect(initializers[key] == shape, "\(name): \(key)") }
    }
}

@Test func opaqueSearchVisitsSharedAndCyclicContainersOnce() {
    let list = PickleList()
    list.items = [.opaque("needs global a.b, which this reader does not execute"), .list(list)]
    let dict = PickleDict()
    dict.set(.string("x"), .list(list))
    dict.set(.string("y"), .list(list))
    dict.set(.int(3), .opaque("needs global c.d, which this reader does not execute"))
    let found = OpaqueObject.find(in: .dict(dict))
    #expect(found.map(\.path) == ["x[0]", "[3]"])
}

@Test func pixelStatisticsThatDifferFromTheConfigurationAreReported() throws {
    let original = try SafetensorsFile(path: fixture("detector/dino-tiny.weights.safetensors"))
    var tensors: [String: Tensor] = [:]
    for name in original.names { tensors[name] = try original.tensor(named: name) }
    #expect(tensors["pixel_mean"] != nil)
    tensors["pixel_mean"] = Tensor([Float(1), 2, 3], shape: [3, 1, 1])
    let path = try temporaryFile("pixel.safetensors")
    try writeSafetensors(tensors, to: path)
    let report = try inspectCheckpoint(path: path, configs: ["dino-tiny"])
    #expect(report.pixelMean == [1, 2, 3])
    let binding = try #require(report.binding.first)
    #expect(binding.pixelStatistics.count == 1)
    #expect(binding.pixelStatistics.first?.hasPrefix("detector.pixel_mean: [123.675, 116.28, 103.53] differs from the checkpoint's pixel_mean [1.0, 2.0, 3.0]") == true)
    #expect(report.text(limit: 10).contains("  dino-tiny (dino-detector)\n    but detector.pixel_mean: "))
}
