import VitIR

/// How `traceDetector` builds its graph.
public struct DetectorTraceOptions: Sendable {
    /// Adds intermediate values as extra graph outputs (`DetectorDebugOutput`), for
    /// stage-by-stage comparison with a reference.
    public var debugOutputs: Bool
    /// Starts at the backbone's feature map (graph input `features` [B, D, H/p, W/p]) instead
    /// of the image: the backbone is not traced.
    public var featuresInput: Bool
    /// Teacher forcing: adds the graph input `proposal_indices` [B, Q] (int64, Q =
    /// `num_queries`), the encoder tokens the decoder's queries start from, in place of the
    /// two-stage top-k over the proposal scores (which is then not traced). Everything
    /// downstream (initial references, decoder, heads, detections) is computed from the fed
    /// indices, so two implementations whose near-tied proposals rank differently can be
    /// compared after the encoder by feeding one side's `debug.topk_indices` to the other.
    /// Each index must lie in [−S, S), S = encoder tokens (negative counts from the end, as
    /// in ONNX GatherElements); the interpreter rejects others with an error naming the
    /// GatherElements node that selects the proposals. Feeding the unforced graph's own
    /// `debug.topk_indices` reproduces its outputs exactly.
    public var forcedProposals: Bool
    /// Images per run: the leading extent B of every input and output (1…`InputLimits.maxBatch`).
    /// Every image is processed on its own (shape-derived constants have a leading 1 and
    /// broadcast; the top-k and gathers run per row).
    public var batch: Int

    public init(debugOutputs: Bool = false, featuresInput: Bool = false, forcedProposals: Bool = false, batch: Int = 1) {
        self.debugOutputs = debugOutputs
        self.featuresInput = featuresInput
        self.forcedProposals = forcedProposals
        self.batch = batch
    }
}

/// Names of the extra outputs a debug trace adds (B: `DetectorTraceOptions.batch`).
public enum DetectorDebugOutput {
    /// Backbone features [B, D, H/p, W/p] (image input only).
    public static let backbone = "debug.backbone"
    /// Pyramid level `name` (p3, p4, …) [B, C, h, w].
    public static func pyramid(_ name: String) -> String { "debug.pyramid.\(name)" }
    /// Neck output `i` [B, C, h, w].
    public static func neck(_ i: Int) -> String { "debug.neck.\(i)" }
    /// Encoder output [B, S, C].
    public static let memory = "debug.memory"
    /// Each encoder token's maximum class logit [B, S], which the query selection ranks.
    public static let proposalScores = "debug.proposal_scores"
    /// Encoder tokens chosen as queries [B, Q] (int64): the top-k, or the fed
    /// `proposal_indices` under `DetectorTraceOptions.forcedProposals`.
    public static let topkIndices = "debug.topk_indices"
    /// Initial reference boxes [B, Q, 4] (cx, cy, w, h).
    public static let initialReference = "debug.reference.init"
    /// Decoder layer `i`'s normed state [B, Q, C].
    public static func state(_ i: Int) -> String { "debug.decoder.\(i).state" }
    /// Decoder layer `i`'s refined reference [B, Q, 4].
    public static func reference(_ i: Int) -> String { "debug.decoder.\(i).reference" }
    /// Final class logits [B, Q, classes] and boxes [B, Q, 4] before post-processing.
    public static let logits = "debug.pred_logits"
    public static let boxes = "debug.pred_boxes"
    /// Flat top-k index (query · classes + label) of each detection [B, K] (int64).
    public static let detectionIndex = "debug.detection_index"
}

/// Name of the graph input a teacher-forced trace (`DetectorTraceOptions.forcedProposals`)
/// takes the proposal indices from.
public let detectorProposalIndicesInput = "proposal_indices"

/// Key prefix of the ViT inside a detrex DINO checkpoint: `DINO.backbone` is the
/// SimpleFeaturePyramid, `.net` the `TimmBackbone`, `.timm_model` timm's `FeatureGetterNet`,
/// `.model` the VisionTransformer.
public let detectorBackbonePrefix = "backbone.net.timm_model.model"

