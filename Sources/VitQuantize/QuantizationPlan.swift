import VitIR

/// Which nodes stay in float although the op could be quantized: the stated policy.
///
/// Default (measured on dino-tiny with the fixture weights, see README "int8"): weighted
/// MatMul/Gemm/Conv/ConvTranspose are quantized except
/// - `sampling_offsets` (deformable attention): the offsets move the sampled points, and an
///   error of one quantization step moves them by up to a step of the feature map;
/// - `bbox_embed` (box regression heads): their output is the box itself;
/// - MatMuls of two activations (attention scores and attention · values): the softmax's
///   output has most values near 0 and a few near 1, which one per-tensor scale serves badly.
public struct QuantizationPolicy: Sendable, Equatable {
    /// Scope components whose nodes stay in float (`bbox_embed` matches
    /// `transformer.decoder.bbox_embed.0.layers.0`).
    public var floatScopeComponents: [String]
    /// Whether MatMuls whose two operands are activations are quantized (both operands).
    public var quantizeActivationProducts: Bool

    public init(floatScopeComponents: [String] = ["sampling_offsets", "bbox_embed"], quantizeActivationProducts: Bool = false) {
        self.floatScopeComponents = floatScopeComponents
        self.quantizeActivationProducts = quantizeActivationProducts
    }

    /// Everything quantizable is quantized (to measure what the default policy saves).
    public static let everything = QuantizationPolicy(floatScopeComponents: [], quantizeActivationProducts: true)
}

/// How a graph is quantized.
public struct QuantizationSettings: Sendable {
    /// Activations: uint8 (asymmetric, zero point from the range) or int8 (symmetric, zero
    /// point 0). Weights are always symmetric int8 per output channel.
    public var activationType: DType
    /// Module scopes kept in float: a node whose scope is one of these or lies under one
    /// (`backbone` covers `backbone.net.…`) is left alone.
    public var excludedScopes: [String]
    public var policy: QuantizationPolicy
    /// Weights in [−63, 63] (7 bits) instead of [−127, 127]. x86 CPUs without VNNI multiply
    /// uint8 activations by int8 weights with AVX2's vpmaddubsw, which adds the products in
    /// pairs into saturating 16-bit sums: 2 · 255 · 127 overflows them, 2 · 255 · 63 cannot.
    /// onnxruntime's and OpenVINO's CPU kernels do this (onnxruntime's `reduce_range`).
    public var reduceRange: Bool

    /// The largest weight magnitude: 63 with `reduceRange`, else 127.
    public var weightMax: Float { reduceRange ? 63 : 127 }

    public init(activationType: DType = .uint8, excludedScopes: [String] = [], policy: QuantizationPolicy = QuantizationPolicy(),
                reduceRange: Bool = false) {
        self.activationType = activationType; self.excludedScopes = excludedScopes; self.policy = policy
        self.reduceRange = reduceRange
    }
}

/// One node to quantize: its float weight input (per-channel along `axis`), if any, and the
/// activation inputs to put behind QuantizeLinear → DequantizeLinear pairs.
public struct QuantizedNode: Sendable, Equatable {
    public var node: Int
    public var weight: (input: Int, axis: Int)?
    public var activationInputs: [Int]

    public static func == (a: QuantizedNode, b: QuantizedNode) -> Bool {
        a.node == b.node && a.weight?.input == b.weight?.input && a.weight?.axis == b.weight?.axis
            && a.activationInputs == b.activationInputs
    }
}

/// What `planQuantization` chose: the nodes to quantize (in graph order), the activation
/// values needing ranges (in first-use order) and every quantizable node kept in float with why.
public struct QuantizationPlan: Sendable {
    public var nodes: [QuantizedNode] = []
    public var activations: [String] = []
    public var keptFloat: [(node: String, reason: String)] = []
}

/// True when `scope` is `prefix` or lies under it (component-wise: `backbone` covers
/// `backbone.net` but not `backbone2`).
public func isScope(_ scope: String, under prefix: String) -> Bool {
    scope == prefix || scope.hasPrefix(prefix + ".")
}

/// Chooses the nodes to quantize. An `excludedScopes` entry that covers no node's scope is an
/// error naming it and the graph's top-level scopes.
public func planQuantization(_ graph: Graph, settings: QuantizationSettings) throws(QuantizationError) -> QuantizationPlan {
    guard settings.activationType.isQuantized else {
        throw QuantizationError("activation type must be uint8 or int8, got \(settings.activationType.rawValue)")
    }
    for excluded in settings.excludedScopes where !graph.nodes.contains(where: { isScope($0.scope, under: excluded) }) {
        let tops = Set(graph.nodes.compactMap { $0.scope.split(separator: ".").first.map(String.init) }).sorted()
        throw QuantizationError("--exclude \(excluded): no node has scope \(excluded) (top-level scopes: \(tops.joined(separator: ", ")))")
    }
    var plan = QuantizationPlan()
    var seen = Set<String>()
    for (k, node) in graph.nodes.enumerated() {
        guard let candidate = quantizableInputs(node, k, graph, settings.policy) else { continue }
        if let excluded = settings.excludedScopes.first(where: { isScope(node.scope, under: $0) }) {
            plan.keptFloat.append((node.name, "--exclude \(excluded)"))
            continue
        }
        let components = node.scope.split(separator: ".").map(String.init)
        if let sensitive = settings.policy.floatScopeComponents.first(where: components.contains) {
            plan.keptFloat.append((node.name, "policy: \(sensitive) stays float"))
            continue
        }
        guard case .success(let q) = candidate else {
            if case .failure(let reason) = candidate { plan.keptFloat.append((node.name, reason.description)) }
            continue
        }
        plan.nodes.append(q)
        for i in q.activationInputs {
            let name = graph.name(of: node.inputs[i])
            if seen.insert(name).inserted { plan.activations.append(name) }
        }
    }
    return plan
}

/// The quantization of one node, a reason it stays float, or nil for ops that are never
/// quantized. Weights are float32 initializers; MatMul's weight is a rank-2 B.
private func quantizableInputs(_ node: Node, _ k: Int, _ graph: Graph,
                               _ policy: QuantizationPolicy) -> Result<QuantizedNode, QuantizationError>? {
    func isConstant(_ i: Int) -> Bool { graph.initializers[node.inputs[i]] != nil }
    func isFloat32(_ i: Int) -> Bool { graph.type(of: node.inputs[i]).dtype == .float32 }
    let weightAxis: Int
    switch node.op {
    case .linearAlgebra(.matMul):
        if !isConstant(0), !isConstant(1) {
            guard policy.quantizeActivationProducts else { return .failure(QuantizationError("policy: product of two activations stays float")) }
            guard isFloat32(0), isFloat32(1) else { return .failure(QuantizationError("not float32")) }
            return .success(QuantizedNode(node: k, weight: nil, activationInputs: [0, 1]))
        }
        guard graph.type(of: node.inputs[1]).shape.rank == 2 else { return .failure(QuantizationError("weight is not a rank-2 B")) }
        weightAxis = 1
    case .linearAlgebra(.gemm(let g)):
        weightAxis = g.transB ? 0 : 1
    case .convolution(.conv):
        weightAxis = 0
    case .convolution(.convTranspose):
        weightAxis = 1
    default:
        return nil
    }
    guard isConstant(1), !isConstant(0) else { return .failure(QuantizationError("weight is not a constant B with an activation A")) }
    guard isFloat32(0), isFloat32(1) else { return .failure(QuantizationError("not float32")) }
    return .success(QuantizedNode(node: k, weight: (1, weightAxis), activationInputs: [0]))
}
