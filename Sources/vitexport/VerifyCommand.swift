import ArgumentParser
import Foundation
import VitIR
import VitInterp
import VitONNX
import VitPasses

struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check that an exported ONNX file computes what the traced model computes.",
        discussion: """
            Traces and folds --model, imports the ONNX file (or exports one in memory at --opset \
            when --onnx is not given), runs both in the reference interpreter on the same inputs \
            and compares every output. Floating outputs must agree within --tolerance relative to \
            the output's largest magnitude (decompositions chosen for low opsets reorder float \
            arithmetic); integer and bool outputs must be equal. Exits 1 on a mismatch.
            """)

    @OptionGroup var model: ModelOptions
    @OptionGroup var io: GraphInputOptions

    @Option(help: "The ONNX file to verify (default: export in memory).")
    var onnx: String?

    @Option(help: "Opset of the in-memory export when --onnx is not given.")
    var opset: Int = 17

    @Option(help: "Largest accepted |a − b| / max|a| per floating output.")
    var tolerance: Float = 1e-5

    func run() throws {
        var (_, graph) = try model.trace()
        _ = try optimize(&graph)
        let exported: Graph
        do {
            if let onnx {
                exported = try importModel(path: onnx)
            } else {
                exported = try importModel(makeModel(graph, options: ExportOptions(opset: opset, runChecker: false)), baseDirectory: nil)
            }
        } catch {
            throw CLIError("cannot read the exported model: \(error)")
        }
        let feeds = try io.feeds(for: graph)
        let reference = try Interpreter(graph).run(feeds: feeds)
        let candidate = try Interpreter(exported).run(feeds: feeds)
        var failures = 0
        for name in reference.outputNames {
            let a = reference.outputs[name]!
            guard let b = candidate.outputs[name] else {
                print("\(name): missing from the exported model")
                failures += 1
                continue
            }
            let diff = maxAbsDiff(a, b)
            let scale = max(a.floats.map(abs).max() ?? 0, 1e-30)
            let ok = a.dtype.isFloatingPoint ? diff / scale <= tolerance : diff == 0
            print("\(name): \(ok ? "match" : "MISMATCH") max |Δ| \(diff) (relative \(diff / scale))")
            if !ok { failures += 1 }
        }
        if failures > 0 { throw CLIError("\(failures) output(s) differ") }
        print("verified: \(reference.outputNames.count) outputs match")
    }
}
