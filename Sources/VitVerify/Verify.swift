import Foundation
import VitIR
import VitInterp
import VitModels

/// Tolerances of `verifyExport`.
public struct VerifyTolerances: Sendable {
    /// Largest accepted max|a − b| / max|a| per floating stage or output (decompositions for
    /// low opsets reorder float arithmetic).
    public var relative: Float
    /// Score (logit and sigmoid) differences up to this are near-ties.
    public var score: Float

    public init(relative: Float = 1e-5, score: Float = 1e-4) {
        self.relative = relative; self.score = score
    }
}

/// How `verifyExport` compared.
public enum VerifyMode: Sendable, Equatable, CustomStringConvertible {
    /// Detector stages read through interpreter hooks, from the file's stage metadata.
    case stages
    /// Detector stages found by the traced model's value names (the file has no metadata).
    case stagesByName
    /// Detections compared as sets (the file's stages cannot be found).
    case detectionSets(reason: String)
    /// Every output compared by name (not a detector).
    case outputs

    public var description: String {
        switch self {
        case .stages: "stage by stage (stages from the file's \(stageMetadataKey) metadata)"
        case .stagesByName: "stage by stage (stages found by value name; the file has no \(stageMetadataKey) metadata)"
        case .detectionSets(let reason): "detections as sets (\(reason))"
        case .outputs: "outputs by name"
        }
    }
}

/// One line of the comparison table.
public struct StageRow: Sendable {
    public var stage: String
    /// max|a − b| / max|a| (floating) or max|a − b| (integer); nil when not a plain comparison.
    public var relativeError: Float?
    public var tolerance: Float?
    public var passed: Bool
    /// Verdict detail: `ok`, `MISMATCH`, `near-tie, teacher-forced`, …
    public var verdict: String
}

/// The detection summary of a detector comparison.
public struct DetectionSummary: Sendable {
    public var matched: Int
    public var total: Int
    public var worstBoxError: Float
    public var worstScoreError: Float
    /// Smallest top-K margin of the reference's detections: the boundary margin at K and the
    /// smallest gap between adjacent selected scores, whichever is smaller.
    public var smallestMargin: Float
    public var passed: Bool
    public var failures: [String]
}

/// What `verifyExport` found.
public struct VerifyReport: Sendable {
    public var mode: VerifyMode
    public var rows: [StageRow]
    public var detections: DetectionSummary?
    /// Whether the candidate's decoder was teacher-forced with the reference's proposals.
    public var teacherForced: Bool

    public var passed: Bool { rows.allSatisfy(\.passed) && (detections?.passed ?? true) }

    /// The first stage (or `detections`) that differs, in graph order.
    public var firstFailure: String? {
        rows.first { !$0.passed }?.stage ?? ((detections?.passed ?? true) ? nil : "detections")
    }

    /// The comparison as a compact table: mode, one row per stage, the detection summary.
    public var table: String {
        let width = max(rows.map(\.stage.count).max() ?? 0, 5) + 2
        func pad(_ s: String, _ n: Int) -> String { s.padding(toLength: max(n, s.count), withPad: " ", startingAt: 0) }
        func number(_ x: Float?) -> String { x.map { String(format: "%.2e", $0) } ?? "-" }
        var lines = ["mode: \(mode)", pad("stage", width) + pad("max rel. error", 16) + pad("tolerance", 11) + "verdict"]
        for row in rows {
            lines.append(pad(row.stage, width) + pad(number(row.relativeError), 16) + pad(number(row.tolerance), 11) + row.verdict)
        }
        if let d = detections {
            lines.append(String(format: "detections: matched %d/%d, worst box error %.3g px, worst score error %.3g, smallest top-k margin %.3g",
                                d.matched, d.total, d.worstBoxError, d.worstScoreError, d.smallestMargin)
                         + (d.passed ? "" : " — MISMATCH"))
            lines += d.failures.prefix(5).map { "  " + $0 }
            if d.failures.count > 5 { lines.append("  … \(d.failures.count - 5) more") }
        }
        return lines.joined(separator: "\n")
    }
}

