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
        var feeds: [String: Tensor] = [:]
        for (name, path) in files.sorted(by: { $0.key < $1.key }) {
            guard let data = FileManager.default.contents(atPath: path) else { throw ModelLoadError("--input \(name): cannot read \(path)") }
            do { feeds[name] = try Tensor(npy: Array(data)) } catch { throw ModelLoadError("--input \(name): \(path): \(error)") }
        }
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

    public init(model: ModelRequest, onnx: String? = nil, opset: Int = 17, inputs: GraphInputs = GraphInputs(),
                tolerances: VerifyTolerances = VerifyTolerances()) {
        self.model = model; self.onnx = onnx; self.opset = opset; self.inputs = inputs; self.tolerances = tolerances
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
        reference = try loadModel(request.model, settings: TraceSettings(stages: .marked))
        feeds = try request.inputs.feeds(for: reference.graph)
    } catch {
        throw VerifyError(error.description)
    }
    let candidate: Graph
    if let path = request.onnx {
        do { candidate = try importModel(path: path) } catch { throw VerifyError("\(path): \(error)") }
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
