import VitIR
import VitModels
import VitPasses

/// Which model to trace and with which parameters: what a user names on the command line.
public struct ModelRequest: Sendable {
    /// An embedded configuration name (`ModelZoo`) or the path of a configuration JSON.
    public var model: String
    /// A safetensors checkpoint to bind strictly; nil: seeded parameters.
    public var weights: String?
    /// Prefix of the model's keys in `weights` (keys outside it are ignored).
    public var weightsPrefix: String?

    public init(model: String, weights: String? = nil, weightsPrefix: String? = nil) {
        self.model = model; self.weights = weights; self.weightsPrefix = weightsPrefix
    }
}

/// How a detector's intermediate stages appear in the traced graph (other architectures have
/// none; every policy traces them plainly).
public enum StagePolicy: Sendable {
    /// Not recorded: the graph the model code traces, nothing more.
    case none
    /// Recorded in `Graph.metadata[stageMetadataKey]` as the names of internal values (no extra
    /// outputs): what `verify` reads back from an exported file.
    case marked
    /// Extra graph outputs `debug.*` (`DetectorDebugOutput`), also recorded in the metadata.
    case outputs
}

/// How `loadModel` traces.
public struct TraceSettings: Sendable {
    public var stages: StagePolicy
    /// The pass pipeline's options; nil leaves the graph as traced.
    public var passes: PassOptions?

    public init(stages: StagePolicy = .marked, passes: PassOptions? = PassOptions()) {
        self.stages = stages; self.passes = passes
    }
}

/// A traced (and, per `TraceSettings.passes`, optimized) model.
public struct LoadedModel: Sendable {
    public var config: ModelConfig
    public var graph: Graph
    /// Nodes as traced, before the passes.
    public var tracedNodeCount: Int
}

/// A failure to load, bind or trace a model; `description` is one message for the user.
public struct ModelLoadError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// The one entry point for tracing a model: loads the configuration `request.model`, binds
/// `request.weights` strictly (detectors read detrex state dicts, see
/// `checkpointParameters`), traces, runs the pass pipeline and, for a detector, records its
/// stages per `settings.stages`. Every failure is a `ModelLoadError`.
public func loadModel(_ request: ModelRequest, settings: TraceSettings = TraceSettings()) throws(ModelLoadError) -> LoadedModel {
    let config = try loadConfig(request.model)
    let parameters = try request.weights.map { (weights: String) throws(ModelLoadError) -> ParameterSource in
        try checkpointParameters(for: config, weights: weights, prefix: request.weightsPrefix)
    }
    var graph: Graph
    do {
        if config.architecture == .detector && settings.stages != .none {
            graph = try traceDetectorModel(config, parameters: parameters, options: DetectorTraceOptions(debugOutputs: true))
        } else {
            graph = try traceModel(config, parameters: parameters)
        }
    } catch let error as TraceError {
        throw ModelLoadError("tracing \(config.name) failed: \(error)")
    } catch {
        throw ModelLoadError("\(error)")
    }
    let traced = graph.nodes.count
    do {
        if let passes = settings.passes { _ = try optimize(&graph, options: passes) }
        if config.architecture == .detector && settings.stages != .none {
            try recordStages(&graph, keepOutputs: settings.stages == .outputs, passes: settings.passes)
        }
    } catch {
        throw ModelLoadError("optimizing \(config.name) failed: \(error)")
    }
    return LoadedModel(config: config, graph: graph, tracedNodeCount: traced)
}

/// The configuration `model` names, its errors as one `ModelLoadError`.
public func loadConfig(_ model: String) throws(ModelLoadError) -> ModelConfig {
    do { return try ModelConfig.load(model) } catch { throw ModelLoadError("\(error)") }
}

/// Strict parameters from the safetensors file `weights` for `config`: a detector without a
/// prefix reads a detrex DINO state dict (whose shared heads are stored twice; either copy
/// binds), everything else the keys under `prefix`.
public func checkpointParameters(for config: ModelConfig, weights: String, prefix: String?) throws(ModelLoadError) -> ParameterSource {
    do {
        let file = try SafetensorsFile(path: weights)
        if config.architecture == .detector && prefix == nil {
            return try detectorCheckpointParameters(file: file)
        }
        return try CheckpointParameters(file: file, prefix: prefix ?? "")
    } catch {
        throw ModelLoadError("\(error)")
    }
}
