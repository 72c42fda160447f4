import VitIR

/// Post-processing steps detectron2 runs after the model (the graph keeps all K detections).
public struct PostProcessing: Sendable {
    /// Drop detections whose box has zero width or height (detectron2's `Instances` filter
    /// `boxes.nonempty()` in `detector_postprocess`).
    public var dropEmptyBoxes: Bool

    public init(dropEmptyBoxes: Bool = false) { self.dropEmptyBoxes = dropEmptyBoxes }
}

/// Detector outputs after `steps`, and how many detections were dropped.
public func postProcess(_ outputs: [String: Tensor], _ steps: PostProcessing) throws(ModelLoadError) -> (outputs: [String: Tensor], dropped: Int) {
    guard steps.dropEmptyBoxes else { return (outputs, 0) }
    return try droppingEmptyDetections(outputs)
}

/// Detector outputs (`boxes` [1, K, 4] xyxy, `scores` [1, K], `labels` [1, K]) without the
/// detections whose box has zero width or height; other outputs unchanged.
public func droppingEmptyDetections(_ outputs: [String: Tensor]) throws(ModelLoadError) -> (outputs: [String: Tensor], dropped: Int) {
    if let boxes = outputs["boxes"], boxes.shape.count == 3, boxes.shape[0] > 1 {
        throw ModelLoadError("--drop-empty works on one image: a batch of \(boxes.shape[0]) keeps K detections per image (drop empty boxes per image after the run)")
    }
    guard let boxes = outputs["boxes"], let scores = outputs["scores"], let labels = outputs["labels"],
          boxes.shape.count == 3, boxes.shape[0] == 1, boxes.shape[2] == 4,
          scores.shape == [1, boxes.shape[1]], labels.shape == [1, boxes.shape[1]] else {
        throw ModelLoadError("--drop-empty needs detector outputs boxes [1, K, 4], scores [1, K] and labels [1, K]")
    }
    let b = boxes.floats, s = scores.floats, l = labels.int64s
    let keep = (0..<boxes.shape[1]).filter { (i: Int) -> Bool in b[4 * i + 2] > b[4 * i] && b[4 * i + 3] > b[4 * i + 1] }
    var out = outputs
    let kept: [Float] = keep.flatMap { (i: Int) -> ArraySlice<Float> in b[(4 * i)..<(4 * i + 4)] }
    out["boxes"] = Tensor(kept, shape: [1, keep.count, 4])
    out["scores"] = Tensor(keep.map { s[$0] }, shape: [1, keep.count])
    out["labels"] = Tensor(keep.map { l[$0] }, shape: [1, keep.count])
    return (out, boxes.shape[1] - keep.count)
}
