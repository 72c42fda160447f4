import ONNXProto
import Testing
import VitIR
import VitInterp
import VitModels
import VitONNX
import VitVerify

// Near-ties forced, not left to luck: the export's proposal top-k is permuted on purpose
// (`ExportMutation.permute`), between a near-tied pair (must pass, teacher-forced) and a
// pair far apart (must fail at the proposal indices).

/// The reference's proposal indices and the proposal scores of the tiny detector.
private func referenceProposals(_ tiny: TinyDetector) throws -> (indices: [Int], scores: [Float]) {
    let stages = try #require(recordedStages(tiny.reference.graph))
    let indices = try #require(stages.first { $0.stage == "topk_indices" }).value
    let scores = try #require(stages.first { $0.stage == "proposal_scores" }).value
    let run = try Interpreter(tiny.reference.graph).run(feeds: tiny.feeds, hooks: Interpreter.Hooks(observe: [indices, scores]))
    return (try #require(run.observed[indices]).int64s.map { Int($0) }, try #require(run.observed[scores]).floats)
}

/// The export's node output holding the proposal indices (the TopK's second output).
private func proposalIndicesValue(_ tiny: TinyDetector) throws -> String {
    let stages = try #require(recordedStages(try importModel(tiny.export17, baseDirectory: nil)))
    return try #require(stages.first { $0.stage == "topk_indices" }).value
}

@Test func aNearTiedProposalSwapIsTeacherForcedAndPasses() throws {
    let tiny = try TinyDetector.shared.get()
    let (indices, scores) = try referenceProposals(tiny)
    // The adjacent pair of selected proposals whose scores are closest.
    let gaps = (1..<indices.count).map { (position: $0, gap: abs(scores[indices[$0 - 1]] - scores[indices[$0]])) }
    let closest = try #require(gaps.min { $0.gap < $1.gap })
    let tolerance = VerifyTolerances()
    try #require(closest.gap <= tolerance.score, "no near-tied pair among the proposals (smallest gap \(closest.gap))")
    // Without the permutation this opset-17 export may or may not swap proposals itself; with
    // it, positions p − 1 and p are swapped relative to whatever the export computes.
    let permuted = try mutated(tiny.export17, .permute(value: try proposalIndicesValue(tiny),
                                                       first: closest.position - 1, second: closest.position))
    let report = try tiny.verify(permuted)
    print(report.table)
    #expect(report.passed, "\(report.table)")
    #expect(report.teacherForced)
    let row = try #require(report.rows.first { $0.stage == "topk_indices" })
    #expect(row.verdict.hasPrefix("near-tie"))
    #expect(report.rows.first { $0.stage == "decoder.1.state" }?.verdict == "ok (teacher-forced)")
}

@Test func aProposalSwapNoNearTieExplainsFails() throws {
    let tiny = try TinyDetector.shared.get()
    let (indices, scores) = try referenceProposals(tiny)
    let last = indices.count - 1
    try #require(scores[indices[0]] - scores[indices[last]] > 1e-2)
    let permuted = try mutated(tiny.export17, .permute(value: try proposalIndicesValue(tiny), first: 0, second: last))
    let report = try tiny.verify(permuted)
    #expect(!report.passed)
    #expect(report.firstFailure == "topk_indices")
    // The decoder is still judged, on the reference's proposals.
    #expect(report.teacherForced)
    #expect(report.rows.first { $0.stage == "pred_logits" }?.passed == true)
}

// Detection sets: only a detection at the K-th boundary may lack a partner.

private func detections(_ scores: [Float], labels: [Int]? = nil, shift: Float = 0) -> DetectionSet {
    DetectionSet(indices: [], scores: scores, labels: labels ?? scores.map { _ in 1 },
                 boxes: scores.indices.map { i in [Float(10 * i) + shift, 0, Float(10 * i + 8) + shift, 8] })
}

@Test func detectionSetsExplainOnlyBoundaryNearTies() {
    let reference = detections([0.9, 0.8, 0.5, 0.40003])
    // The last detection replaced by another just as close to the K-th score: a near-tie.
    var boundary = reference
    boundary.boxes[3] = [100, 100, 110, 110]
    boundary.scores[3] = 0.40001
    let near = compareDetectionSets(candidate: boundary, reference: reference, scoreTolerance: 1e-4, boxTolerance: 0.5)
    #expect(near.passed, "\(near)")
    #expect(near.matched == 3 && near.nearTieUnmatched == 2)
    // A top detection replaced: no near-tie explains it.
    var top = reference
    top.boxes[0] = [100, 100, 110, 110]
    let far = compareDetectionSets(candidate: top, reference: reference, scoreTolerance: 1e-4, boxTolerance: 0.5)
    #expect(!far.passed)
    #expect(far.failures.count == 2)
    // Order does not matter; label, IoU and score do.
    let reversed = DetectionSet(indices: [], scores: reference.scores.reversed(), labels: reference.labels.reversed(),
                                boxes: reference.boxes.reversed())
    #expect(compareDetectionSets(candidate: reversed, reference: reference, scoreTolerance: 1e-4, boxTolerance: 0.5).matched == 4)
    let relabelled = detections([0.9, 0.8, 0.5, 0.40003], labels: [2, 1, 1, 1])
    #expect(!compareDetectionSets(candidate: relabelled, reference: reference, scoreTolerance: 1e-4, boxTolerance: 0.5).passed)
    let shifted = detections([0.9, 0.8, 0.5, 0.40003], shift: 0.1)
    #expect(!compareDetectionSets(candidate: shifted, reference: reference, scoreTolerance: 1e-4, boxTolerance: 0.5).passed)
}

@Test func intersectionOverUnionHandlesEmptyBoxes() {
    #expect(intersectionOverUnion([0, 0, 2, 2], [1, 0, 3, 2], tolerance: 0) == Float(2) / 6)
    #expect(intersectionOverUnion([5, 5, 5, 9], [5, 5, 5, 9.0001], tolerance: 1e-3) == 1)
    #expect(intersectionOverUnion([5, 5, 5, 9], [6, 5, 6, 9], tolerance: 1e-3) == 0)
}
