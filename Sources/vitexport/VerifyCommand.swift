import ArgumentParser
import VitIR
import VitONNX
import VitVerify

struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check that an exported ONNX file computes what the traced model computes.",
        discussion: """
            Traces and folds --model, reads the ONNX file (or exports one in memory at --opset \
            when --onnx is not given and reads it back), runs both in the reference interpreter \
            on the same inputs and compares them. Floating values must agree within --tolerance \
            relative to the reference's largest magnitude; integer values must be equal.

            Detectors are compared stage by stage when the file came from vitexport (its \
            vitexport.stages metadata, or the traced model's value names, locate the backbone, \
            pyramid, neck, encoder memory, proposals, decoder states, logits and boxes). Proposals \
            and detections are matched by identity (query, class); when near-tied proposals come \
            out in a different order, the file's decoder is teacher-forced with the traced model's \
            proposal indices. A stage beyond --tolerance end to end is judged on its own error: \
            the file's graph is run again with every stage value replaced by the traced model's \
            (rounding of reordered arithmetic grows through deep layers; a real bug fails at its \
            stage either way). Files whose stages cannot be found (stripped or renamed) have their \
            detections compared as sets: same label, box IoU ≥ 0.999, score within \
            --score-tolerance, and a detection without a partner fails only when its score is not \
            within --score-tolerance of the K-th. Prints the mode, a table by stage and the \
            detection summary; exits 1 on a mismatch.

            With --precision fp16 or mixed, the file (or the traced model converted to that \
            precision and exported in memory) is compared with the fp32 model instead: every \
            stage's relative error (max and norm-wise; a stage passes when ‖a − b‖/‖a‖ ≤ 2e-2), \
            the decoder teacher-forced with the fp32 proposals, and the detections' agreement by \
            (query, class): at least 90% matched, mean IoU ≥ 0.85, largest score drift ≤ 0.02. \
            Exits 1 when a threshold is missed.
            """)

    @OptionGroup var model: ModelOptions
    @OptionGroup var batching: BatchOptions
    @OptionGroup var precision: PrecisionOptions
    @OptionGroup var io: GraphInputOptions
    @OptionGroup(title: "int8 quantization") var quantization: QuantizationOptions

    @Flag(help: "With --precision int8: quantize one top-level scope at a time and rank the scopes by the detection agreement each costs.")
    var perScope = false

    @Option(help: "The ONNX file to verify (default: export in memory).")
    var onnx: String?

    @Option(parsing: .unconditional, help: "Opset of the in-memory export when --onnx is not given.")
    var opset: Int = 17

    @Option(parsing: .unconditional, help: "Largest accepted |a − b| / max|a| per floating stage or output.")
    var tolerance: Float = 1e-5

    @Option(parsing: .unconditional, help: "Detectors: score differences up to this are near-ties (logits and sigmoid scores).")
    var scoreTolerance: Float = 1e-4

    func validate() throws {
        if onnx != nil, quantization.given {
            throw flagError("the int8 options quantize the traced model; --onnx names a file that is already reduced")
        }
        if onnx == nil || precision.precision != .int8 { try quantization.validate(precision: precision.precision) }
        if perScope && (precision.precision != .int8 || onnx != nil) { throw flagError("--per-scope needs --precision int8 without --onnx") }
        guard tolerance.isFinite, tolerance >= 0 else { throw flagError("--tolerance \(tolerance): expected a finite number ≥ 0") }
        guard scoreTolerance.isFinite, scoreTolerance >= 0 else {
            throw flagError("--score-tolerance \(scoreTolerance): expected a finite number ≥ 0")
        }
        guard supportedOpsets.contains(opset) else {
            throw ValidationError("--opset \(opset) is not supported; choose \(supportedOpsets.lowerBound)…\(supportedOpsets.upperBound)")
        }
    }

    func run() throws {
        let request = VerifyRequest(model: try model.request, onnx: onnx, opset: opset, inputs: try io.inputs,
                                    tolerances: VerifyTolerances(relative: tolerance, score: scoreTolerance),
                                    batch: batching.size)
        if model.weights == nil { print(seededWeightsNotice(seed: try model.loadConfig().seed)) }
        if perScope {
            let loaded = try model.load(TraceSettings(stages: .marked))
            let feeds: [String: Tensor]
            do { feeds = try request.inputs.feeds(for: loaded.graph) } catch { throw CLIError(error) }
            print(try quantization.sensitivity(loaded.graph, feeds: feeds, budget: try model.budget))
            return
        }
        if precision.precision != .fp32 {
            let report: PrecisionReport
            do { report = try reducedReport(request) } catch { throw CLIError(error) }
            print(report.table)
            guard report.passed else { throw CLIError("\(precision.precision.rawValue) is outside the stated agreement with fp32") }
            print("within the stated agreement")
            return
        }
        let report: VerifyReport
        do { report = try PhaseProgress().phase("tracing, exporting and running both") { try verifyModel(request) } } catch { throw CLIError(error) }
        print(report.table)
        guard report.passed else { throw CLIError("verification failed: first difference at \(report.firstFailure ?? "?")") }
        print("verified" + (report.teacherForced ? " (decoder teacher-forced with the traced model's proposals)" : ""))
    }

    /// The precision report of --precision fp16/mixed, or of int8 quantized with the int8 options.
    func reducedReport(_ request: VerifyRequest) throws -> PrecisionReport {
        guard precision.precision == .int8 else {
            return try verifyPrecision(request, precision: precision.precision, policy: try precision.policy)
        }
        let budget = try model.budget
        return try verifyReduced(request, label: "int8", thresholds: .int8) { graph in
            _ = try quantization.quantize(&graph, budget: budget)
        }
    }
}
