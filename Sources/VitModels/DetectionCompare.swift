import VitIR

// Comparing top-k selections and detections between two implementations. A top-k boundary
// is discontinuous: two scores closer than the numerical noise may come out in either order,
// and an item may enter or leave the selection. A difference is a failure only when no such
// near-tie explains it.

/// How one top-k selection compares with a reference selection.
public struct TopKComparison: Sendable, CustomStringConvertible {
    public var k: Int
    /// Reference score at rank k − 1 minus the score at rank k (∞ when nothing is left out):
    /// how far the selection is from a tie at its boundary.
    public var boundaryMargin: Float
    /// Smallest gap between adjacent reference scores inside the selection (rank order ties).
    public var smallestGap: Float
    /// Items selected by only one side.
    public var onlyInCandidate: [Int]
    public var onlyInReference: [Int]
    /// Of those, the ones no near-tie explains: an item only the candidate selects must score
    /// (in the reference) within the tolerance of the reference's k-th score, an item only the
    /// reference selects within the tolerance of the first score it leaves out.
    public var unexplained: [Int]
    /// Whether both sides list the same items in the same order.
    public var identical: Bool

    public var passed: Bool { unexplained.isEmpty }

    public var description: String {
        var s = "top-\(k): boundary margin \(boundaryMargin), smallest gap \(smallestGap)"
        if identical { return s + ", identical" }
        s += ", only in candidate \(onlyInCandidate), only in reference \(onlyInReference)"
        return s + (unexplained.isEmpty ? " (all within a near-tie)" : ", unexplained \(unexplained)")
    }
}

/// Compares a candidate's top-k item indices with a reference's. `referenceScores[i]` is the
/// reference's score of item i over every item (not just the selected ones). An item selected
/// by the candidate only is explained when its reference score is within `tolerance` below
/// the reference's k-th score (noise could have lifted it over that item); an item selected
/// by the reference only when its score is within `tolerance` above the (k+1)-th.
public func compareTopK(candidate: [Int], reference: [Int], referenceScores: [Float], tolerance: Float) -> TopKComparison {
    let k = reference.count
    let sorted = referenceScores.sorted(by: >)
    let margin = k < sorted.count && k > 0 ? sorted[k - 1] - sorted[k] : .infinity
    let gaps = k > 1 ? (1..<k).map { sorted[$0 - 1] - sorted[$0] } : []
    let kth = k > 0 ? sorted[k - 1] : .infinity
    let firstLeftOut = k < sorted.count ? sorted[k] : -.infinity
    let c = Set(candidate), r = Set(reference)
    let onlyC = candidate.filter { !r.contains($0) }, onlyR = reference.filter { !c.contains($0) }
    func score(_ i: Int) -> Float? { i >= 0 && i < referenceScores.count ? referenceScores[i] : nil }
    let unexplained = onlyC.filter { i in score(i).map { !(kth - $0 <= tolerance) } ?? true }
        + onlyR.filter { i in score(i).map { !($0 - firstLeftOut <= tolerance) } ?? true }
    return TopKComparison(k: k, boundaryMargin: margin, smallestGap: gaps.min() ?? .infinity,
                          onlyInCandidate: onlyC, onlyInReference: onlyR, unexplained: unexplained,
                          identical: candidate == reference)
}

/// One image's post-processed detections.
public struct DetectionSet: Sendable {
    /// Flat index query · classes + label of each detection (its identity).
    public var indices: [Int]
    public var scores: [Float]
    public var labels: [Int]
    /// (x1, y1, x2, y2) per detection.
    public var boxes: [[Float]]

    public init(indices: [Int], scores: [Float], labels: [Int], boxes: [[Float]]) {
        self.indices = indices; self.scores = scores; self.labels = labels; self.boxes = boxes
    }

    /// From the detector's outputs for batch item 0: `boxes` [1, K, 4], `scores` [1, K],
    /// `labels` [1, K] and the flat top-k `indices` [1, K].
    public init(boxes: Tensor, scores: Tensor, labels: Tensor, indices: Tensor) {
        let b = boxes.floats
        self.init(indices: indices.int64s.map { Int($0) }, scores: scores.floats, labels: labels.int64s.map { Int($0) },
                  boxes: stride(from: 0, to: b.count, by: 4).map { Array(b[$0..<$0 + 4]) })
    }
}

