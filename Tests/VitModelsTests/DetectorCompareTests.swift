import Testing
import VitModels

// compareTopK / compareDetections on hand-made selections: a difference is a failure only
// when no near-tie at the top-k boundary explains it.

@Test func detectorTopKSwapAtANearTieIsExplained() {
    // Items 2 and 3 tie within 1e-5 at the boundary of a top-2.
    let scores: [Float] = [0.9, 0.1, 0.50001, 0.5]
    let c = compareTopK(candidate: [0, 3], reference: [0, 2], referenceScores: scores, tolerance: 1e-4)
    #expect(c.passed)
    #expect(!c.identical)
    #expect(c.onlyInCandidate == [3] && c.onlyInReference == [2])
    #expect(abs(c.boundaryMargin - 1e-5) < 1e-6)
    // The same swap with a tolerance below the margin is a failure naming both items.
    let strict = compareTopK(candidate: [0, 3], reference: [0, 2], referenceScores: scores, tolerance: 1e-6)
    #expect(!strict.passed)
    #expect(strict.unexplained == [3, 2])
}

@Test func detectorTopKFarFromTheBoundaryIsAFailure() {
    let scores: [Float] = [0.9, 0.1, 0.6, 0.5]
    let c = compareTopK(candidate: [0, 1], reference: [0, 2], referenceScores: scores, tolerance: 1e-3)
    #expect(c.unexplained == [1, 2])
}

@Test func detectorDetectionsMatchByQueryAndClass() {
    // 2 queries × 3 classes; the candidate lists the same two detections in swapped order
    // (their scores tie within tolerance) with slightly different boxes.
    let all: [Float] = [0.2, 0.70001, 0.1, 0.7, 0.3, 0.05]
    let reference = DetectionSet(indices: [1, 3], scores: [0.70001, 0.7], labels: [1, 0],
                                 boxes: [[0, 0, 10, 10], [5, 5, 20, 20]])
    let candidate = DetectionSet(indices: [3, 1], scores: [0.70002, 0.70001], labels: [0, 1],
                                 boxes: [[5, 5, 20.1, 20], [0, 0, 10, 10]])
    let ok = compareDetections(candidate: candidate, reference: reference, referenceScores: all, numClasses: 3,
                               scoreTolerance: 1e-4, boxTolerance: 0.2)
    #expect(ok.passed, "\(ok)")
    #expect(ok.matched == 2)
    #expect(abs(ok.worstBoxError - 0.1) < 1e-5)
    let tight = compareDetections(candidate: candidate, reference: reference, referenceScores: all, numClasses: 3,
                                  scoreTolerance: 1e-4, boxTolerance: 0.05)
    #expect(tight.failures.count == 1)
    #expect(tight.failures.first?.hasPrefix("detection (query 1, class 0): box") == true)
    // A label that disagrees with its index is always a failure.
    var wrong = candidate
    wrong.labels = [1, 1]
    #expect(!compareDetections(candidate: wrong, reference: reference, referenceScores: all, numClasses: 3,
                               scoreTolerance: 1e-4, boxTolerance: 0.2).passed)
}
