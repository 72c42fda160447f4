import VitIR

/// Runs a graph node by node with `evaluate`, in the graph's (topological) node order.
///
/// Contracts:
/// - Feeds must name exactly the graph inputs, each with the declared dtype and shape
///   (symbolic dimensions accept any extent).
/// - A value is dropped as soon as its last use (from `Graph.useCounts()`, graph outputs
///   counting as uses) has run; initializers stay owned by the graph.
/// - `Result.peakBytes` is the largest total size of live non-initializer storage (feeds and
///   node outputs, views sharing storage counted once) observed after any node ran, when its
///   inputs and outputs are live together. Kernels' scratch buffers are not counted.
/// - Every failure is an `InterpreterError` naming the input, or the node with its op, scope
///   and source location.
public struct Interpreter: Sendable {
    public let graph: Graph

    public init(_ graph: Graph) { self.graph = graph }

    public struct Options: Sendable {
        /// Fail on the first node output holding NaN or ±Inf.
        public var checkFinite: Bool
        /// Record the wall time spent per op name in `Result.profile` and per scope in
        /// `Result.scopeProfile`.
        public var profile: Bool
        /// A run whose largest value or planned peak (`plannedMemory`) exceeds this is refused
        /// before anything is allocated.
        public var budget: MemoryBudget
        /// Run planned node pairs as one kernel: each linear layer's MatMul and bias Add as one
        /// GEMM (FastPaths/LinearBias.swift; rounding class), with the Relu, Gelu, LayerScale
        /// Mul and residual Add after it run in the GEMM's row blocks (bit-exact on its product),
        /// a Mul summed over its last axis by a ReduceSum as one pass
        /// (FastPaths/MulReduceSum.swift; bit-exact), and a MatMul
        /// reading a Transpose of the last two axes as a GEMM of the Transpose's input with a
        /// transposed flag (FastPaths/TransposedOperandMatMul.swift; rounding class). Off with
        /// `checkFinite`, which checks every node's own output.
        public var fuse: Bool

        public init(checkFinite: Bool = false, profile: Bool = false, budget: MemoryBudget = .physicalDefault,
                    fuse: Bool = true) {
            self.checkFinite = checkFinite
            self.profile = profile
            self.budget = budget
            self.fuse = fuse
        }
    }

    /// Observing and overriding named values during one run, without changing the graph.
    ///
    /// - `observe`: names of values (graph inputs, initializers or node outputs) whose tensors
    ///   the run records in `Result.observed` as the graph computed them (the feed, for an
    ///   input), before any override: overriding and observing a value shows what the graph
    ///   would have passed on.
    /// - `overrides`: tensors that replace the value of that name as soon as it is defined
    ///   (a graph input when it is bound, a node output right after its node ran); every later
    ///   use sees the substitute. A substitute must conform to the value's declared type.
    /// Naming a value the graph does not have is an error, so a misspelt stage is not silently
    /// skipped.
    public struct Hooks: Sendable {
        public var observe: Set<String>
        public var overrides: [String: Tensor]

        public init(observe: Set<String> = [], overrides: [String: Tensor] = [:]) {
            self.observe = observe
            self.overrides = overrides
        }
    }

    public struct Result: Sendable {
        /// Graph outputs by name.
        public var outputs: [String: Tensor]
        /// Output names in graph order.
        public var outputNames: [String]
        /// Peak bytes of live non-initializer tensors (see `Interpreter`).
        public var peakBytes: Int
        /// Total seconds per ONNX op name; empty unless `Options.profile` is set.
        public var profile: [String: Double]
        /// Total seconds per node scope (for a node without one, as in an imported ONNX file,
        /// its name up to the last '.' or '/'); empty unless `Options.profile` is set.
        public var scopeProfile: [String: Double] = [:]
        /// Total seconds per node scope and op name together; empty unless `Options.profile`.
        public var scopeOpProfile: [ScopeOp: Double] = [:]
        /// Values named in `Hooks.observe`, by name.
        public var observed: [String: Tensor] = [:]

        public subscript(name: String) -> Tensor? { outputs[name] }
    }

