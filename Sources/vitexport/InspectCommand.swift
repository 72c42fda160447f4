import ArgumentParser
import Foundation
import VitIR
import VitModels

struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Describe a checkpoint and the embedded configurations it binds to.",
        discussion: """
            FILE is a safetensors file or a PyTorch torch.save checkpoint (.pth/.pt), told apart \
            by content. Prints the layout the state dict was found in (detectron2/detrex \
            "model", "state_dict", DINOv2 "teacher", or a plain state dict), every tensor (name, \
            dtype, shape), the parameter count, the objects the reader left opaque (pickle \
            globals outside its allow-list: where, and which global; nothing is executed), \
            pixel_mean/pixel_std when present, and which embedded configurations it binds to \
            strictly, with the --weights-prefix a nested backbone needs. Binding is a dry run: \
            each configuration is traced with shape-only parameters (one zero buffer the size \
            of its largest parameter) and compared with the checkpoint's shapes; no weights \
            are read. When none binds, the closest configuration's missing, unexpected and \
            misshaped keys are listed (the first ten; --verbose lists all).
            """)

    @Argument(help: ArgumentHelp("The checkpoint: safetensors or a PyTorch .pth/.pt.", valueName: "file"))
    var file: String

    @Option(help: ArgumentHelp("Entry of a PyTorch checkpoint that holds the state dict (default: detected: model, state_dict, teacher, or the top level).",
                               valueName: "key"))
    var weightsKey: String?

    @Flag(help: "List every difference and opaque object instead of the first ten.")
    var verbose = false

    @Flag(help: "Print the report as JSON on standard output.")
    var json = false

    func run() throws {
        let report: CheckpointInspection
        let progress = PhaseProgress()
        defer { progress.end() }
        do { report = try inspectCheckpoint(path: file, weightsKey: weightsKey, onPhase: progress.begin) } catch { throw CLIError(error) }
        progress.end()
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
        } else {
            print(report.text(limit: verbose ? nil : ProblemList.defaultLimit), terminator: "")
        }
    }
}