/// Traces detrex's DINO detector with a ViTDet pyramid on a DINOv2 backbone, at inference.
///
/// Input `image` [B, 3, H, W]: RGB on the 0…255 scale (or `features`, and `proposal_indices`,
/// per `options`), B = `options.batch`. Outputs, after post-processing
/// (detrex `DINO.inference` + detectron2 `detector_postprocess`), per image:
/// - `boxes` [B, K, 4]: (x1, y1, x2, y2) in input pixels, clipped to the image;
/// - `scores` [B, K]: sigmoid class probabilities, descending;
/// - `labels` [B, K] (int64): class indices.
/// K = `num_detections`; the top-K is over all (query, class) pairs of one image.
///
/// Stages: normalization by `pixel_mean`/`pixel_std`; optional dynamic padding; the backbone
/// (scope `backbone.net.timm_model.model`); the pyramid (`backbone.simfp_*`); the neck
/// (`neck.convs.*`); the transformer (`transformer.*`); the heads (`class_embed.*`,
/// `bbox_embed.*`). Everything that depends only on shapes (positions, reference points,
/// proposals and their validity) is a constant.
public func traceDetector(_ m: ModelContext, _ config: ModelConfig, _ d: DetectorConfig,
                          options: DetectorTraceOptions = DetectorTraceOptions()) throws {
    let problems = d.problems(imageSize: config.imageSize)
    let (planned, _) = d.pyramidPlan()
    guard problems.isEmpty, let plan = planned else {
        throw ConfigError(source: config.source, problems: problems)
    }
    try checkPixelStatistics(m, d, source: config.source)
    try checkBatch(options.batch, config)
    let t = d.transformer
    let batch = options.batch
    let (height, width) = (config.imageSize[0], config.imageSize[1])
    let debug = options.debugOutputs

    let features: SymbolicTensor
    if options.featuresInput {
        let (gh, gw) = d.patchGrid(imageSize: config.imageSize)
        features = m.tracer.input("features", TensorType(.float32, [batch, d.backbone.embedDim, gh, gw]))
    } else {
        features = try detectorBackbone(m, imageSize: config.imageSize, d, batch: batch)
        if debug { try m.tracer.output(DetectorDebugOutput.backbone, features) }
    }

    let levels = try m.scope("backbone") { try simpleFeaturePyramid(m, features, plan: plan, config: d.pyramid) }
    let mapped = try m.scope("neck") { try channelMapper(m, levels, out: t.embedDim, config: d.neck) }
    if debug {
        for (name, level) in zip(plan.outputNames, levels) { try m.tracer.output(DetectorDebugOutput.pyramid(name), level) }
        for (i, level) in mapped.enumerated() { try m.tracer.output(DetectorDebugOutput.neck(i), level) }
    }

    let forced = options.forcedProposals
        ? m.tracer.input(detectorProposalIndicesInput, TensorType(.int64, [batch, t.numQueries])) : nil
    let heads = try DINOHeads(m, embedDim: t.embedDim, numClasses: d.numClasses, decoderLayers: t.decoderLayers)
    m.permitUnusedParameters(["pixel_mean", "pixel_std", "label_enc.weight"],
                             prefixes: (0..<max(t.decoderLayers - 1, 0)).map { "class_embed.\($0)." })
    let stages = try dinoTransformer(m, mapped, config: t, heads: heads, refineLast: debug, forcedProposals: forced)

    // detrex DINO.forward recomputes the last layer's boxes from its normed state, refining
    // the reference the previous layer produced.
    let last = t.decoderLayers - 1
    let previous = last == 0 ? stages.initialReference : stages.references[last - 1]
    let state = stages.states[last]
    let logits = try heads.finalClass(state)
    let boxes = try heads.bboxEmbed[last](state).add(inverseSigmoid(previous)).sigmoid()
    if debug { try outputTransformerStages(m, stages, logits: logits, boxes: boxes, decoderLayers: t.decoderLayers) }

    let detections = try m.scope("postprocess") {
        try postprocess(logits: logits, boxes: boxes, count: d.numDetections, imageSize: (height, width))
    }
    try m.tracer.output("boxes", detections.boxes)
    try m.tracer.output("scores", detections.scores)
    try m.tracer.output("labels", detections.labels)
    if debug { try m.tracer.output(DetectorDebugOutput.detectionIndex, detections.index) }
}

