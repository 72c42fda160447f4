#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import ONNXProto
import SwiftProtobuf
import VitIR

/// Settings of one import.
public struct ImportOptions: Sendable {
    /// Static shapes for graph inputs, by name. The IR's shapes are static, so an input whose
    /// declared shape has a symbolic or unknown dimension needs one here.
    public var inputShapes: [String: [Int]]
    /// Values of graph inputs known at import time, by name. An input listed here gets the
    /// tensor's shape, and where an op needs a constant (Reshape's shape, Slice's starts, …,
    /// the inputs the IR takes as attributes) it reads this tensor. The input stays a graph
    /// input; feed the same tensor when running. (ONNX's node tests pass such values as inputs.)
    public var knownInputs: [String: Tensor]
    /// Extents of symbolic graph-input dimensions, by `dim_param` (a dynamic-batch export's
    /// `batch`): the graph is imported static at these extents.
    public var dimensions: [String: Int]

    public init(inputShapes: [String: [Int]] = [:], knownInputs: [String: Tensor] = [:], dimensions: [String: Int] = [:]) {
        self.inputShapes = inputShapes; self.knownInputs = knownInputs; self.dimensions = dimensions
    }
}

/// Default-domain opsets whose operator semantics the importer knows (onnx 1.23.2's range).
public let importOpsets: ClosedRange<Int> = 1...28

/// Reads an ONNX model file and imports it (external data resolved next to the file).
public func importModel(path: String, options: ImportOptions = ImportOptions()) throws(ImportError) -> Graph {
    let model = try readONNXModel(path: path)
    let dir = URL(fileURLWithPath: path).deletingLastPathComponent().path
    return try importModel(model, baseDirectory: dir, options: options)
}

/// Reads and decodes an ONNX model file, without importing it.
public func readONNXModel(path: String) throws(ImportError) -> Onnx_ModelProto {
    let subject = "model '\(path)'"
    let storage: TensorStorage
    do { storage = try TensorStorage.map(path: path) } catch {
        throw ImportError(subject: subject, message: error.reason)
    }
    guard storage.byteCount > 0 else { throw ImportError(subject: subject, message: "the file is empty (0 bytes), not an ONNX model") }
    do {
        // The mapping outlives the parse, which copies what it keeps.
        let bytes = Data(bytesNoCopy: UnsafeMutableRawPointer(mutating: storage.base), count: storage.byteCount, deallocator: .none)
        return try withExtendedLifetime(storage) { try Onnx_ModelProto(serializedBytes: bytes) }
    } catch {
        throw ImportError(subject: subject, message: "not an ONNX model (protobuf decoding failed: \(error))")
    }
}

/// Converts an ONNX model to an IR graph.
///
/// Contract:
/// - ops are read with the semantics of the model's default-domain (`""`/`ai.onnx`) opset,
///   attribute defaults taken from the ONNX operator schemas;
/// - ONNX inputs the IR takes as attributes (Reshape's shape, Slice's starts/ends/axes/steps,
///   TopK's K, Pad's pads/constant_value, Resize's scales/sizes, Reduce* axes, …) must be
///   initializers, `Constant` outputs or `options.knownInputs`;
/// - `Constant` nodes become initializers named by their output;
/// - value names are the ONNX names; node names are the ONNX names (made unique, generated
///   as `<OpType>_<index>` when empty); graph inputs exclude initializers;
/// - ONNX ops outside the IR that have an exact IR form are lowered to it: CastLike → Cast,
///   Max/Min with N inputs → a chain of binary ops, Softmax-1/11's 2-D coercion →
///   Reshape, Softmax, Reshape;
/// - every node is typed by the IR's shape rule (`inferTypes`) and the graph is verified;
/// - declared graph output types (element type, static dimensions) must agree with the IR's;
/// - anything the IR cannot represent exactly throws `ImportError`; nothing is approximated.
public func importModel(_ model: Onnx_ModelProto, baseDirectory: String?,
                        options: ImportOptions = ImportOptions()) throws(ImportError) -> Graph {
    var opset: Int?
    for o in model.opsetImport where o.domain == "" || o.domain == "ai.onnx" { opset = Int(o.version) }
    guard let opset else {
        throw ImportError(subject: "model", message: "no opset_import for the default domain (ai.onnx)")
    }
    guard importOpsets.contains(opset) else {
        throw ImportError(subject: "model", message: "default-domain opset \(opset) unsupported (import reads opsets \(importOpsets.lowerBound)…\(importOpsets.upperBound), those of onnx 1.23.2)")
    }
    let importer = ModelImporter(model: model, opset: opset, files: ImportExternalFiles(baseDirectory: baseDirectory),
                                 options: options)
    try importer.run()
    do { try verify(importer.graph) } catch {
        throw ImportError(subject: "model", message: "imported graph fails verification: \(error)")
    }
    return importer.graph
}

