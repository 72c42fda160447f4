import ONNXProto
import VitIR

/// A dynamic-batch export: the graph is exported with its batch extent symbolic. The IR's
/// shapes are static, so the model is traced twice, at `batch` (the graph exported) and at
/// `twinBatch` (`twin`), both folded; the two lowered models must correspond node by node
/// (same op types, names, inputs, outputs, attributes, scopes) and may differ only where a
/// value is the batch size times a constant. See `makeBatchSymbolic` for what becomes
/// symbolic and what is refused.
public struct DynamicBatch: Sendable {
    /// The model traced at `twinBatch` (and folded as the exported graph was).
    public var twin: Graph
    /// Batch sizes of the exported graph and of `twin`: distinct, both ≥ 2 (at 1 a Reshape or
    /// Expand over the batch can be folded or simplified away, so the graphs would not
    /// correspond).
    public var batch: Int
    public var twinBatch: Int
    /// The `dim_param` of the batch dimension.
    public var symbol: String

    public init(twin: Graph, batch: Int, twinBatch: Int, symbol: String = "batch") {
        self.twin = twin; self.batch = batch; self.twinBatch = twinBatch; self.symbol = symbol
    }
}

/// Rewrites `lowered` (the model traced at `batch`) so its batch dimension is the symbol
/// `d.symbol`, judged against `twin` (the same model lowered at `d.twinBatch`):
/// - graph inputs and outputs: the leading dimension must be the batch (`batch` vs
///   `twinBatch`) and becomes `dim_param` `symbol`; any other difference is an error;
/// - `value_info`: a dimension equal to the batch becomes `symbol`; a multiple of it (k·batch,
///   as in deformable attention's batch × heads) is left unknown; anything else is an error;
/// - a Reshape `shape` entry that differs becomes 0 (copy) where it equals the input's extent
///   at that position in both traces, else −1 when it is k·batch and the only such entry;
///   a Reshape with `allowzero` = 1 is refused;
/// - an Expand `shape` entry that differs becomes 1 where the input already has that extent
///   (the batch flows from the input);
/// - any other difference — a folded constant whose values depend on the batch (an Expand of
///   a batch-less constant, a Tile), a Slice, Split or Pad bound, another op's attribute —
///   throws `ExportError` naming the node and its scope.
func makeBatchSymbolic(_ lowered: inout LoweredModel, twin: LoweredModel, _ d: DynamicBatch) throws(ExportError) {
    guard d.batch >= 2, d.twinBatch >= 2, d.batch != d.twinBatch else {
        throw ExportError("dynamic batch: the two traces need distinct batch sizes ≥ 2, got \(d.batch) and \(d.twinBatch)")
    }
    let pair = BatchPair(main: lowered.model.graph, twin: twin.model.graph, d: d)
    try pair.checkNodes()
    let g = lowered.model.graph
    lowered.model.graph.input = try g.input.map { vi throws(ExportError) in try pair.symbolicIO(vi, "graph input") }
    lowered.model.graph.output = try g.output.map { vi throws(ExportError) in try pair.symbolicIO(vi, "graph output") }
    lowered.model.graph.valueInfo = try g.valueInfo.map { vi throws(ExportError) in try pair.symbolicValue(vi) }
    guard lowered.initializers.count == twin.initializers.count else {
        throw ExportError("dynamic batch: the batch-\(d.batch) and batch-\(d.twinBatch) traces have \(lowered.initializers.count) and \(twin.initializers.count) initializers; a constant depends on the batch")
    }
    for k in lowered.initializers.indices {
        let (name, a) = lowered.initializers[k]
        let (twinName, b) = twin.initializers[k]
        guard name == twinName else {
            throw ExportError("dynamic batch: initializer '\(name)' of the batch-\(d.batch) trace has no counterpart in the batch-\(d.twinBatch) trace (found '\(twinName)')")
        }
        if a.shape == b.shape && a.dtype == b.dtype && a.bitwiseEqual(b) { continue }
        lowered.initializers[k].tensor = try pair.symbolicConstant(name, a, b)
    }
}

/// The two lowered graphs being compared, with each value's declared type.
private struct BatchPair {
    let main: Onnx_GraphProto
    let twin: Onnx_GraphProto
    let d: DynamicBatch
    /// Value name → dimensions (dim_value) in each trace.
    var mainDims: [String: [Int]] = [:]
    var twinDims: [String: [Int]] = [:]

    init(main: Onnx_GraphProto, twin: Onnx_GraphProto, d: DynamicBatch) {
        self.main = main; self.twin = twin; self.d = d
        for vi in main.input + main.output + main.valueInfo { mainDims[vi.name] = staticDims(vi) }
        for vi in twin.input + twin.output + twin.valueInfo { twinDims[vi.name] = staticDims(vi) }
    }

