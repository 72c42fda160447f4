import VitIR
import VitInterp
import VitModels

/// How far a candidate's detections (a quantized model's) stray from a reference's: the
/// detections are identified by (query, class) (see `runDetections` for the query's name).
public struct DetectionAgreement: Sendable, CustomStringConvertible {
    /// Reference detections whose (query, class) the candidate also outputs.
    public var matched: Int
    public var total: Int
    /// Mean box IoU and largest |Δscore| over the matched pairs (1 and 0 when none match).
    public var meanIoU: Float
    public var maxScoreDrift: Float

    public var matchedFraction: Float { total == 0 ? 1 : Float(matched) / Float(total) }

    public var description: String {
        "matched \(matched)/\(total), mean IoU \(meanIoU), max score drift \(maxScoreDrift)"
    }
}

/// Matches `candidate`'s detections to `reference`'s by identity (`DetectionSet.indices`).
public func detectionAgreement(candidate: DetectionSet, reference: DetectionSet) -> DetectionAgreement {
    let position = Dictionary(candidate.indices.enumerated().map { ($0.element, $0.offset) }, uniquingKeysWith: { a, _ in a })
    var matched = 0, iouSum: Float = 0, drift: Float = 0
    for (i, index) in reference.indices.enumerated() {
        guard let j = position[index] else { continue }
        matched += 1
        iouSum += intersectionOverUnion(candidate.boxes[j], reference.boxes[i], tolerance: 1e-6)
        drift = Swift.max(drift, Swift.abs(candidate.scores[j] - reference.scores[i]))
    }
    return DetectionAgreement(matched: matched, total: reference.indices.count,
                              meanIoU: matched == 0 ? 1 : iouSum / Float(matched), maxScoreDrift: drift)
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
    /// The quantized model run freely, detections matched as objects (`boxAgreement`: same
    /// class, IoU ≥ 0.5): proposals ranked in another order seed other decoder slots, so slot
    /// identities do not carry over.
    public var free: DetectionAgreement
    /// The quantized model's decoder fed the float model's proposals (teacher forcing),
    /// detections identified by (query slot, class): the decoder and heads' own cost.
    public var teacherForced: DetectionAgreement

    public var description: String {
        "proposals \(Int((proposalOverlap * 100).rounded())) % shared; free (class, IoU ≥ 0.5): \(free); teacher-forced (query, class): \(teacherForced)"
    }
}

/// Runs `reference` (float) and `candidate` (quantized) detectors on `feeds` and measures how
/// far the candidate's detections stray (`QuantizedDetectorAgreement`).
public func quantizedDetectorAgreement(reference: Graph, candidate: Graph, feeds: [String: Tensor],
                                       options: Interpreter.Options = Interpreter.Options()) throws -> QuantizedDetectorAgreement {
    let r = try runDetector(reference, feeds: feeds, options: options)
    let free = try runDetector(candidate, feeds: feeds, options: options)
    let forced = try runDetector(candidate, feeds: feeds, forcedProposals: r.proposals, options: options)
    let refTokens = r.proposals.int64s, candTokens = free.proposals.int64s
    let overlap = Float(Set(refTokens).intersection(candTokens).count) / Float(Swift.max(refTokens.count, 1))
    return QuantizedDetectorAgreement(proposalOverlap: overlap,
                                      free: boxAgreement(candidate: free.detections, reference: r.detections),
                                      teacherForced: detectionAgreement(candidate: forced.detections, reference: r.detections))
}

/// Matches detections as objects, without identities: each reference detection (in score
/// order) takes the unused candidate detection of its class with the largest box IoU, if that
/// IoU is at least `minimumIoU`.
public func boxAgreement(candidate: DetectionSet, reference: DetectionSet, minimumIoU: Float = 0.5) -> DetectionAgreement {
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
    return DetectionAgreement(matched: matched, total: reference.scores.count,
                              meanIoU: matched == 0 ? 1 : iouSum / Float(matched), maxScoreDrift: drift)
}
