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
        /// Record the wall time spent per op name in `Result.profile`.
        public var profile: Bool
        /// A run whose largest value or planned peak (`plannedMemory`) exceeds this is refused
        /// before anything is allocated.
        public var budget: MemoryBudget

        public init(checkFinite: Bool = false, profile: Bool = false, budget: MemoryBudget = .physicalDefault) {
            self.checkFinite = checkFinite
            self.profile = profile
            self.budget = budget
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

        public subscript(name: String) -> Tensor? { outputs[name] }
    }

    public func run(feeds: [String: Tensor], options: Options = Options()) throws(InterpreterError) -> Result {
        do { try checkMemory(graph, budget: options.budget) } catch {
            throw InterpreterError(site: .graph, message: error.description)
        }
        try checkFeeds(feeds)
        var env = [Tensor?](repeating: nil, count: graph.values.count)
        var remaining = graph.useCounts()
        for (id, t) in graph.initializers { env[id.index] = t }
        var memory = LiveMemory(initializers: graph.initializers.values)

        for id in graph.inputs {
            let t = feeds[graph.name(of: id)]!
            env[id.index] = t
            memory.retain(t)
            if remaining[id.index] == 0 { memory.release(t); env[id.index] = nil }
        }
        memory.notePeak()

        var profile: [String: Double] = [:]
        let clock = ContinuousClock()
        for node in graph.nodes {
            func fail(_ message: String, _ underlying: KernelError? = nil) -> InterpreterError {
                InterpreterError(site: .node(name: node.name, op: node.op.name, scope: node.scope, location: node.location),
                                 message: message, underlying: underlying)
            }
            var inputs: [Tensor] = []
            for v in node.inputs {
                guard v.index >= 0, v.index < env.count, let t = env[v.index] else {
                    throw fail("input \(v.index < env.count && v.index >= 0 ? "'\(graph.name(of: v))'" : v.description) is not defined (or already freed) when the node runs")
                }
                inputs.append(t)
            }

            let start = clock.now
            let outputs: [Tensor]
            do {
                outputs = try evaluate(node.op, inputs)
            } catch let error as KernelError {
                throw fail(error.description, error)
            } catch {
                throw fail("\(error)")
            }
            if options.profile {
                let d = (clock.now - start).components
                profile[node.op.name, default: 0] += Double(d.seconds) + Double(d.attoseconds) * 1e-18
            }

            guard outputs.count == node.outputs.count else {
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
                env[v.index] = t
                memory.retain(t)
            }
            memory.notePeak()

            for v in node.inputs where graph.initializers[v] == nil {
                remaining[v.index] -= 1
                if remaining[v.index] == 0, let t = env[v.index] {
                    memory.release(t)
                    env[v.index] = nil
                }
            }
            for v in node.outputs where remaining[v.index] == 0 {
                if let t = env[v.index] { memory.release(t) }
                env[v.index] = nil
            }
        }

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
        return Result(outputs: outputs, outputNames: names, peakBytes: memory.peak, profile: profile)
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

    mutating func notePeak() { peak = Swift.max(peak, live) }
}
