import Foundation
import Testing
import VitIR
import VitInterp
import VitModels
import VitPasses

// Stage-by-stage parity of the tiny detector with the PyTorch reference
// (`Tools/dino_reference.py`, detrex semantics with timm's ViT), whose weights and values are
// committed under Tests/Fixtures/detector.

let detectorFixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("Fixtures/detector")

/// The tiny detector traced with the fixture's detrex checkpoint and debug outputs, folded,
/// and run on the fixture's image; plus the reference values. Computed once.
struct DetectorParityRun: Sendable {
    var outputs: [String: Tensor]
    var reference: [String: Tensor]
    var config: ModelConfig

    static let shared: Result<DetectorParityRun, any Error> = Result {
        let config = try ModelConfig.load("dino-tiny")
        let weights = try SafetensorsFile(path: detectorFixtures.appendingPathComponent("dino-tiny.weights.safetensors").path)
        let parameters = try detectorCheckpointParameters(file: weights)
        var graph = try traceDetectorModel(config, parameters: parameters, options: DetectorTraceOptions(debugOutputs: true))
        _ = try optimize(&graph)
        let file = try SafetensorsFile(path: detectorFixtures.appendingPathComponent("dino-tiny.reference.safetensors").path)
        var reference: [String: Tensor] = [:]
        for name in file.names { reference[name] = try file.tensor(named: name) }
        let result = try Interpreter(graph).run(feeds: ["image": reference["image"]!])
        return DetectorParityRun(outputs: result.outputs, reference: reference, config: config)
    }

