import ArgumentParser
import Foundation
import VitIR
import VitPasses

enum DumpFormat: String, ExpressibleByArgument, CaseIterable {
    case text, dot, json
}

extension Stage: ExpressibleByArgument {}

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

    @Option(help: "Graph stage: traced (as the model code emitted it) or folded (after the pass pipeline).")
    var stage: Stage = .traced

    @Flag(help: "List every initializer (text format).")
    var initializers = false

    @Option(name: .shortAndLong, help: "Write to this file instead of standard output.")
    var output: String?

    func run() throws {
        var (_, graph) = try model.trace()
        if stage == .folded { _ = try optimize(&graph) }
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

/// Writes `data` to a temporary file beside `path`, then renames it into place, so a failure
/// never leaves a partial file.
func writeAtomically(_ data: Data, to path: String) throws {
    let url = URL(fileURLWithPath: path)
    let temp = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())")
    do {
        try data.write(to: temp)
        if FileManager.default.fileExists(atPath: url.path) { _ = try FileManager.default.replaceItemAt(url, withItemAt: temp) }
        else { try FileManager.default.moveItem(at: temp, to: url) }
    } catch {
        try? FileManager.default.removeItem(at: temp)
        throw CLIError("cannot write \(path): \(error.localizedDescription)")
    }
}