/// State of one import: the graph being built and what is known about ONNX value names.
final class ModelImporter {
    let model: Onnx_ModelProto
    let opset: Int
    let files: ImportExternalFiles
    let options: ImportOptions
    var graph: Graph
    /// ONNX value name → IR value.
    var ids: [String: ValueID] = [:]
    /// Values whose contents are known at import time (initializers, Constant outputs,
    /// `knownInputs`), by ONNX name.
    var constants: [String: Tensor] = [:]
    /// Every value name in use or reserved by the ONNX graph (so generated names never clash).
    var valueNames: Set<String> = []
    var nodeNames: Set<String> = []

    init(model: Onnx_ModelProto, opset: Int, files: ImportExternalFiles, options: ImportOptions) {
        self.model = model
        self.opset = opset
        self.files = files
        self.options = options
        let name = model.graph.name
        graph = Graph(name: name.isEmpty ? "onnx_model" : name)
    }

    func run() throws(ImportError) {
        let g = model.graph
        for e in model.metadataProps { graph.metadata[e.key] = e.value }
        // Reserve ONNX names first so generated intermediates never take one.
        for vi in g.input { valueNames.insert(vi.name) }
        for t in g.initializer { valueNames.insert(t.name) }
        for n in g.node { for o in n.output where !o.isEmpty { valueNames.insert(o) } }
        for n in g.node where !n.name.isEmpty { nodeNames.insert(n.name) }
        if !g.sparseInitializer.isEmpty {
            throw ImportError(subject: "model", message: "sparse initializers unsupported")
        }

        for t in g.initializer {
            let subject = "initializer '\(t.name)'"
            guard !t.name.isEmpty else { throw ImportError(subject: subject, message: "initializer without a name") }
            guard ids[t.name] == nil else { throw ImportError(subject: subject, message: "defined twice") }
            let tensor = try importTensor(t, subject: subject, files: files)
            let id = graph.addValue(name: t.name, type: tensor.type)
            graph.initializers[id] = tensor
            ids[t.name] = id
            constants[t.name] = tensor
        }
        for vi in g.input where ids[vi.name] == nil {
            let type = try inputType(vi)
            let id = graph.addValue(name: vi.name, type: type)
            graph.inputs.append(id)
            ids[vi.name] = id
            if let known = options.knownInputs[vi.name] { constants[vi.name] = known }
        }

        var generatedNodeNames: Set<String> = []
        for (index, proto) in g.node.enumerated() {
            var name = proto.name
            if name.isEmpty || generatedNodeNames.contains(name) {
                let base = name.isEmpty ? "\(proto.opType)_\(index)" : name
                name = uniqueName(base) { nodeNames.contains($0) || generatedNodeNames.contains($0) }
            }
            generatedNodeNames.insert(name)
            var node = NodeImport(proto: proto, name: name, index: index, importer: self)
            try node.importNode()
        }

        for vi in g.output {
            let subject = "graph output '\(vi.name)'"
            guard let id = ids[vi.name] else { throw ImportError(subject: subject, message: "never defined") }
            try checkDeclared(vi, against: graph.type(of: id), subject: subject)
            graph.outputs.append(id)
        }
    }

