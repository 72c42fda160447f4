import ArgumentParser
import ModelZoo
import VitIR
import VitModels
import VitVerify

/// Options every command that traces a model shares.
struct ModelOptions: ParsableArguments {
    @Option(name: .shortAndLong, help: ArgumentHelp("Embedded model name or path to a model configuration JSON.",
                                                     valueName: "name-or-path"))
    var model: String = ModelZoo.defaultModel

    @Option(help: ArgumentHelp("Safetensors checkpoint to bind strictly (every parameter present with its shape, no key left over); without it parameters are seeded random values.",
                               valueName: "file.safetensors"))
    var weights: String?

    @Option(help: ArgumentHelp("Prefix of the model's keys in --weights (e.g. backbone.net.timm_model.model.); keys outside it are ignored.",
                               valueName: "prefix"))
    var weightsPrefix: String?

    func validate() throws {
        if weightsPrefix != nil && weights == nil { throw ValidationError("--weights-prefix needs --weights") }
    }

    var request: ModelRequest { ModelRequest(model: model, weights: weights, weightsPrefix: weightsPrefix) }

    /// The configuration; an error is one line without the usage text.
    func loadConfig() throws -> ModelConfig {
        do { return try VitVerify.loadConfig(model) } catch { throw CLIError(error.description) }
    }

    /// The model traced and optimized per `settings` (`VitVerify.loadModel`).
    func load(_ settings: TraceSettings) throws -> LoadedModel {
        do { return try loadModel(request, settings: settings) } catch { throw CLIError(error.description) }
    }
}

/// A failure reported to the user as one clear line, exit code 1.
struct CLIError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
