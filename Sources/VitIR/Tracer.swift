/// Records model code as a graph. Model code calls ops on `SymbolicTensor`s; each call runs the
/// op's shape rule at once and appends a node named after the current module scope, carrying the
/// Swift source location of the call. A rejected op throws `TraceError`.
///
/// Not thread-safe: one tracer is driven by one model-building call.
public final class Tracer {
    public private(set) var graph: Graph
    private var scopeStack: [String] = []
    /// Value names and node names are separate namespaces (ONNX allows a node and its output
    /// to share a name); each must be unique within itself.
    private var valueNames: Set<String> = []
    private var nodeNames: Set<String> = []

    /// No traced value, and no sum of initializers, may exceed this.
    public var budget: MemoryBudget
    /// Bytes of the initializers added so far.
    public private(set) var initializerBytes = 0

    public init(name: String, budget: MemoryBudget = .physicalDefault) {
        graph = Graph(name: name)
        self.budget = budget
    }

    /// Reserves room for a parameter of `type` named `name` (under the current scope) before
    /// it is created: its size and the initializers' total must stay within the budget.
    public func reserveParameter(_ name: String, _ type: TensorType) throws(MemoryBudgetError) {
        let bytes = type.shape.ints.flatMap { Checked.byteCount(dims: $0, type.dtype) }
        try budget.check(bytes, "parameter '\(qualified(name))' \(type)")
        try budget.check(bytes.flatMap { Checked.add(initializerBytes, $0) },
                         "the parameters up to '\(qualified(name))' (\(formatBytes(initializerBytes)) before it)")
    }

    /// The dotted module path currently open (`backbone.blocks.3.attn`).
    public var scope: String { scopeStack.joined(separator: ".") }

    /// Runs `body` with `name` appended to the module path. Empty names are ignored.
    public func scope<T>(_ name: String, _ body: () throws -> T) rethrows -> T {
        guard !name.isEmpty else { return try body() }
        scopeStack.append(name)
        defer { scopeStack.removeLast() }
        return try body()
    }

    /// A full checkpoint-style key for `name` under the current scope.
    public func qualified(_ name: String) -> String { scope.isEmpty ? name : scope + "." + name }

    private func uniqueName(_ base: String) -> String { VitIR.uniqueName(base, in: &valueNames) }

    /// Declares a graph input.
    public func input(_ name: String, _ type: TensorType) -> SymbolicTensor {
        let id = graph.addValue(name: uniqueName(name), type: type)
        graph.inputs.append(id)
        return SymbolicTensor(id: id, type: type, tracer: self)
    }

    /// Adds a named initializer; `name` is qualified by the current scope, so under scope
    /// `backbone.patch_embed.proj` the call `parameter("weight", t)` names it
    /// `backbone.patch_embed.proj.weight` (the checkpoint key).
    public func parameter(_ name: String, _ tensor: Tensor) -> SymbolicTensor {
        constant(tensor, name: qualified(name))
    }

    /// Adds an initializer with an exact name (made unique if taken).
    public func constant(_ tensor: Tensor, name: String) -> SymbolicTensor {
        let id = graph.addValue(name: uniqueName(name), type: tensor.type)
        graph.initializers[id] = tensor
        initializerBytes += tensor.byteCount
        return SymbolicTensor(id: id, type: tensor.type, tracer: self)
    }

    /// A small anonymous constant under the current scope.
    public func constant(_ tensor: Tensor) -> SymbolicTensor {
        constant(tensor, name: qualified("const"))
    }

    /// Marks `t` as a graph output named `name`.
    public func output(_ name: String, _ t: SymbolicTensor) throws {
        guard graph.outputs.firstIndex(of: t.id) == nil, graph.inputs.firstIndex(of: t.id) == nil,
              graph.initializers[t.id] == nil else {
            // Give the output its own value so it can carry its own name.
            let copy = try apply(.identity, [t], name: name)[0]
            graph.outputs.append(copy.id)
            return
        }
        // A node output: rename the value to the public output name.
        graph.values[t.id.index].name = uniqueName(name)
        graph.outputs.append(t.id)
    }

    /// Applies `op` to `inputs`: runs the shape rule, appends the node, returns its outputs.
    /// `name` overrides the node's base name (default: the op name under the current scope).
    @discardableResult
    public func apply(_ op: Op, _ inputs: [SymbolicTensor], name: String? = nil,
                      file: String = #fileID, line: Int = #line) throws(TraceError) -> [SymbolicTensor] {
        let location = SourceLocation(file: file, line: line)
        let types = inputs.map(\.type)
        for t in inputs where t.tracer !== self {
            throw TraceError(op: op.name, scope: scope, location: location, inputTypes: types,
                             message: "an input belongs to a different trace")
        }
        let outTypes: [TensorType]
        do {
            outTypes = try inferTypes(op, types)
        } catch {
            throw TraceError(op: op.name, scope: scope, location: location, inputTypes: types, message: error.expected)
        }
        for t in outTypes {
            do {
                try budget.check(t.shape.ints.flatMap { Checked.byteCount(dims: $0, t.dtype) }, "its output \(t)")
            } catch {
                throw TraceError(op: op.name, scope: scope, location: location, inputTypes: types, message: error.description)
            }
        }
        let nodeName = VitIR.uniqueName(name ?? qualified(op.name), in: &nodeNames)
        var outs: [SymbolicTensor] = []
        for (k, t) in outTypes.enumerated() {
            let valueName = outTypes.count == 1 ? nodeName : "\(nodeName):\(k)"
            let id = graph.addValue(name: uniqueName(valueName), type: t)
            outs.append(SymbolicTensor(id: id, type: t, tracer: self))
        }
        graph.nodes.append(Node(name: nodeName, op: op, inputs: inputs.map(\.id), outputs: outs.map(\.id),
                                scope: scope, location: location))
        return outs
    }

    /// Finishes tracing: verifies the graph and returns it.
    public func finish() throws -> Graph {
        try verify(graph)
        return graph
    }
}

/// A traced value: an input, a weight or an op result. Ops are methods (see `TensorOps.swift`).
public struct SymbolicTensor {
    public let id: ValueID
    public let type: TensorType
    public unowned let tracer: Tracer

    public var dtype: DType { type.dtype }
    public var shape: Shape { type.shape }
    public var rank: Int { type.rank }
    /// Concrete extents (every traced shape is static today).
    public var dims: [Int] { type.shape.ints ?? [] }
}
