import VitIR

/// Wall time per node, added into slots fixed before the run: every node's (scope, op) pair is
/// looked up once, so recording a node's time allocates nothing while kernels run. (Building the keys per node, as an imported file's nodes need,
/// put small blocks between the large freed tensor blocks; the heap then grew into fresh pages
/// and `run --onnx --profile` measured page faults, not kernels.)
struct ProfileRecorder {
    /// Each node's (scope, op) slot; the per-op and per-scope totals are sums of the slots.
    private var slotOf: [Int] = []
    private var pairs: [Interpreter.ScopeOp] = []
    private var seconds: [Double] = []

    init(_ graph: Graph) {
        var slot: [Interpreter.ScopeOp: Int] = [:]
        for node in graph.nodes {
            let key = Interpreter.ScopeOp(scope: profileScope(node), op: node.op.name)
            if slot[key] == nil {
                slot[key] = pairs.count
                pairs.append(key)
            }
            slotOf.append(slot[key]!)
        }
        seconds = [Double](repeating: 0, count: pairs.count)
    }

    /// Adds `seconds` to node `index`'s (scope, op) slot.
    mutating func record(node index: Int, seconds s: Double) {
        seconds[slotOf[index]] += s
    }

    /// Seconds per op name, per scope and per (scope, op) pair, as `Interpreter.Result` holds them.
    var totals: (byOp: [String: Double], byScope: [String: Double], byScopeOp: [Interpreter.ScopeOp: Double]) {
        let byScopeOp = Dictionary(uniqueKeysWithValues: zip(pairs, seconds))
        return (byScopeOp.sums(by: \.op), byScopeOp.sums(by: \.scope), byScopeOp)
    }
}

extension Dictionary where Key == Interpreter.ScopeOp, Value == Double {
    /// The seconds summed over the pairs that share `part` (their op, or their scope).
    public func sums(by part: KeyPath<Interpreter.ScopeOp, String>) -> [String: Double] {
        var total: [String: Double] = [:]
        for (key, s) in self { total[key[keyPath: part], default: 0] += s }
        return total
    }
}

/// The scope a node's time is profiled under: its scope, or its name up to the last '.' or
/// '/' when it has none.
private func profileScope(_ node: Node) -> String {
    guard node.scope.isEmpty else { return node.scope }
    guard let cut = node.name.lastIndex(where: { $0 == "." || $0 == "/" }) else { return "" }
    return String(node.name[..<cut])
}
