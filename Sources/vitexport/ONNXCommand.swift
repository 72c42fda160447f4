import ArgumentParser
import Foundation
import VitIR
import VitModels
import VitONNX
import VitPasses
import VitVerify

struct ONNXCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "onnx",
        abstract: "Trace, fold and export a model to an ONNX file.",
        discussion: """
            The graph is traced, passed through the pass pipeline (constant folding, dead code, \
            deduplication, simplification), lowered for the chosen opset, checked with libonnx's \
            checker and strict shape inference where it knows the opset (IR ≤ 8), and written \
            atomically. Same model and flags give a byte-identical file. A detector's stage \
            boundaries (backbone, pyramid, neck, encoder memory, proposals, decoder states, logits, \
            boxes, detections) are recorded in the metadata key vitexport.stages as the names of \
            internal values, so `verify --onnx` can compare the file stage by stage.
            """)

    @OptionGroup var model: ModelOptions
    @OptionGroup var batching: BatchOptions
    @OptionGroup var precision: PrecisionOptions

    @Option(name: .shortAndLong, help: "Output file (default: <model name>.onnx in the current directory).")
    var output: String?

    @Option(parsing: .unconditional, help: "ONNX opset of the default domain, \(supportedOpsets.lowerBound)…\(supportedOpsets.upperBound).")
    var opset: Int = 17

    @Flag(help: "Store every tensor of ≥ 1 KiB in an external data file (<output>.data); automatic above 2 GiB.")
    var externalData = false

    @Flag(help: "Skip the libonnx checker and shape-inference comparison.")
    var noCheck = false

    @Flag(help: "Detectors: also output every stage (debug.backbone, debug.pyramid.p3, …, debug.topk_indices, debug.decoder.N.state) for stage-by-stage comparison with a reference.")
    var debugOutputs = false

    @Flag(help: "Export a symbolic batch dimension (dim_param \"batch\"): the model is traced at batch 2 and 3, and the two folded graphs must differ only where a value is the batch times a constant (else one error naming the node).")
    var dynamicBatch = false

    @Option(parsing: .unconditional, help: "Largest tensor (bytes) constant folding may create when it grows the model.")
    var foldBudget: Int = FoldingBudget().maxGrowthBytes

    @OptionGroup(title: "int8 quantization") var quantization: QuantizationOptions

    func validate() throws {
        guard supportedOpsets.contains(opset) else {
            throw ValidationError("--opset \(opset) is not supported; choose \(supportedOpsets.lowerBound)…\(supportedOpsets.upperBound)")
        }
        guard foldBudget >= 0 else { throw ValidationError("--fold-budget must be ≥ 0") }
        try quantization.validate(precision: precision.precision)
        if dynamicBatch && batching.batch != nil {
            throw ValidationError("--batch and --dynamic-batch exclude each other: give a static batch or a symbolic one")
        }
        if dynamicBatch && precision.precision == .int8 {
            throw ValidationError("--precision int8 and --dynamic-batch cannot be combined yet: quantize a static batch (--batch N)")
        }
        if let output {
            do { _ = try OutputPath(output) } catch { throw flagError("-o: \(error)") }
        }
    }

    @Flag(help: "Print the summary as JSON on standard output: nodes per stage, parameters, the file's path, size and sha256, the checker's result, weights and time per phase.")
    var json = false

    func run() throws {
        let progress = PhaseProgress()
        // A failure ends the phase line before the error is printed.
        defer { progress.end() }
        let requested = try model.loadConfig()
        if debugOutputs && requested.architecture != .detector {
            throw CLIError("--debug-outputs applies to detector models; \(requested.name) is \(requested.architecture.rawValue)")
        }
        let settings = TraceSettings(stages: debugOutputs ? .outputs : .marked,
                                     passes: PassOptions(budget: FoldingBudget(maxGrowthBytes: foldBudget)),
                                     batch: batching.size, precision: precision.precision == .int8 ? .fp32 : precision.precision,
                                     policy: try precision.policy, onPhase: progress.reporter)
        var (loaded, dynamic) = dynamicBatch ? try model.loadDynamicBatch(settings) : (try model.load(settings), nil)
        let batch = dynamic.map { "dynamic:\($0.symbol)" } ?? batching.batch.map(String.init)
        let folded = loaded.graph.nodes.count
        if precision.precision == .int8 { progress.begin("calibrating and quantizing") }
        let quantized = precision.precision == .int8 ? try quantization.quantize(&loaded.graph, budget: try model.budget) : []
        let path = output ?? "\(loaded.config.name).onnx"
        let options = ExportOptions(opset: opset, externalData: externalData ? .always : .automatic,
                                    producerVersion: vitexportVersion,
                                    extraMetadata: try exportMetadata(loaded.config, weights: model.weights, batch: batch),
                                    runChecker: !noCheck, dynamicBatch: dynamic)
        progress.begin(noCheck ? "lowering and writing" : "lowering, checking and writing")
        let report: ExportReport
        do { report = try writeModel(loaded.graph, to: path, options: options) } catch let error as ExportError {
            throw CLIError("export failed: \(error)")
        }
        if json { progress.begin("hashing") }
        var summary = try ExportSummary(loaded, report: report, weights: model.weights, hash: json, progress: progress)
        summary.nodes.folded = folded
        summary.batch = batch
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(summary), as: UTF8.self))
        } else {
            print(summary.text, terminator: "")
            quantized.forEach { print($0) }
        }
    }
}

