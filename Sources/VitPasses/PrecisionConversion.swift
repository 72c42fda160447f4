import VitIR
import VitInterp

/// Parts of a graph the mixed-precision policy can keep in float32. Each is a predicate on a
/// node (`contains`); `MixedPolicy.standard` names the ones the measurement chose.
public enum PrecisionRegion: String, CaseIterable, Sendable, Comparable {
    /// LayerNormalization and GroupNormalization (their inputs, statistics and outputs).
    case normalization
    /// Softmax (attention probabilities, deformable attention weights).
    case softmax
    /// ReduceMean, ReduceSum, ReduceMax.
    case reductions
    /// Sin and Cos: the decoder's sine embedding of its reference boxes.
    case sineEmbedding = "sine-embedding"
    /// TopK (query selection, detections) and everything traced in scope `postprocess`.
    case selection
    /// Log and Sigmoid: inverse-sigmoid box refinement and the sigmoid that decodes boxes.
    case boxDecoding = "box-decoding"
    /// GridSample: deformable attention's sampling (its locations and sampled values).
    case sampling

    public static func < (a: PrecisionRegion, b: PrecisionRegion) -> Bool { a.rawValue < b.rawValue }

    /// Whether `node` belongs to this region.
    public func contains(_ node: Node) -> Bool { PrecisionRegion.region(of: node) == self }

    /// The region `node` belongs to, if any.
    public static func region(of node: Node) -> PrecisionRegion? {
        if node.scope == "postprocess" || node.scope.hasPrefix("postprocess.") { return .selection }
        switch node.op {
        case .normalization(.layerNormalization), .normalization(.groupNormalization): return .normalization
        case .normalization(.softmax): return .softmax
        case .reduction(.topK): return .selection
        case .reduction: return .reductions
        case .elementwise(.sin), .elementwise(.cos): return .sineEmbedding
        case .elementwise(.log), .elementwise(.sigmoid): return .boxDecoding
        case .sampling(.gridSample): return .sampling
        default: return nil
        }
    }
}

/// Which regions `Precision.mixed` keeps in float32. Around them, cheap elementwise and data
/// movement nodes join the float32 side when every float input comes from it (forward) or
/// every use goes to it (backward), so Casts sit where heavy float16 ops (MatMul, Gemm, Conv,
/// Resize, …) meet the float32 regions rather than around single Adds and Reshapes.
public struct MixedPolicy: Sendable, Equatable {
    public var float32Regions: Set<PrecisionRegion>
    public init(float32Regions: Set<PrecisionRegion>) { self.float32Regions = float32Regions }

    /// The default policy, chosen by measurement on the default detector (seeded weights,
    /// teacher-forced, README "Precision"): keeping one region float32 at a time, sampling
    /// halved the encoder memory's error (4.2e-3 → 2.1e-3 norm-relative), box decoding and
    /// normalization cut the logits' (6.6e-3 → 5.4e-3, 5.8e-3) and boxes' (2.5e-3 → 2.1e-3,
    /// 2.2e-3) errors, reductions and selection raised the matched detections (97.7% → 99.0%,
    /// 98.7%); softmax and the sine embedding changed no figure by more than 3%, so they run
    /// float16.
    public static let standard = MixedPolicy(float32Regions: [.normalization, .reductions, .selection, .boxDecoding,
                                                              .sampling])
}

/// `metadata_props` key recording a converted graph's precision (`fp16`, or `mixed; float32:`
/// and the policy's regions).
public let precisionMetadataKey = "vitexport.precision"

/// A failure of `convertPrecision` (a precision it does not produce, or a graph that breaks
/// the type rules after conversion).
public struct PrecisionConversionError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// Converts a float32 graph to `precision` (after folding, before export).
///
/// Contract:
/// - fp32: unchanged (returns false). fp16: every float32 value and constant becomes float16.
///   mixed: nodes in `policy`'s regions (and the cheap nodes that join them, see `MixedPolicy`)
///   stay float32, the rest becomes float16. int8 is not this pass's (throws).
/// - Graph inputs and outputs keep their names and float32 type: a Cast to float16 follows an
///   input, a Cast to float32 precedes an output produced in float16.
/// - Integer and bool values are never touched; a node's float inputs all take its side's type
///   (ONNX's type constraints tie them: LayerNormalization's scale/bias to X, Concat's inputs, …).
/// - Constants are converted directly (rounded to nearest even), never through Cast nodes; a
///   constant used on both sides is kept once per type (`<name>.float16`).
/// - A Cast is inserted only where a value crosses sides, once per value and type, and never
///   after another Cast: a crossing value that a Cast made is cast again from that Cast's
///   source. The model's own Casts to float32 produce their side's float type.
/// - The result passes `verify` (every shape rule holds with the new types); its metadata
///   records the precision under `precisionMetadataKey`.
@discardableResult
public func convertPrecision(_ graph: inout Graph, to precision: Precision,
                             policy: MixedPolicy = .standard) throws -> Bool {
    switch precision {
    case .fp32: return false
    case .int8: throw PrecisionConversionError("int8 is made by quantization, not by precision conversion")
    case .fp16, .mixed: break
    }
    var conversion = PrecisionConversion(graph: graph, precision: precision, policy: policy)
    conversion.assignSides()
    graph = try conversion.rewrite()
    graph.metadata[precisionMetadataKey] = precision == .fp16 ? "fp16"
        : "mixed; float32: " + policy.float32Regions.sorted().map(\.rawValue).joined(separator: ",")
    _ = try simplify(&graph)
    _ = try eliminateDeadCode(&graph)
    do { try verify(graph) } catch {
        throw PrecisionConversionError("the \(precision.rawValue) graph breaks a type rule: \(error)")
    }
    return true
}