    /// A node scope (as in `Result.scopeProfile`) with an op name.
    public struct ScopeOp: Hashable, Sendable {
        public var scope: String, op: String
    }

    public func run(feeds: [String: Tensor], options: Options = Options(),
                    hooks: Hooks = Hooks()) throws(InterpreterError) -> Result {
        do { try checkMemory(graph, budget: options.budget) } catch {
            throw InterpreterError(site: .graph, message: error.description)
        }
        try checkFeeds(feeds)
        let byName = try hookedValues(hooks)
        var state = RunState(graph: graph, hooks: hooks, hooked: byName)
        if options.profile { state.profiler = ProfileRecorder(graph) }
        if options.fuse, !options.checkFinite {
            state.mulReduce = mulReduceSumPlan(graph, excluded: Set(byName.keys))
            state.fusion = linearBiasPlan(graph, excluded: Set(byName.keys), claimed: Set(state.mulReduce.keys))
            state.transposed = transposedOperandPlan(graph, excluded: Set(byName.keys),
                                                     planned: Set(state.fusion.biasOfMatMul.keys))
            state.attention = attentionPlan(graph, excluded: Set(byName.keys), transposed: state.transposed,
                                            planned: Set(state.fusion.biasOfMatMul.keys))
            state.sampling = weightedSamplingPlan(graph, excluded: Set(byName.keys), mulReduce: state.mulReduce)
        }
        for id in graph.inputs { try state.define(id, feeds[graph.name(of: id)]!) }
        state.releaseUnused(graph.inputs)
        state.memory.notePeak()
        for (i, node) in graph.nodes.enumerated() { try state.execute(node, index: i, options: options) }
        return try state.result()
    }

    /// Value ids of the hooks' names (initializers are recorded here, as they are never
    /// defined by the run); throws for a name the graph lacks.
    private func hookedValues(_ hooks: Hooks) throws(InterpreterError) -> [ValueID: String] {
        let wanted = hooks.observe.union(hooks.overrides.keys)
        guard !wanted.isEmpty else { return [:] }
        var byName: [ValueID: String] = [:]
        for (i, value) in graph.values.enumerated() where wanted.contains(value.name) { byName[ValueID(i)] = value.name }
        let missing = wanted.subtracting(byName.values)
        if let first = missing.sorted().first {
            throw InterpreterError(site: .graph, message: "hook names value '\(first)', which the graph does not have")
        }
        return byName
    }

    private func checkFeeds(_ feeds: [String: Tensor]) throws(InterpreterError) {
        let inputNames = graph.inputs.map { graph.name(of: $0) }
        for name in feeds.keys.sorted() where !inputNames.contains(name) {
            throw InterpreterError(site: .feed(name: name),
                                   message: "not a graph input (inputs: \(inputNames.joined(separator: ", ")))")
        }
        for id in graph.inputs {
            let name = graph.name(of: id), declared = graph.type(of: id)
            guard let t = feeds[name] else {
                throw InterpreterError(site: .feed(name: name), message: "missing feed (expected \(declared))")
            }
            guard conforms(t.type, to: declared) else {
                throw InterpreterError(site: .feed(name: name), message: "expected \(declared), got \(t.type)")
            }
        }
    }
}

/// The environment of one `Interpreter.run`: live values, remaining uses, memory accounting,
/// profile and hook records.
private struct RunState {
    let graph: Graph
    let hooks: Interpreter.Hooks
    /// Hooked values (observed or overridden) by id.
    let hooked: [ValueID: String]
    var env: [Tensor?]
    var remaining: [Int]
    var memory: LiveMemory
    /// Per-node times (nil unless `Options.profile`).
    var profiler: ProfileRecorder?
    var observed: [String: Tensor] = [:]
    /// Linear layers run as one GEMM (empty unless `Options.fuse`).
    var fusion = LinearBiasPlan()
    /// Mul nodes whose ReduceSum they compute (FastPaths/MulReduceSum.swift; empty unless
    /// `Options.fuse`).
    var mulReduce: MulReduceSumPlan = [:]
    /// MatMuls reading a Transpose's input (empty unless `Options.fuse`).
    var transposed = TransposedOperandPlan()
    /// MatMul → Softmax → MatMul chains computed one head at a time by their first MatMul
    /// (FastPaths/AttentionPerHead.swift; empty unless `Options.fuse`).
    var attention = AttentionPlan()
    /// GridSample → Mul → ReduceSum chains whose Mul computes the sum from the GridSample's
    /// inputs (FastPaths/GridSampleWeightedSum.swift; empty unless `Options.fuse`), and those
    /// inputs, by Mul node index, until it runs.
    var sampling = WeightedSamplingPlan()
    var samplingInputs: [Int: (image: Tensor, grid: Tensor)] = [:]
    /// Outputs a fused node computed for a later node of its chain (a ReduceSum, an attention's
    /// second MatMul), by that node's index, until it binds them.
    var fusedOutputs: [Int: Tensor] = [:]
    let clock = ContinuousClock()

