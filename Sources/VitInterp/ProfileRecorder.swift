import VitIR

/// Wall time per node, added into slots fixed before the run: the op name, the scope and the
/// (scope, op) pair of every node are looked up once, so recording a node's time allocates
/// nothing while kernels run. (Building the keys per node, as an imported file's nodes need,
/// put small blocks between the large freed tensor blocks; the heap then grew into fresh pages
/// and `run --onnx --profile` measured page faults, not kernels.)
struct ProfileRecorder {
    private var opOf: [Int] = [], scopeOf: [Int] = [], pairOf: [Int] = []
    private var ops: [String] = [], scopes: [String] = [], pairs: [Interpreter.ScopeOp] = []
    private var opSeconds: [Double] = [], scopeSeconds: [Double] = [], pairSeconds: [Double] = []

    init(_ graph: Graph) {
        var opSlot: [String: Int] = [:], scopeSlot: [String: Int] = [:], pairSlot: [Interpreter.ScopeOp: Int] = [:]
        func slot<Key: Hashable>(_ key: Key, _ table: inout [Key: Int], _ keys: inout [Key]) -> Int {
            if let s = table[key] { return s }
            table[key] = keys.count
            keys.append(key)
            return keys.count - 1
        }
        for node in graph.nodes {
            let scope = profileScope(node)
            opOf.append(slot(node.op.name, &opSlot, &ops))
            scopeOf.append(slot(scope, &scopeSlot, &scopes))
            pairOf.append(slot(Interpreter.ScopeOp(scope: scope, op: node.op.name), &pairSlot, &pairs))
        }
        opSeconds = [Double](repeating: 0, count: ops.count)
        scopeSeconds = [Double](repeating: 0, count: scopes.count)
        pairSeconds = [Double](repeating: 0, count: pairs.count)
    }

    /// Adds `seconds` to node `index`'s op, scope and pair.
    mutating func record(node index: Int, seconds: Double) {
        opSeconds[opOf[index]] += seconds
        scopeSeconds[scopeOf[index]] += seconds
        pairSeconds[pairOf[index]] += seconds
    }

    /// Seconds per op name, per scope and per (scope, op) pair, as `Interpreter.Result` holds them.
    var totals: (byOp: [String: Double], byScope: [String: Double], byScopeOp: [Interpreter.ScopeOp: Double]) {
        (Dictionary(uniqueKeysWithValues: zip(ops, opSeconds)),
         Dictionary(uniqueKeysWithValues: zip(scopes, scopeSeconds)),
         Dictionary(uniqueKeysWithValues: zip(pairs, pairSeconds)))
    }
}

/// The scope a node's time is profiled under: its scope, or its name up to the last '.' or
/// '/' when it has none.
private func profileScope(_ node: Node) -> String {
    guard node.scope.isEmpty else { return node.scope }
    guard let cut = node.name.lastIndex(where: { $0 == "." || $0 == "/" }) else { return "" }
    return String(node.name[..<cut])
}