    /// Same op types, names, inputs, outputs, attributes and scopes, node by node.
    func checkNodes() throws(ExportError) {
        for (k, (a, b)) in zip(main.node, twin.node).enumerated() {
            guard a.opType == b.opType, a.name == b.name, a.input == b.input, a.output == b.output,
                  a.docString == b.docString else {
                throw ExportError("dynamic batch: node \(k) differs between the batch-\(d.batch) and batch-\(d.twinBatch) traces (\(label(a)) vs \(label(b)))")
            }
            guard a.attribute == b.attribute else {
                throw ExportError("dynamic batch: an attribute of \(label(a)) depends on the batch size; a dynamic batch cannot express it")
            }
        }
        guard main.node.count == twin.node.count else {
            throw ExportError("dynamic batch: the batch-\(d.batch) trace has \(main.node.count) nodes, the batch-\(d.twinBatch) trace \(twin.node.count)")
        }
    }

    /// A graph input or output: only the leading extent may differ, and it is the batch.
    func symbolicIO(_ vi: Onnx_ValueInfoProto, _ what: String) throws(ExportError) -> Onnx_ValueInfoProto {
        let (a, b) = try dims(vi.name, what)
        guard !a.isEmpty, a[0] == d.batch, b[0] == d.twinBatch, a.dropFirst() == b.dropFirst() else {
            throw ExportError("dynamic batch: \(what) '\(vi.name)' is \(a) at batch \(d.batch) and \(b) at batch \(d.twinBatch); only its leading dimension may be the batch")
        }
        return withDims(vi, a.indices.map { $0 == 0 ? .symbol(d.symbol) : .fixed(a[$0]) })
    }

    /// A `value_info`: the batch becomes the symbol, k·batch an unknown dimension.
    func symbolicValue(_ vi: Onnx_ValueInfoProto) throws(ExportError) -> Onnx_ValueInfoProto {
        let (a, b) = try dims(vi.name, "value")
        guard a != b else { return vi }
        let out: [Dim?] = try zip(a, b).map { (x, y) throws(ExportError) -> Dim? in
            if x == y { return .fixed(x) }
            if x == d.batch && y == d.twinBatch { return .symbol(d.symbol) }
            if isBatchMultiple(x, y) { return nil }
            throw ExportError("dynamic batch: value '\(vi.name)' is \(a) at batch \(d.batch) and \(b) at batch \(d.twinBatch); an extent is not a multiple of the batch")
        }
        return withDims(vi, out)
    }

    /// The rewritten form of initializer `name`, which is `a` at `batch` and `b` at
    /// `twinBatch`: a Reshape or Expand shape with its batch-dependent entries made symbolic.
    func symbolicConstant(_ name: String, _ a: Tensor, _ b: Tensor) throws(ExportError) -> Tensor {
        let users = main.node.filter { $0.input.contains(name) }
        guard let first = users.first else { throw ExportError("dynamic batch: initializer '\(name)' depends on the batch and is unused") }
        var result: [Int64]?
        for node in users {
            let rewritten: [Int64]
            switch (node.opType, node.input.firstIndex(of: name)) {
            case ("Reshape", 1): rewritten = try reshapeShape(node, a.int64s, b.int64s)
            case ("Expand", 1): rewritten = try expandShape(node, a.int64s, b.int64s)
            default:
                throw ExportError("dynamic batch: \(label(node)) uses '\(name)', whose values depend on the batch size (shape \(a.shape) at batch \(d.batch), \(b.shape) at batch \(d.twinBatch)); a dynamic batch cannot express it")
            }
            if let result, result != rewritten {
                throw ExportError("dynamic batch: '\(name)' is shared by nodes that need different batch-free forms (\(label(first)), \(label(node)))")
            }
            result = rewritten
        }
        return Tensor(result!, shape: [result!.count])
    }

    /// Reshape: a differing entry is 0 where it copies the input's extent in both traces,
    /// else −1 (one at most, and k·batch).
    private func reshapeShape(_ node: Onnx_NodeProto, _ a: [Int64], _ b: [Int64]) throws(ExportError) -> [Int64] {
        guard a.count == b.count else { throw ExportError("dynamic batch: the rank of \(label(node))'s target depends on the batch") }
        if node.attribute.contains(where: { $0.name == "allowzero" && $0.i != 0 }) {
            throw ExportError("dynamic batch: \(label(node)) has allowzero = 1 (a zero extent), so its batch entry cannot be written as 0 (copy)")
        }
        let (x, y) = try dims(node.input[0], "the input of \(label(node))")
        var out = a
        var inferred = a.firstIndex(of: -1)   // a decomposition's own −1 takes the one place
        for i in a.indices where a[i] != b[i] {
            if i < x.count, Int(a[i]) == x[i], Int(b[i]) == y[i] {
                out[i] = 0
            } else if inferred == nil, isBatchMultiple(Int(a[i]), Int(b[i])) {
                out[i] = -1
                inferred = i
            } else {
                throw ExportError("dynamic batch: \(label(node)) reshapes to \(a) at batch \(d.batch) and \(b) at batch \(d.twinBatch); entry \(i) is neither a copy of the input's extent nor the one inferred (−1) multiple of the batch")
            }
        }
        return out
    }