    init(graph: Graph, hooks: Interpreter.Hooks, hooked: [ValueID: String]) {
        self.graph = graph
        self.hooks = hooks
        self.hooked = hooked
        env = [Tensor?](repeating: nil, count: graph.values.count)
        remaining = graph.useCounts()
        memory = LiveMemory(initializers: graph.initializers.values)
        for (id, t) in graph.initializers {
            env[id.index] = t
            if let name = hooked[id], hooks.observe.contains(name) { observed[name] = t }
        }
    }

    /// Records `t` when observed, binds it (or its override) to `id`, counts it live.
    /// `fail` builds the error for an override of the wrong type.
    mutating func define(_ id: ValueID, _ t: Tensor,
                         fail: (String) -> InterpreterError = { InterpreterError(site: .graph, message: $0) }) throws(InterpreterError) {
        var value = t
        if let name = hooked[id] {
            if hooks.observe.contains(name) { observed[name] = t }
            if let substitute = hooks.overrides[name] {
                guard conforms(substitute.type, to: graph.type(of: id)) else {
                    throw fail("override of '\(name)' is \(substitute.type), declared \(graph.type(of: id))")
                }
                value = substitute
            }
        }
        env[id.index] = value
        memory.retain(value)
    }

    /// Drops the values among `ids` that nothing uses.
    mutating func releaseUnused(_ ids: [ValueID]) {
        for v in ids where remaining[v.index] == 0 {
            if let t = env[v.index] { memory.release(t) }
            env[v.index] = nil
        }
    }

    /// Runs one node: gathers its inputs, evaluates, checks and binds its outputs, frees the
    /// values whose last use it was.
    mutating func execute(_ node: Node, index: Int, options: Interpreter.Options) throws(InterpreterError) {
        func fail(_ message: String, _ underlying: KernelError? = nil) -> InterpreterError {
            InterpreterError(site: .node(name: node.name, op: node.op.name, scope: node.scope, location: node.location),
                             message: message, underlying: underlying)
        }
        var inputs: [Tensor] = []
        // A node of a fused chain after its first reads nothing: its inputs were never stored.
        let chained = fusedOutputs[index] != nil || attention.softmaxes.contains(index) || sampling.gridSampleOfMul[index] != nil
        for v in node.inputs where !chained {
            guard v.index >= 0, v.index < env.count, let t = env[v.index] else {
                throw fail("input \(v.index < env.count && v.index >= 0 ? "'\(graph.name(of: v))'" : v.description) is not defined (or already freed) when the node runs")
            }
            inputs.append(t)
        }

        let start = clock.now
        let outputs: [Tensor]
        do {
            outputs = try compute(node, index: index, inputs)
        } catch let error as KernelError {
            throw fail(error.description, error)
        } catch {
            throw fail("\(error)")
        }
        if profiler != nil {
            let d = (clock.now - start).components
            profiler?.record(node: index, seconds: Double(d.seconds) + Double(d.attoseconds) * 1e-18)
        }

        guard outputs.count == node.outputs.count || producesNothing(index) else {
            throw fail("op produced \(outputs.count) outputs, node declares \(node.outputs.count)")
        }
        for (k, (v, t)) in zip(node.outputs, outputs).enumerated() {
            let declared = graph.type(of: v)
            guard conforms(t.type, to: declared) else {
                throw fail("output \(k) ('\(graph.name(of: v))') is \(t.type), declared \(declared)")
            }
            if options.checkFinite, let i = firstNonFinite(t) {
                throw fail("output \(k) ('\(graph.name(of: v))') holds \(t.floats[i]) at flat index \(i)")
            }
            try define(v, t, fail: { fail($0) })
        }
        memory.notePeak()

        for v in node.inputs where graph.initializers[v] == nil {
            remaining[v.index] -= 1
            if remaining[v.index] == 0, let t = env[v.index] {
                memory.release(t)
                env[v.index] = nil
            }
        }
        releaseUnused(node.outputs)
    }