    /// The static type of a graph input: its declared element type and shape, with
    /// `options.inputShapes` / `options.knownInputs` supplying symbolic dimensions.
    func inputType(_ vi: Onnx_ValueInfoProto) throws(ImportError) -> TensorType {
        let subject = "graph input '\(vi.name)'"
        guard case .tensorType(let tt)? = vi.type.value else {
            throw ImportError(subject: subject, message: "only tensor inputs are supported (not sequences, maps or optionals)")
        }
        guard let dt = DType(onnxDataType: tt.elemType) else {
            throw ImportError(subject: subject, message: "dtype \(importTypeName(tt.elemType)) unsupported")
        }
        var declared: [Int?]? = nil
        if tt.hasShape {
            declared = tt.shape.dim.map { d in
                switch d.value {
                case .dimValue(let v)?: Int(v)
                case .dimParam(let p)?: options.dimensions[p]
                case nil: nil
                }
            }
        }
        let given = options.knownInputs[vi.name]?.shape ?? options.inputShapes[vi.name]
        if let given {
            if let declared {
                guard declared.count == given.count,
                      zip(declared, given).allSatisfy({ $0.0 == nil || $0.0 == $0.1 }) else {
                    throw ImportError(subject: subject, message: "given shape \(given) does not fit the declared shape \(declaredText(declared))")
                }
            }
            if let known = options.knownInputs[vi.name], known.dtype != dt {
                throw ImportError(subject: subject, message: "known value has dtype \(known.dtype.rawValue), the input is declared \(dt.rawValue)")
            }
            return TensorType(dt, Shape(given))
        }
        guard let declared else {
            throw ImportError(subject: subject, message: "no declared shape; give one in ImportOptions.inputShapes")
        }
        var dims: [Int] = []
        for d in declared {
            guard let d else {
                let symbols = tt.shape.dim.compactMap { d -> String? in
                    if case .dimParam(let p)? = d.value, options.dimensions[p] == nil { return p }
                    return nil
                }
                let hint = symbols.isEmpty ? "give one in ImportOptions.inputShapes"
                    : "bind \(symbols.map { "'\($0)'" }.joined(separator: ", ")) (ImportOptions.dimensions)"
                throw ImportError(subject: subject, message: "shape \(declaredText(declared)) is not static; \(hint)")
            }
            dims.append(d)
        }
        return TensorType(dt, Shape(dims))
    }

    /// Fails when a value's declared ONNX type (element type, static dimensions) contradicts
    /// the type the IR derived.
    func checkDeclared(_ vi: Onnx_ValueInfoProto, against type: TensorType, subject: String) throws(ImportError) {
        guard case .tensorType(let tt)? = vi.type.value else { return }
        if tt.hasElemType, tt.elemType != 0, DType(onnxDataType: tt.elemType) != type.dtype {
            throw ImportError(subject: subject, message: "declared \(importTypeName(tt.elemType)), the IR derives \(type.dtype.rawValue)")
        }
        guard tt.hasShape else { return }
        let dims = type.shape.ints ?? []
        guard tt.shape.dim.count == dims.count else {
            throw ImportError(subject: subject, message: "declared rank \(tt.shape.dim.count), the IR derives \(type.shape)")
        }
        for (d, v) in zip(tt.shape.dim, dims) {
            if case .dimValue(let x)? = d.value, Int(x) != v {
                throw ImportError(subject: subject, message: "declared shape differs from the IR's \(type.shape)")
            }
        }
    }

    /// A fresh value name derived from `base`, unique in the graph and among ONNX names.
    func freshValueName(_ base: String) -> String { uniqueName(base, in: &valueNames) }
}

private func declaredText(_ dims: [Int?]) -> String {
    "[" + dims.map { $0.map(String.init) ?? "?" }.joined(separator: ", ") + "]"
}

/// One ONNX node being imported: its attributes (every one must be read, so an attribute the
/// importer does not know is an error, not silently dropped), its inputs and the IR nodes it
/// becomes.
struct NodeImport {
    let proto: Onnx_NodeProto
    let name: String
    let index: Int
    let importer: ModelImporter
    private var attributes: [String: Onnx_AttributeProto] = [:]
    private var unread: Set<String> = []
    private var emitted = 0

    init(proto: Onnx_NodeProto, name: String, index: Int, importer: ModelImporter) {
        self.proto = proto
        self.name = name
        self.index = index
        self.importer = importer
        for a in proto.attribute {
            attributes[a.name] = a
            unread.insert(a.name)
        }
    }

    var opset: Int { importer.opset }
    var opType: String { proto.opType }

    /// An error about this node: `node 'name' (OpType): message`.
    func fail(_ message: String) -> ImportError {
        ImportError(subject: "node '\(name)' (\(proto.opType))", message: message)
    }

    // MARK: Attributes (ONNX AttributeProto)

    private mutating func attribute(_ key: String, _ type: Onnx_AttributeProto.AttributeType) throws(ImportError) -> Onnx_AttributeProto? {
        guard let a = attributes[key] else { return nil }
        unread.remove(key)
        guard !a.hasRefAttrName || a.refAttrName.isEmpty else {
            throw fail("attribute '\(key)' refers to a function attribute; unsupported")
        }
        // Older producers omit `type`; accept it when the payload matches.
        if a.type != type && a.type != .undefined {
            throw fail("attribute '\(key)' has type \(a.type), expected \(type)")
        }
        return a
    }

