/// The readable graph listing (`vitexport dump`, default format). It is a public interface
/// and a test oracle (golden files), so its layout changes only deliberately:
///
///     graph <name>
///     inputs:
///       %image: f32[1, 3, 32, 32]
///     initializers: <count> tensors, <params> parameters, <bytes> bytes
///       %stem.conv.weight: f32[8, 3, 3, 3]                (only with `listInitializers`)
///     nodes:
///       %<output>: <type> = <Op>(%in, …) {attr=value, …}  # <scope> @ <file>:<line>
///     outputs:
///       %logits: f32[1, 10]
///     summary:
///       nodes: <total> (<Op> <n>, …)
///       parameters: <count> (<bytes> bytes)
///       FLOPs: <total> (<scope> <flops>, …)
public func textDump(_ graph: Graph, listInitializers: Bool = false) -> String {
    var lines: [String] = ["graph \(graph.name)", "inputs:"]
    func v(_ id: ValueID) -> String { "%" + graph.name(of: id) }
    for i in graph.inputs { lines.append("  \(v(i)): \(graph.type(of: i))") }
    let stats = graph.parameterStats
    lines.append("initializers: \(graph.initializers.count) tensors, \(stats.count) parameters, \(stats.bytes) bytes")
    if listInitializers {
        for id in graph.initializers.keys.sorted() { lines.append("  \(v(id)): \(graph.type(of: id))") }
    }
    lines.append("nodes:")
    for node in graph.nodes {
        let outs = node.outputs.map { "\(v($0)): \(graph.type(of: $0))" }.joined(separator: ", ")
        let ins = node.inputs.map(v).joined(separator: ", ")
        let attrs = node.op.attributeSummary
        let attrText = attrs.isEmpty ? "" : " {" + attrs.map { "\($0.0)=\($0.1)" }.joined(separator: ", ") + "}"
        let scope = node.scope.isEmpty ? "<root>" : node.scope
        lines.append("  \(outs) = \(node.op.name)(\(ins))\(attrText)  # \(scope) @ \(node.location)")
    }
    lines.append("outputs:")
    for o in graph.outputs { lines.append("  \(v(o)): \(graph.type(of: o))") }
    let s = GraphSummary(graph)
    lines.append("summary:")
    lines.append("  nodes: \(graph.nodes.count) (" + s.nodesByOp.map { "\($0.op) \($0.count)" }.joined(separator: ", ") + ")")
    lines.append("  parameters: \(s.parameterCount) (\(humanCount(s.parameterBytes))B)")
    lines.append("  FLOPs: \(humanCount(s.totalFLOPs)) (" + s.flopsByScope.map { "\($0.scope) \(humanCount($0.flops))" }.joined(separator: ", ") + ")")
    return lines.joined(separator: "\n") + "\n"
}