    /// Whether the node's outputs are left to a later node of its fused chain (it binds none).
    func producesNothing(_ index: Int) -> Bool {
        mulReduce[index] != nil || attention.byScores[index] != nil || attention.softmaxes.contains(index)
            || sampling.byGridSample[index] != nil
    }

    /// The node's outputs: its kernel's, or the planned fusion's part.
    mutating func compute(_ node: Node, index: Int, _ inputs: [Tensor]) throws -> [Tensor] {
        if let chain = sampling.byGridSample[index] {
            // Kept (and counted live) until the chain's Mul samples and sums in one pass.
            samplingInputs[chain.mul] = (inputs[0], inputs[1])
            memory.retain(inputs[0])
            memory.retain(inputs[1])
            return []
        } else if let g = sampling.gridSampleOfMul[index], let chain = sampling.byGridSample[g] {
            guard let (image, grid) = samplingInputs.removeValue(forKey: index), let weights = env[chain.weights.index],
                  case .sampling(.gridSample(let a)) = graph.nodes[g].op else {
                throw KernelError(.invalidInput, "the sampling chain's inputs are not defined when its Mul runs")
            }
            let sum = bilinearZerosWeightedSum(image, channelsLast: chain.channelsLast, grid, weights, alignCorners: a.alignCorners,
                                               graph.type(of: graph.nodes[chain.reduce].outputs[0]))
            fusedOutputs[chain.reduce] = sum
            memory.retain(sum)
            memory.notePeak()
            memory.release(image)
            memory.release(grid)
            return []
        } else if let bias = fusion.biasOfMatMul[index], let b = env[bias.index] {
            let epilogue = try (fusion.epilogueOfMatMul[index] ?? []).map { step throws(KernelError) in
                try step.map(definedValue)
            }
            return [linearWithBias(inputs[0], inputs[1], b, graph.type(of: node.outputs[0]), epilogue: epilogue)]
        } else if let fused = fusedOutputs.removeValue(forKey: index) {
            memory.release(fused)  // retained when the chain's first node computed it; bound again by the caller
            return [fused]
        } else if let reduceNode = mulReduce[index] {
            let sum = mulReduceLastAxis(inputs[0], inputs[1], productShape: graph.type(of: node.outputs[0]).shape.ints ?? [],
                                        graph.type(of: graph.nodes[reduceNode].outputs[0]))
            fusedOutputs[reduceNode] = sum
            memory.retain(sum)
            return []
        } else if let chain = attention.byScores[index] {
            guard let v = env[chain.values.index] else {
                throw KernelError(.invalidInput, "attention's v ('\(graph.name(of: chain.values))') is not defined when its scores are computed")
            }
            // k may be a transposed view (below): its true shape has the last two axes swapped back.
            let transK = transposed.operandsOfMatMul[index]?.transB == true
            let k = transK ? try reshaped(inputs[1], swappingLastTwo(inputs[1].shape)) : inputs[1]
            let (output, scratchBytes) = attentionPerHead(inputs[0], k, transK: transK, v)
            fusedOutputs[chain.weighted] = output
            memory.retain(output)
            memory.notePeak(extra: scratchBytes)
            return []
        } else if attention.softmaxes.contains(index) {
            return []
        } else if let position = fusion.passThrough[index] {
            // The linear layer's tensor (this input) already holds this node's result.
            return [inputs[position]]
        } else if let t = transposed.operandsOfMatMul[index] {
            // A transposed operand is a view of the Transpose's input (below): its true shape
            // is the declared one with the last two axes swapped back.
            let a = t.transA ? try reshaped(inputs[0], swappingLastTwo(inputs[0].shape)) : inputs[0]
            let b = t.transB ? try reshaped(inputs[1], swappingLastTwo(inputs[1].shape)) : inputs[1]
            return [transposedOperandMatMul(a, transA: t.transA, b, transB: t.transB, graph.type(of: node.outputs[0]))]
        } else if sampling.viewTransposes.contains(index) {
            // Only the planned sampling reads this value (through a Reshape), channels-last.
            return [try reshaped(inputs[0], graph.type(of: node.outputs[0]).shape.ints ?? [])]
        } else if transposed.viewTransposes.contains(index) {
            // Only the planned MatMul reads this value, as its input's untransposed elements.
            return [try reshaped(inputs[0], swappingLastTwo(inputs[0].shape))]
        }
        return try evaluate(node.op, inputs)
    }