/// A failure to run the comparison at all (not a mismatch).
public struct VerifyError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// Compares `candidate` (an export read back, from a file or in memory) with `reference`
/// (the traced, optimized model of `config`, for detectors with stages recorded: see
/// `StagePolicy.marked`), both run in the interpreter on `feeds`.
///
/// Detectors are compared stage by stage when the candidate's stages can be found (its
/// `stageMetadataKey` metadata, else the reference's value names): each floating stage within
/// `tolerances.relative` of the reference's largest magnitude, integer stages exactly. The
/// proposal indices are matched by identity (`compareTopK` on the reference's proposal scores);
/// when they differ the candidate is run again with the reference's indices substituted
/// (teacher forcing), so every later stage is judged on the same queries — it passes only when
/// near-ties explain the difference. Detections are matched by (query, class)
/// (`compareDetections`). When the stages cannot be found, detections are compared as sets
/// (`compareDetectionSets`). Other models compare every output by name.
public func verifyExport(reference: Graph, candidate: Graph, config: ModelConfig, feeds: [String: Tensor],
                         tolerances: VerifyTolerances = VerifyTolerances()) throws(VerifyError) -> VerifyReport {
    guard config.architecture == .detector, let detector = config.detector else {
        let (ref, cand) = try runBoth(reference, candidate, feeds: feeds)
        return VerifyReport(mode: .outputs, rows: compareOutputs(ref, cand, names: ref.outputNames, tolerances),
                            detections: nil, teacherForced: false)
    }
    let boxTolerance = 1e-3 * Float(config.imageSize.max() ?? 1)
    let referenceStages = recordedStages(reference) ?? []
    let candidateValues = Set(candidate.values.map(\.name))
    let (candidateStages, mode): ([StageValue]?, VerifyMode) = {
        if let recorded = recordedStages(candidate) {
            let missing = recorded.filter { !candidateValues.contains($0.value) }
            if missing.isEmpty { return (recorded, .stages) }
            return (nil, .detectionSets(reason: "the file's stage metadata names \(missing.count) value(s) it lacks, e.g. \(missing[0].value)"))
        }
        if !referenceStages.isEmpty && referenceStages.allSatisfy({ candidateValues.contains($0.value) }) {
            return (referenceStages, .stagesByName)
        }
        return (nil, .detectionSets(reason: "the file has no \(stageMetadataKey) metadata and the traced model's stage names are not in it"))
    }()
    guard let candidateStages, !referenceStages.isEmpty else {
        let (ref, cand) = try runBoth(reference, candidate, feeds: feeds)
        let setMode = candidateStages == nil ? mode : .detectionSets(reason: "the traced model records no stages")
        let summary = try compareAsSets(ref, cand, tolerances, boxTolerance: boxTolerance)
        let others = ref.outputNames.filter { !detectionOutputs.contains($0) }
        return VerifyReport(mode: setMode, rows: compareOutputs(ref, cand, names: others, tolerances),
                            detections: summary, teacherForced: false)
    }
    var comparison = StageComparison(reference: reference, candidate: candidate, referenceStages: referenceStages,
                                     candidateStages: candidateStages, feeds: feeds, tolerances: tolerances,
                                     numClasses: detector.numClasses, boxTolerance: boxTolerance)
    return try comparison.run(mode: mode)
}

/// Names of a detector's post-processed outputs.
let detectionOutputs: Set<String> = ["boxes", "scores", "labels"]

func runBoth(_ reference: Graph, _ candidate: Graph, feeds: [String: Tensor],
             referenceHooks: Interpreter.Hooks = Interpreter.Hooks(),
             candidateHooks: Interpreter.Hooks = Interpreter.Hooks()) throws(VerifyError) -> (Interpreter.Result, Interpreter.Result) {
    let ref: Interpreter.Result
    do { ref = try Interpreter(reference).run(feeds: feeds, hooks: referenceHooks) } catch {
        throw VerifyError("the traced model failed to run: \(error)")
    }
    return (ref, try runCandidate(candidate, feeds: feeds, hooks: candidateHooks))
}

func runCandidate(_ candidate: Graph, feeds: [String: Tensor], hooks: Interpreter.Hooks) throws(VerifyError) -> Interpreter.Result {
    let candidateFeeds = feeds.filter { name, _ in candidate.inputs.contains { candidate.name(of: $0) == name } }
    do { return try Interpreter(candidate).run(feeds: candidateFeeds, hooks: hooks) } catch {
        throw VerifyError("the exported model failed to run: \(error)")
    }
}

/// One row per name: the candidate's output within tolerance of the reference's.
func compareOutputs(_ ref: Interpreter.Result, _ cand: Interpreter.Result, names: [String],
                    _ tolerances: VerifyTolerances) -> [StageRow] {
    names.map { name in
        guard let b = cand.outputs[name] else {
            return StageRow(stage: name, relativeError: nil, tolerance: nil, passed: false, verdict: "MISSING from the export")
        }
        return compareValues(name, ref.outputs[name]!, b, tolerances)
    }
}