/// The working state of one `convertPrecision`: which side (float16 or float32) each node
/// computes on, then the rewritten graph.
struct PrecisionConversion {
    let source: Graph
    let precision: Precision
    let policy: MixedPolicy
    /// Per node: computes in float16.
    var low: [Bool]
    private let producers: [ValueID: Int]
    private let consumers: [[Int]]
    private let outputSet: Set<ValueID>

    init(graph: Graph, precision: Precision, policy: MixedPolicy) {
        source = graph
        self.precision = precision
        self.policy = policy
        low = Array(repeating: false, count: graph.nodes.count)
        producers = graph.producers()
        var uses = Array(repeating: [Int](), count: graph.values.count)
        for (i, n) in graph.nodes.enumerated() { for v in Set(n.inputs) { uses[v.index].append(i) } }
        consumers = uses
        outputSet = Set(graph.outputs)
    }

    private func isFloat32(_ v: ValueID) -> Bool { source.type(of: v).dtype == .float32 }
    private func isConstant(_ v: ValueID) -> Bool { source.initializers[v] != nil }

    /// Whether the node has float32 data to convert. Never PseudoInverse (a folding helper) nor
    /// Range (Range-11 has no float16; a Cast follows it where float16 uses it).
    private func convertible(_ node: Node) -> Bool {
        if node.op == .pseudoInverse { return false }
        if case .movement(.range) = node.op { return false }
        return (node.inputs + node.outputs).contains(where: isFloat32)
            || node.op == .cast(to: .float32)
    }

    /// Cheap nodes that may change side to keep Casts away from single elementwise ops.
    private func isCheap(_ node: Node) -> Bool {
        switch node.op {
        case .elementwise, .movement: true
        default: false
        }
    }

    /// Decides each node's side: fp16 all convertible nodes; mixed the policy's regions in
    /// float32, then the forward and backward closures of `MixedPolicy` to a fixed point.
    mutating func assignSides() {
        for (i, node) in source.nodes.enumerated() where convertible(node) {
            low[i] = precision == .fp16 || !(PrecisionRegion.region(of: node).map(policy.float32Regions.contains) ?? false)
        }
        guard precision == .mixed else { return }
        var changed = true
        while changed {
            changed = false
            for (i, node) in source.nodes.enumerated() where low[i] && isCheap(node) {
                if joinsFloat32Forward(node) || joinsFloat32Backward(node) { low[i] = false; changed = true }
            }
        }
    }

    /// Every non-constant float input comes from the float32 side (or a graph input), and
    /// there is at least one.
    private func joinsFloat32Forward(_ node: Node) -> Bool {
        let floats = node.inputs.filter { isFloat32($0) && !isConstant($0) }
        return !floats.isEmpty && floats.allSatisfy { v in producers[v].map { !low[$0] } ?? true }
    }

    /// Every use of every float output is on the float32 side (or a graph output).
    private func joinsFloat32Backward(_ node: Node) -> Bool {
        let floats = node.outputs.filter(isFloat32)
        return !floats.isEmpty && floats.allSatisfy { v in
            consumers[v.index].allSatisfy { !low[$0] } && (!consumers[v.index].isEmpty || outputSet.contains(v))
        }
    }
}

extension PrecisionConversion {
    /// The graph with the sides applied: output types, converted constants, boundary Casts.
    func rewrite() throws -> Graph {
        var g = source
        g.nodes = []
        var builder = BoundaryBuilder(graph: g, constantUses: constantUses())
        for (i, var node) in source.nodes.enumerated() {
            let side: DType = low[i] ? .float16 : .float32
            if low[i] {
                for o in node.outputs where isFloat32(o) { builder.graph.values[o.index].type.dtype = .float16 }
                if node.op == .cast(to: .float32) { node.op = .cast(to: .float16) }
            }
            if case .elementwise(.cast) = node.op {
                // A Cast takes any float type: its input stays as it is.
            } else {
                node.inputs = try node.inputs.map { v in
                    isFloat32(v) ? try builder.value(v, as: side, before: node.name) : v
                }
            }
            builder.append(node)
        }
        builder.restoreOutputs(source.outputs)
        return builder.graph
    }

