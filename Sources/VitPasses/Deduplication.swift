import VitIR

/// Deduplication. Contract: initializers with equal dtype, shape and bytes are merged into the
/// first by name order; nodes with the same op and the same inputs (after merging) are merged
/// into the first (common-subexpression elimination), their later uses redirected. Outputs keep
/// their public names. Returns whether anything was merged.
public func deduplicate(_ graph: inout Graph) throws -> Bool {
    var changed = false
    var byHash: [UInt64: [ValueID]] = [:]
    let names = graph.initializers.keys.sorted { graph.name(of: $0) < graph.name(of: $1) }
    for id in names {
        let t = graph.initializers[id]!
        // Buckets by a sample of the bytes; bitwiseEqual decides.
        let h = t.sampleHash
        if let same = byHash[h, default: []].first(where: { graph.initializers[$0]!.bitwiseEqual(t) }),
           !graph.outputs.contains(id) {
            graph.replaceUses(of: id, with: same)
            graph.initializers[id] = nil
            changed = true
        } else {
            byHash[h, default: []].append(id)
        }
    }
    struct Key: Hashable { let op: Op; let inputs: [ValueID] }
    var seen: [Key: Int] = [:]
    var removed = Set<Int>()
    for k in graph.nodes.indices {
        let node = graph.nodes[k]
        let key = Key(op: node.op, inputs: node.inputs)
        if let first = seen[key] {
            for (old, new) in zip(node.outputs, graph.nodes[first].outputs) { graph.replaceUses(of: old, with: new) }
            removed.insert(k)
            changed = true
        } else {
            seen[key] = k
        }
    }
    if !removed.isEmpty {
        graph.nodes = graph.nodes.indices.filter { !removed.contains($0) }.map { graph.nodes[$0] }
    }
    if changed { _ = try eliminateDeadCode(&graph) }
    return changed
}