    func output(_ name: String) throws -> Tensor { try #require(outputs[name], "no output \(name)") }
    func expected(_ name: String) throws -> Tensor { try #require(reference[name], "no reference value \(name)") }
}

/// Features must agree to 1e-4 of the reference's largest magnitude: float32 kernels that
/// sum in a different order than torch's differ by ~1e-6 relative per op; the stages chain
/// a few dozen of them.
private let featureTolerance: Float = 1e-4

/// Near-tie tolerance of the top-k selections, in score units: ten times the worst feature
/// error the stages above allow for scores of magnitude ≲ 10.
private let tieTolerance: Float = 1e-3

@Test func detectorFixtureRecordsItsGenerator() throws {
    let file = try SafetensorsFile(path: detectorFixtures.appendingPathComponent("dino-tiny.reference.safetensors").path)
    #expect(file.metadata["torch"]?.isEmpty == false)
    #expect(file.metadata["generator"] == "Tools/dino_reference.py")
    #expect(file.metadata["config"] == "dino-tiny")
}

@Test func detectorFeatureStagesMatchReference() throws {
    let run = try DetectorParityRun.shared.get()
    var stages: [(String, String)] = [(DetectorDebugOutput.backbone, "backbone")]
    for name in ["p3", "p4", "p5", "p6"] { stages.append((DetectorDebugOutput.pyramid(name), "pyramid.\(name)")) }
    for i in 0..<4 { stages.append((DetectorDebugOutput.neck(i), "neck.\(i)")) }
    stages.append((DetectorDebugOutput.memory, "memory"))
    for (ours, theirs) in stages {
        let error = relativeMaxError(try run.output(ours), try run.expected(theirs))
        #expect(error <= featureTolerance, "\(theirs): relative error \(error)")
    }
}

@Test func detectorProposalSelectionMatchesReference() throws {
    let run = try DetectorParityRun.shared.get()
    let comparison = compareTopK(candidate: try run.output(DetectorDebugOutput.topkIndices).int64s.map { Int($0) },
                                 reference: try run.expected("topk_indices").int64s.map { Int($0) },
                                 referenceScores: try run.expected("topk_scores").floats, tolerance: tieTolerance)
    #expect(comparison.passed, "\(comparison)")
    // The fixture's boundary is far from a tie, so the selection must be exactly torch's.
    #expect(comparison.boundaryMargin > tieTolerance)
    #expect(comparison.onlyInCandidate.isEmpty && comparison.onlyInReference.isEmpty, "\(comparison)")
    let scores = relativeMaxError(try run.output(DetectorDebugOutput.proposalScores), try run.expected("topk_scores"))
    #expect(scores <= featureTolerance, "proposal scores: relative error \(scores)")
}

@Test func detectorDecoderStagesMatchReference() throws {
    let run = try DetectorParityRun.shared.get()
    let ours = try run.output(DetectorDebugOutput.topkIndices).int64s, theirs = try run.expected("topk_indices").int64s
    // Queries are compared position by position, which needs the same proposals in the same order.
    try #require(ours == theirs, "proposal order differs; see detectorProposalSelectionMatchesReference")
    var stages = [(DetectorDebugOutput.initialReference, "reference.init")]
    for i in 0..<2 {
        stages.append((DetectorDebugOutput.state(i), "decoder.\(i).state"))
        stages.append((DetectorDebugOutput.reference(i), "decoder.\(i).reference"))
    }
    stages += [(DetectorDebugOutput.logits, "pred_logits"), (DetectorDebugOutput.boxes, "pred_boxes")]
    for (ours, theirs) in stages {
        let error = relativeMaxError(try run.output(ours), try run.expected(theirs))
        #expect(error <= featureTolerance, "\(theirs): relative error \(error)")
    }
}

@Test func detectorDetectionsMatchReference() throws {
    let run = try DetectorParityRun.shared.get()
    let candidate = DetectionSet(boxes: try run.output("boxes"), scores: try run.output("scores"),
                                 labels: try run.output("labels"), indices: try run.output(DetectorDebugOutput.detectionIndex))
    let reference = DetectionSet(boxes: try run.expected("boxes"), scores: try run.expected("scores"),
                                 labels: try run.expected("labels"), indices: try run.expected("detection_index"))
    // Boxes within 1e-3 of the image size; scores (probabilities) within the feature tolerance.
    let comparison = compareDetections(candidate: candidate, reference: reference,
                                       referenceScores: try run.expected("detection_scores").floats,
                                       numClasses: 80, scoreTolerance: featureTolerance, boxTolerance: 1e-3 * 224)
    #expect(comparison.passed, "\(comparison)")
    #expect(comparison.matched >= 95, "\(comparison)")
    #expect(try run.output("labels").int64s.count == 100)
}

/// timm's dynamic padding: a 232×200 image is zero-padded (after normalization) to 240×208,
/// the position table resampled from 14×14 to the 15×13 grid, and boxes scaled by the
/// unpadded size as detrex does. Same weights as the 224² fixture.
@Test func detectorDynamicPaddingMatchesReference() throws {
    var config = try ModelConfig.load("dino-tiny")
    config.imageSize = [232, 200]
    config.detector?.dynamicPad = true
    let weights = try SafetensorsFile(path: detectorFixtures.appendingPathComponent("dino-tiny.weights.safetensors").path)
    var graph = try traceDetectorModel(config, parameters: try detectorCheckpointParameters(file: weights),
                                       options: DetectorTraceOptions(debugOutputs: true))
    _ = try optimize(&graph)
    let file = try SafetensorsFile(path: detectorFixtures.appendingPathComponent("dino-tiny-pad.reference.safetensors").path)
    func expected(_ name: String) throws -> Tensor { try file.tensor(named: name) }
    let outputs = try Interpreter(graph).run(feeds: ["image": try expected("image")]).outputs
    func output(_ name: String) throws -> Tensor { try #require(outputs[name], "no output \(name)") }

    for (ours, theirs) in [(DetectorDebugOutput.backbone, "backbone"), (DetectorDebugOutput.memory, "memory")] {
        let error = relativeMaxError(try output(ours), try expected(theirs))
        #expect(error <= featureTolerance, "\(theirs): relative error \(error)")
    }
    let selection = compareTopK(candidate: try output(DetectorDebugOutput.topkIndices).int64s.map { Int($0) },
                                reference: try expected("topk_indices").int64s.map { Int($0) },
                                referenceScores: try expected("topk_scores").floats, tolerance: tieTolerance)
    #expect(selection.passed, "\(selection)")
    if selection.identical {
        for (ours, theirs) in [(DetectorDebugOutput.logits, "pred_logits"), (DetectorDebugOutput.boxes, "pred_boxes")] {
            let error = relativeMaxError(try output(ours), try expected(theirs))
            #expect(error <= featureTolerance, "\(theirs): relative error \(error)")
        }
    }
    let comparison = compareDetections(
        candidate: DetectionSet(boxes: try output("boxes"), scores: try output("scores"), labels: try output("labels"),
                                indices: try output(DetectorDebugOutput.detectionIndex)),
        reference: DetectionSet(boxes: try expected("boxes"), scores: try expected("scores"), labels: try expected("labels"),
                                indices: try expected("detection_index")),
        referenceScores: try expected("detection_scores").floats, numClasses: 80,
        scoreTolerance: featureTolerance, boxTolerance: 1e-3 * 232)
    #expect(comparison.passed, "\(comparison)")
    // Clipped to the unpadded image: x ≤ 200, y ≤ 232.
    let boxes = try output("boxes").floats
    #expect(stride(from: 0, to: boxes.count, by: 4).allSatisfy { boxes[$0 + 2] <= 200 && boxes[$0 + 3] <= 232 })
}

/// The head alone (pyramid onward), fed the reference's backbone features: isolates the
/// detector's own stages from the backbone.
@Test func detectorHeadOnReferenceFeaturesMatchesReference() throws {
    let run = try DetectorParityRun.shared.get()
    let weights = try SafetensorsFile(path: detectorFixtures.appendingPathComponent("dino-tiny.weights.safetensors").path)
    let parameters = try detectorCheckpointParameters(file: weights)
    // The ViT's keys stay in the checkpoint but are not traced.
    parameters.permitUnused(keys: [], prefixes: [detectorBackbonePrefix + "."])
    var graph = try traceDetectorModel(run.config, parameters: parameters,
                                       options: DetectorTraceOptions(debugOutputs: true, featuresInput: true))
    _ = try optimize(&graph)
    #expect(graph.inputs.map { graph.name(of: $0) } == ["features"])
    let outputs = try Interpreter(graph).run(feeds: ["features": try run.expected("backbone")]).outputs
    for (ours, theirs) in [(DetectorDebugOutput.pyramid("p3"), "pyramid.p3"), (DetectorDebugOutput.memory, "memory"),
                           (DetectorDebugOutput.logits, "pred_logits"), ("boxes", "boxes")] {
        let error = relativeMaxError(try #require(outputs[ours]), try run.expected(theirs))
        #expect(error <= featureTolerance, "\(theirs): relative error \(error)")
    }
}
