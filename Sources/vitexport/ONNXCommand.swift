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

    func validate() throws {
        guard supportedOpsets.contains(opset) else {
            throw ValidationError("--opset \(opset) is not supported; choose \(supportedOpsets.lowerBound)…\(supportedOpsets.upperBound)")
        }
        guard foldBudget >= 0 else { throw ValidationError("--fold-budget must be ≥ 0") }
        if dynamicBatch && model.batch != nil {
            throw ValidationError("--batch and --dynamic-batch exclude each other: give a static batch or a symbolic one")
        }
        if let output {
            do { _ = try OutputPath(output) } catch { throw flagError("-o: \(error)") }
        }
    }

    func run() throws {
        let clock = ContinuousClock()
        let start = clock.now
        let requested = try model.loadConfig()
        if debugOutputs && requested.architecture != .detector {
            throw CLIError("--debug-outputs applies to detector models; \(requested.name) is \(requested.architecture.rawValue)")
        }
        let settings = TraceSettings(stages: debugOutputs ? .outputs : .marked,
                                     passes: PassOptions(budget: FoldingBudget(maxGrowthBytes: foldBudget)), batch: model.batchSize)
        let (loaded, dynamic) = dynamicBatch ? try model.loadDynamicBatch(settings) : (try model.load(settings), nil)
        let (config, graph, traced, folded) = (loaded.config, loaded.graph, loaded.tracedNodeCount, loaded.graph.nodes.count)
        let path = output ?? "\(config.name).onnx"
        let options = ExportOptions(opset: opset, externalData: externalData ? .always : .automatic,
                                    producerVersion: vitexportVersion,
                                    extraMetadata: try exportMetadata(config, weights: model.weights, batch: dynamic == nil ? model.batch.map(String.init) : "dynamic"),
                                    runChecker: !noCheck, dynamicBatch: dynamic)
        let report: ExportReport
        do { report = try writeModel(graph, to: path, options: options) } catch let error as ExportError {
            throw CLIError("export failed: \(error)")
        }
        let seconds = (clock.now - start) / .seconds(1)
        print("wrote \(report.path) (\(report.bytes) bytes\(report.externalDataPath.map { ", external data \($0)" } ?? ""))")
        print("  opset \(report.opset), IR \(report.irVersion); nodes: traced \(traced) → folded \(folded) → exported \(report.nodeCount)")
        print("  libonnx checker: \(report.checker)")
        if let dynamic { print("  batch: symbolic '\(dynamic.symbol)' (traced at \(dynamic.batch) and \(dynamic.twinBatch), shapes checked to differ only by the batch)") }
        if model.weights == nil {
            print("  weights: seeded random values (seed \(config.seed)), not a trained model; bind a checkpoint with --weights")
        }
        print("  time: \(String(format: "%.2f", seconds)) s")
    }
}

/// Provenance recorded in the file's `metadata_props` beside the graph's own (model name,
/// config fingerprint, image size, weights kind): the tool version, the weights file and its
/// FNV-1a hash, how the backbone's patch embedding was resampled, and the batch when it is
/// not the default 1 (a number, or `dynamic`).
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
