import ArgumentParser
import Foundation
import VitIR
import VitONNX
import VitPasses
import VitVerify

enum DumpFormat: String, ExpressibleByArgument, CaseIterable {
    case text, dot, json
}

/// Which form of the graph to print.
enum DumpStage: String, ExpressibleByArgument, CaseIterable {
    /// As the model code traced it.
    case traced
    /// After the pass pipeline.
    case folded
    /// What the ONNX file holds: the folded graph lowered for `--opset` and read back.
    case exported
}

struct DumpCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dump",
        abstract: "Print a model's graph for review.",
        discussion: """
            text: one line per node (outputs with dtype and shape, op, inputs, key attributes, \
            module scope and the Swift line that traced it), then a summary (nodes per op, \
            parameters, estimated FLOPs per top-level scope). dot: Graphviz. json: the form \
            described by Schemas/graph-dump.schema.json.
            """)

    @OptionGroup var model: ModelOptions

    @Option(help: "Output format: \(DumpFormat.allCases.map(\.rawValue).joined(separator: ", ")).")
    var format: DumpFormat = .text

    @Option(help: "Graph stage: traced (as the model code emitted it), folded (after the pass pipeline) or exported (lowered for --opset and read back from the ONNX form).")
    var stage: DumpStage = .traced

    @Option(parsing: .unconditional, help: "ONNX opset for --stage exported.")
    var opset: Int = 17

    @Flag(help: "With --stage exported: export with a symbolic batch dimension (as onnx --dynamic-batch) and show the types the file declares.")
    var dynamicBatch = false

    @Flag(help: "List every initializer (text format).")
    var initializers = false

    @Option(name: .shortAndLong, help: "Write to this file instead of standard output.")
    var output: String?

    func validate() throws {
        guard supportedOpsets.contains(opset) else {
            throw ValidationError("--opset \(opset) is not supported; choose \(supportedOpsets.lowerBound)…\(supportedOpsets.upperBound)")
        }
        if let output {
            do { _ = try OutputPath(output) } catch { throw flagError("-o: \(error)") }
        }
        if dynamicBatch && stage != .exported { throw ValidationError("--dynamic-batch needs --stage exported") }
        if dynamicBatch && model.batch != nil {
            throw ValidationError("--batch and --dynamic-batch exclude each other: give a static batch or a symbolic one")
        }
    }

    func run() throws {
        let settings = TraceSettings(stages: .none, passes: stage == .traced ? nil : PassOptions(), batch: model.batchSize)
        var graph: Graph
        if dynamicBatch {
            let (loaded, dynamic) = try model.loadDynamicBatch(settings)
            let file = try makeModel(loaded.graph, options: ExportOptions(opset: opset, runChecker: false, dynamicBatch: dynamic))
            let imported = try importModel(file, baseDirectory: nil, options: ImportOptions(dimensions: [dynamic.symbol: dynamic.batch]))
            graph = withDeclaredTypes(imported, of: file)
        } else {
            graph = try model.load(settings).graph
            if stage == .exported {
                let model = try makeModel(graph, options: ExportOptions(opset: opset, runChecker: false))
                graph = try importModel(model, baseDirectory: nil)
            }
        }
        let text: String
        switch format {
        case .text: text = textDump(graph, listInitializers: initializers)
        case .dot: text = dotDump(graph)
        case .json: text = jsonDump(graph)
        }
        if let output {
            try writeAtomically(Data(text.utf8), to: output)
        } else {
            print(text, terminator: "")
        }
    }
}

/// Writes `data` to a temporary file beside `path`, then renames it into place (rename(2)
/// replaces atomically), so a failure never leaves a partial or missing file.
func writeAtomically(_ data: Data, to path: String) throws {
    let url = URL(fileURLWithPath: path)
    let temp = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())")
    do {
        try data.write(to: temp)
        guard rename(temp.path, url.path) == 0 else {
            throw CLIError(String(cString: strerror(errno)))
        }
    } catch {
        try? FileManager.default.removeItem(at: temp)
        throw CLIError("cannot write \(path): \(error)")
    }
}