    /// The tensor bound to `v` (a fused node's operand, read before the node that names it runs).
    func definedValue(_ v: ValueID) throws(KernelError) -> Tensor {
        guard let t = env[v.index] else {
            throw KernelError(.invalidInput, "'\(graph.name(of: v))' is not defined when its linear layer runs")
        }
        return t
    }

    /// The graph outputs by name, in graph order.
    func result() throws(InterpreterError) -> Interpreter.Result {
        var outputs: [String: Tensor] = [:]
        var names: [String] = []
        for v in graph.outputs {
            let name = graph.name(of: v)
            guard let t = env[v.index] else {
                throw InterpreterError(site: .graph, message: "output '\(name)' is never computed")
            }
            outputs[name] = t
            names.append(name)
        }
        let times = profiler?.totals ?? (byOp: [:], byScope: [:], byScopeOp: [:])
        return Interpreter.Result(outputs: outputs, outputNames: names, peakBytes: memory.peak, profile: times.byOp,
                                  scopeProfile: times.byScope, scopeOpProfile: times.byScopeOp, observed: observed)
    }
}

/// True when `t` has `declared`'s dtype and rank and every fixed dimension matches.
private func conforms(_ t: TensorType, to declared: TensorType) -> Bool {
    guard t.dtype == declared.dtype, t.rank == declared.rank else { return false }
    return zip(t.shape.dims, declared.shape.dims).allSatisfy { d, e in e.value == nil || d == e }
}

/// Flat index of the first NaN or infinity in a floating-point tensor.
private func firstNonFinite(_ t: Tensor) -> Int? {
    guard t.dtype.isFloatingPoint else { return nil }
    return withFloats(t) { $0.firstIndex { !$0.isFinite } }
}

/// Bytes of live storage, each storage counted once however many values view it;
/// initializer storage is never counted.
private struct LiveMemory {
    private var refs: [ObjectIdentifier: (count: Int, bytes: Int)] = [:]
    private let excluded: Set<ObjectIdentifier>
    private(set) var live = 0
    private(set) var peak = 0

    init(initializers: some Sequence<Tensor>) {
        excluded = Set(initializers.map { ObjectIdentifier($0.storage) })
    }

    mutating func retain(_ t: Tensor) {
        let id = ObjectIdentifier(t.storage)
        guard !excluded.contains(id) else { return }
        if let entry = refs[id] {
            refs[id] = (entry.count + 1, entry.bytes)
        } else {
            refs[id] = (1, t.storage.byteCount)
            live += t.storage.byteCount
        }
    }

    mutating func release(_ t: Tensor) {
        let id = ObjectIdentifier(t.storage)
        guard let entry = refs[id] else { return }
        if entry.count == 1 {
            refs[id] = nil
            live -= entry.bytes
        } else {
            refs[id] = (entry.count - 1, entry.bytes)
        }
    }

    /// Notes the live bytes, plus `extra` held only for the moment (a kernel's scratch), as a
    /// candidate peak.
    mutating func notePeak(extra: Int = 0) { peak = Swift.max(peak, live + extra) }
}
