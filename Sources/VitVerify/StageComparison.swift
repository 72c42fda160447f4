import Foundation
import VitIR
import VitInterp
import VitModels

/// A detector's stage-by-stage comparison (see `verifyExport`): both graphs run with their
/// stage values observed through interpreter hooks; stages are compared in the reference's
/// order, the proposal indices and detections by identity.
///
/// A stage is judged end to end first (the candidate's own run). When that exceeds the
/// tolerance, it is judged locally: the candidate is run once more with every stage value
/// replaced by the reference's, so each stage computes from the reference's inputs to it and
/// its error is its own, not rounding accumulated through the stages before it (deep seeded
/// transformers amplify 1e-6 differences of reordered arithmetic past 1e-5). A stage passes
/// when either error is within the tolerance; a real bug shows in both at its stage.
struct StageComparison {
    let reference: Graph
    let candidate: Graph
    let referenceStages: [StageValue]
    let candidateStages: [StageValue]
    let feeds: [String: Tensor]
    let tolerances: VerifyTolerances
    let numClasses: Int
    let boxTolerance: Float

    mutating func run(mode: VerifyMode) throws(VerifyError) -> VerifyReport {
        let candidateValue = Dictionary(candidateStages.map { ($0.stage, $0.value) }, uniquingKeysWith: { a, _ in a })
        let (ref, firstCandidate) = try runBoth(reference, candidate, feeds: feeds,
                                                referenceHooks: Interpreter.Hooks(observe: Set(referenceStages.map(\.value))),
                                                candidateHooks: Interpreter.Hooks(observe: Set(candidateStages.map(\.value))))
        var cand = firstCandidate
        var rows: [StageRow] = []
        var forced = false
        var local: Interpreter.Result?
        func referenceValue(_ stage: String) -> Tensor? {
            referenceStages.first { $0.stage == stage }.flatMap { ref.observed[$0.value] }
        }
        for stage in referenceStages {
            guard let a = ref.observed[stage.value] else { continue }
            guard let name = candidateValue[stage.stage], let b = cand.observed[name] else {
                rows.append(StageRow(stage: stage.stage, relativeError: nil, tolerance: nil, passed: false, verdict: "MISSING from the export"))
                continue
            }
            switch stage.stage {
            case StageLabel.proposalIndices:
                let (row, differs) = compareProposals(a, b, scores: referenceValue(StageLabel.proposalScores))
                rows.append(row)
                guard differs else { continue }
                // Judge the decoder on the reference's queries: substitute its indices.
                cand = try runCandidate(candidate, feeds: feeds,
                                        hooks: Interpreter.Hooks(observe: Set(candidateStages.map(\.value)), overrides: [name: a]))
                forced = true
            case StageLabel.detectionIndex:
                continue  // judged with the detections below
            default:
                var row = compareValues(stage.stage, a, b, tolerances)
                if !row.passed, let endToEnd = row.relativeError {
                    if local == nil { local = try runLocally(ref, candidateValue) }
                    if let own = local?.observed[name] {
                        row = compareValues(stage.stage, a, own, tolerances)
                        row.verdict = row.passed
                            ? String(format: "ok locally; end to end %.2e (inherited from earlier stages)", endToEnd)
                            : String(format: "MISMATCH (end to end %.2e)", endToEnd)
                    }
                }
                if forced && row.passed && row.verdict == "ok" { row.verdict = "ok (teacher-forced)" }
                rows.append(row)
            }
        }
        let summary = try compareDetectionsByIdentity(ref, cand, referenceLogits: referenceValue(StageLabel.logits),
                                                      referenceIndex: referenceValue(StageLabel.detectionIndex),
                                                      candidateIndex: candidateValue[StageLabel.detectionIndex].flatMap { cand.observed[$0] })
        let others = ref.outputNames.filter { !detectionOutputs.contains($0) && !$0.hasPrefix("debug.") }
        rows += compareOutputs(ref, cand, names: others, tolerances)
        return VerifyReport(mode: mode, rows: rows, detections: summary, teacherForced: forced)
    }

    /// The candidate run with every stage value replaced by the reference's (`ref.observed`),
    /// observing what each stage computes from the reference's inputs.
    func runLocally(_ ref: Interpreter.Result, _ candidateValue: [String: String]) throws(VerifyError) -> Interpreter.Result {
        var overrides: [String: Tensor] = [:]
        for stage in referenceStages {
            if let name = candidateValue[stage.stage], let value = ref.observed[stage.value] { overrides[name] = value }
        }
        return try runCandidate(candidate, feeds: feeds, hooks: Interpreter.Hooks(observe: Set(overrides.keys), overrides: overrides))
    }