    /// Expand: a differing entry is 1 where the input already has that extent (broadcast
    /// right-aligned), so the batch flows from the input.
    private func expandShape(_ node: Onnx_NodeProto, _ a: [Int64], _ b: [Int64]) throws(ExportError) -> [Int64] {
        guard a.count == b.count else { throw ExportError("dynamic batch: the rank of \(label(node))'s target depends on the batch") }
        let (x, y) = try dims(node.input[0], "the input of \(label(node))")
        var out = a
        for i in a.indices where a[i] != b[i] {
            let j = i - (a.count - x.count)
            guard j >= 0, Int(a[i]) == x[j], Int(b[i]) == y[j] else {
                throw ExportError("dynamic batch: \(label(node)) expands a value without the batch to \(a) at batch \(d.batch) and \(b) at batch \(d.twinBatch); entry \(i) would need the batch size as a constant")
            }
            out[i] = 1
        }
        return out
    }

    /// Static extents of value `name` in both traces.
    private func dims(_ name: String, _ what: String) throws(ExportError) -> ([Int], [Int]) {
        guard let a = mainDims[name], let b = twinDims[name], a.count == b.count else {
            throw ExportError("dynamic batch: \(what) '\(name)' has no static type of the same rank in both traces")
        }
        return (a, b)
    }

    /// Whether x and y are k·batch and k·twinBatch for one k ≥ 1.
    private func isBatchMultiple(_ x: Int, _ y: Int) -> Bool {
        x > 0 && x % d.batch == 0 && y % d.twinBatch == 0 && x / d.batch == y / d.twinBatch
    }
}

/// `node N (OpType) at scope S, file:line`, from the lowered node's doc string.
private func label(_ node: Onnx_NodeProto) -> String {
    let origin = node.docString.hasPrefix("scope=") ? String(node.docString.dropFirst("scope=".count)) : node.docString
    return "node \(node.name) (\(node.opType))" + (origin.isEmpty ? "" : " at scope \(origin)")
}

/// The `dim_value`s of a tensor value's declared shape (empty when it declares none).
private func staticDims(_ vi: Onnx_ValueInfoProto) -> [Int]? {
    guard case .tensorType(let t)? = vi.type.value, t.hasShape else { return nil }
    var out: [Int] = []
    for dim in t.shape.dim {
        guard case .dimValue(let v)? = dim.value else { return nil }
        out.append(Int(v))
    }
    return out
}

/// `vi` with its dimensions replaced: a value, a `dim_param`, or (nil) neither.
private func withDims(_ vi: Onnx_ValueInfoProto, _ dims: [Dim?]) -> Onnx_ValueInfoProto {
    var out = vi
    guard case .tensorType(var t)? = vi.type.value else { return vi }
    t.shape.dim = dims.map { d in
        var dim = Onnx_TensorShapeProto.Dimension()
        switch d {
        case .fixed(let v)?: dim.dimValue = Int64(v)
        case .symbol(let s)?: dim.dimParam = s
        case nil: break
        }
        return dim
    }
    out.type.tensorType = t
    return out
}

/// `graph` (imported from `model`) with each value's type replaced by the one `model`
/// declares for it (graph inputs, outputs, `value_info`), symbolic and unknown dimensions
/// included (unknown ones read `?`). For display (`dump --stage exported --dynamic-batch`):
/// the result does not verify or run, since the IR's shape rules need static extents.
public func withDeclaredTypes(_ graph: Graph, of model: Onnx_ModelProto) -> Graph {
    var declared: [String: Shape] = [:]
    let g = model.graph
    for vi in g.input + g.output + g.valueInfo {
        guard case .tensorType(let t)? = vi.type.value, t.hasShape else { continue }
        declared[vi.name] = Shape(t.shape.dim.map { d -> Dim in
            switch d.value {
            case .dimValue(let v)?: .fixed(Int(v))
            case .dimParam(let p)?: .symbol(p)
            case nil: .symbol("?")
            }
        })
    }
    var out = graph
    for i in out.values.indices {
        if let shape = declared[out.values[i].name], shape.rank == out.values[i].type.rank { out.values[i].type.shape = shape }
    }
    return out
}
