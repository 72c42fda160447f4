import ArgumentParser
import ModelZoo
import VitIR
import VitModels

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

    func loadConfig() throws -> ModelConfig {
        do { return try ModelConfig.load(model) } catch let error as ConfigError {
            throw ValidationError(error.description)
        }
    }

    /// Traces the configured model with the parameters of --weights, or seeded ones. With
    /// `detectorDebugOutputs`, a detector also outputs its intermediate stages; with
    /// `forcedProposals`, it takes its decoder's proposals from the input `proposal_indices`
    /// (`DetectorTraceOptions.forcedProposals`). Both are ignored for other architectures.
    func trace(detectorDebugOutputs: Bool = false, forcedProposals: Bool = false) throws -> (ModelConfig, Graph) {
        let config = try loadConfig()
        var parameters: ParameterSource?
        if let weights {
            do {
                if config.architecture == .detector && weightsPrefix == nil {
                    // detrex stores the shared heads twice; either copy binds.
                    parameters = try detectorCheckpointParameters(file: SafetensorsFile(path: weights))
                } else {
                    parameters = try CheckpointParameters(file: SafetensorsFile(path: weights), prefix: weightsPrefix ?? "")
                }
            } catch let error as SafetensorsError {
                throw CLIError(error.description)
            }
        }
        do {
            if (detectorDebugOutputs || forcedProposals) && config.architecture == .detector {
                let options = DetectorTraceOptions(debugOutputs: detectorDebugOutputs, forcedProposals: forcedProposals)
                return (config, try traceDetectorModel(config, parameters: parameters, options: options))
            }
            return (config, try traceModel(config, parameters: parameters))
        } catch let error as TraceError {
            throw CLIError("tracing \(config.name) failed: \(error)")
        } catch let error as CheckpointBindingError {
            throw CLIError(error.description)
        }
    }
}

/// A failure reported to the user as one clear line, exit code 1.
struct CLIError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
