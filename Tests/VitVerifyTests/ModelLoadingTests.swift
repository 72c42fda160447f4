import Foundation
import Testing
import VitIR
import VitInterp
import VitModels
import VitVerify

// The library entry point behind every command: config + weights + options → graph.

@Test func stagePoliciesDecideOutputsAndMetadata() throws {
    let plain = try loadModel(ModelRequest(model: "dino-tiny"), settings: TraceSettings(stages: .none))
    let marked = try loadModel(ModelRequest(model: "dino-tiny"), settings: TraceSettings(stages: .marked))
    let outputs = try loadModel(ModelRequest(model: "dino-tiny"), settings: TraceSettings(stages: .outputs))
    let names = { (g: Graph) in g.outputs.map { g.name(of: $0) } }
    #expect(names(plain.graph) == ["boxes", "scores", "labels"])
    #expect(names(marked.graph) == ["boxes", "scores", "labels"])
    #expect(names(outputs.graph).contains("debug.backbone"))
    #expect(recordedStages(plain.graph) == nil)
    let stages = try #require(recordedStages(marked.graph))
    #expect(stages.first == StageValue(stage: "backbone", value: "debug.backbone"))
    #expect(recordedStages(outputs.graph)?.map(\.stage).contains("decoder.0.state") == true)
    // Marking stages names values; it computes what the plain trace does, with the same ops
    // (the last decoder layer's refinement may be placed earlier: it is traced before the heads).
    #expect(marked.graph.nodes.map(\.op.name).sorted() == plain.graph.nodes.map(\.op.name).sorted())
    #expect(marked.tracedNodeCount > marked.graph.nodes.count)
    let feeds = try GraphInputs(seed: 3).feeds(for: plain.graph)
    let a = try Interpreter(plain.graph).run(feeds: feeds), b = try Interpreter(marked.graph).run(feeds: feeds)
    for name in a.outputNames { #expect(a[name]?.floats == b[name]?.floats, "\(name)") }
}

@Test func withoutPassesTheGraphIsAsTraced() throws {
    let traced = try loadModel(ModelRequest(model: "tiny-convattn"), settings: TraceSettings(stages: .none, passes: nil))
    let folded = try loadModel(ModelRequest(model: "tiny-convattn"), settings: TraceSettings(stages: .none))
    #expect(traced.graph.nodes.count == traced.tracedNodeCount)
    #expect(folded.graph.nodes.count < traced.graph.nodes.count)
    #expect(recordedStages(folded.graph) == nil)  // not a detector: no stages under any policy
}

@Test func detectorCheckpointsBindDetrexKeysAndOthersTakeAPrefix() throws {
    let weights = detectorFixtures.appendingPathComponent("dino-tiny.weights.safetensors").path
    let config = try loadConfig("dino-tiny")
    _ = try checkpointParameters(for: config, path: weights)
    _ = try loadModel(ModelRequest(model: "dino-tiny", weights: weights))
    // With a prefix the file is read as plain keys under it: the detector's keys are not there.
    #expect {
        _ = try loadModel(ModelRequest(model: "dino-tiny", weights: weights, weightsPrefix: "model."))
    } throws: { error in
        "\(error)".contains("missing") && !"\(error)".contains("\n\n")
    }
}

@Test func loadErrorsAreOneMessage() throws {
    #expect { _ = try loadModel(ModelRequest(model: "no-such-model")) } throws: { error in
        (error as? ModelLoadError)?.description.contains("no embedded model by that name") == true
    }
    #expect { _ = try loadModel(ModelRequest(model: "dino-tiny", weights: "/nonexistent.safetensors")) } throws: { error in
        (error as? ModelLoadError)?.description.contains("/nonexistent.safetensors") == true
    }
    #expect { _ = try GraphInputs(specifications: ["image"], seed: 0) } throws: { error in
        "\(error)" == "--input image: expected name=file.npy"
    }
}

@Test func emptyBoxesAreDroppedWithTheirScoresAndLabels() throws {
    let boxes = Tensor([0, 0, 4, 4, 2, 2, 2, 9, 1, 1, 3, 1, 5, 5, 6, 7] as [Float], shape: [1, 4, 4])
    let outputs = ["boxes": boxes, "scores": Tensor([0.9, 0.8, 0.7, 0.6] as [Float], shape: [1, 4]),
                   "labels": Tensor([3, 1, 4, 1] as [Int64], shape: [1, 4]), "other": Tensor([1] as [Float], shape: [1])]
    let (kept, dropped) = try postProcess(outputs, PostProcessing(dropEmptyBoxes: true))
    #expect(dropped == 2)
    #expect(kept["boxes"]?.floats == [0, 0, 4, 4, 5, 5, 6, 7])
    #expect(kept["boxes"]?.shape == [1, 2, 4])
    #expect(kept["scores"]?.floats == [0.9, 0.6])
    #expect(kept["labels"]?.int64s == [3, 1])
    #expect(kept["other"]?.floats == [1])
    #expect(try postProcess(outputs, PostProcessing()).dropped == 0)
    #expect(throws: ModelLoadError.self) { try postProcess(["scores": outputs["scores"]!], PostProcessing(dropEmptyBoxes: true)) }
}
