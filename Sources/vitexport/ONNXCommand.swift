import ArgumentParser
import Foundation
import VitIR
import VitONNX
import VitPasses

struct ONNXCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "onnx",
        abstract: "Trace, fold and export a model to an ONNX file.",
        discussion: """
            The graph is traced, passed through the pass pipeline (constant folding, dead code, \
            deduplication, simplification), lowered for the chosen opset, checked with libonnx's \
            checker and strict shape inference where it knows the opset (IR ≤ 8), and written \
            atomically. Same model and flags give a byte-identical file.
            """)

    @OptionGroup var model: ModelOptions

    @Option(name: .shortAndLong, help: "Output file (default: <model name>.onnx in the current directory).")
    var output: String?

    @Option(help: "ONNX opset of the default domain, \(supportedOpsets.lowerBound)…\(supportedOpsets.upperBound).")
    var opset: Int = 17

    @Flag(help: "Store every tensor of ≥ 1 KiB in an external data file (<output>.data); automatic above 2 GiB.")
    var externalData = false

    @Flag(help: "Skip the libonnx checker and shape-inference comparison.")
    var noCheck = false

    @Option(help: "Largest tensor (bytes) constant folding may create when it grows the model.")
    var foldBudget: Int = FoldingBudget().maxGrowthBytes

    func validate() throws {
        guard supportedOpsets.contains(opset) else {
            throw ValidationError("--opset \(opset) is not supported; choose \(supportedOpsets.lowerBound)…\(supportedOpsets.upperBound)")
        }
        guard foldBudget >= 0 else { throw ValidationError("--fold-budget must be ≥ 0") }
    }

    func run() throws {
        let clock = ContinuousClock()
        let start = clock.now
        var (config, graph) = try model.trace()
        let traced = graph.nodes.count
        _ = try optimize(&graph, options: PassOptions(budget: FoldingBudget(maxGrowthBytes: foldBudget)))
        let folded = graph.nodes.count
        let path = output ?? "\(config.name).onnx"
        let options = ExportOptions(opset: opset, externalData: externalData ? .always : .automatic,
                                    producerVersion: vitexportVersion, runChecker: !noCheck)
        let report: ExportReport
        do { report = try writeModel(graph, to: path, options: options) } catch let error as ExportError {
            throw CLIError("export failed: \(error)")
        }
        let seconds = (clock.now - start) / .seconds(1)
        print("wrote \(report.path) (\(report.bytes) bytes\(report.externalDataPath.map { ", external data \($0)" } ?? ""))")
        print("  opset \(report.opset), IR \(report.irVersion); nodes: traced \(traced) → folded \(folded) → exported \(report.nodeCount)")
        print("  libonnx checker: \(report.checker)")
        print("  time: \(String(format: "%.2f", seconds)) s")
    }
}
