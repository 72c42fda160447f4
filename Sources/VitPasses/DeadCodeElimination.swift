import VitIR

/// Dead-code elimination. Contract: removes nodes none of whose outputs reach a graph output,
/// and initializers no remaining node or output reads; graph inputs are kept (they are the
/// model's interface). Values are renumbered compactly. Returns whether anything was removed.
public func eliminateDeadCode(_ graph: inout Graph) throws -> Bool {
    var live = Set(graph.outputs)
    var keep = Array(repeating: false, count: graph.nodes.count)
    for k in graph.nodes.indices.reversed() where graph.nodes[k].outputs.contains(where: live.contains) {
        keep[k] = true
        live.formUnion(graph.nodes[k].inputs)
    }
    let nodesBefore = graph.nodes.count, initializersBefore = graph.initializers.count
    graph.nodes = graph.nodes.indices.filter { keep[$0] }.map { graph.nodes[$0] }
    graph.initializers = graph.initializers.filter { live.contains($0.key) }
    let changed = graph.nodes.count != nodesBefore || graph.initializers.count != initializersBefore
    if changed { graph.compactValues() }
    return changed
}
