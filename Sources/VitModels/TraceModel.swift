import VitIR

/// Traces the model a configuration describes, with parameters from `parameters` (seeded
/// random ones from the config's seed when nil), for `batch` images (the leading extent of
/// every graph input and output; 1…`InputLimits.maxBatch`). Metadata records the config's
/// identity.
public func traceModel(_ config: ModelConfig, parameters: ParameterSource? = nil,
                       budget: MemoryBudget = .physicalDefault, batch: Int = 1) throws -> Graph {
    try checkBatch(batch, config)
    let tracer = Tracer(name: config.name, budget: budget)
    let m = ModelContext(tracer: tracer, parameters: parameters ?? SeededParameters(seed: config.seed))
    switch config.architecture {
    case .convAttention:
        guard let c = config.convAttention else {
            throw ConfigError(source: config.source, problems: ["conv_attention: required for architecture \"conv-attention\""])
        }
        try traceConvAttention(m, config, c, batch: batch)
    case .dinov2:
        guard let c = config.dinov2 else {
            throw ConfigError(source: config.source, problems: ["dinov2: required for architecture \"dinov2\""])
        }
        try traceDINOv2(m, config, c, batch: batch)
    case .detector:
        guard let d = config.detector else {
            throw ConfigError(source: config.source, problems: ["detector: required for architecture \"dino-detector\""])
        }
        try traceDetector(m, config, d, options: DetectorTraceOptions(batch: batch))
    }
    return try finishTrace(tracer, config, parameters: parameters)
}

/// Ends a model trace: checks that a strict checkpoint bound every key, verifies the graph and
/// records the configuration's identity in its metadata (carried to ONNX `metadata_props`).
func finishTrace(_ tracer: Tracer, _ config: ModelConfig, parameters: ParameterSource?) throws -> Graph {
    if let strict = parameters as? StrictParameterSource { try strict.verifyBinding() }
    var graph = try tracer.finish()
    graph.metadata["vitexport.model"] = config.name
    graph.metadata["vitexport.model_config_fnv1a"] = config.fingerprint
    graph.metadata["vitexport.image_size"] = config.imageSize.map(String.init).joined(separator: "x")
    graph.metadata["vitexport.weights"] = parameters == nil ? "seeded-random:\(config.seed)" : "checkpoint"
    return graph
}

/// Fails with a `ConfigError` naming the batch when it is outside 1…`InputLimits.maxBatch`.
func checkBatch(_ batch: Int, _ config: ModelConfig) throws {
    if let problem = InputLimits.batchProblem(batch) {
        throw ConfigError(source: config.source, problems: ["batch: \(problem)"])
    }
}
