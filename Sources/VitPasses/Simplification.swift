import VitIR

/// Algebraic cleanups that keep every output value bit-identical, as a list of rules
/// (`simplificationRules`), each matching one node:
/// - Identity, Reshape to the input's own shape, and Transpose by the identity permutation
///   are removed;
/// - Reshape of a Reshape reads the inner input directly; Transpose of a Transpose becomes one
///   Transpose with the composed permutation;
/// - x·1, x/1, x+0, x−0 with a constant all-ones/all-zeros operand that does not broadcast x
///   to a larger shape are removed (x+0 keeps −0 as +0 under IEEE; −0 only arises from 0·(−x),
///   which no model here depends on).
/// Rules are applied until none fires. Contract: graph outputs keep their names and values.
/// Returns whether anything changed.
public func simplify(_ graph: inout Graph) throws -> Bool {
    var changed = false
    while try simplifyOnce(&graph) { changed = true }
    return changed
}

/// What a rule may do to the node it matched.
enum Rewrite {
    /// Every use of the node's output reads this value instead (the node becomes dead).
    case bypass(to: ValueID)
    /// The node is replaced in place (same outputs).
    case replace(op: Op, inputs: [ValueID])
}

/// One simplification: given a single-output node and its context, the rewrite or nil.
struct SimplificationRule: Sendable {
    var name: String
    var apply: @Sendable (_ node: Node, _ context: RuleContext) -> Rewrite?
}

/// The graph as a rule sees it.
struct RuleContext {
    let graph: Graph
    /// The live node producing a value, if any.
    let producer: (ValueID) -> Node?
    /// The node's output being matched.
    let output: ValueID
    func type(_ v: ValueID) -> TensorType { graph.type(of: v) }
    /// Whether uses of the matched output may be redirected to `v`: a graph output may only be
    /// redirected onto a plain node output.
    func canBypass(to v: ValueID) -> Bool {
        !graph.outputs.contains(output)
            || (!graph.inputs.contains(v) && graph.initializers[v] == nil && !graph.outputs.contains(v))
    }
}

/// The rules, tried in order on each node; the first that fires wins.
let simplificationRules: [SimplificationRule] = [
    SimplificationRule(name: "identity") { node, c in
        node.op == .identity && c.canBypass(to: node.inputs[0]) ? .bypass(to: node.inputs[0]) : nil
    },
    SimplificationRule(name: "reshape to own shape / reshape of reshape") { node, c in
        guard case .movement(.reshape(let shape)) = node.op else { return nil }
        let x = node.inputs[0]
        if c.type(x).shape.ints == shape, c.canBypass(to: x) { return .bypass(to: x) }
        if let inner = c.producer(x), case .movement(.reshape) = inner.op {
            return .replace(op: node.op, inputs: [inner.inputs[0]])
        }
        return nil
    },
    SimplificationRule(name: "identity transpose / transpose of transpose") { node, c in
        guard case .movement(.transpose(let perm)) = node.op else { return nil }
        let x = node.inputs[0]
        if perm == Array(perm.indices), c.canBypass(to: x) { return .bypass(to: x) }
        if let inner = c.producer(x), case .movement(.transpose(let innerPerm)) = inner.op {
            // out[i] = x[perm[i]] = in[innerPerm[perm[i]]]
            return .replace(op: .transpose(perm: perm.map { innerPerm[$0] }), inputs: [inner.inputs[0]])
        }
        return nil
    },
    SimplificationRule(name: "neutral element") { node, c in
        let neutral: Float, commutative: Bool
        switch node.op {
        case .mul: (neutral, commutative) = (1, true)
        case .add: (neutral, commutative) = (0, true)
        case .div: (neutral, commutative) = (1, false)
        case .sub: (neutral, commutative) = (0, false)
        default: return nil
        }
        var candidates = [(keep: node.inputs[0], constant: node.inputs[1])]
        if commutative { candidates.append((node.inputs[1], node.inputs[0])) }
        for (keep, constant) in candidates {
            guard let t = c.graph.initializers[constant], c.type(keep) == c.type(node.outputs[0]), t.dtype.isFloatingPoint,
                  t.floats.allSatisfy({ $0 == neutral }), c.canBypass(to: keep) else { continue }
            return .bypass(to: keep)
        }
        return nil
    },
]

private func simplifyOnce(_ graph: inout Graph) throws -> Bool {
    var changed = false
    let producers = graph.producers()
    var removed = Set<Int>()
    for k in graph.nodes.indices {
        let node = graph.nodes[k]
        guard node.outputs.count == 1 else { continue }
        let out = node.outputs[0]
        let snapshot = graph, gone = removed
        let context = RuleContext(graph: snapshot, producer: { v in
            guard let p = producers[v], !gone.contains(p) else { return nil }
            return snapshot.nodes[p]
        }, output: out)
        for rule in simplificationRules {
            guard let rewrite = rule.apply(node, context) else { continue }
            switch rewrite {
            case .bypass(let v):
                graph.replaceUses(of: out, with: v)
                removed.insert(k)
            case .replace(let op, let inputs):
                graph.nodes[k].op = op
                graph.nodes[k].inputs = inputs
            }
            changed = true
            break
        }
    }
    if !removed.isEmpty {
        graph.nodes = graph.nodes.indices.filter { !removed.contains($0) }.map { graph.nodes[$0] }
    }
    if changed { _ = try eliminateDeadCode(&graph) }
    return changed
}