/// The graph input `image` [B, C, H, W], normalized by the configured pixel mean and std
/// (constants `pixel_mean`, `pixel_std`), zero-padded at the bottom and right to the size the
/// backbone needs (scope `backbone.net.pad`), through the DINOv2 backbone; returns its
/// features [B, D, H/p, W/p].
private func detectorBackbone(_ m: ModelContext, imageSize: [Int], _ d: DetectorConfig, batch: Int) throws -> SymbolicTensor {
    let (height, width) = (imageSize[0], imageSize[1])
    let image = m.tracer.input("image", TensorType(.float32, [batch, d.backbone.inChannels, height, width]))
    let channels = d.backbone.inChannels
    let mean = m.tracer.constant(Tensor(d.pixelMean, shape: [1, channels, 1, 1]), name: "pixel_mean")
    let std = m.tracer.constant(Tensor(d.pixelStd, shape: [1, channels, 1, 1]), name: "pixel_std")
    var normalized = try image.sub(mean).div(std)
    let padded = d.paddedImageSize(imageSize)
    if padded != imageSize {
        normalized = try m.scope("backbone.net.pad") {
            try m.tracer.apply(.pad(PadAttributes(pads: [0, 0, 0, 0, 0, 0, padded[0] - height, padded[1] - width])),
                               [normalized])[0]
        }
    }
    return try m.scope(detectorBackbonePrefix) { try dinov2Backbone(m, d.backbone, image: normalized) }
}

/// The transformer's stages, then the last layer's logits and boxes, as the graph outputs
/// `DetectorDebugOutput` names (memory, proposal scores, top-k indices, initial reference,
/// per decoder layer its state and reference, logits, boxes).
private func outputTransformerStages(_ m: ModelContext, _ stages: DINOTransformerOutputs, logits: SymbolicTensor,
                                     boxes: SymbolicTensor, decoderLayers: Int) throws {
    try m.tracer.output(DetectorDebugOutput.memory, stages.memory)
    try m.tracer.output(DetectorDebugOutput.proposalScores, stages.proposalScores)
    try m.tracer.output(DetectorDebugOutput.topkIndices, stages.topkIndices)
    try m.tracer.output(DetectorDebugOutput.initialReference, stages.initialReference)
    for i in 0..<decoderLayers {
        try m.tracer.output(DetectorDebugOutput.state(i), stages.states[i])
        try m.tracer.output(DetectorDebugOutput.reference(i), stages.references[i])
    }
    try m.tracer.output(DetectorDebugOutput.logits, logits)
    try m.tracer.output(DetectorDebugOutput.boxes, boxes)
}

/// detrex `DINO.inference` and detectron2 `detector_postprocess` for one image: sigmoid
/// scores; top-`count` over queries × classes (query = index ÷ classes, label = index mod
/// classes); (cx, cy, w, h) → (x1, y1, x2, y2); scaled by the (unpadded) image width and
/// height; clipped to [0, W] × [0, H].
func postprocess(logits: SymbolicTensor, boxes: SymbolicTensor, count: Int,
                 imageSize: (height: Int, width: Int)) throws -> (boxes: SymbolicTensor, scores: SymbolicTensor, labels: SymbolicTensor, index: SymbolicTensor) {
    let (b, queries, classes) = (logits.dims[0], logits.dims[1], logits.dims[2])
    let tracer = logits.tracer
    let (scores, index) = try logits.sigmoid().reshape([b, queries * classes]).topK(count, axis: 1)
    let query = try index.div(index.scalar(Float(classes)))
    let labels = try index.sub(query.mul(index.scalar(Float(classes))))
    let gathered = try tracer.apply(.gatherElements(axis: 1), [boxes, query.unsqueeze([2]).expand([b, count, 4])])[0]
    let parts = try gathered.split(axis: 2, sizes: [1, 1, 1, 1])
    let (cx, cy, w, h) = (parts[0], parts[1], parts[2], parts[3])
    let corners = try concat([cx.sub(w.mul(0.5)), cy.sub(h.mul(0.5)), cx.add(w.mul(0.5)), cy.add(h.mul(0.5))], axis: 2)
    let (fh, fw) = (Float(imageSize.height), Float(imageSize.width))
    let size = tracer.constant(Tensor([fw, fh, fw, fh], shape: [4]), name: tracer.qualified("image_size"))
    let clipped = try corners.mul(size).maximum(corners.scalar(0)).minimum(size)
    return (clipped, scores, labels, index)
}

