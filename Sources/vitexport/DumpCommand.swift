import ArgumentParser
import Foundation
import VitIR
import VitONNX
import VitPasses
import VitVerify

enum DumpFormat: String, ExpressibleByArgument, CaseIterable {
    case text, dot, json, svg
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
            parameters, estimated FLOPs per top-level scope). dot: Graphviz, nodes clustered by \
            module scope. svg: that picture drawn by Graphviz's `dot` (found on PATH; Debian \
            package graphviz). json: the form described by Schemas/graph-dump.schema.json.

            --depth N (dot, svg) keeps scopes of fewer than N components as clusters and merges \
            each scope of N components, with everything under it, into one box labelled with \
            its op counts, so the default detector at --depth 1 or 2 reads as backbone → \
            pyramid → neck → encoder → decoder → post-process.
            """)

    @OptionGroup var model: ModelOptions
    @OptionGroup var batching: BatchOptions

    @Option(help: "Output format.")
    var format: DumpFormat = .text

    @Option(help: "Graph stage: traced (as the model code emitted it), folded (after the pass pipeline) or exported (lowered for --opset and read back from the ONNX form).")
    var stage: DumpStage = .traced

    @Option(parsing: .unconditional, help: "ONNX opset for --stage exported.")
    var opset: Int = 17

    @Flag(help: "With --stage exported: export with a symbolic batch dimension (as onnx --dynamic-batch) and show the types the file declares.")
    var dynamicBatch = false

    @Option(parsing: .unconditional, help: "dot, svg: merge each module scope of this many components (and everything under it) into one box (default: svg 2, dot every node).")
    var depth: Int?

    @Flag(help: "List every initializer (text format).")
    var initializers = false

    @Option(name: .shortAndLong, help: "Write to this file instead of standard output.")
    var output: String?

    func validate() throws {
        if let depth {
            guard depth >= 1 else { throw flagError("--depth \(depth): expected a number ≥ 1") }
            guard format == .dot || format == .svg else { throw flagError("--depth applies to --format dot and svg") }
        }
        guard supportedOpsets.contains(opset) else {
            throw ValidationError("--opset \(opset) is not supported; choose \(supportedOpsets.lowerBound)…\(supportedOpsets.upperBound)")
        }
        if let output {
            do { _ = try OutputPath(output) } catch { throw flagError("-o: \(error)") }
        }
        if dynamicBatch && stage != .exported { throw ValidationError("--dynamic-batch needs --stage exported") }
        if dynamicBatch && batching.batch != nil {
            throw ValidationError("--batch and --dynamic-batch exclude each other: give a static batch or a symbolic one")
        }
    }

    func run() throws {
        let settings = TraceSettings(stages: .none, passes: stage == .traced ? nil : PassOptions(), batch: batching.size)
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
        case .dot: text = depth.map { dotDump(graph, depth: $0) } ?? dotDump(graph)
        case .json: text = jsonDump(graph)
        case .svg: text = try renderSVG(dotDump(graph, depth: depth ?? 2))
        }
        if let output {
            try writeAtomically(Data(text.utf8), to: output)
        } else {
            print(text, terminator: "")
        }
    }
}

/// `dot` drawn as SVG by Graphviz's `dot` executable (the first on PATH), fed on standard
/// input. Its absence or failure is one error line.
func renderSVG(_ dot: String) throws -> String {
    let path = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map { "\($0)/dot" }
        .first { FileManager.default.isExecutableFile(atPath: $0) }
    guard let path else {
        throw CLIError("--format svg needs Graphviz's dot on PATH, which has none (Debian: apt-get install graphviz); --format dot writes the input for it")
    }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = ["-Tsvg"]
    let input = Pipe(), output = Pipe(), errors = Pipe()
    (process.standardInput, process.standardOutput, process.standardError) = (input, output, errors)
    do { try process.run() } catch { throw CLIError("cannot run \(path): \(error)") }
    // Feed stdin from another thread while this one drains stdout, so neither pipe fills up.
    let data = Data(dot.utf8)
    let writer = Thread {
        try? input.fileHandleForWriting.write(contentsOf: data)
        try? input.fileHandleForWriting.close()
    }
    writer.start()
    let svg = output.fileHandleForReading.readDataToEndOfFile()
    let message = errors.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
        let first = String(decoding: message, as: UTF8.self).split(separator: "\n").first.map(String.init) ?? "no message"
        throw CLIError("\(path) -Tsvg failed (exit \(process.terminationStatus)): \(first)")
    }
    return String(decoding: svg, as: UTF8.self)
}

/// Replaces `path` with `data` atomically (`writeFileAtomically`): on failure no partial file
/// is left and `path` keeps its previous state.
func writeAtomically(_ data: Data, to path: String) throws {
    do { try data.withUnsafeBytes { try writeFileAtomically($0, to: path) } } catch { throw CLIError("cannot write \(path): \(error)") }
}
