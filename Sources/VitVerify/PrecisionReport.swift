import Foundation
import VitIR
import VitInterp
import VitModels
import VitONNX
import VitPasses

/// Pass thresholds of a reduced-precision detector against its float32 model (teacher-forced:
/// both decoders start from the float32 model's proposals).
public struct PrecisionThresholds: Sendable, Equatable {
    /// Largest accepted ‖a − b‖₂ / ‖a‖₂ of each floating stage.
    public var stageRelative: Float
    /// Smallest accepted fraction of the float32 detections found, by (query, class), among
    /// the reduced model's.
    public var matchedFraction: Float
    /// Smallest accepted mean IoU of matched detections' boxes. float16's 2⁻¹¹ resolution moves
    /// box corners by 0.1–0.3 px, which costs the ~10 px boxes of seeded weights 0.05–0.1 IoU.
    public var meanIoU: Float
    /// Largest accepted |score − score₃₂| of a matched detection.
    public var scoreDrift: Float

    public init(stageRelative: Float = 2e-2, matchedFraction: Float = 0.9, meanIoU: Float = 0.85, scoreDrift: Float = 0.02) {
        self.stageRelative = stageRelative; self.matchedFraction = matchedFraction
        self.meanIoU = meanIoU; self.scoreDrift = scoreDrift
    }
}

extension PrecisionThresholds {
    /// int8 (QDQ) against fp32, teacher-forced: looser than float16's, as 8-bit activations
    /// move every stage by percents (measured in README "int8 quantization").
    public static let int8 = PrecisionThresholds(stageRelative: 0.1, matchedFraction: 0.8, meanIoU: 0.6, scoreDrift: 0.1)
}

/// One stage of a precision report.
public struct PrecisionStageRow: Sendable {
    public var stage: String
    /// max|a − b| / max|a|.
    public var maxRelative: Float
    /// ‖a − b‖₂ / ‖a‖₂: the judged figure.
    public var normRelative: Float
    public var passed: Bool
}

/// How the reduced model's detections agree with the float32 model's.
public struct DetectionAgreement: Sendable {
    /// Reference detections whose (query, class) the reduced model also detects.
    public var matched: Int
    public var total: Int
    public var meanIoU: Float
    /// Largest |score − score₃₂| over matched detections.
    public var largestScoreDrift: Float
    /// Mean and largest |corner − corner₃₂| in pixels over matched detections' box coordinates.
    public var meanCornerError: Float
    public var largestCornerError: Float
    /// Fraction of the float32 model's own top-Q proposals the reduced model's proposal scores
    /// also rank top-Q (informative: the decoder is teacher-forced either way).
    public var proposalOverlap: Float?

    public var matchedFraction: Float { total == 0 ? 1 : Float(matched) / Float(total) }
}

/// `precisionReport`'s findings.
public struct PrecisionReport: Sendable {
    public var precision: String
    public var rows: [PrecisionStageRow]
    public var agreement: DetectionAgreement
    public var thresholds: PrecisionThresholds

    public var detectionsPassed: Bool {
        agreement.matchedFraction >= thresholds.matchedFraction && agreement.meanIoU >= thresholds.meanIoU
            && agreement.largestScoreDrift <= thresholds.scoreDrift
    }
    public var passed: Bool { rows.allSatisfy(\.passed) && detectionsPassed }

    /// Stages as a table, then the detection agreement against its thresholds.
    public var table: String {
        let width = max(rows.map(\.stage.count).max() ?? 0, 5) + 2
        func pad(_ s: String, _ n: Int) -> String { s.padding(toLength: max(n, s.count), withPad: " ", startingAt: 0) }
        let t = thresholds
        var lines = ["precision \(precision) against fp32, decoder teacher-forced with the fp32 proposals",
                     pad("stage", width) + pad("max rel.", 11) + pad("norm rel.", 11) + "verdict (norm rel. ≤ \(String(format: "%.0e", t.stageRelative)))"]
        for r in rows {
            lines.append(pad(r.stage, width) + pad(String(format: "%.2e", r.maxRelative), 11)
                         + pad(String(format: "%.2e", r.normRelative), 11) + (r.passed ? "ok" : "OVER"))
        }
        let a = agreement
        if let overlap = a.proposalOverlap { lines.append(String(format: "proposals: %.1f%% of the fp32 top-Q also top-Q", 100 * overlap)) }
        lines.append(String(format: "detections: matched %d/%d (%.1f%%, need ≥ %.0f%%), mean IoU %.4f (need ≥ %.2f), largest score drift %.4f (need ≤ %.3f)",
                            a.matched, a.total, 100 * a.matchedFraction, 100 * t.matchedFraction, a.meanIoU, t.meanIoU,
                            a.largestScoreDrift, t.scoreDrift) + (detectionsPassed ? "" : " — OVER"))
        lines.append(String(format: "box corners of matched detections: mean error %.3f px, largest %.3f px", a.meanCornerError, a.largestCornerError))
        return lines.joined(separator: "\n")
    }
}

