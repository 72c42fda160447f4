/// Graphviz rendering: one box per node (op, name, output types), one ellipse per graph input
/// and output, initializers omitted (their count shows in the node label), nodes clustered
/// by top-level scope. Deterministic for a given graph.
public func dotDump(_ graph: Graph) -> String {
    func q(_ s: String) -> String { jsonStringLiteral(s, keepingBackslashN: true) }
    let producers = graph.producers()
    var lines = ["digraph \(q(graph.name)) {", "  rankdir=TB;", "  node [fontname=\"Helvetica\", fontsize=10];"]
    for i in graph.inputs {
        lines.append("  \(q("in:" + graph.name(of: i))) [shape=ellipse, label=\(q(graph.name(of: i) + "\\n" + graph.type(of: i).description))];")
    }
    var clusters: [String: [Int]] = [:]
    var order: [String] = []
    for (k, node) in graph.nodes.enumerated() {
        let top = node.scope.split(separator: ".").first.map(String.init) ?? ""
        if clusters[top] == nil { order.append(top) }
        clusters[top, default: []].append(k)
    }
    for (c, top) in order.enumerated() {
        let indent = top.isEmpty ? "  " : "    "
        if !top.isEmpty { lines.append("  subgraph \(q("cluster_\(c)")) {"); lines.append("    label=\(q(top));") }
        for k in clusters[top]! {
            let node = graph.nodes[k]
            let weights = node.inputs.filter { graph.initializers[$0] != nil }.count
            let types = node.outputs.map { graph.type(of: $0).description }.joined(separator: ", ")
            let label = "\(node.op.name)\\n\(node.name)\\n\(types)" + (weights > 0 ? "\\n(\(weights) const)" : "")
            lines.append("\(indent)\(q("n\(k)")) [shape=box, label=\(q(label)), tooltip=\(q(node.location.description))];")
        }
        if !top.isEmpty { lines.append("  }") }
    }
    for (k, node) in graph.nodes.enumerated() {
        for i in node.inputs where graph.initializers[i] == nil {
            let from = producers[i].map { "n\($0)" } ?? "in:" + graph.name(of: i)
            lines.append("  \(q(from)) -> \(q("n\(k)"));")
        }
    }
    for o in graph.outputs {
        lines.append("  \(q("out:" + graph.name(of: o))) [shape=ellipse, label=\(q(graph.name(of: o) + "\\n" + graph.type(of: o).description))];")
        let from = producers[o].map { "n\($0)" } ?? "in:" + graph.name(of: o)
        lines.append("  \(q(from)) -> \(q("out:" + graph.name(of: o)));")
    }
    lines.append("}")
    return lines.joined(separator: "\n") + "\n"
}
