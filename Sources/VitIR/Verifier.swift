/// Checks the graph invariants, reporting every violation at once:
/// - value and node names are unique and non-empty;
/// - every value is defined exactly once (graph input, initializer or one node output);
/// - every node input is defined before the node (topological order), every graph output is defined;
/// - each node's output types equal its op's shape rule applied to its input types;
/// - initializer tensors match their value's declared type.
public func verify(_ graph: Graph) throws(VerificationError) {
    var problems = nameProblems(graph)
    var definitions = Definitions(graph)
    for v in graph.inputs { definitions.define(v, by: "graph input", problems: &problems) }
    for (v, t) in graph.initializers.sorted(by: { $0.key < $1.key }) {
        definitions.define(v, by: "initializer", problems: &problems)
        if definitions.isValid(v), t.type != graph.values[v.index].type {
            problems.append("initializer '\(graph.values[v.index].name)' holds \(t.type) but its value is declared \(graph.values[v.index].type)")
        }
    }
    for node in graph.nodes {
        problems += nodeProblems(node, graph, definitions)
        for v in node.outputs { definitions.define(v, by: nodeLabel(node), problems: &problems) }
    }
    for v in graph.outputs where !definitions.isDefined(v) {
        problems.append("graph output \(definitions.isValid(v) ? "'\(graph.values[v.index].name)'" : v.description) is never defined")
    }
    if graph.outputs.isEmpty { problems.append("graph has no outputs") }
    if !problems.isEmpty { throw VerificationError(problems: problems) }
}

/// Empty value names and value or node names used twice.
private func nameProblems(_ graph: Graph) -> [String] {
    var problems: [String] = []
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
    return problems
}

/// Which values have been defined so far, walking the graph in order.
private struct Definitions {
    let graph: Graph
    private var defined: [Bool]

    init(_ graph: Graph) {
        self.graph = graph
        defined = Array(repeating: false, count: graph.values.count)
    }

    func isValid(_ v: ValueID) -> Bool { v.index >= 0 && v.index < defined.count }
    func isDefined(_ v: ValueID) -> Bool { isValid(v) && defined[v.index] }

    /// Marks `v` defined by `what`; an unknown value or a second definition is a problem.
    mutating func define(_ v: ValueID, by what: String, problems: inout [String]) {
        guard isValid(v) else { problems.append("\(what) defines unknown value \(v)"); return }
        if defined[v.index] { problems.append("value '\(graph.values[v.index].name)' is defined twice (again by \(what))") }
        defined[v.index] = true
    }
}

private func nodeLabel(_ node: Node) -> String { "node '\(node.name)' (\(node.op.name), \(node.location))" }

/// A node's inputs that are unknown or not yet defined; when all are defined, output types
/// that differ from the op's shape rule (or a rule that rejects the inputs).
private func nodeProblems(_ node: Node, _ graph: Graph, _ definitions: Definitions) -> [String] {
    let label = nodeLabel(node)
    var problems: [String] = []
    var inputTypes: [TensorType] = []
    for v in node.inputs {
        guard definitions.isValid(v) else { problems.append("\(label) reads unknown value \(v)"); continue }
        if !definitions.isDefined(v) { problems.append("\(label) reads '\(graph.values[v.index].name)' before it is defined") }
        inputTypes.append(graph.values[v.index].type)
    }
    guard problems.isEmpty else { return problems }
    do {
        let expected = try inferTypes(node.op, inputTypes)
        let declared = node.outputs.map { definitions.isValid($0) ? graph.values[$0.index].type : nil }
        if expected.count != declared.count {
            return ["\(label) has \(declared.count) outputs, its op produces \(expected.count)"]
        }
        return zip(expected, declared).enumerated().compactMap { k, pair in
            pair.1 == pair.0 ? nil : "\(label) output \(k) is declared \(pair.1.map(\.description) ?? "?") but the shape rule gives \(pair.0)"
        }
    } catch {
        return ["\(label) fails its shape rule: expected \(error.expected)"]
    }
}