/// Compares every recorded stage of `reduced` (a detector converted to fp16, mixed or — later
/// — int8, given by the caller: an export read back or a graph converted in memory) with
/// `reference`, its float32 model with stages recorded (`StagePolicy.marked`), both run in the
/// interpreter on `feeds`. The reduced decoder is fed the reference's proposal indices, so one
/// flipped near-tie in the top-k does not cascade; every floating stage's relative error and
/// the detections' agreement by (query, class) are judged against `thresholds`.
public func precisionReport(reference: Graph, reduced: Graph, precision: String, feeds: [String: Tensor],
                            thresholds: PrecisionThresholds = PrecisionThresholds()) throws(VerifyError) -> PrecisionReport {
    guard let referenceStages = recordedStages(reference), let reducedStages = recordedStages(reduced) else {
        throw VerifyError("a precision report needs both models' \(stageMetadataKey) metadata (a detector exported by vitexport)")
    }
    let reducedValue = Dictionary(reducedStages.map { ($0.stage, $0.value) }, uniquingKeysWith: { a, _ in a })
    let ref = try runObserving(reference, referenceStages.map(\.value), feeds: feeds, overrides: [:], side: "the fp32 model")
    var overrides: [String: Tensor] = [:]
    let indices = referenceStages.first { $0.stage == StageLabel.proposalIndices }
    if let indices, let name = reducedValue[indices.stage], let value = ref.observed[indices.value] { overrides[name] = value }
    let cand = try runObserving(reduced, reducedStages.map(\.value), feeds: feeds, overrides: overrides, side: "the \(precision) model")
    var rows: [PrecisionStageRow] = []
    for stage in referenceStages {
        guard let a = ref.observed[stage.value], a.dtype.isFloatingPoint else { continue }
        guard let name = reducedValue[stage.stage], let b = cand.observed[name], b.shape == a.shape else {
            throw VerifyError("the \(precision) model lacks stage \(stage.stage) (or its shape differs)")
        }
        let (maxRel, normRel) = relativeErrors(a.floats, b.floats)
        rows.append(PrecisionStageRow(stage: stage.stage, maxRelative: maxRel, normRelative: normRel,
                                      passed: normRel <= thresholds.stageRelative))
    }
    func observed(_ result: Interpreter.Result, _ stages: [StageValue], _ label: String) -> Tensor? {
        stages.first { $0.stage == label }.flatMap { result.observed[$0.value] }
    }
    var agreement = try detectionAgreement(ref, cand, referenceIndex: observed(ref, referenceStages, StageLabel.detectionIndex),
                                           reducedIndex: observed(cand, reducedStages, StageLabel.detectionIndex))
    if let indices = observed(ref, referenceStages, StageLabel.proposalIndices),
       let scores = observed(cand, reducedStages, StageLabel.proposalScores) {
        agreement.proposalOverlap = topOverlap(scores.floats, indices.int64s.map(Int.init))
    }
    return PrecisionReport(precision: precision, rows: rows, agreement: agreement, thresholds: thresholds)
}

private func runObserving(_ graph: Graph, _ values: [String], feeds: [String: Tensor], overrides: [String: Tensor],
                          side: String) throws(VerifyError) -> Interpreter.Result {
    let own = feeds.filter { name, _ in graph.inputs.contains { graph.name(of: $0) == name } }
    do { return try Interpreter(graph).run(feeds: own, hooks: Interpreter.Hooks(observe: Set(values), overrides: overrides)) } catch {
        throw VerifyError("\(side) failed to run: \(error)")
    }
}

