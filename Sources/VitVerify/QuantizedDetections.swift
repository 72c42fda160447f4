import VitIR
import VitInterp
import VitModels
import VitQuantize

/// How far a candidate's detections (a quantized model's) stray from a reference's: the
/// detections are identified by (query, class) (see `runDetections` for the query's name).
public struct DetectionMatch: Sendable, CustomStringConvertible {
    /// Reference detections whose (query, class) the candidate also outputs.
    public var matched: Int
    public var total: Int
    /// Mean box IoU and largest |Δscore| over the matched pairs (1 and 0 when none match).
    public var meanIoU: Float
    public var maxScoreDrift: Float
    /// Mean and largest |Δ| of the matched boxes' corner coordinates, in pixels (0 when none
    /// match or when matched as objects).
    public var meanCornerError: Float = 0
    public var largestCornerError: Float = 0

    public var matchedFraction: Float { total == 0 ? 1 : Float(matched) / Float(total) }

    public var description: String {
        "matched \(matched)/\(total), mean IoU \(meanIoU), max score drift \(maxScoreDrift)"
    }
}

/// Matches `candidate`'s detections to `reference`'s by identity (`DetectionSet.indices`);
/// `iouTolerance` is `intersectionOverUnion`'s for empty boxes.
public func matchDetections(candidate: DetectionSet, reference: DetectionSet, iouTolerance: Float = 1e-6) -> DetectionMatch {
    let position = Dictionary(candidate.indices.enumerated().map { ($0.element, $0.offset) }, uniquingKeysWith: { a, _ in a })
    var matched = 0, iouSum: Float = 0, drift: Float = 0, cornerSum: Float = 0, cornerMax: Float = 0
    for (i, index) in reference.indices.enumerated() {
        guard let j = position[index] else { continue }
        matched += 1
        iouSum += intersectionOverUnion(candidate.boxes[j], reference.boxes[i], tolerance: iouTolerance)
        drift = Swift.max(drift, Swift.abs(candidate.scores[j] - reference.scores[i]))
        for (a, b) in zip(candidate.boxes[j], reference.boxes[i]) {
            cornerSum += Swift.abs(a - b)
            cornerMax = Swift.max(cornerMax, Swift.abs(a - b))
        }
    }
    return DetectionMatch(matched: matched, total: reference.indices.count,
                          meanIoU: matched == 0 ? 1 : iouSum / Float(matched), maxScoreDrift: drift,
                          meanCornerError: matched == 0 ? 0 : cornerSum / Float(4 * matched), largestCornerError: cornerMax)
}

/// A detector run's detections (identified by flat index slot · classes + label) and the
/// proposals (encoder tokens) its decoder slots were seeded with.
public struct DetectorRun: Sendable {
    public var detections: DetectionSet
    public var proposals: Tensor
}

/// Runs a detector graph (with its stages recorded, `StagePolicy.marked`) on `feeds`, reading
/// the `detection_index` and `topk_indices` stages through hooks; `forcedProposals` replaces
/// the graph's own top-k proposals (teacher forcing).
public func runDetector(_ graph: Graph, feeds: [String: Tensor], forcedProposals: Tensor? = nil,
                        options: Interpreter.Options = Interpreter.Options()) throws -> DetectorRun {
    let stages = Dictionary(uniqueKeysWithValues: (recordedStages(graph) ?? []).map { ($0.stage, $0.value) })
    guard let index = stages[StageLabel.detectionIndex], let topk = stages[StageLabel.proposalIndices] else {
        throw VerifyError("the graph records no detection_index or topk_indices stage (trace it with stages marked)")
    }
    let hooks = Interpreter.Hooks(observe: [index, topk], overrides: forcedProposals.map { [topk: $0] } ?? [:])
    let result = try Interpreter(graph).run(feeds: feeds, options: options, hooks: hooks)
    guard let boxes = result["boxes"], let scores = result["scores"], let labels = result["labels"],
          let slots = result.observed[index], let proposals = forcedProposals ?? result.observed[topk] else {
        throw VerifyError("the detector's outputs boxes, scores, labels or its stages are missing")
    }
    return DetectorRun(detections: DetectionSet(boxes: boxes, scores: scores, labels: labels, indices: slots), proposals: proposals)
}

/// A quantized detector against its float original on one input.
public struct QuantizedDetectorAgreement: Sendable, CustomStringConvertible {
    /// Fraction of the float model's top-k proposals (encoder tokens) the quantized one also selects.
    public var proposalOverlap: Float
    /// The quantized model run freely, detections matched as objects (`matchDetectionObjects`: same
    /// class, IoU ≥ 0.5): proposals ranked in another order seed other decoder slots, so slot
    /// identities do not carry over.
    public var free: DetectionMatch
    /// The quantized model's decoder fed the float model's proposals (teacher forcing),
    /// detections identified by (query slot, class): the decoder and heads' own cost.
    public var teacherForced: DetectionMatch

    public var description: String {
        "proposals \(Int((proposalOverlap * 100).rounded())) % shared; free (class, IoU ≥ 0.5): \(free); teacher-forced (query, class): \(teacherForced)"
    }
}

