import VitIR

/// What a run of a graph will hold in memory, from its static shapes alone.
public struct MemoryPlan: Sendable {
    /// The largest single value (input or node output): its name, type and bytes.
    public var largest: (name: String, type: TensorType, bytes: Int)?
    /// Peak bytes of live inputs and node outputs when each is dropped after its last use
    /// (the interpreter's policy), with a node's inputs and outputs live together.
    public var peakActivationBytes: Int
    /// Bytes of the initializers (resident for the whole run).
    public var initializerBytes: Int
    /// Initializers plus the activation peak.
    public var peakBytes: Int { initializerBytes + peakActivationBytes }
}

/// Plans a run of `graph` (see `MemoryPlan`); nil when a value's size does not fit in 64 bits.
/// A symbolic input (no node can consume one; shape rules need static shapes) counts as empty.
/// A Slice or Split output the interpreter returns as a view (`viewOutputs`) takes no bytes of
/// its own and keeps its input's storage live until the view's last use.
public func plannedMemory(_ graph: Graph) -> MemoryPlan? {
    func bytes(_ v: ValueID) -> Int? {
        let t = graph.type(of: v)
        guard let dims = t.shape.ints else { return 0 }
        return Checked.byteCount(dims: dims, t.dtype)
    }
    var initializerBytes = 0
    for t in graph.initializers.values {
        guard let sum = Checked.add(initializerBytes, t.byteCount) else { return nil }
        initializerBytes = sum
    }
    var plan = MemoryPlan(largest: nil, peakActivationBytes: 0, initializerBytes: initializerBytes)
    func note(_ v: ValueID, _ b: Int) {
        if b > plan.largest?.bytes ?? -1 { plan.largest = (graph.name(of: v), graph.type(of: v), b) }
    }
    var remaining = graph.useCounts()
    let root = storageRoots(graph)
    var live = 0
    for v in graph.inputs {
        guard let b = bytes(v), let sum = Checked.add(live, b) else { return nil }
        note(v, b)
        live = sum
    }
    plan.peakActivationBytes = live
    // A storage is released when no value using it has uses left; a view of an initializer
    // (root −1) holds nothing.
    func release(_ v: ValueID) {
        let r = root[v.index]
        guard r >= 0 else { return }
        remaining[r] -= 1
        if remaining[r] == 0, let b = bytes(ValueID(r)) { live -= b }
    }
    for node in graph.nodes {
        let views = viewOutputs(node, graph)
        for (v, isView) in zip(node.outputs, views) {
            guard let b = bytes(v) else { return nil }
            note(v, b)
            if isView {
                if root[v.index] >= 0 { remaining[root[v.index]] += remaining[v.index] }
            } else {
                guard let sum = Checked.add(live, b) else { return nil }
                live = sum
            }
        }
        plan.peakActivationBytes = max(plan.peakActivationBytes, live)
        for v in node.inputs where graph.initializers[v] == nil { release(v) }
        for (v, isView) in zip(node.outputs, views) where !isView && remaining[v.index] == 0 {
            if let b = bytes(v) { live -= b }
        }
    }
    return plan
}

/// For each value, the value whose storage it uses in a run: itself, unless it is a view
/// (`viewOutputs`): then its input's root, or −1 for a view of an initializer.
func storageRoots(_ graph: Graph) -> [Int] {
    var root = Array(0..<graph.values.count)
    for node in graph.nodes {
        for (v, isView) in zip(node.outputs, viewOutputs(node, graph)) where isView {
            let input = node.inputs[0]
            root[v.index] = graph.initializers[input] == nil ? root[input.index] : -1
        }
    }
    return root
}

/// Refuses a run of `graph` whose largest value or planned peak exceeds `budget`, naming the
/// value (or the peak) and its size.
public func checkMemory(_ graph: Graph, budget: MemoryBudget) throws(MemoryBudgetError) {
    guard let plan = plannedMemory(graph) else {
        throw MemoryBudgetError(what: "a value of graph '\(graph.name)'", bytes: nil, budget: budget)
    }
    if let largest = plan.largest {
        try budget.check(largest.bytes, "value '\(largest.name)' \(largest.type)")
    }
    try budget.check(plan.peakBytes, "running graph '\(graph.name)' (peak: \(formatBytes(plan.initializerBytes)) of weights + \(formatBytes(plan.peakActivationBytes)) of activations)")
}