/// max|a − b| / max|a| and ‖a − b‖₂ / ‖a‖₂ (Double sums); a non-finite difference is ∞.
func relativeErrors(_ a: [Float], _ b: [Float]) -> (max: Float, norm: Float) {
    var worst = 0.0, scale = 0.0, diff2 = 0.0, ref2 = 0.0
    for (x, y) in zip(a, b) {
        let d = abs(Double(x) - Double(y))
        if !d.isFinite && !(x.isNaN && y.isNaN) { return (.infinity, .infinity) }
        if d.isFinite { worst = max(worst, d); diff2 += d * d }
        scale = max(scale, abs(Double(x)))
        ref2 += Double(x) * Double(x)
    }
    return (Float(worst / max(scale, 1e-30)), Float((diff2 / max(ref2, 1e-60)).squareRoot()))
}

/// The fraction of `selected` (a top-k) that the k largest of `scores` (ties: lower index) hold.
func topOverlap(_ scores: [Float], _ selected: [Int]) -> Float {
    let k = selected.count
    guard k > 0 else { return 1 }
    let top = Set(scores.indices.sorted { scores[$0] != scores[$1] ? scores[$0] > scores[$1] : $0 < $1 }.prefix(k))
    return Float(selected.filter(top.contains).count) / Float(k)
}

/// The detections matched by flat index (query · classes + label): IoU of matched boxes and
/// their score drift.
private func detectionAgreement(_ ref: Interpreter.Result, _ cand: Interpreter.Result, referenceIndex: Tensor?,
                                reducedIndex: Tensor?) throws(VerifyError) -> DetectionAgreement {
    guard let referenceIndex, let reducedIndex else {
        throw VerifyError("a precision report needs the detection_index stage of both models")
    }
    let r = try detectionSet(ref, indices: referenceIndex, side: "fp32 model")
    let c = try detectionSet(cand, indices: reducedIndex, side: "reduced model")
    let m = matchDetections(candidate: c, reference: r, iouTolerance: 0)
    return DetectionAgreement(matched: m.matched, total: m.total, meanIoU: m.matched == 0 ? 0 : m.meanIoU,
                              largestScoreDrift: m.maxScoreDrift, meanCornerError: m.meanCornerError,
                              largestCornerError: m.largestCornerError, proposalOverlap: nil)
}

/// A reduced-precision check: the float32 model traced with stages, the reduced model (the
/// file `onnx`, or the float32 model converted to `precision` (with `policy`) and exported in memory at
/// `opset`), and their `precisionReport`.
public func verifyPrecision(_ request: VerifyRequest, precision: Precision, policy: MixedPolicy = .standard,
                            thresholds: PrecisionThresholds = PrecisionThresholds()) throws(VerifyError) -> PrecisionReport {
    try verifyReduced(request, label: precision.rawValue, thresholds: thresholds) { graph in
        try convertPrecision(&graph, to: precision, policy: policy)
    }
}

/// `verifyPrecision` for any reduction of the float32 graph: `reduce` rewrites the traced,
/// stage-recorded float32 graph in place (a precision conversion, an int8 quantization), which
/// is then exported in memory at `request.opset` and read back — or the file `request.onnx`
/// is the reduced model and `reduce` is not called.
public func verifyReduced(_ request: VerifyRequest, label: String, thresholds: PrecisionThresholds,
                          reduce: (inout Graph) throws -> Void) throws(VerifyError) -> PrecisionReport {
    let reference: LoadedModel
    let feeds: [String: Tensor]
    do {
        reference = try loadModel(request.model, settings: TraceSettings(stages: .marked))
        feeds = try request.inputs.feeds(for: reference.graph)
    } catch {
        throw VerifyError(error.description)
    }
    guard reference.config.architecture == .detector else {
        throw VerifyError("--precision \(label) compares detector stages; \(reference.config.name) is \(reference.config.architecture.rawValue)")
    }
    let reduced: Graph
    if let path = request.onnx {
        do { reduced = try importModel(path: path) } catch { throw VerifyError("\(path): \(error)") }
    } else {
        var graph = reference.graph
        do { try reduce(&graph) } catch { throw VerifyError("\(label): \(error)") }
        do {
            reduced = try importModel(try makeModel(graph, options: ExportOptions(opset: request.opset, runChecker: false)), baseDirectory: nil)
        } catch {
            throw VerifyError("the in-memory \(label) export at opset \(request.opset) failed: \(error)")
        }
    }
    return try precisionReport(reference: reference.graph, reduced: reduced, precision: label,
                               feeds: feeds, thresholds: thresholds)
}
