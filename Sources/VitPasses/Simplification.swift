import VitIR

/// Algebraic cleanups that keep every output value bit-identical:
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

private func simplifyOnce(_ graph: inout Graph) throws -> Bool {
    var changed = false
    let producers = graph.producers()
    var removed = Set<Int>()
    for k in graph.nodes.indices {
        let node = graph.nodes[k]
        guard node.outputs.count == 1 else { continue }
        let out = node.outputs[0]
        let outType = graph.type(of: out)
        func producer(of v: ValueID) -> Node? {
            guard let p = producers[v], !removed.contains(p) else { return nil }
            return graph.nodes[p]
        }
        func canBypass(to v: ValueID) -> Bool {
            // A graph output may only be redirected onto a plain node output.
            !graph.outputs.contains(out) || (!graph.inputs.contains(v) && graph.initializers[v] == nil && !graph.outputs.contains(v))
        }
        func bypass(to v: ValueID) {
            graph.replaceUses(of: out, with: v)
            removed.insert(k)
            changed = true
        }
        switch node.op {
        case .identity:
            if canBypass(to: node.inputs[0]) { bypass(to: node.inputs[0]) }
        case .movement(.reshape(let shape)):
            let x = node.inputs[0]
            if graph.type(of: x).shape.ints == shape, canBypass(to: x) {
                bypass(to: x)
            } else if let inner = producer(of: x), case .movement(.reshape) = inner.op {
                graph.nodes[k].inputs[0] = inner.inputs[0]
                changed = true
            }
        case .movement(.transpose(let perm)):
            let x = node.inputs[0]
            if perm == Array(perm.indices), canBypass(to: x) {
                bypass(to: x)
            } else if let inner = producer(of: x), case .movement(.transpose(let innerPerm)) = inner.op {
                // out[i] = x[perm[i]] = in[innerPerm[perm[i]]]
                graph.nodes[k].op = .transpose(perm: perm.map { innerPerm[$0] })
                graph.nodes[k].inputs[0] = inner.inputs[0]
                changed = true
            }
        case .mul, .div, .add, .sub:
            let neutral: Float = { if case .mul = node.op { return 1 }; if case .div = node.op { return 1 }; return 0 }()
            let candidates: [(keep: ValueID, constant: ValueID)] = {
                switch node.op {
                case .mul, .add: return [(node.inputs[0], node.inputs[1]), (node.inputs[1], node.inputs[0])]
                default: return [(node.inputs[0], node.inputs[1])]
                }
            }()
            for (keep, c) in candidates {
                guard let t = graph.initializers[c], graph.type(of: keep) == outType, t.dtype.isFloatingPoint,
                      t.floats.allSatisfy({ $0 == neutral }), canBypass(to: keep) else { continue }
                bypass(to: keep)
                break
            }
        default:
            continue
        }
    }
    if !removed.isEmpty {
        graph.nodes = graph.nodes.indices.filter { !removed.contains($0) }.map { graph.nodes[$0] }
    }
    if changed { _ = try eliminateDeadCode(&graph) }
    return changed
}
