import ArgumentParser
import Foundation
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
        subcommands: [ModelsCommand.self, InspectCommand.self, DumpCommand.self, ONNXCommand.self, RunCommand.self, VerifyCommand.self,
                      DetectCommand.self]
    )

    /// The process's allocator policy is chosen here, once, before the command runs: the
    /// commands that interpret a model keep large freed blocks for reuse; export and dump keep
    /// glibc's default, which returns them, so folding's short-lived copies do not stay in
    /// the peak.
    static func main() {
        do {
            var command = try parseAsRoot()
            if command is RunCommand || command is VerifyCommand || command is DetectCommand { AllocatorPolicy.useLargeBlockReuse() }
            (command as? any ComputeCommand)?.model.compute.apply()
            try command.run()
        } catch {
            // Help and --version exit normally; every failure is its message alone (no usage
            // text), a problem list shortened unless --verbose.
            let code = exitCode(for: error)
            if code == .success { exit(withError: error) }
            let verbose = CommandLine.arguments.contains("--verbose")
            let text = (error as? CLIError)?.description(verbose: verbose) ?? message(for: error)
            FileHandle.standardError.write(Data("Error: \(text)\n".utf8))
            exit(withError: ExitCode(code.rawValue == 0 ? 1 : code.rawValue))
        }
    }
}

let vitexportVersion = "0.1.0"

extension DumpCommand: ComputeCommand {}
extension ONNXCommand: ComputeCommand {}
extension RunCommand: ComputeCommand {}
extension VerifyCommand: ComputeCommand {}
extension DetectCommand: ComputeCommand {}