/// A detrex checkpoint carries the normalization it was trained with as `pixel_mean` and
/// `pixel_std` [3, 1, 1]; they must equal the configuration's.
private func checkPixelStatistics(_ m: ModelContext, _ d: DetectorConfig, source: String) throws {
    guard let checkpoint = m.parameters as? CheckpointParameters else { return }
    let problems = pixelStatisticsProblems(d) { checkpoint.tensors[$0]?.floats }
    if !problems.isEmpty { throw ConfigError(source: source, problems: problems) }
}

/// How the checkpoint's `pixel_mean`/`pixel_std` (`stored(key)`, nil when absent) differ from
/// the configuration's, one line each; empty when they agree or are absent.
public func pixelStatisticsProblems(_ d: DetectorConfig, stored: (String) -> [Float]?) -> [String] {
    var problems: [String] = []
    for (key, expected) in [("pixel_mean", d.pixelMean), ("pixel_std", d.pixelStd)] {
        guard let values = stored(key) else { continue }
        if values.count != expected.count || zip(values, expected).contains(where: { abs($0 - $1) > 1e-3 * max(1, abs($1)) }) {
            problems.append("detector.\(key): \(expected) differs from the checkpoint's \(key) \(values); set it to the checkpoint's values")
        }
    }
    return problems
}

/// Brings a detrex DINO state dict to the keys `traceDetector` requests: the heads detrex
/// also stores as `transformer.decoder.class_embed.*`/`bbox_embed.*` (the same modules) are
/// read from whichever copy exists; when both do, they must be equal.
public func normalizedDetectorCheckpoint(_ tensors: [String: Tensor], source: String) throws -> [String: Tensor] {
    let (out, conflicts) = normalizedDetectorKeys(tensors) { $0.shape == $1.shape && $0.floats == $1.floats }
    if !conflicts.isEmpty {
        throw CheckpointBindingError(source: source, missing: [], unexpected: conflicts, misshaped: [])
    }
    return out
}

/// `normalizedDetectorCheckpoint` for entries of any kind: the renamed entries, and the copies
/// that `same` finds unequal to their twin ("<key> differs from <twin>", sorted).
func normalizedDetectorKeys<V>(_ entries: [String: V], same: (V, V) -> Bool) -> (entries: [String: V], conflicts: [String]) {
    var out = entries
    var conflicts: [String] = []
    for (key, t) in entries where key.hasPrefix("transformer.decoder.class_embed.") || key.hasPrefix("transformer.decoder.bbox_embed.") {
        let canonical = String(key.dropFirst("transformer.decoder.".count))
        out[key] = nil
        if let twin = entries[canonical] {
            if !same(twin, t) { conflicts.append("\(key) differs from \(canonical)") }
        } else {
            out[canonical] = t
        }
    }
    return (out, conflicts.sorted())
}

/// Strict parameters for `traceDetector` from a detrex DINO checkpoint (safetensors or a
/// torch.save state dict, see `openCheckpoint`).
public func detectorCheckpointParameters(file: some CheckpointFile) throws -> CheckpointParameters {
    var tensors: [String: Tensor] = [:]
    for name in file.names { tensors[name] = try file.tensor(named: name) }
    return CheckpointParameters(tensors: try normalizedDetectorCheckpoint(tensors, source: file.path), source: file.path)
}

/// Traces a `dino-detector` configuration as `traceModel` does, with `options` (debug
/// outputs, features input). A strict parameter source is verified after tracing.
public func traceDetectorModel(_ config: ModelConfig, parameters: ParameterSource? = nil,
                               options: DetectorTraceOptions, budget: MemoryBudget = .physicalDefault) throws -> Graph {
    guard let d = config.detector else {
        throw ConfigError(source: config.source, problems: ["detector: required for architecture \"dino-detector\""])
    }
    let tracer = Tracer(name: config.name, budget: budget)
    let m = ModelContext(tracer: tracer, parameters: parameters ?? SeededParameters(seed: config.seed))
    try traceDetector(m, config, d, options: options)
    return try finishTrace(tracer, config, parameters: parameters)
}
