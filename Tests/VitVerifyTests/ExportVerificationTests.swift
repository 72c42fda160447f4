import ONNXProto
import Testing
import VitIR
import VitInterp
import VitONNX
import VitVerify

// verifyExport on unmodified exports, in both modes: stage by stage (metadata or names) and
// detections as sets (stripped and renamed files).

@Test(arguments: 16...21)
func unmodifiedExportPassesStageByStage(opset: Int) throws {
    let tiny = try TinyDetector.shared.get()
    let model = opset == 17 ? tiny.export17 : try export(tiny.reference.graph, opset: opset)
    let report = try tiny.verify(model)
    print("opset \(opset):\n\(report.table)")
    #expect(report.passed, "\(report.table)")
    #expect(report.mode == .stages)
    let stages = report.rows.map(\.stage)
    for stage in ["backbone", "pyramid.p3", "neck.0", "memory", "proposal_scores", "topk_indices", "reference.init",
                  "decoder.0.reference", "decoder.1.state", "pred_logits", "pred_boxes"] {
        #expect(stages.contains(stage), "stage \(stage) not compared")
    }
    let detections = try #require(report.detections)
    #expect(detections.matched == detections.total && detections.total == 100)
}

@Test func exportRecordsStagesAsInternalValuesNotOutputs() throws {
    let tiny = try TinyDetector.shared.get()
    #expect(tiny.export17.graph.output.map(\.name) == ["boxes", "scores", "labels"])
    let recorded = try #require(recordedStages(try importModel(tiny.export17, baseDirectory: nil)))
    let produced = Set(tiny.export17.graph.node.flatMap(\.output))
    #expect(recorded.count >= 15)
    for stage in recorded { #expect(produced.contains(stage.value), "\(stage.stage) names \(stage.value), which no node produces") }
}

@Test func strippedMetadataFindsStagesByName() throws {
    let tiny = try TinyDetector.shared.get()
    let report = try tiny.verify(strippingStages(tiny.export17))
    #expect(report.passed, "\(report.table)")
    #expect(report.mode == .stagesByName)
    #expect(report.rows.contains { $0.stage == "backbone" })
}

@Test func strippedAndRenamedExportIsComparedAsDetectionSets() throws {
    let tiny = try TinyDetector.shared.get()
    let foreign = renamingInternalValues(strippingStages(tiny.export17))
    #expect(!foreign.graph.node.flatMap(\.output).contains("debug.backbone"))
    let report = try tiny.verify(foreign)
    print(report.table)
    #expect(report.passed, "\(report.table)")
    guard case .detectionSets = report.mode else { Issue.record("mode \(report.mode)"); return }
    #expect(report.table.contains("mode: detections as sets"))
    let detections = try #require(report.detections)
    #expect(detections.total == 100)
    #expect(detections.matched >= 95)
}

@Test func detectionSetModeFailsOnAWrongHead() throws {
    let tiny = try TinyDetector.shared.get()
    let head = try #require(weightNames(tiny.export17, prefix: "bbox_embed.1.").first)
    let foreign = renamingInternalValues(strippingStages(try mutated(tiny.export17, .scaleWeight(initializer: head, factor: 1.05))))
    let report = try tiny.verify(foreign)
    #expect(!report.passed, "\(report.table)")
    #expect(report.firstFailure == "detections")
}

@Test func aFileWhoseStageMetadataNamesMissingValuesFallsBackToSets() throws {
    let tiny = try TinyDetector.shared.get()
    let renamed = renamingInternalValues(tiny.export17)
    let report = try tiny.verify(renamed)
    #expect(report.passed, "\(report.table)")
    guard case .detectionSets(let reason) = report.mode else { Issue.record("mode \(report.mode)"); return }
    #expect(reason.contains("names"))
}

@Test func batchIsVerifiedImageByImage() throws {
    // Two images in one batch: proposals and detections are judged per image (each image has
    // its own top-k); judged as one list, image 1's scores restart below image 0's and fail.
    let report = try verifyModel(VerifyRequest(model: ModelRequest(model: "dino-tiny"), inputs: GraphInputs(seed: 3), batch: 2))
    #expect(report.passed, "\(report.table)")
    #expect(report.mode == .stages)
    let detections = try #require(report.detections)
    #expect(detections.matched == 200 && detections.total == 200, "\(report.table)")
    let proposals = try #require(report.rows.first { $0.stage == "topk_indices" })
    #expect(proposals.passed && proposals.verdict.hasPrefix("image "), "\(proposals.verdict)")
}
