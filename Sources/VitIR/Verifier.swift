/// Checks the graph invariants, reporting every violation at once:
/// - value and node names are unique and non-empty;
/// - every value is defined exactly once (graph input, initializer or one node output);
/// - every node input is defined before the node (topological order), every graph output is defined;
/// - each node's output types equal its op's shape rule applied to its input types;
/// - initializer tensors match their value's declared type.
public func verify(_ graph: Graph) throws(VerificationError) {
    var problems: [String] = []
    let n = graph.values.count
    func valid(_ v: ValueID) -> Bool { v.index >= 0 && v.index < n }

    var names: [String: Int] = [:]
    for (i, v) in graph.values.enumerated() {
        if v.name.isEmpty { problems.append("value %\(i) has an empty name") }
        if let j = names[v.name] { problems.append("value name '\(v.name)' is used by %\(j) and %\(i)") }
        names[v.name] = i
    }
    var nodeNames: Set<String> = []
    for node in graph.nodes where !nodeNames.insert(node.name).inserted {
        problems.append("node name '\(node.name)' is used twice")
    }

    var defined = Array(repeating: false, count: n)
    func define(_ v: ValueID, by what: String) {
        guard valid(v) else { problems.append("\(what) defines unknown value \(v)"); return }
        if defined[v.index] { problems.append("value '\(graph.values[v.index].name)' is defined twice (again by \(what))") }
        defined[v.index] = true
    }
    for v in graph.inputs { define(v, by: "graph input") }
    for (v, t) in graph.initializers.sorted(by: { $0.key < $1.key }) {
        define(v, by: "initializer")
        if valid(v), t.type != graph.values[v.index].type {
            problems.append("initializer '\(graph.values[v.index].name)' holds \(t.type) but its value is declared \(graph.values[v.index].type)")
        }
    }
    for node in graph.nodes {
        let label = "node '\(node.name)' (\(node.op.name), \(node.location))"
        var inputTypes: [TensorType] = []
        var inputsOK = true
        for v in node.inputs {
            if !valid(v) { problems.append("\(label) reads unknown value \(v)"); inputsOK = false; continue }
            if !defined[v.index] {
                problems.append("\(label) reads '\(graph.values[v.index].name)' before it is defined")
                inputsOK = false
            }
            inputTypes.append(graph.values[v.index].type)
        }
        if inputsOK {
            do {
                let expected = try inferTypes(node.op, inputTypes)
                let declared = node.outputs.map { valid($0) ? graph.values[$0.index].type : nil }
                if expected.count != declared.count {
                    problems.append("\(label) has \(declared.count) outputs, its op produces \(expected.count)")
                } else {
                    for (k, (e, d)) in zip(expected, declared).enumerated() where d != e {
                        problems.append("\(label) output \(k) is declared \(d.map(\.description) ?? "?") but the shape rule gives \(e)")
                    }
                }
            } catch {
                problems.append("\(label) fails its shape rule: expected \(error.expected)")
            }
        }
        for v in node.outputs { define(v, by: label) }
    }
    for v in graph.outputs where !valid(v) || !defined[v.index] {
        problems.append("graph output \(valid(v) ? "'\(graph.values[v.index].name)'" : v.description) is never defined")
    }
    if graph.outputs.isEmpty { problems.append("graph has no outputs") }
    if !problems.isEmpty { throw VerificationError(problems: problems) }
}