/// How a candidate's detections compare with a reference's.
public struct DetectionComparison: Sendable, CustomStringConvertible {
    public var selection: TopKComparison
    /// Detections present on both sides (same query and class).
    public var matched: Int
    /// Largest |Δscore| and |Δbox coordinate| over matched detections.
    public var worstScoreError: Float
    public var worstBoxError: Float
    /// Every difference no near-tie explains.
    public var failures: [String]

    public var passed: Bool { failures.isEmpty }

    public var description: String {
        var lines = ["\(selection)", "matched \(matched), worst score error \(worstScoreError), worst box error \(worstBoxError)"]
        lines += failures.map { "FAIL " + $0 }
        return lines.joined(separator: "\n")
    }
}

/// Compares detections by (query, class) identity. `referenceScores` holds the reference's
/// score of every (query, class) pair (flat index query · classes + class), used for the
/// selection's margins. A detection is a failure when it is selected by one side only and
/// not within `scoreTolerance` of the boundary; when a matched detection's score differs by
/// more than `scoreTolerance` or a box coordinate by more than `boxTolerance`; when its label
/// disagrees with its index; or when the candidate's scores are not in descending order.
public func compareDetections(candidate: DetectionSet, reference: DetectionSet, referenceScores: [Float],
                              numClasses: Int, scoreTolerance: Float, boxTolerance: Float) -> DetectionComparison {
    let selection = compareTopK(candidate: candidate.indices, reference: reference.indices,
                                referenceScores: referenceScores, tolerance: scoreTolerance)
    var failures = selection.unexplained.map { "detection (query \($0 / numClasses), class \($0 % numClasses)) selected by one side only, reference score \($0 < referenceScores.count && $0 >= 0 ? referenceScores[$0] : .nan) is not within \(scoreTolerance) of the boundary" }
    for (set, side) in [(candidate, "candidate"), (reference, "reference")] {
        for (i, index) in set.indices.enumerated() where set.labels[i] != index % numClasses {
            failures.append("\(side) detection \(i): label \(set.labels[i]) disagrees with index \(index) (class \(index % numClasses))")
        }
    }
    for i in candidate.scores.indices.dropFirst() where candidate.scores[i] > candidate.scores[i - 1] {
        failures.append("candidate scores are not descending at rank \(i)")
        break
    }
    let referenceRank = Dictionary(reference.indices.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
    var matched = 0
    var worstScore: Float = 0, worstBox: Float = 0
    for (i, index) in candidate.indices.enumerated() {
        guard let j = referenceRank[index] else { continue }
        matched += 1
        let ds = abs(candidate.scores[i] - reference.scores[j])
        let db = zip(candidate.boxes[i], reference.boxes[j]).map { abs($0 - $1) }.max() ?? 0
        worstScore = max(worstScore, ds)
        worstBox = max(worstBox, db)
        if !(ds <= scoreTolerance) {
            failures.append("detection (query \(index / numClasses), class \(index % numClasses)): score \(candidate.scores[i]) vs \(reference.scores[j])")
        }
        if !(db <= boxTolerance) {
            failures.append("detection (query \(index / numClasses), class \(index % numClasses)): box \(candidate.boxes[i]) vs \(reference.boxes[j])")
        }
    }
    return DetectionComparison(selection: selection, matched: matched, worstScoreError: worstScore,
                               worstBoxError: worstBox, failures: failures)
}

/// How a candidate's detections compare with a reference's as sets, without identities:
/// for files whose internal values cannot be found (foreign or simplified exports).
public struct DetectionSetComparison: Sendable, CustomStringConvertible {
    /// Reference detections with a partner in the candidate.
    public var matched: Int
    public var total: Int
    /// Largest |Δscore| and |Δbox coordinate| over matched pairs.
    public var worstScoreError: Float
    public var worstBoxError: Float
    /// Smallest gap between adjacent reference scores (the boundary margin at K is unknown:
    /// only K detections are output).
    public var smallestGap: Float
    /// Unmatched detections within the near-tie margin of the K-th score (allowed).
    public var nearTieUnmatched: Int
    public var failures: [String]

    public var passed: Bool { failures.isEmpty }

    public var description: String {
        var lines = ["matched \(matched)/\(total) as sets (\(nearTieUnmatched) unmatched within a near-tie of the K-th score), worst score error \(worstScoreError), worst box error \(worstBoxError)"]
        lines += failures.map { "FAIL " + $0 }
        return lines.joined(separator: "\n")
    }
}

/// Intersection over union of two (x1, y1, x2, y2) boxes; boxes of zero area are equal (1)
/// when every coordinate is within `tolerance`, else disjoint (0).
public func intersectionOverUnion(_ a: [Float], _ b: [Float], tolerance: Float) -> Float {
    let area = { (r: [Float]) in max(r[2] - r[0], 0) * max(r[3] - r[1], 0) }
    let w = max(min(a[2], b[2]) - max(a[0], b[0]), 0), h = max(min(a[3], b[3]) - max(a[1], b[1]), 0)
    let union = area(a) + area(b) - w * h
    guard union > 0 else { return zip(a, b).allSatisfy { abs($0 - $1) <= tolerance } ? 1 : 0 }
    return w * h / union
}

/// Compares detections as sets: a reference detection matches an unused candidate detection
/// with the same label, box IoU ≥ `minimumIoU` (see `intersectionOverUnion`) and score within
/// `scoreTolerance` (the closest score wins). An unmatched detection of either side is a
/// failure only when its score is more than `scoreTolerance` above its own side's K-th (lowest)
/// score: only detections at the top-K boundary can be displaced by a near-tie.
public func compareDetectionSets(candidate: DetectionSet, reference: DetectionSet, scoreTolerance: Float,
                                 boxTolerance: Float, minimumIoU: Float = 0.999) -> DetectionSetComparison {
    var used = [Bool](repeating: false, count: candidate.scores.count)
    var matched = 0, nearTie = 0
    var worstScore: Float = 0, worstBox: Float = 0
    var failures: [String] = []
    let referenceKth = reference.scores.min() ?? 0, candidateKth = candidate.scores.min() ?? 0
    for i in reference.scores.indices {
        var best: Int?
        for j in candidate.scores.indices where !used[j] && candidate.labels[j] == reference.labels[i] {
            let ds = abs(candidate.scores[j] - reference.scores[i])
            guard ds <= scoreTolerance,
                  intersectionOverUnion(candidate.boxes[j], reference.boxes[i], tolerance: boxTolerance) >= minimumIoU else { continue }
            if best.map({ ds < abs(candidate.scores[$0] - reference.scores[i]) }) ?? true { best = j }
        }
        guard let j = best else {
            if reference.scores[i] - referenceKth <= scoreTolerance { nearTie += 1; continue }
            failures.append("reference detection \(i) (label \(reference.labels[i]), score \(reference.scores[i]), box \(reference.boxes[i])) has no match in the candidate")
            continue
        }
        used[j] = true
        matched += 1
        worstScore = max(worstScore, abs(candidate.scores[j] - reference.scores[i]))
        worstBox = max(worstBox, zip(candidate.boxes[j], reference.boxes[i]).map { abs($0 - $1) }.max() ?? 0)
    }
    for j in candidate.scores.indices where !used[j] {
        if candidate.scores[j] - candidateKth <= scoreTolerance { nearTie += 1; continue }
        failures.append("candidate detection \(j) (label \(candidate.labels[j]), score \(candidate.scores[j]), box \(candidate.boxes[j])) has no match in the reference")
    }
    let sorted = reference.scores.sorted(by: >)
    let gaps = sorted.count > 1 ? (1..<sorted.count).map { sorted[$0 - 1] - sorted[$0] } : []
    return DetectionSetComparison(matched: matched, total: reference.scores.count, worstScoreError: worstScore,
                                  worstBoxError: worstBox, smallestGap: gaps.min() ?? .infinity,
                                  nearTieUnmatched: nearTie, failures: failures)
}
