/// Estimated floating-point operations of one node, counting a multiply-add as 2 FLOPs.
/// Contractions (MatMul, Gemm, Conv, ConvTranspose) are counted exactly; elementwise,
/// normalization and reduction ops count one FLOP per input or output element as an
/// order-of-magnitude figure; data movement counts 0.
public func estimatedFLOPs(_ node: Node, in graph: Graph) -> Int {
    func elements(_ v: ValueID) -> Int { graph.type(of: v).shape.elementCount ?? 0 }
    func dims(_ v: ValueID) -> [Int] { graph.type(of: v).shape.ints ?? [] }
    let out = node.outputs.first.map(elements) ?? 0
    switch node.op {
    case .matMul:
        let a = dims(node.inputs[0])
        return 2 * out * (a.last ?? 1)
    case .gemm(let g):
        let a = dims(node.inputs[0])
        return 2 * out * (g.transA ? a[0] : a[1]) + (node.inputs.count > 2 ? out : 0)
    case .conv:
        // Each output element reads Cin/group × kh × kw weights (W is [Cout, Cin/group, kh, kw]).
        let w = dims(node.inputs[1])
        return 2 * out * w.dropFirst().reduce(1, *) + (node.inputs.count > 2 ? out : 0)
    case .convTranspose:
        let w = dims(node.inputs[1])
        return 2 * elements(node.inputs[0]) * w.dropFirst().reduce(1, *) + (node.inputs.count > 2 ? out : 0)
    case .add, .sub, .mul, .div, .pow, .max, .min, .equal, .less, .lessOrEqual, .greater, .greaterOrEqual,
         .and, .or, .neg, .abs, .sqrt, .reciprocal, .exp, .log, .erf, .sin, .cos, .tanh, .sigmoid, .relu,
         .floor, .ceil, .not, .gelu, .clip, .where:
        return out
    case .softmax, .layerNormalization, .groupNormalization:
        return 5 * out
    case .reduceMean, .reduceSum, .reduceMax, .maxPool, .topK:
        return elements(node.inputs[0])
    case .resize, .gridSample:
        return 8 * out
    case .pseudoInverse:
        // An SVD of an m×n matrix costs O(m·n·min(m, n)); count it as 4·m·n·min(m, n).
        let a = dims(node.inputs[0])
        return 4 * a[0] * a[1] * Swift.min(a[0], a[1])
    case .cast, .identity, .gather, .gatherElements, .reshape, .transpose, .concat, .split, .slice,
         .squeeze, .unsqueeze, .expand, .tile, .pad, .range:
        return 0
    }
}

/// Per-graph statistics shown in dump summaries.
public struct GraphSummary: Sendable {
    public var nodesByOp: [(op: String, count: Int)]
    public var parameterCount: Int
    public var parameterBytes: Int
    public var initializerCount: Int
    /// FLOPs per top-level scope (first scope component; `<root>` for unscoped nodes), in first-seen order.
    public var flopsByScope: [(scope: String, flops: Int)]
    public var totalFLOPs: Int

    public init(_ graph: Graph) {
        var counts: [String: Int] = [:]
        var order: [String] = []
        var flops: [String: Int] = [:]
        var total = 0
        for node in graph.nodes {
            counts[node.op.name, default: 0] += 1
            let top = node.scope.split(separator: ".").first.map(String.init) ?? "<root>"
            if flops[top] == nil { order.append(top) }
            let f = estimatedFLOPs(node, in: graph)
            flops[top, default: 0] += f
            total += f
        }
        nodesByOp = counts.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        let stats = graph.parameterStats
        parameterCount = stats.count
        parameterBytes = stats.bytes
        initializerCount = graph.initializers.count
        flopsByScope = order.map { ($0, flops[$0]!) }
        totalFLOPs = total
    }
}

/// 1234567 → "1.23 M"; keeps three significant digits.
public func humanCount(_ n: Int) -> String {
    let units: [(Double, String)] = [(1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")]
    let d = Double(n)
    for (scale, unit) in units where d >= scale {
        let v = d / scale
        let text = v >= 100 ? String(Int(v.rounded())) : v >= 10 ? String(format1(v)) : String(format2(v))
        return "\(text) \(unit)"
    }
    return String(n)
}

private func format1(_ v: Double) -> String { let r = (v * 10).rounded() / 10; return r == r.rounded() ? String(Int(r)) + ".0" : String(r) }
private func format2(_ v: Double) -> String {
    let r = (v * 100).rounded() / 100
    let whole = Int(r)
    let frac = Int(((r - Double(whole)) * 100).rounded())
    return "\(whole).\(frac < 10 ? "0" : "")\(frac)"
}
