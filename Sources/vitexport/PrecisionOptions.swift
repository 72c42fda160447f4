import ArgumentParser
import VitPasses

extension Precision: ExpressibleByArgument {
    /// The precisions `--precision` offers (int8 is made by quantization, not by this option).
    public static var allValueStrings: [String] { [Precision.fp32, .fp16, .mixed].map(\.rawValue) }
}

/// `--precision` and `--fp32-regions`: shared by every command that traces, exports or runs a model.
struct PrecisionOptions: ParsableArguments {
    @Option(help: ArgumentHelp("""
        Numeric precision: fp32 (as traced), fp16 (weights and activations float16, graph inputs \
        and outputs float32) or mixed (float16 except the --fp32-regions, which stay float32).
        """, valueName: "fp32|fp16|mixed"))
    var precision: Precision = .fp32

    @Option(help: ArgumentHelp("""
        With --precision mixed: the regions kept float32, comma-separated, from \
        \(PrecisionRegion.allCases.map(\.rawValue).joined(separator: ", ")), or none \
        (default: \(MixedPolicy.standard.float32Regions.sorted().map(\.rawValue).joined(separator: ","))).
        """, valueName: "list"))
    var fp32Regions: String?

    func validate() throws {
        guard Precision.allValueStrings.contains(precision.rawValue) else {
            throw flagError("--precision \(precision.rawValue): choose \(Precision.allValueStrings.joined(separator: ", "))")
        }
        if fp32Regions != nil && precision != .mixed { throw flagError("--fp32-regions applies to --precision mixed") }
        _ = try policy
    }

    /// The mixed policy: --fp32-regions, or the standard one.
    var policy: MixedPolicy {
        get throws {
            guard let text = fp32Regions else { return .standard }
            if text == "none" { return MixedPolicy(float32Regions: []) }
            var regions: Set<PrecisionRegion> = []
            for name in text.split(separator: ",", omittingEmptySubsequences: false) {
                guard let region = PrecisionRegion(rawValue: String(name)) else {
                    throw flagError("--fp32-regions: unknown region '\(name)'; choose from \(PrecisionRegion.allCases.map(\.rawValue).joined(separator: ", ")) or none")
                }
                regions.insert(region)
            }
            return MixedPolicy(float32Regions: regions)
        }
    }
}
