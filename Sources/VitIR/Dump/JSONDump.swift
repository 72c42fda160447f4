/// Machine-readable graph description, documented by `Schemas/graph-dump.schema.json`
/// (format version 1). Keys are emitted in a fixed order, so the text is deterministic.
///
///     {"format": "vitexport-graph", "version": 1, "name": …,
///      "inputs": [{"name", "dtype", "shape"}], "outputs": [...],
///      "initializers": [{"name", "dtype", "shape"}],
///      "nodes": [{"name", "op", "inputs": [names], "outputs": [{"name","dtype","shape"}],
///                 "attributes": {key: text}, "scope", "file", "line", "flops"}],
///      "summary": {"node_count", "nodes_by_op": {op: n}, "parameter_count", "parameter_bytes",
///                  "flops", "flops_by_scope": {scope: n}},
///      "metadata": {key: text}}
public func jsonDump(_ graph: Graph) -> String {
    func str(_ s: String) -> String { jsonStringLiteral(s) }
    func value(_ id: ValueID) -> String {
        let t = graph.type(of: id)
        let shape = t.shape.dims.map { d in d.value.map(String.init) ?? str(d.description) }.joined(separator: ", ")
        return "{\"name\": \(str(graph.name(of: id))), \"dtype\": \(str(t.dtype.rawValue)), \"shape\": [\(shape)]}"
    }
    func object(_ pairs: [(String, String)]) -> String {
        "{" + pairs.map { "\(str($0.0)): \($0.1)" }.joined(separator: ", ") + "}"
    }
    var out = "{\n"
    out += "  \"format\": \"vitexport-graph\",\n  \"version\": 1,\n"
    out += "  \"name\": \(str(graph.name)),\n"
    out += "  \"inputs\": [" + graph.inputs.map(value).joined(separator: ", ") + "],\n"
    out += "  \"outputs\": [" + graph.outputs.map(value).joined(separator: ", ") + "],\n"
    out += "  \"initializers\": [\n" + graph.initializers.keys.sorted().map { "    " + value($0) }.joined(separator: ",\n") + "\n  ],\n"
    let nodes = graph.nodes.map { node -> String in
        let attrs = object(node.op.attributeSummary.map { ($0.0, str($0.1)) })
        return "    {\"name\": \(str(node.name)), \"op\": \(str(node.op.name)), "
            + "\"inputs\": [\(node.inputs.map { str(graph.name(of: $0)) }.joined(separator: ", "))], "
            + "\"outputs\": [\(node.outputs.map(value).joined(separator: ", "))], "
            + "\"attributes\": \(attrs), \"scope\": \(str(node.scope)), "
            + "\"file\": \(str(node.location.file)), \"line\": \(node.location.line), "
            + "\"flops\": \(estimatedFLOPs(node, in: graph))}"
    }
    out += "  \"nodes\": [\n" + nodes.joined(separator: ",\n") + "\n  ],\n"
    let s = GraphSummary(graph)
    out += "  \"summary\": " + object([
        ("node_count", String(graph.nodes.count)),
        ("nodes_by_op", object(s.nodesByOp.map { ($0.op, String($0.count)) })),
        ("parameter_count", String(s.parameterCount)),
        ("parameter_bytes", String(s.parameterBytes)),
        ("flops", String(s.totalFLOPs)),
        ("flops_by_scope", object(s.flopsByScope.map { ($0.scope, String($0.flops)) })),
    ]) + ",\n"
    out += "  \"metadata\": " + object(graph.metadata.sorted { $0.key < $1.key }.map { ($0.key, str($0.value)) }) + "\n"
    out += "}\n"
    return out
}