    /// The proposal indices by identity, image by image; `differs` when they are not identical
    /// (the candidate is then teacher-forced). Passes only when near-ties explain every
    /// difference. The row shown is the first failing image's, else the first differing one's.
    func compareProposals(_ a: Tensor, _ b: Tensor, scores: Tensor?) -> (StageRow, differs: Bool) {
        let stage = StageLabel.proposalIndices
        guard let scores, a.shape == b.shape, a.shape.count == 2, scores.shape.count == 2, scores.shape[0] == a.shape[0] else {
            let row = compareValues(stage, a, b, tolerances)
            return (row, !row.passed)
        }
        let images = a.shape[0]
        let results = zip(zip(imageRows(a.int64s, images: images), imageRows(b.int64s, images: images)),
                          imageRows(scores.floats, images: images)).map { pair, s in compareProposalRow(pair.0, pair.1, s) }
        let shown = results.firstIndex { !$0.0.passed } ?? results.firstIndex { $0.1 } ?? 0
        var row = results[shown].0
        if images > 1 { row.verdict = "image \(shown) of \(images): " + row.verdict }
        return (row, results.contains { $0.1 })
    }

    /// One image's proposal indices `a` (reference) and `b` against the reference's scores `s`.
    private func compareProposalRow(_ a: [Int64], _ b: [Int64], _ s: [Float]) -> (StageRow, Bool) {
        let stage = StageLabel.proposalIndices
        let selection = compareTopK(candidate: b.map { Int($0) }, reference: a.map { Int($0) },
                                    referenceScores: s, tolerance: tolerances.score)
        if selection.identical {
            return (StageRow(stage: stage, relativeError: 0, tolerance: 0, passed: true,
                             verdict: String(format: "ok, identical (top-%d boundary margin %.3g)", selection.k, selection.boundaryMargin)), false)
        }
        let moved = zip(a, b).filter { $0 != $1 }.count
        // Items that only changed place must be near-tied in the reference's scores too.
        let unexplainedOrder = zip(b, a).filter { c, r in
            guard c != r else { return false }
            guard c >= 0, c < s.count, r >= 0, r < s.count else { return true }
            return !(abs(s[Int(c)] - s[Int(r)]) <= tolerances.score)
        }
        let passed = selection.passed && unexplainedOrder.isEmpty
        let verdict = passed
            ? "near-tie: \(moved) position(s) differ, all within \(tolerances.score); teacher-forced"
            : "MISMATCH: \(moved) position(s) differ, \(unexplainedOrder.count + selection.unexplained.count) not explained by a near-tie; teacher-forced"
        return (StageRow(stage: stage, relativeError: nil, tolerance: tolerances.score, passed: passed, verdict: verdict), true)
    }

    /// The detections matched by (query, class) (`compareDetections`), the reference's sigmoid
    /// logits giving the selection's margins. Falls back to sets when the indices are missing.
    func compareDetectionsByIdentity(_ ref: Interpreter.Result, _ cand: Interpreter.Result, referenceLogits: Tensor?,
                                     referenceIndex: Tensor?, candidateIndex: Tensor?) throws(VerifyError) -> DetectionSummary {
        guard let referenceLogits, let referenceIndex, let candidateIndex else {
            return try compareAsSets(ref, cand, tolerances, boxTolerance: boxTolerance)
        }
        let r = try detectionSets(ref, indices: referenceIndex, side: "traced model")
        let c = try detectionSets(cand, indices: candidateIndex, side: "export")
        let logits = imageRows(referenceLogits.floats, images: r.count)
        guard c.count == r.count, logits.count == r.count else {
            throw VerifyError("the export has \(c.count) images' detections, the traced model \(r.count)")
        }
        return mergedSummary((0..<r.count).map { image in
            let allScores = logits[image].map { 1 / (1 + expf(-$0)) }
            let d = compareDetections(candidate: c[image], reference: r[image], referenceScores: allScores, numClasses: numClasses,
                                      scoreTolerance: tolerances.score, boxTolerance: boxTolerance)
            return DetectionSummary(matched: d.matched, total: r[image].scores.count, worstBoxError: d.worstBoxError,
                                    worstScoreError: d.worstScoreError,
                                    smallestMargin: min(d.selection.boundaryMargin, d.selection.smallestGap),
                                    passed: d.passed, failures: d.failures)
        })
    }
}