    /// Per float32 constant: the float types its uses want.
    private func constantUses() -> [ValueID: Set<DType>] {
        var uses: [ValueID: Set<DType>] = [:]
        for (i, node) in source.nodes.enumerated() {
            if case .elementwise(.cast) = node.op { continue }
            for v in node.inputs where isFloat32(v) && isConstant(v) {
                uses[v, default: []].insert(low[i] ? .float16 : .float32)
            }
        }
        for v in source.outputs where isConstant(v) && isFloat32(v) { uses[v, default: []].insert(.float32) }
        return uses
    }
}

/// Converted constants and boundary Casts, each made once, added to `graph` as nodes are
/// appended in order.
struct BoundaryBuilder {
    var graph: Graph
    /// Converted constants and Cast outputs by (source value, type).
    private var made: [ValueID: [DType: ValueID]] = [:]
    private var producers: [ValueID: Int] = [:]
    private var names: Set<String>

    init(graph: Graph, constantUses: [ValueID: Set<DType>]) {
        self.graph = graph
        names = Set(graph.values.map(\.name))
        for n in graph.nodes { names.insert(n.name) }
        for (v, wanted) in constantUses.sorted(by: { $0.key < $1.key }) {
            guard wanted.contains(.float16), let t = self.graph.initializers[v] else { continue }
            let half = (try? evaluate(.cast(to: .float16), [t]))?.first ?? t
            if wanted == [.float16] {
                self.graph.initializers[v] = half
                self.graph.values[v.index].type.dtype = .float16
            } else {
                let copy = self.graph.addValue(name: unique("\(self.graph.name(of: v)).float16"), type: half.type)
                self.graph.initializers[copy] = half
                made[v, default: [:]][.float16] = copy
            }
        }
    }

    private mutating func unique(_ base: String) -> String {
        var name = base, k = 1
        while names.contains(name) { name = "\(base)_\(k)"; k += 1 }
        names.insert(name)
        return name
    }

    /// `v` as `dtype`: itself, its converted constant, or a Cast made before node `consumer`.
    mutating func value(_ v: ValueID, as dtype: DType, before consumer: String) throws -> ValueID {
        if graph.type(of: v).dtype == dtype { return v }
        if let m = made[v]?[dtype] { return m }
        var from = v
        // No Cast after a Cast: cast the earlier Cast's source instead.
        if let p = producers[v], case .elementwise(.cast) = graph.nodes[p].op {
            from = graph.nodes[p].inputs[0]
            if graph.type(of: from).dtype == dtype { made[v, default: [:]][dtype] = from; return from }
        }
        let suffix = dtype == .float16 ? "float16" : "float32"
        let out = graph.addValue(name: unique("\(graph.name(of: v)).\(suffix)"),
                                 type: TensorType(dtype, graph.type(of: v).shape))
        let name = unique("\(consumer)/Cast_\(suffix)_\(graph.name(of: v))")
        append(Node(name: name, op: .cast(to: dtype), inputs: [from], outputs: [out], scope: "precision", location: .unknown))
        made[v, default: [:]][dtype] = out
        return out
    }

    /// Appends a node of the rewritten graph.
    mutating func append(_ node: Node) {
        graph.nodes.append(node)
        for o in node.outputs { producers[o] = graph.nodes.count - 1 }
    }

    /// Graph outputs computed in float16 get a Cast to float32 that takes over their name (from
    /// the source of a Cast that made them, never chained; an Identity when that is float32).
    mutating func restoreOutputs(_ outputs: [ValueID]) {
        for (k, v) in outputs.enumerated() where graph.type(of: v).dtype == .float16 {
            let publicName = graph.name(of: v)
            graph.values[v.index].name = unique("\(publicName).float16")
            var from = v
            if let p = producers[v], case .elementwise(.cast) = graph.nodes[p].op { from = graph.nodes[p].inputs[0] }
            let op: Op = graph.type(of: from).dtype == .float32 ? .identity : .cast(to: .float32)
            let out = graph.addValue(name: publicName, type: TensorType(.float32, graph.type(of: v).shape))
            append(Node(name: unique("\(publicName)/\(op.name)_float32"), op: op, inputs: [from], outputs: [out],
                        scope: "precision", location: .unknown))
            graph.outputs[k] = out
        }
    }
}
