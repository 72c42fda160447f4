import Foundation
import ONNXProto
import Testing
import VitIR
import VitModels
import VitONNX
import VitVerify

let detectorFixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("Fixtures/detector")

/// The tiny detector with the fixture's detrex checkpoint, traced with its stages recorded and
/// optimized, seeded inputs, and its opset-17 export. Computed once.
struct TinyDetector: Sendable {
    var reference: LoadedModel
    var feeds: [String: Tensor]
    var export17: Onnx_ModelProto

    static let shared: Result<TinyDetector, any Error> = Result {
        let request = ModelRequest(model: "dino-tiny",
                                   weights: detectorFixtures.appendingPathComponent("dino-tiny.weights.safetensors").path)
        let reference = try loadModel(request)
        let feeds = try GraphInputs(seed: 0).feeds(for: reference.graph)
        return TinyDetector(reference: reference, feeds: feeds, export17: try export(reference.graph, opset: 17))
    }

    /// Verifies `model` (an export, possibly mutated) against the traced model.
    func verify(_ model: Onnx_ModelProto, tolerances: VerifyTolerances = VerifyTolerances()) throws -> VerifyReport {
        try verifyExport(reference: reference.graph, candidate: try importModel(model, baseDirectory: nil),
                         config: reference.config, feeds: feeds, tolerances: tolerances)
    }
}

func export(_ graph: Graph, opset: Int) throws -> Onnx_ModelProto {
    try makeModel(graph, options: ExportOptions(opset: opset, runChecker: false))
}

/// `model` without its stage metadata.
func strippingStages(_ model: Onnx_ModelProto) -> Onnx_ModelProto {
    var model = model
    model.metadataProps.removeAll { $0.key == stageMetadataKey }
    return model
}

/// `model` with every internal value (neither graph input, output nor initializer) renamed
/// `t0`, `t1`, … as a simplifier would leave them.
func renamingInternalValues(_ model: Onnx_ModelProto) -> Onnx_ModelProto {
    var model = model
    let kept = Set(model.graph.input.map(\.name) + model.graph.output.map(\.name) + model.graph.initializer.map(\.name))
    var renamed: [String: String] = [:]
    func rename(_ name: String) -> String {
        guard !kept.contains(name), !name.isEmpty else { return name }
        if let r = renamed[name] { return r }
        let r = "t\(renamed.count)"
        renamed[name] = r
        return r
    }
    for i in model.graph.node.indices {
        model.graph.node[i].output = model.graph.node[i].output.map(rename)
        model.graph.node[i].input = model.graph.node[i].input.map(rename)
    }
    for i in model.graph.valueInfo.indices { model.graph.valueInfo[i].name = rename(model.graph.valueInfo[i].name) }
    return model
}
