/// Graphviz rendering by module scope, for pictures of large graphs (`vitexport dump --format
/// dot|svg --depth N`).
///
/// Contract: every node whose scope has at most `depth - 1` components (`a.b` has two) is drawn
/// as its own box, inside one nested cluster per scope prefix; every node whose scope has
/// `depth` or more components is merged into one box per `depth`-component prefix, labelled
/// with that prefix and its op counts ("blocks.3 · 14 ops: 4 MatMul, 3 Add, …"), inside the
/// clusters of the shorter prefixes. Edges join the drawn items: one per (producer item,
/// consumer item) pair, none inside a merged box. Graph inputs and outputs are ellipses;
/// initializers are omitted. Items, clusters and edges appear in node order, so the text is a
/// deterministic function of the graph and `depth` (≥ 1).
public func dotDump(_ graph: Graph, depth: Int) -> String {
    func q(_ s: String) -> String { jsonStringLiteral(s, keepingBackslashN: true) }
    let depth = max(depth, 1)
    let layout = ScopeLayout(graph, depth: depth)
    var lines = ["digraph \(q(graph.name)) {", "  rankdir=TB;", "  compound=true;",
                 "  node [fontname=\"Helvetica\", fontsize=10];"]
    for i in graph.inputs {
        lines.append("  \(q("in:" + graph.name(of: i))) [shape=ellipse, label=\(q(graph.name(of: i) + "\\n" + graph.type(of: i).description))];")
    }
    layout.emitCluster(prefix: [], indent: "  ", into: &lines, quote: q)
    let producers = graph.producers()
    var seen: Set<String> = []
    func edge(_ from: String, _ to: String) {
        guard from != to, seen.insert(from + "\u{0}" + to).inserted else { return }
        lines.append("  \(q(from)) -> \(q(to));")
    }
    for (k, node) in graph.nodes.enumerated() {
        for i in node.inputs where graph.initializers[i] == nil {
            edge(producers[i].map { layout.itemOfNode[$0] } ?? "in:" + graph.name(of: i), layout.itemOfNode[k])
        }
    }
    for o in graph.outputs {
        lines.append("  \(q("out:" + graph.name(of: o))) [shape=ellipse, label=\(q(graph.name(of: o) + "\\n" + graph.type(of: o).description))];")
        edge(producers[o].map { layout.itemOfNode[$0] } ?? "in:" + graph.name(of: o), "out:" + graph.name(of: o))
    }
    lines.append("}")
    return lines.joined(separator: "\n") + "\n"
}

/// Which drawn item each node belongs to, and the cluster tree of scope prefixes.
private struct ScopeLayout {
    /// The drawn item's id per node: "n<k>" for a node drawn alone, "s:<prefix>" for a box.
    var itemOfNode: [String] = []
    /// Items per cluster (keyed by its prefix joined with "."), in first-appearance order.
    var items: [String: [String]] = [:]
    /// Child cluster prefixes per cluster, in first-appearance order.
    var children: [String: [[Substring]]] = [:]
    /// Label per item.
    var labels: [String: String] = [:]
    var tooltips: [String: String] = [:]
    /// Op counts per box.
    var boxOps: [String: [String: Int]] = [:]
    var boxCount: [String: Int] = [:]

    init(_ graph: Graph, depth: Int) {
        for (k, node) in graph.nodes.enumerated() {
            let parts = node.scope.split(separator: ".")
            let item: String
            let clusterPath: ArraySlice<Substring>
            if parts.count >= depth {
                let prefix = parts.prefix(depth).joined(separator: ".")
                item = "s:" + prefix
                clusterPath = parts.prefix(depth - 1)
                boxOps[item, default: [:]][node.op.name, default: 0] += 1
                boxCount[item, default: 0] += 1
                labels[item] = prefix
            } else {
                item = "n\(k)"
                clusterPath = parts[...]
                let types = node.outputs.map { graph.type(of: $0).description }.joined(separator: ", ")
                labels[item] = "\(node.op.name)\\n\(node.name)\\n\(types)"
                tooltips[item] = node.location.description
            }
            itemOfNode.append(item)
            register(item, in: Array(clusterPath))
        }
        for (item, ops) in boxOps {
            let sorted = ops.sorted { ($1.value, $0.key) < ($0.value, $1.key) }
            let shown = sorted.prefix(4).map { "\($0.value) \($0.key)" }.joined(separator: ", ")
            labels[item] = "\(labels[item]!) · \(boxCount[item]!) ops: \(shown)\(sorted.count > 4 ? ", …" : "")"
        }
    }

    /// Adds `item` to the cluster `path`, creating the chain of clusters above it.
    private mutating func register(_ item: String, in path: [Substring]) {
        let key = path.joined(separator: ".")
        if items[key] == nil && children[key] == nil {
            for n in 0..<path.count {
                let parent = path.prefix(n).joined(separator: "."), child = Array(path.prefix(n + 1))
                if !(children[parent] ?? []).contains(child) { children[parent, default: []].append(child) }
            }
        }
        if !(items[key] ?? []).contains(item) { items[key, default: []].append(item) }
    }

    /// Writes the items of cluster `prefix`, then its child clusters as nested subgraphs.
    func emitCluster(prefix: [Substring], indent: String, into lines: inout [String], quote q: (String) -> String) {
        let key = prefix.joined(separator: ".")
        for item in items[key] ?? [] {
            let box = item.hasPrefix("s:")
            let style = box ? "shape=box, style=\"rounded,filled\", fillcolor=\"#e8eef7\"" : "shape=box"
            let tooltip = tooltips[item].map { ", tooltip=\(q($0))" } ?? ""
            lines.append("\(indent)\(q(item)) [\(style), label=\(q(labels[item]!))\(tooltip)];")
        }
        for child in children[key] ?? [] {
            let name = child.joined(separator: ".")
            lines.append("\(indent)subgraph \(q("cluster_" + name)) {")
            lines.append("\(indent)  label=\(q(name));")
            emitCluster(prefix: child, indent: indent + "  ", into: &lines, quote: q)
            lines.append("\(indent)}")
        }
    }
}
