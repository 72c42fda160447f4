/// Estimated floating-point operations of one node (`OpDefinition.estimatedFLOPs`).
public func estimatedFLOPs(_ node: Node, in graph: Graph) -> Int {
    // A symbolic shape counts as empty.
    func dims(_ v: ValueID) -> [Int] { graph.type(of: v).shape.ints ?? [0] }
    return node.op.definition.estimatedFLOPs(CostShapes(inputs: node.inputs.map(dims), outputs: node.outputs.map(dims)))
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
