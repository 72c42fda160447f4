import Foundation
import VitIR
import VitModels
import VitONNX

/// Inputs of a run: `.npy` files for some graph inputs, seeded standard-normal values for the
/// other (static float32) ones.
public struct GraphInputs: Sendable {
    /// `name` → path of a `.npy` file.
    public var files: [String: String]
    public var seed: UInt64

    public init(files: [String: String] = [:], seed: UInt64 = 0) { self.files = files; self.seed = seed }

    /// Parses `name=file.npy` specifications.
    public init(specifications: [String], seed: UInt64) throws(ModelLoadError) {
        var files: [String: String] = [:]
        for spec in specifications {
            guard let eq = spec.firstIndex(of: "=") else { throw ModelLoadError("--input \(spec): expected name=file.npy") }
            files[String(spec[..<eq])] = String(spec[spec.index(after: eq)...])
        }
        self.init(files: files, seed: seed)
    }

    /// Feeds for `graph`: the files, then seeded values for the inputs they leave out, in
    /// graph input order.
    public func feeds(for graph: Graph) throws(ModelLoadError) -> [String: Tensor] {
        var feeds = try fileTensors()
        var rng = SplitMix64(seed: seed)
        for id in graph.inputs where feeds[graph.name(of: id)] == nil {
            let type = graph.type(of: id)
            guard let dims = type.shape.ints, type.dtype == .float32 else {
                throw ModelLoadError("input \(graph.name(of: id)) (\(type)) needs --input: only static float32 inputs are generated")
            }
            feeds[graph.name(of: id)] = Tensor.float32(dims) { p in for i in p.indices { p[i] = rng.nextNormal() } }
        }
        return feeds
    }

    /// The tensors of the `.npy` files, by input name.
    public func fileTensors() throws(ModelLoadError) -> [String: Tensor] {
        var tensors: [String: Tensor] = [:]
        for (name, path) in files.sorted(by: { $0.key < $1.key }) {
            guard let data = FileManager.default.contents(atPath: path) else { throw ModelLoadError("--input \(name): cannot read \(path)") }
            do { tensors[name] = try Tensor(npy: Array(data)) } catch { throw ModelLoadError("--input \(name): \(path): \(error)") }
        }
        return tensors
    }
}

/// Imports the ONNX file at `path` with the symbolic dimensions of its graph inputs (a
/// dynamic-batch export's `batch`) bound: from the shapes of the inputs in `shapes`, else, on
/// the leading axis, to `batch`. A symbol bound to two extents, or left unbound, is an error
/// naming the input and the symbol.
public func importBindingDimensions(path: String, shapes: [String: [Int]], batch: Int?) throws(ModelLoadError) -> Graph {
    do {
        let model = try readONNXModel(path: path)
        var bound: [String: (extent: Int, from: String)] = [:]
        let symbolic = symbolicInputDimensions(model).sorted { $0.key < $1.key }
        for (input, dims) in symbolic {
            for (axis, symbol) in dims {
                guard let shape = shapes[input], axis < shape.count else { continue }
                if let earlier = bound[symbol], earlier.extent != shape[axis] {
                    throw ModelLoadError("\(path): dimension '\(symbol)' is \(earlier.extent) in input '\(earlier.from)' but \(shape[axis]) in input '\(input)'")
                }
                bound[symbol] = (shape[axis], input)
            }
        }
        for (input, dims) in symbolic {
            for (axis, symbol) in dims where bound[symbol] == nil {
                guard axis == 0, let batch else {
                    throw ModelLoadError("\(path): graph input '\(input)' has the symbolic dimension '\(symbol)' at axis \(axis); feed '\(input)' with --input\(axis == 0 ? " or give --batch N" : "")")
                }
                bound[symbol] = (batch, "--batch")
            }
        }
        let dir = URL(fileURLWithPath: path).deletingLastPathComponent().path
        return try importModel(model, baseDirectory: dir, options: ImportOptions(dimensions: bound.mapValues(\.extent)))
    } catch let error as ModelLoadError {
        throw error
    } catch {
        throw ModelLoadError("\(error)")
    }
}

/// What to verify: a model, the export to check (a file, or one made in memory at `opset`),
/// the inputs and the tolerances.
public struct VerifyRequest: Sendable {
    public var model: ModelRequest
    /// The ONNX file; nil: export the traced model in memory at `opset` and read it back.
    public var onnx: String?
    public var opset: Int
    public var inputs: GraphInputs
    public var tolerances: VerifyTolerances
    /// Images per run of the traced model (a dynamic-batch file is run at this batch).
    public var batch: Int

    public init(model: ModelRequest, onnx: String? = nil, opset: Int = 17, inputs: GraphInputs = GraphInputs(),
                tolerances: VerifyTolerances = VerifyTolerances(), batch: Int = 1) {
        self.model = model; self.onnx = onnx; self.opset = opset; self.inputs = inputs; self.tolerances = tolerances
        self.batch = batch
    }
}

/// Traces `request.model` with its stages recorded, reads the export (the file, or an
/// in-memory export at `request.opset` — the same path either way), and compares them with
/// `verifyExport`. Throws `VerifyError` when the comparison cannot run (configuration,
/// weights, unreadable file); a mismatch is a report that did not pass.
public func verifyModel(_ request: VerifyRequest) throws(VerifyError) -> VerifyReport {
    let reference: LoadedModel
    let feeds: [String: Tensor]
    do {
        reference = try loadModel(request.model, settings: TraceSettings(stages: .marked, batch: request.batch))
        feeds = try request.inputs.feeds(for: reference.graph)
    } catch {
        throw VerifyError(error.description)
    }
    let candidate: Graph
    if let path = request.onnx {
        do { candidate = try importBindingDimensions(path: path, shapes: feeds.mapValues(\.shape), batch: nil) } catch {
            throw VerifyError(error.message.hasPrefix(path) ? error.message : "\(path): \(error)")
        }
    } else {
        do {
            let model = try makeModel(reference.graph, options: ExportOptions(opset: request.opset, runChecker: false))
            candidate = try importModel(model, baseDirectory: nil)
        } catch {
            throw VerifyError("the in-memory export at opset \(request.opset) failed: \(error)")
        }
    }
    return try verifyExport(reference: reference.graph, candidate: candidate, config: reference.config,
                            feeds: feeds, tolerances: request.tolerances)
}