/// A row comparing tensors `a` (reference) and `b`: floating within `tolerances.relative` of
/// max|a|, others exactly; shapes must agree.
func compareValues(_ stage: String, _ a: Tensor, _ b: Tensor, _ tolerances: VerifyTolerances) -> StageRow {
    guard a.shape == b.shape, a.dtype == b.dtype else {
        return StageRow(stage: stage, relativeError: nil, tolerance: nil, passed: false,
                        verdict: "MISMATCH: \(b.dtype.shortName)\(b.shape) vs \(a.dtype.shortName)\(a.shape)")
    }
    let diff = maxAbsDiff(a, b)
    if a.dtype.isFloatingPoint {
        let scale = max(a.floats.map(abs).max() ?? 0, 1e-30)
        let relative = diff / scale
        let ok = relative <= tolerances.relative
        return StageRow(stage: stage, relativeError: relative, tolerance: tolerances.relative, passed: ok, verdict: ok ? "ok" : "MISMATCH")
    }
    return StageRow(stage: stage, relativeError: diff, tolerance: 0, passed: diff == 0, verdict: diff == 0 ? "ok" : "MISMATCH")
}

/// Detections as sets (`compareDetectionSets`) from the `boxes`, `scores`, `labels` outputs,
/// image by image.
func compareAsSets(_ ref: Interpreter.Result, _ cand: Interpreter.Result, _ tolerances: VerifyTolerances,
                   boxTolerance: Float) throws(VerifyError) -> DetectionSummary {
    let r = try detectionSets(ref, indices: nil, side: "traced model")
    let c = try detectionSets(cand, indices: nil, side: "export")
    guard r.count == c.count else { throw VerifyError("the export has \(c.count) images' detections, the traced model \(r.count)") }
    return mergedSummary(zip(r, c).map { r, c in
        let sets = compareDetectionSets(candidate: c, reference: r, scoreTolerance: tolerances.score, boxTolerance: boxTolerance)
        return DetectionSummary(matched: sets.matched, total: sets.total, worstBoxError: sets.worstBoxError,
                                worstScoreError: sets.worstScoreError, smallestMargin: sets.smallestGap,
                                passed: sets.passed, failures: sets.failures)
    })
}

/// The detections of `result` (`boxes` [B, K, 4], `scores` [B, K], `labels` [B, K]), one set
/// per image; `indices` [B, K] are their identities (query · classes + label).
func detectionSets(_ result: Interpreter.Result, indices: Tensor?, side: String) throws(VerifyError) -> [DetectionSet] {
    guard let boxes = result["boxes"], let scores = result["scores"], let labels = result["labels"],
          boxes.shape.count == 3, boxes.shape[2] == 4, scores.count * 4 == boxes.count, labels.count == scores.count else {
        throw VerifyError("the \(side) lacks detector outputs boxes [B, K, 4], scores [B, K] and labels [B, K]")
    }
    let (images, k) = (boxes.shape[0], boxes.shape[1])
    let b = boxes.floats, s = scores.floats, l = labels.int64s.map { Int($0) }
    let index = indices.flatMap { $0.count == scores.count ? $0.int64s.map { Int($0) } : nil }
    return (0..<images).map { image in
        let rows = (image * k)..<(image * k + k)
        return DetectionSet(indices: index.map { Array($0[rows]) } ?? [], scores: Array(s[rows]), labels: Array(l[rows]),
                            boxes: rows.map { Array(b[(4 * $0)..<(4 * $0 + 4)]) })
    }
}

/// The detections of a result for one image (a precision report compares batch-1 runs).
func detectionSet(_ result: Interpreter.Result, indices: Tensor?, side: String) throws(VerifyError) -> DetectionSet {
    let sets = try detectionSets(result, indices: indices, side: side)
    guard sets.count == 1 else { throw VerifyError("the \(side) has a batch of \(sets.count) images; this comparison takes one") }
    return sets[0]
}

/// Rows of a [B, …] tensor's elements, one per image (a batch of images is judged image by
/// image: each has its own top-k).
func imageRows<T>(_ values: [T], images: Int) -> [[T]] {
    guard images > 0, values.count % images == 0 else { return [values] }
    let n = values.count / images
    return (0..<images).map { Array(values[($0 * n)..<($0 * n + n)]) }
}

/// Per-image detection summaries as one: counts summed, worst errors and smallest margin over
/// the images, failures prefixed with their image when there are several.
func mergedSummary(_ parts: [DetectionSummary]) -> DetectionSummary {
    let several = parts.count > 1
    return DetectionSummary(matched: parts.reduce(0) { $0 + $1.matched }, total: parts.reduce(0) { $0 + $1.total },
                            worstBoxError: parts.map(\.worstBoxError).max() ?? 0,
                            worstScoreError: parts.map(\.worstScoreError).max() ?? 0,
                            smallestMargin: parts.map(\.smallestMargin).min() ?? .infinity,
                            passed: parts.allSatisfy(\.passed),
                            failures: parts.enumerated().flatMap { i, p in p.failures.map { several ? "image \(i): \($0)" : $0 } })
}
