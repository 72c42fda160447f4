import ArgumentParser
import VitInterp

@main
struct VitExport: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vitexport",
        abstract: "Trace a vision model defined in Swift, fold it, inspect it and export it to ONNX.",
        discussion: """
            Models are named by an embedded configuration (see `vitexport models`) or by the path \
            of a configuration JSON file. Without a checkpoint, parameters are seeded random values.
            """,
        version: vitexportVersion,
        subcommands: [ModelsCommand.self, DumpCommand.self, ONNXCommand.self, RunCommand.self, VerifyCommand.self]
    )

    /// The process's allocator policy is chosen here, once, before any command runs.
    static func main() {
        AllocatorPolicy.useLargeBlockReuse()
        main(nil)
    }
}

let vitexportVersion = "0.1.0"
