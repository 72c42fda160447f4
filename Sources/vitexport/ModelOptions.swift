import ArgumentParser
import ModelZoo
import VitIR
import VitModels

/// Options every command that traces a model shares.
struct ModelOptions: ParsableArguments {
    @Option(name: .shortAndLong, help: ArgumentHelp("Embedded model name or path to a model configuration JSON.",
                                                     valueName: "name-or-path"))
    var model: String = ModelZoo.defaultModel

    func loadConfig() throws -> ModelConfig {
        do { return try ModelConfig.load(model) } catch let error as ConfigError {
            throw ValidationError(error.description)
        }
    }

    /// Traces the configured model with seeded parameters.
    func trace() throws -> (ModelConfig, Graph) {
        let config = try loadConfig()
        do { return (config, try traceModel(config)) } catch let error as TraceError {
            throw CLIError("tracing \(config.name) failed: \(error)")
        }
    }
}

/// A failure reported to the user as one clear line, exit code 1.
struct CLIError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
