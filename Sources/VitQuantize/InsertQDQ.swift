import VitIR
import VitInterp
import VitPasses

/// What the QDQ rewrite did.
public struct QuantizationReport: Sendable {
    /// Quantized nodes per ONNX op name.
    public var quantizedByOp: [String: Int] = [:]
    public var quantizedActivations = 0
    public var keptFloat: [(node: String, reason: String)] = []
    /// Initializer bytes before and after.
    public var parameterBytes: (before: Int, after: Int) = (0, 0)
}

/// The QDQ rewrite (after the pass pipeline; nothing may fold afterwards, or the weights'
/// DequantizeLinear would fold back to float). Contract:
/// - every planned node's weight input W (float32 initializer) reads
///   DequantizeLinear(W_quantized int8, W_scale per output channel along the plan's axis,
///   zero point 0): symmetric, scale = max|W| / 127 per channel (1 for an all-zero channel),
///   so every value lies in [−127, 127] (63 and [−63, 63] with `settings.reduceRange`); W
///   itself is dropped once nothing else reads it;
/// - every planned activation input v reads DequantizeLinear(QuantizeLinear(v, s, z), s, z),
///   one pair per value shared by all its quantized consumers, placed before the first of them:
///   uint8 asymmetric (s = (upper − lower) / 255, z = round(−lower / s)) or int8 symmetric
///   (s = max|range| / 127, z = 0) from `ranges[v]`;
/// - new values and nodes are named `<W>_quantized`, `<W>_scale`, `<W>_dequantized`,
///   `<v>_quantized`, … (made unique), carrying the consumer's scope and source line;
/// - graph inputs, outputs and every existing value name are unchanged.
public func insertQDQ(_ graph: inout Graph, plan: QuantizationPlan, ranges: [String: ActivationRange],
                      settings: QuantizationSettings) throws(QuantizationError) -> QuantizationReport {
    var report = QuantizationReport()
    report.keptFloat = plan.keptFloat
    report.parameterBytes.before = graph.parameterStats.bytes
    var rewriter = QDQRewriter(graph: graph, activationType: settings.activationType, weightMax: settings.weightMax)
    let planned = Dictionary(uniqueKeysWithValues: plan.nodes.map { ($0.node, $0) })
    var nodes: [Node] = []
    for (k, original) in graph.nodes.enumerated() {
        var node = original
        if let q = planned[k] {
            for i in q.activationInputs {
                let name = rewriter.graph.name(of: node.inputs[i])
                guard let range = ranges[name] else { throw QuantizationError("no calibrated range for activation '\(name)'") }
                node.inputs[i] = try rewriter.activation(node.inputs[i], range: range, consumer: original, into: &nodes)
            }
            if let w = q.weight {
                node.inputs[w.input] = try rewriter.weight(node.inputs[w.input], axis: w.axis, consumer: original, into: &nodes)
            }
            report.quantizedByOp[original.op.name, default: 0] += 1
        }
        nodes.append(node)
    }
    report.quantizedActivations = rewriter.activationPairs.count
    graph = rewriter.graph
    graph.nodes = nodes
    do {
        _ = try eliminateDeadCode(&graph)
        try verify(graph)
    } catch {
        throw QuantizationError("the quantized graph is invalid: \(error)")
    }
    report.parameterBytes.after = graph.parameterStats.bytes
    return report
}

/// Builds the QDQ values and nodes; remembers what it made so shared inputs share them.
struct QDQRewriter {
    var graph: Graph
    let activationType: DType
    /// The largest quantized weight magnitude (127, or 63 for reduced range).
    let weightMax: Float
    var valueNames: Set<String>
    var nodeNames: Set<String>
    var activationPairs: [ValueID: ValueID] = [:]
    var weights: [ValueID: ValueID] = [:]

    init(graph: Graph, activationType: DType, weightMax: Float) {
        self.graph = graph
        self.activationType = activationType
        self.weightMax = weightMax
        valueNames = Set(graph.values.map(\.name))
        nodeNames = Set(graph.nodes.map(\.name))
    }

    mutating func value(_ base: String, _ type: TensorType) -> ValueID {
        graph.addValue(name: uniqueName(base, in: &valueNames), type: type)
    }

    mutating func constant(_ base: String, _ tensor: Tensor) -> ValueID {
        let id = value(base, tensor.type)
        graph.initializers[id] = tensor
        return id
    }

