/// Where model code created a node: `#fileID` and `#line` of the call site.
public struct SourceLocation: Hashable, Sendable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public init(file: String, line: Int) { self.file = file; self.line = line }
    public static let unknown = SourceLocation(file: "?", line: 0)
    public var description: String { "\(file):\(line)" }
}

/// Index of a value in `Graph.values`.
public struct ValueID: Hashable, Sendable, Comparable, CustomStringConvertible {
    public let index: Int
    public init(_ index: Int) { self.index = index }
    public static func < (a: ValueID, b: ValueID) -> Bool { a.index < b.index }
    public var description: String { "%\(index)" }
}

/// A value: a graph input, an initializer, or a node output. Names are unique in a graph.
public struct Value: Sendable {
    public var name: String
    public var type: TensorType
    public init(name: String, type: TensorType) { self.name = name; self.type = type }
}

/// One op application. `name` is unique; `scope` is the module path that traced it
/// (`backbone.blocks.3.attn`), `location` the Swift line.
public struct Node: Sendable {
    public var name: String
    public var op: Op
    public var inputs: [ValueID]
    public var outputs: [ValueID]
    public var scope: String
    public var location: SourceLocation

    public init(name: String, op: Op, inputs: [ValueID], outputs: [ValueID], scope: String, location: SourceLocation) {
        self.name = name; self.op = op; self.inputs = inputs; self.outputs = outputs
        self.scope = scope; self.location = location
    }
}

/// A graph in SSA form: `nodes` are in topological order; every value is defined once, by a
/// graph input, an initializer or exactly one node output, before any use.
public struct Graph: Sendable {
    public var name: String
    public var values: [Value] = []
    public var nodes: [Node] = []
    public var inputs: [ValueID] = []
    /// Graph outputs in order. Their public names are the values' names.
    public var outputs: [ValueID] = []
    /// Constant values: weights and folded tensors, keyed by value.
    public var initializers: [ValueID: Tensor] = [:]
    /// Free-form properties carried to export (`metadata_props`), ordered by key on write.
    public var metadata: [String: String] = [:]

    public init(name: String) { self.name = name }

    public func type(of v: ValueID) -> TensorType { values[v.index].type }
    public func name(of v: ValueID) -> String { values[v.index].name }

    @discardableResult
    public mutating func addValue(name: String, type: TensorType) -> ValueID {
        values.append(Value(name: name, type: type))
        return ValueID(values.count - 1)
    }

    /// Map from value to the index of the node producing it.
    public func producers() -> [ValueID: Int] {
        var map: [ValueID: Int] = [:]
        for (i, n) in nodes.enumerated() { for o in n.outputs { map[o] = i } }
        return map
    }

    /// Number of uses per value (node inputs and graph outputs).
    public func useCounts() -> [Int] {
        var uses = Array(repeating: 0, count: values.count)
        for n in nodes { for i in n.inputs { uses[i.index] += 1 } }
        for o in outputs { uses[o.index] += 1 }
        return uses
    }

    /// Total parameter count and bytes over initializers.
    public var parameterStats: (count: Int, bytes: Int) {
        initializers.values.reduce((0, 0)) { ($0.0 + $1.count, $0.1 + $1.byteCount) }
    }

    /// Drops values that no node, input, output or initializer refers to and renumbers the
    /// rest, keeping order. Call after passes that remove nodes.
    public mutating func compactValues() {
        var live = Array(repeating: false, count: values.count)
        for v in inputs { live[v.index] = true }
        for v in outputs { live[v.index] = true }
        for v in initializers.keys { live[v.index] = true }
        for n in nodes { for v in n.inputs + n.outputs { live[v.index] = true } }
        var remap = Array(repeating: -1, count: values.count)
        var kept: [Value] = []
        for (i, v) in values.enumerated() where live[i] {
            remap[i] = kept.count
            kept.append(v)
        }
        func m(_ v: ValueID) -> ValueID { ValueID(remap[v.index]) }
        values = kept
        inputs = inputs.map(m)
        outputs = outputs.map(m)
        initializers = Dictionary(uniqueKeysWithValues: initializers.map { (m($0.key), $0.value) })
        for i in nodes.indices {
            nodes[i].inputs = nodes[i].inputs.map(m)
            nodes[i].outputs = nodes[i].outputs.map(m)
        }
    }
}