/// What `onnx` reports: the text summary, or `--json`'s object.
struct ExportSummary: Encodable {
    struct File: Encodable {
        var path: String
        var bytes: Int
        /// Lowercase hex; computed for --json only (it reads the whole file back).
        var sha256: String?
    }
    struct Nodes: Encodable { var traced, folded, exported: Int }
    struct Phase: Encodable { var name: String; var seconds: Double }
    struct Weights: Encodable {
        /// "seeded" or "checkpoint".
        var kind: String
        var seed: UInt64?
        var path: String?
        var notice: String?
    }
    var model: String
    /// fp32, fp16 or mixed (graph inputs and outputs stay float32).
    var precision: String
    var file: File
    var externalData: File?
    var opset: Int
    var irVersion: Int
    var nodes: Nodes
    /// Elements of the folded graph's initializers: the model's weights and folded constants
    /// (the file may add a few small constants of the opset's lowering).
    var parameters: Int
    /// "passed" or "skipped".
    var checker: String
    var checkerDetail: String
    /// The batch when not the default 1: a number, or `dynamic:<symbol>`.
    var batch: String?
    var weights: Weights
    var phases: [Phase]
    var seconds: Double

    init(_ loaded: LoadedModel, report: ExportReport, weights: String?, hash: Bool, progress: PhaseProgress) throws {
        model = loaded.config.name
        precision = loaded.graph.metadata[precisionMetadataKey] ?? Precision.fp32.rawValue
        file = try Self.file(report.path, hash: hash)
        externalData = try report.externalDataPath.map { try Self.file($0, hash: hash) }
        progress.end()
        (opset, irVersion) = (report.opset, report.irVersion)
        nodes = Nodes(traced: loaded.tracedNodeCount, folded: loaded.graph.nodes.count, exported: report.nodeCount)
        parameters = loaded.graph.parameterStats.count
        switch report.checker {
        case .passed: checker = "passed"
        case .skipped: checker = "skipped"
        }
        checkerDetail = report.checker.description
        self.weights = weights.map { Weights(kind: "checkpoint", path: $0) }
            ?? Weights(kind: "seeded", seed: loaded.config.seed, notice: seededWeightsNotice(seed: loaded.config.seed))
        phases = progress.phases.map { Phase(name: $0.name, seconds: $0.seconds) }
        seconds = phases.reduce(0) { $0 + $1.seconds }
    }

    /// The written file's size and (with `hash`) SHA-256, read back from disk.
    static func file(_ path: String, hash: Bool) throws -> File {
        let storage: TensorStorage
        do { storage = try TensorStorage.map(path: path) } catch { throw CLIError("cannot read back \(path): \(error)") }
        let bytes = UnsafeRawBufferPointer(start: storage.base, count: storage.byteCount)
        return File(path: path, bytes: storage.byteCount, sha256: hash ? SHA256.hex(bytes) : nil)
    }

    var text: String {
        var lines = ["wrote \(file.path) (\(file.bytes + (externalData?.bytes ?? 0)) bytes\(externalData.map { ", external data \($0.path)" } ?? ""))"]
        lines.append("  opset \(opset), IR \(irVersion); nodes: traced \(nodes.traced) → folded \(nodes.folded) → exported \(nodes.exported)")
        lines.append("  libonnx checker: \(checkerDetail)")
        if let batch {
            lines.append(batch.hasPrefix("dynamic:")
                ? "  batch: symbolic '\(batch.dropFirst("dynamic:".count))' (traced at 2 and 3, shapes checked to differ only by the batch)"
                : "  batch: \(batch)")
        }
        if precision != Precision.fp32.rawValue { lines.append("  precision: \(precision) (graph inputs and outputs float32)") }
        if let notice = weights.notice { lines.append("  " + notice) }
        lines.append("  time: \(String(format: "%.2f", seconds)) s (" + phases.map { "\($0.name) \(String(format: "%.2f", $0.seconds))" }.joined(separator: ", ") + ")")
        return lines.joined(separator: "\n") + "\n"
    }
}

/// Provenance recorded in the file's `metadata_props` beside the graph's own (model name,
/// config fingerprint, image size, weights kind): the tool version, the weights file and its
/// FNV-1a hash, how the backbone's patch embedding was resampled, and the batch when it is
/// not the default 1 (a number, or `dynamic:<symbol>`).
func exportMetadata(_ config: ModelConfig, weights: String?, batch: String? = nil) throws -> [String: String] {
    var meta = ["vitexport.version": vitexportVersion]
    if let batch { meta["vitexport.batch"] = batch }
    if let weights {
        let storage: TensorStorage
        do { storage = try TensorStorage.map(path: weights) } catch { throw CLIError("--weights: \(error)") }
        let h = FNV1a.hash(UnsafeRawBufferPointer(start: storage.base, count: storage.byteCount))
        meta["vitexport.weights_file"] = URL(fileURLWithPath: weights).lastPathComponent
        meta["vitexport.weights_fnv1a"] = String(h, radix: 16)
    }
    if let backbone = config.dinov2 ?? config.detector?.backbone {
        meta["vitexport.patch_resampling"] = "\(backbone.patchResample.rawValue) \(backbone.patchSize)->\(backbone.exportPatchSize)"
    } else {
        meta["vitexport.patch_resampling"] = "not applicable"
    }
    return meta
}