    mutating func int(_ key: String) throws(ImportError) -> Int? {
        try attribute(key, .int).map { Int($0.i) }
    }
    mutating func int(_ key: String, default d: Int) throws(ImportError) -> Int { try int(key) ?? d }
    mutating func bool(_ key: String, default d: Bool) throws(ImportError) -> Bool {
        guard let v = try int(key) else { return d }
        guard v == 0 || v == 1 else { throw fail("attribute '\(key)' must be 0 or 1, got \(v)") }
        return v == 1
    }
    mutating func float(_ key: String) throws(ImportError) -> Float? { try attribute(key, .float).map(\.f) }
    mutating func float(_ key: String, default d: Float) throws(ImportError) -> Float { try float(key) ?? d }
    mutating func ints(_ key: String) throws(ImportError) -> [Int]? { try attribute(key, .ints).map { $0.ints.map { Int($0) } } }
    mutating func floats(_ key: String) throws(ImportError) -> [Float]? { try attribute(key, .floats).map(\.floats) }
    mutating func string(_ key: String) throws(ImportError) -> String? {
        try attribute(key, .string).map { String(decoding: $0.s, as: UTF8.self) }
    }
    mutating func string(_ key: String, default d: String) throws(ImportError) -> String { try string(key) ?? d }
    mutating func tensorAttribute(_ key: String) throws(ImportError) -> Onnx_TensorProto? { try attribute(key, .tensor).map(\.t) }
    /// Marks an attribute as read and fails if present with a value other than `allowed`.
    mutating func requireInt(_ key: String, in allowed: [Int], reason: String) throws(ImportError) {
        if let v = try int(key), !allowed.contains(v) { throw fail("attribute \(key)=\(v) unsupported: \(reason)") }
    }

    /// Fails on attributes no conversion read.
    func checkAllAttributesRead() throws(ImportError) {
        if let key = unread.sorted().first {
            throw fail("attribute '\(key)' unsupported (not part of \(opType) at opset \(opset), or not representable in the IR)")
        }
    }

    // MARK: Inputs

    /// Number of inputs, counting trailing empty (omitted optional) ones out.
    var inputCount: Int {
        var n = proto.input.count
        while n > 0 && proto.input[n - 1].isEmpty { n -= 1 }
        return n
    }

    func hasInput(_ i: Int) -> Bool { i < proto.input.count && !proto.input[i].isEmpty }

    /// The IR value of input `i`; fails when it is missing or undefined.
    func input(_ i: Int) throws(ImportError) -> ValueID {
        guard hasInput(i) else { throw fail("missing required input \(i)") }
        guard let id = importer.ids[proto.input[i]] else {
            throw fail("input '\(proto.input[i])' is not defined before the node (graph not topologically sorted?)")
        }
        return id
    }

    func type(_ i: Int) throws(ImportError) -> TensorType { importer.graph.type(of: try input(i)) }

    /// Static extents of input `i` (the IR's shapes are static).
    func dims(_ i: Int) throws(ImportError) -> [Int] {
        let t = try type(i)
        guard let d = t.shape.ints else { throw fail("input \(i) has a symbolic shape \(t.shape)") }
        return d
    }

    /// The contents of input `i`, which the IR takes as an attribute (`what` names it in errors),
    /// or nil when the optional input is absent.
    func constant(_ i: Int, _ what: String) throws(ImportError) -> Tensor? {
        guard hasInput(i) else { return nil }
        let name = proto.input[i]
        guard importer.ids[name] != nil else { throw fail("input '\(name)' is not defined before the node") }
        guard let t = importer.constants[name] else {
            throw fail("input \(i) '\(name)' (\(what)) must be a constant (an initializer or a Constant output); the IR takes \(what) as a static attribute")
        }
        return t
    }

    /// Integer contents (int64 or int32) of a constant input, or nil when absent.
    func constantInts(_ i: Int, _ what: String) throws(ImportError) -> [Int]? {
        guard let t = try constant(i, what) else { return nil }
        guard t.dtype == .int64 || t.dtype == .int32 else {
            throw fail("\(what) must be int64 or int32, got \(t.dtype.rawValue)")
        }
        guard t.shape.count <= 1 else { throw fail("\(what) must be a scalar or a 1-D tensor, got shape \(t.shape)") }
        return t.int64s.map { Int($0) }
    }

    /// A one-element constant input as Double (any dtype), or nil when absent.
    func constantScalar(_ i: Int, _ what: String) throws(ImportError) -> (value: Double, dtype: DType)? {
        guard let t = try constant(i, what) else { return nil }
        guard t.count == 1, t.shape.count <= 1 else { throw fail("\(what) must hold one element, got shape \(t.shape)") }
        let v: Double = switch t.dtype {
        case .int64: Double(t.int64s[0])
        case .int32, .uint8, .int8, .bool: Double(t.int64s[0])
        default: Double(t.floats[0])
        }
        return (v, t.dtype)
    }