    /// Appends a node for `op` named `<base>/<op name>` in the consumer's scope.
    mutating func node(_ op: Op, _ base: String, _ inputs: [ValueID], output: ValueID, consumer: Node, into nodes: inout [Node]) {
        let name = uniqueName("\(base)/\(op.name)", in: &nodeNames)
        nodes.append(Node(name: name, op: op, inputs: inputs, outputs: [output], scope: consumer.scope, location: consumer.location))
    }

    /// The dequantized form of activation `v` (made once).
    mutating func activation(_ v: ValueID, range: ActivationRange, consumer: Node, into nodes: inout [Node]) throws(QuantizationError) -> ValueID {
        if let done = activationPairs[v] { return done }
        let base = graph.name(of: v)
        let (scale, zero) = activationScale(range, activationType)
        let s = constant("\(base)_scale", Tensor.scalar(scale))
        let zeroTensor = activationType == .int8 ? Tensor([Int8(zero)], shape: []) : Tensor([UInt8(zero)], shape: [])
        let z = constant("\(base)_zero_point", zeroTensor)
        let type = graph.type(of: v)
        let q = value("\(base)_quantized", TensorType(activationType, type.shape))
        node(.quantizeLinear(QuantizeAttributes(outputDType: activationType)), base, [v, s, z], output: q, consumer: consumer, into: &nodes)
        let dq = value("\(base)_dequantized", type)
        node(.dequantizeLinear(), base, [q, s, z], output: dq, consumer: consumer, into: &nodes)
        activationPairs[v] = dq
        return dq
    }

    /// The dequantized form of weight `w` (made once), per output channel along `axis`.
    mutating func weight(_ w: ValueID, axis: Int, consumer: Node, into nodes: inout [Node]) throws(QuantizationError) -> ValueID {
        if let done = weights[w] { return done }
        let base = graph.name(of: w)
        guard let tensor = graph.initializers[w] else { throw QuantizationError("weight '\(base)' is not an initializer") }
        let scales = try channelScales(tensor, axis: axis, name: base, levels: weightMax)
        let scaleTensor = Tensor(scales, shape: [scales.count])
        let quantized: Tensor
        do {
            quantized = try evaluate(.quantizeLinear(QuantizeAttributes(axis: axis, outputDType: .int8)),
                                     [tensor, scaleTensor, Tensor(Array(repeating: Int8(0), count: scales.count), shape: [scales.count])])[0]
        } catch {
            throw QuantizationError("quantizing weight '\(base)': \(error)")
        }
        let q = constant("\(base)_quantized", quantized)
        let s = constant("\(base)_scale", scaleTensor)
        let z = constant("\(base)_zero_point", Tensor(Array(repeating: Int8(0), count: scales.count), shape: [scales.count]))
        let dq = value("\(base)_dequantized", tensor.type)
        node(.dequantizeLinear(axis: axis), base, [q, s, z], output: dq, consumer: consumer, into: &nodes)
        weights[w] = dq
        return dq
    }
}

/// Per-channel symmetric int8 scales max|W| / `levels` along `axis` (1 for an all-zero channel;
/// at least the smallest normal float, so a tiny channel's scale never underflows to 0).
func channelScales(_ w: Tensor, axis: Int, name: String, levels: Float = 127) throws(QuantizationError) -> [Float] {
    let channels = w.shape[axis], inner = w.shape[(axis + 1)...].reduce(1, *)
    var absMax = Array(repeating: Float(0), count: channels)
    for (i, v) in w.floats.enumerated() {
        guard v.isFinite else { throw QuantizationError("weight '\(name)' holds \(v); cannot quantize it") }
        let c = (i / inner) % channels
        absMax[c] = Swift.max(absMax[c], Swift.abs(v))
    }
    return absMax.map { $0 == 0 ? 1 : Swift.max($0 / levels, Float.leastNormalMagnitude) }
}

/// Scale and zero point of an activation range: uint8 asymmetric over [lower, upper], int8
/// symmetric over [−absMax, absMax]. An empty range (all zeros) gets scale 1, zero point 0.
public func activationScale(_ r: ActivationRange, _ type: DType) -> (scale: Float, zeroPoint: Int) {
    if type == .int8 {
        let t = r.absMax
        return t > 0 ? (Swift.max(t / 127, Float.leastNormalMagnitude), 0) : (1, 0)
    }
    let width = r.upper - r.lower
    guard width > 0, width.isFinite else { return (1, 0) }
    let scale = Swift.max(width / 255, Float.leastNormalMagnitude)
    let zero = Swift.min(Swift.max((-r.lower / scale).rounded(.toNearestOrEven), 0), 255)
    return (scale, Int(zero))
}