/// Runs `reference` (float) and `candidate` (quantized) detectors on `feeds` and measures how
/// far the candidate's detections stray (`QuantizedDetectorAgreement`).
/// `referenceRun` is `reference` already run on `feeds`, when the caller has it.
public func quantizedDetectorAgreement(reference: Graph, candidate: Graph, feeds: [String: Tensor], referenceRun: DetectorRun? = nil,
                                       options: Interpreter.Options = Interpreter.Options()) throws -> QuantizedDetectorAgreement {
    let r = try referenceRun ?? runDetector(reference, feeds: feeds, options: options)
    let free = try runDetector(candidate, feeds: feeds, options: options)
    let forced = try runDetector(candidate, feeds: feeds, forcedProposals: r.proposals, options: options)
    let refTokens = r.proposals.int64s, candTokens = free.proposals.int64s
    let overlap = Float(Set(refTokens).intersection(candTokens).count) / Float(Swift.max(refTokens.count, 1))
    return QuantizedDetectorAgreement(proposalOverlap: overlap,
                                      free: matchDetectionObjects(candidate: free.detections, reference: r.detections),
                                      teacherForced: matchDetections(candidate: forced.detections, reference: r.detections))
}

/// Matches detections as objects, without identities: each reference detection (in score
/// order) takes the unused candidate detection of its class with the largest box IoU, if that
/// IoU is at least `minimumIoU`.
public func matchDetectionObjects(candidate: DetectionSet, reference: DetectionSet, minimumIoU: Float = 0.5) -> DetectionMatch {
    var used = Array(repeating: false, count: candidate.scores.count)
    var matched = 0, iouSum: Float = 0, drift: Float = 0
    for i in reference.scores.indices {
        var best: (j: Int, iou: Float)?
        for j in candidate.scores.indices where !used[j] && candidate.labels[j] == reference.labels[i] {
            let iou = intersectionOverUnion(candidate.boxes[j], reference.boxes[i], tolerance: 1e-6)
            if iou >= minimumIoU, iou > (best?.iou ?? -1) { best = (j, iou) }
        }
        guard let best else { continue }
        used[best.j] = true
        matched += 1
        iouSum += best.iou
        drift = Swift.max(drift, Swift.abs(candidate.scores[best.j] - reference.scores[i]))
    }
    return DetectionMatch(matched: matched, total: reference.scores.count,
                          meanIoU: matched == 0 ? 1 : iouSum / Float(matched), maxScoreDrift: drift)
}

/// One scope's cost in `int8Sensitivity`: the detector with only that scope quantized.
public struct ScopeSensitivity: Sendable {
    public var scope: String
    public var quantizedNodes: Int
    public var agreement: QuantizedDetectorAgreement
    /// 1 − teacher-forced matched fraction, plus (1 − mean IoU) / 100 as a tie-break: what
    /// quantizing this scope alone costs the detections.
    public var cost: Float {
        (1 - agreement.teacherForced.matchedFraction) + (1 - agreement.teacherForced.meanIoU) / 100
    }
}

/// The scopes `int8Sensitivity` quantizes one at a time: every top-level scope holding planned
/// nodes, split into its second-level scopes when it has several (`transformer` →
/// `transformer.encoder`, `transformer.decoder`, …), in graph order.
public func sensitivityScopes(_ graph: Graph, plan: QuantizationPlan) -> [String] {
    let scopes = plan.nodes.map { graph.nodes[$0.node].scope.split(separator: ".").map(String.init) }
    var order: [String] = []
    var children: [String: [String]] = [:]
    for parts in scopes where !parts.isEmpty {
        if !order.contains(parts[0]) { order.append(parts[0]) }
        let child = parts.prefix(2).joined(separator: ".")
        if !(children[parts[0]] ?? []).contains(child) { children[parts[0], default: []].append(child) }
    }
    return order.flatMap { top in (children[top] ?? []).count > 1 ? children[top]! : [top] }
}

/// Per-scope sensitivity: calibrates once on `samples`, then quantizes one scope of `scopes`
/// (default `sensitivityScopes`) at a time and measures its detections on `feeds` against the
/// float model (`quantizedDetectorAgreement`), most costly first (ties in scope order).
public func int8Sensitivity(_ graph: Graph, samples: [[String: Tensor]], feeds: [String: Tensor],
                            settings: QuantizationSettings = QuantizationSettings(),
                            calibration: CalibrationOptions = CalibrationOptions(),
                            scopes: [String]? = nil) throws -> [ScopeSensitivity] {
    let plan = try planQuantization(graph, settings: settings)
    let parts = try (scopes ?? sensitivityScopes(graph, plan: plan)).map { scope throws(VerifyError) in
        var only = plan
        only.nodes = plan.nodes.filter { isScope(graph.nodes[$0.node].scope, under: scope) }
        guard !only.nodes.isEmpty else { throw VerifyError("no quantized node lies under scope \(scope)") }
        return (scope, only)
    }
    let stats = try collectStatistics(graph, targets: plan.activations, samples: samples, options: calibration)
    let ranges = stats.mapValues { calibration.calibrator.range($0, symmetric: settings.activationType == .int8) }
    let referenceRun = try runDetector(graph, feeds: feeds)
    var rows: [ScopeSensitivity] = []
    for (scope, only) in parts {
        var quantized = graph
        _ = try insertQDQ(&quantized, plan: only, ranges: ranges, settings: settings)
        rows.append(ScopeSensitivity(scope: scope, quantizedNodes: only.nodes.count,
                                     agreement: try quantizedDetectorAgreement(reference: graph, candidate: quantized, feeds: feeds,
                                                                                referenceRun: referenceRun)))
    }
    return rows.enumerated().sorted { a, b in
        a.element.cost != b.element.cost ? a.element.cost > b.element.cost : a.offset < b.offset
    }.map(\.element)
}