    // MARK: Emitting IR nodes

    /// Appends an IR node for `op` over `inputs`. Its outputs take the ONNX output names in
    /// `names` (nil or empty: a fresh name) and the types of the IR's shape rule. A node's
    /// first IR node takes the ONNX node name; further ones get `<name>/<k>`.
    @discardableResult
    mutating func emit(_ op: Op, _ inputs: [ValueID], names: [String?]) throws(ImportError) -> [ValueID] {
        let types = inputs.map { importer.graph.type(of: $0) }
        let outTypes: [TensorType]
        do { outTypes = try inferTypes(op, types) } catch {
            let ins = types.map(\.description).joined(separator: ", ")
            throw fail("IR \(op.name) rejects inputs (\(ins)): expected \(error.expected)")
        }
        var nodeName = name
        if emitted > 0 {
            var k = emitted
            nodeName = "\(name)/\(k)"
            while importer.nodeNames.contains(nodeName) { k += 1; nodeName = "\(name)/\(k)" }
        }
        importer.nodeNames.insert(nodeName)
        emitted += 1
        var outs: [ValueID] = []
        for (k, t) in outTypes.enumerated() {
            let onnxName = k < names.count ? names[k] : nil
            let valueName: String
            if let onnxName, !onnxName.isEmpty {
                guard importer.ids[onnxName] == nil else { throw fail("output '\(onnxName)' is defined twice") }
                valueName = onnxName
            } else {
                valueName = importer.freshValueName("\(nodeName):\(k)")
            }
            let id = importer.graph.addValue(name: valueName, type: t)
            if let onnxName, !onnxName.isEmpty { importer.ids[onnxName] = id }
            outs.append(id)
        }
        importer.graph.nodes.append(Node(name: nodeName, op: op, inputs: inputs, outputs: outs, scope: "",
                                         location: SourceLocation(file: "onnx:\(importer.graph.name)", line: index)))
        return outs
    }

    /// Emits `op` as the node's final IR node: outputs take the node's ONNX output names.
    @discardableResult
    mutating func emitFinal(_ op: Op, _ inputs: [ValueID]) throws(ImportError) -> [ValueID] {
        try emit(op, inputs, names: proto.output.map { $0 })
    }

    /// Fails when the node asks for more outputs than the IR op has (ONNX optional outputs
    /// such as MaxPool's Indices or LayerNormalization's Mean).
    func requireOutputs(atMost n: Int, _ what: String) throws(ImportError) {
        for (k, o) in proto.output.enumerated() where k >= n && !o.isEmpty {
            throw fail("output \(k) '\(o)' (\(what)) unsupported")
        }
    }

    /// Binds the node's single output to a constant tensor (an initializer).
    mutating func defineConstant(_ tensor: Tensor) throws(ImportError) {
        guard proto.output.count == 1, !proto.output[0].isEmpty else { throw fail("expected one output") }
        let out = proto.output[0]
        guard importer.ids[out] == nil else { throw fail("output '\(out)' is defined twice") }
        let id = importer.graph.addValue(name: out, type: tensor.type)
        importer.graph.initializers[id] = tensor
        importer.ids[out] = id
        importer.constants[out] = tensor
    }

    /// Adds a constant the conversion derived (e.g. GroupNormalization-18's per-channel scale).
    mutating func addInitializer(_ tensor: Tensor, base: String) -> ValueID {
        let id = importer.graph.addValue(name: importer.freshValueName(base), type: tensor.type)
        importer.graph.initializers[id] = tensor
        return id
    }

    mutating func importNode() throws(ImportError) {
        guard proto.domain.isEmpty || proto.domain == "ai.onnx" else {
            throw fail("domain '\(proto.domain)' unsupported (only the default ONNX domain)")
        }
        try convert()
        try checkAllAttributesRead()
    }
}

/// The symbolic dimensions (`dim_param`) of `model`'s graph inputs: per input name, the axis
/// and symbol of each.
public func symbolicInputDimensions(_ model: Onnx_ModelProto) -> [String: [(axis: Int, symbol: String)]] {
    let initializers = Set(model.graph.initializer.map(\.name))
    var out: [String: [(axis: Int, symbol: String)]] = [:]
    for vi in model.graph.input where !initializers.contains(vi.name) {
        guard case .tensorType(let tt)? = vi.type.value, tt.hasShape else { continue }
        for (axis, d) in tt.shape.dim.enumerated() {
            if case .dimParam(let p)? = d.value { out[vi.name, default: []].append((axis, p)) }
        }
    }
    return out
}
