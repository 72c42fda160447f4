import ArgumentParser
import VitPasses

extension Precision: ExpressibleByArgument {}

/// `--precision`: the numeric precision of an export. This build exports fp32 and int8.
struct PrecisionOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Numeric precision: fp32 (as traced) or int8 (QDQ: per-channel int8 weights, calibrated activations; needs calibration inputs).",
                               valueName: "fp32|int8"))
    var precision: Precision = .fp32

    func validate() throws {
        guard precision == .fp32 || precision == .int8 else {
            throw flagError("--precision \(precision.rawValue) is not available in this build (fp32, int8)")
        }
    }
}
