import VitIR
import VitModels
import VitPasses

/// Which model to trace and with which parameters: what a user names on the command line.
public struct ModelRequest: Sendable {
    /// An embedded configuration name (`ModelZoo`) or the path of a configuration JSON.
    public var model: String
    /// A checkpoint (safetensors or a PyTorch `.pth`, told apart by content) to bind
    /// strictly; nil: seeded parameters.
    public var weights: String?
    /// Prefix of the model's keys in `weights` (keys outside it are ignored).
    public var weightsPrefix: String?
    /// The entry of a PyTorch checkpoint holding the state dict (default: detected).
    public var weightsKey: String?
    /// Tracing, checkpoint copies and seeded parameters stay within this.
    public var budget: MemoryBudget

    public init(model: String, weights: String? = nil, weightsPrefix: String? = nil, weightsKey: String? = nil,
                budget: MemoryBudget = .physicalDefault) {
        self.model = model; self.weights = weights; self.weightsPrefix = weightsPrefix
        self.weightsKey = weightsKey; self.budget = budget
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
    /// Images per run: the leading extent of every graph input and output
    /// (1…`InputLimits.maxBatch`).
    public var batch: Int
    /// Called as each phase starts ("reading weights", "tracing", "folding"), for progress
    /// display and timing.
    public var onPhase: (@Sendable (String) -> Void)?
    /// The precision the graph is converted to after the passes (`convertPrecision`).
    public var precision: Precision
    /// The regions `Precision.mixed` keeps in float32.
    public var policy: MixedPolicy

    public init(stages: StagePolicy = .marked, passes: PassOptions? = PassOptions(), batch: Int = 1,
                precision: Precision = .fp32, policy: MixedPolicy = .standard, onPhase: (@Sendable (String) -> Void)? = nil) {
        self.stages = stages; self.passes = passes; self.batch = batch; self.precision = precision; self.policy = policy
        self.onPhase = onPhase
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
public struct ModelLoadError: ProblemListing, @unchecked Sendable {
    public var message: String
    /// The library error behind it, when it lists problems (shown in full on request).
    public var listing: (any ProblemListing)?
    public init(_ description: String) { message = description }
    public init(_ error: any Error) {
        message = "\(error)"
        listing = error as? any ProblemListing
    }
    public func description(limit: Int?) -> String { listing?.description(limit: limit) ?? message }
}

/// The one entry point for tracing a model: loads the configuration `request.model`, binds
/// `request.weights` strictly (detectors read detrex state dicts, see
/// `checkpointParameters`), traces, runs the pass pipeline and, for a detector, records its
/// stages per `settings.stages`, then converts it to `settings.precision`. Every failure is a
/// `ModelLoadError`.
public func loadModel(_ request: ModelRequest, settings: TraceSettings = TraceSettings()) throws(ModelLoadError) -> LoadedModel {
    let config = try loadConfig(request.model)
    let parameters = try request.weights.map { (weights: String) throws(ModelLoadError) -> ParameterSource in
        settings.onPhase?("reading weights")
        do {
            return try checkpointParameters(for: config, path: weights, weightsKey: request.weightsKey,
                                            prefix: request.weightsPrefix, budget: request.budget)
        } catch {
            throw ModelLoadError(error)
        }
    }
    var graph: Graph
    settings.onPhase?("tracing")
    do {
        if config.architecture == .detector && settings.stages != .none {
            graph = try traceDetectorModel(config, parameters: parameters,
                                           options: DetectorTraceOptions(debugOutputs: true, batch: settings.batch),
                                           budget: request.budget)
        } else {
            graph = try traceModel(config, parameters: parameters, budget: request.budget, batch: settings.batch)
        }
    } catch let error as TraceError {
        throw ModelLoadError("tracing \(config.name) failed: \(error)")
    } catch {
        throw ModelLoadError(error)
    }
    let traced = graph.nodes.count
    if settings.passes != nil { settings.onPhase?("folding") }
    do {
        if let passes = settings.passes { _ = try optimize(&graph, options: passes) }
        if config.architecture == .detector && settings.stages != .none {
            try recordStages(&graph, keepOutputs: settings.stages == .outputs, passes: settings.passes)
        }
        try convertPrecision(&graph, to: settings.precision, policy: settings.policy)
    } catch {
        throw ModelLoadError("optimizing \(config.name) failed: \(error)")
    }
    return LoadedModel(config: config, graph: graph, tracedNodeCount: traced)
}

/// The configuration `model` names, its errors as one `ModelLoadError`.
public func loadConfig(_ model: String) throws(ModelLoadError) -> ModelConfig {
    do { return try ModelConfig.load(model) } catch { throw ModelLoadError(error) }
}

