import ArgumentParser
import ModelZoo
import VitIR
import VitInterp
import VitModels
import VitONNX
import VitVerify

/// Options every command that traces a model shares.
struct ModelOptions: ParsableArguments {
    @Option(name: .shortAndLong, help: ArgumentHelp("Embedded model name or path to a model configuration JSON.",
                                                     valueName: "name-or-path"))
    var model: String = ModelZoo.defaultModel

    @Option(help: ArgumentHelp("Checkpoint to bind strictly (every parameter present with its shape, no key left over): safetensors or a PyTorch .pth/.pt, told apart by content; without it parameters are seeded random values.",
                               valueName: "file"))
    var weights: String?

    @Option(help: ArgumentHelp("Entry of a PyTorch checkpoint that holds the state dict (default: detected: model, state_dict, teacher, or the top level).",
                               valueName: "key"))
    var weightsKey: String?

    @Option(parsing: .unconditional,
            help: ArgumentHelp("Largest planned memory for a trace or a run, in bytes or with K/M/G suffix (default: three quarters of physical memory); a model over it is refused before anything is allocated.",
                               valueName: "bytes"))
    var maxMemory: String?

    @Flag(help: "List every problem of a long list (missing checkpoint keys, configuration errors) instead of the first ten.")
    var verbose = false

    @Option(help: ArgumentHelp("Prefix of the model's keys in --weights (e.g. backbone.net.timm_model.model.); keys outside it are ignored.",
                               valueName: "prefix"))
    var weightsPrefix: String?

    @OptionGroup var compute: ComputeOptions

    func validate() throws {
        if weightsPrefix != nil && weights == nil { throw ValidationError("--weights-prefix needs --weights") }
        if weightsKey != nil && weights == nil { throw ValidationError("--weights-key needs --weights") }
        _ = try budget
    }


    /// --max-memory, or the default.
    var budget: MemoryBudget {
        get throws {
            guard let text = maxMemory else { return .physicalDefault }
            let units: [Character: Int] = ["K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40]
            let suffix = text.last.map { Character($0.uppercased()) }
            let scale = suffix.flatMap { units[$0] } ?? 1
            let digits = scale == 1 ? Substring(text) : text.dropLast()
            guard let n = Int(digits), n > 0, let bytes = Checked.multiply(n, scale) else {
                throw ValidationError("--max-memory \(text): expected a positive number of bytes, optionally with K, M, G or T")
            }
            return MemoryBudget(bytes: bytes)
        }
    }

    var request: ModelRequest {
        get throws {
            ModelRequest(model: model, weights: weights, weightsPrefix: weightsPrefix, weightsKey: weightsKey, budget: try budget)
        }
    }

    /// The configuration; an error is one line without the usage text.
    func loadConfig() throws -> ModelConfig {
        do { return try VitVerify.loadConfig(model) } catch { throw CLIError(error) }
    }

    /// For a dynamic-batch export: the model traced and optimized per `settings` at batch 2
    /// (the graph exported) and its twin at batch 3 (`DynamicBatch`).
    func loadDynamicBatch(_ settings: TraceSettings) throws -> (LoadedModel, DynamicBatch) {
        var settings = settings
        settings.batch = 2
        let main = try load(settings)
        settings.batch = 3
        let twin = try load(settings)
        return (main, DynamicBatch(twin: twin.graph, batch: 2, twinBatch: 3))
    }

    /// The model traced and optimized per `settings` (`VitVerify.loadModel`).
    func load(_ settings: TraceSettings) throws -> LoadedModel {
        let request = try self.request
        do { return try loadModel(request, settings: settings) } catch { throw CLIError(error) }
    }
}

/// `--batch N`: images per run of a traced model (onnx, run, verify, dump; a command that
/// batches adds this group beside `ModelOptions`).
struct BatchOptions: ParsableArguments {
    @Option(parsing: .unconditional,
            help: ArgumentHelp("Images per run: the leading dimension of every graph input and output, 1…\(InputLimits.maxBatch) (default 1). With --onnx, the extent of a dynamic-batch file's batch when no --input gives it.",
                               valueName: "n"))
    var batch: Int?

    func validate() throws {
        if let batch, let problem = InputLimits.batchProblem(batch) { throw ValidationError("--batch \(batch): \(problem)") }
    }

    /// --batch, or 1.
    var size: Int { batch ?? 1 }
}

/// How kernels compute (threads, GEMM library): process-wide settings, applied once by
/// `VitExport.main` before the command runs, for interpreting and for folding alike.
struct ComputeOptions: ParsableArguments {
    @Option(parsing: .unconditional,
            help: ArgumentHelp("Threads for every parallel loop of the interpreter and the BLAS (default: the number of cores).",
                               valueName: "n"))
    var threads: Int = Threading.coreCount

    @Option(help: ArgumentHelp("Library for float matrix products: onednn (default) or openblas.", valueName: "library"))
    var gemm: String = GEMMBackend.oneDNN.rawValue

    func validate() throws {
        guard (1...Threading.maximum).contains(threads) else {
            throw flagError("--threads \(threads): expected a number from 1 to \(Threading.maximum)")
        }
        guard GEMMBackend(rawValue: gemm) != nil else {
            throw flagError("--gemm \(gemm): expected one of \(GEMMBackend.allCases.map(\.rawValue).joined(separator: ", "))")
        }
    }

    /// Sets the process-wide thread limit and GEMM library.
    func apply() {
        Threading.setLimit(threads)
        GEMMBackend.select(GEMMBackend(rawValue: gemm) ?? .oneDNN)
    }
}

/// A command whose kernels `ComputeOptions` governs.
protocol ComputeCommand {
    var model: ModelOptions { get }
}

/// A failure reported to the user, exit code 1: one line, or a problem list shortened to ten
/// entries unless --verbose (see `VitExport.main`).
struct CLIError: Error, CustomStringConvertible {
    var message: String
    /// The library error behind the message, when it lists problems.
    var listing: (any ProblemListing)?
    init(_ description: String) { message = description }
    init(_ error: any Error) {
        message = "\(error)"
        listing = error as? any ProblemListing
    }
    var description: String { message }
    func description(verbose: Bool) -> String { listing?.description(limit: verbose ? nil : ProblemList.defaultLimit) ?? message }
}

/// A flag value that cannot be used.
func flagError(_ message: String) -> ValidationError { ValidationError(message) }
