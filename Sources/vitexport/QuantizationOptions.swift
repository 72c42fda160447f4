import ArgumentParser
import Foundation
import VitIR
import VitImage
import VitInterp
import VitPasses
import VitQuantize
import VitVerify

/// The calibrators by their command-line names.
enum CalibratorName: String, CaseIterable, ExpressibleByArgument {
    case minmax, percentile, entropy
}

/// The activation element type of an int8 export.
enum ActivationTypeName: String, CaseIterable, ExpressibleByArgument {
    case uint8, int8
    var dtype: DType { self == .int8 ? .int8 : .uint8 }
}

/// `onnx --precision int8`'s options: where calibration inputs come from, the calibrator, the
/// activation type and the scopes kept in float.
struct QuantizationOptions: ParsableArguments {
    @Option(parsing: .unconditional, help: ArgumentHelp("int8: calibrate on N seeded standard-normal inputs (seeds 1…N, so `run`/`verify`'s default seed 0 is not among them).", valueName: "N"))
    var calibrateSeeded: Int?

    @Option(name: .customLong("calibrate-input"), help: ArgumentHelp("int8: a calibration input from a .npy file (repeatable; the k-th file given for an input belongs to the k-th sample, every input given the same number of times).", valueName: "name=file.npy"))
    var calibrateInputs: [String] = []

    @Option(help: "int8: how activation ranges are chosen: minmax (the extremes), percentile (clip the tails, see --percentile) or entropy (TensorRT's KL-divergence threshold).")
    var calibrator: CalibratorName = .minmax

    @Option(parsing: .unconditional, help: ArgumentHelp("int8 with --calibrator percentile: the percentage of values kept, in (0, 100] (default 99.99).", valueName: "P"))
    var percentile: Double?

    @Option(help: "int8: activation type: uint8 (asymmetric; onnxruntime CPU, OpenVINO) or int8 (symmetric; TensorRT).")
    var activationType: ActivationTypeName = .uint8

    @Flag(help: "int8: weights in [−63, 63] (7 bits) instead of [−127, 127], for x86 CPUs without VNNI, where onnxruntime's and OpenVINO's uint8 × int8 kernels add products in pairs into saturating 16-bit sums (AVX2's vpmaddubsw) that full-range weights overflow.")
    var reduceRange = false

    @Option(name: .customLong("exclude"), help: ArgumentHelp("int8: keep this module scope (and every scope under it) in float (repeatable), e.g. transformer.decoder.", valueName: "scope"))
    var excludedScopes: [String] = []

    @Option(name: .customLong("calibrate"), parsing: .upToNextOption,
            help: ArgumentHelp("int8: calibrate on these photos (JPEG or PNG), preprocessed as `detect` does: resized to the model's input with Pillow's bilinear filter, RGB 0…255.", valueName: "photo"))
    var calibrateImages: [String] = []

    @Option(help: ArgumentHelp("int8: calibrate on every .jpg, .jpeg and .png file of this directory (sorted by name; not recursive).", valueName: "dir"))
    var calibrateDir: String?

    @Flag(help: "int8 with --calibrate/--calibrate-dir: letterbox the photos (as `detect --keep-aspect`) instead of resizing them.")
    var calibrateKeepAspect = false

    /// The most calibration samples one export takes (each is held in memory).
    static let maxSamples = 1000

    /// Whether any quantization option was given.
    var given: Bool {
        calibrateSeeded != nil || !calibrateInputs.isEmpty || calibrator != .minmax || percentile != nil
            || activationType != .uint8 || !excludedScopes.isEmpty || !calibrateImages.isEmpty || calibrateDir != nil
            || calibrateKeepAspect || reduceRange
    }

    /// Argument checks for `precision`; quantization flags without int8 are errors.
    func validate(precision: Precision) throws {
        let photos = !calibrateImages.isEmpty || calibrateDir != nil
        guard precision == .int8 else {
            if given { throw flagError("--calibrate, --calibrate-dir, --calibrate-seeded, --calibrate-input, --calibrator, --percentile, --activation-type, --reduce-range and --exclude need --precision int8") }
            return
        }
        if calibrateKeepAspect && !photos { throw flagError("--calibrate-keep-aspect needs --calibrate or --calibrate-dir") }
        let sources = [calibrateSeeded != nil, !calibrateInputs.isEmpty, photos].filter { $0 }.count
        switch (calibrateSeeded, calibrateInputs.isEmpty) {
        case _ where sources > 1:
            throw flagError("--calibrate/--calibrate-dir, --calibrate-seeded and --calibrate-input exclude each other")
        case (nil, true) where !photos:
            throw flagError("--precision int8 needs calibration inputs: --calibrate PHOTO…, --calibrate-dir DIR, --calibrate-seeded N or --calibrate-input name=file.npy")
        case (let n?, true) where !(1...Self.maxSamples).contains(n):
            throw flagError("--calibrate-seeded \(n): expected 1…\(Self.maxSamples)")
        default: break
        }
        if let p = percentile {
            guard calibrator == .percentile else { throw flagError("--percentile needs --calibrator percentile") }
            guard p > 0, p <= 100 else { throw flagError("--percentile \(p): expected a number in (0, 100]") }
        }
        for spec in calibrateInputs where !spec.contains("=") {
            throw flagError("--calibrate-input \(spec): expected name=file.npy")
        }
    }

    var settings: QuantizationSettings {
        QuantizationSettings(activationType: activationType.dtype, excludedScopes: excludedScopes, reduceRange: reduceRange)
    }

    /// Calibration runs within `budget` (--max-memory).
    func calibration(budget: MemoryBudget) -> CalibrationOptions {
        let method: Calibrator = switch calibrator {
        case .minmax: .minMax
        case .percentile: .percentile(percentile ?? 99.99)
        case .entropy: .entropy
        }
        return CalibrationOptions(calibrator: method, interpreter: Interpreter.Options(budget: budget))
    }

    /// The calibration samples for `graph`: seeded, or the .npy files (inputs not given are
    /// seeded with the sample's number). They are held in memory together, so their bytes
    /// must fit `budget`.
    func samples(for graph: Graph, budget: MemoryBudget) throws -> [[String: Tensor]] {
        let photos = try calibrationPhotos()
        let sampleCount = calibrateSeeded ?? (photos.isEmpty ? calibrateInputs.count : photos.count)
        let sampleBytes = Checked.sum(graph.inputs.map { (id: ValueID) -> Int in
            let type = graph.type(of: id)
            return type.shape.ints.flatMap { Checked.byteCount(dims: $0, type.dtype) } ?? Int.max
        })
        do { try budget.check(sampleBytes.flatMap { Checked.multiply($0, sampleCount) }, "\(sampleCount) calibration samples") } catch {
            throw CLIError("int8: \(error)")
        }
        if let n = calibrateSeeded {
            do { return try (1...n).map { try GraphInputs(seed: UInt64($0)).feeds(for: graph) } } catch { throw CLIError(error) }
        }
        if !photos.isEmpty { return try photoSamples(photos, graph: graph, budget: budget) }
        var perInput: [String: [String]] = [:]
        for spec in calibrateInputs {
            guard let eq = spec.firstIndex(of: "=") else { throw CLIError("--calibrate-input \(spec): expected name=file.npy") }
            perInput[String(spec[..<eq]), default: []].append(String(spec[spec.index(after: eq)...]))
        }
        let counts = Set(perInput.values.map(\.count))
        guard counts.count == 1, let count = counts.first, count <= Self.maxSamples else {
            let listed = perInput.sorted { $0.key < $1.key }.map { "\($0.key) ×\($0.value.count)" }.joined(separator: ", ")
            throw CLIError("--calibrate-input: every input must be given the same number of times, at most \(Self.maxSamples) (got \(listed))")
        }
        let types = Dictionary(uniqueKeysWithValues: graph.inputs.map { (graph.name(of: $0), graph.type(of: $0)) })
        if let unknown = perInput.keys.sorted().first(where: { types[$0] == nil }) {
            throw CLIError("--calibrate-input \(unknown): the model has no input \(unknown) (inputs: \(types.keys.sorted().joined(separator: ", ")))")
        }
        return try (0..<count).map { k in
            let files = perInput.mapValues { $0[k] }
            let feeds: [String: Tensor]
            do { feeds = try GraphInputs(files: files, seed: UInt64(k + 1)).feeds(for: graph) } catch { throw CLIError(error) }
            for (name, path) in files.sorted(by: { $0.key < $1.key }) where feeds[name]?.type != types[name] {
                throw CLIError("--calibrate-input \(name)=\(path): \(feeds[name].map { "\($0.type)" } ?? "nothing"), the model's input is \(types[name].map { "\($0)" } ?? "?")")
            }
            return feeds
        }
    }

    /// The per-scope sensitivity of `graph` (`int8Sensitivity`), measured on `feeds`, as a table
    /// most costly first.
    func sensitivity(_ graph: Graph, feeds: [String: Tensor], budget: MemoryBudget) throws -> String {
        let samples = try self.samples(for: graph, budget: budget)
        let rows: [ScopeSensitivity]
        do { rows = try int8Sensitivity(graph, samples: samples, feeds: feeds, settings: settings, calibration: calibration(budget: budget)) } catch {
            throw CLIError("int8: \(error)")
        }
        let width = max(5, rows.map(\.scope.count).max() ?? 0)
        var lines = ["scope".padding(toLength: width, withPad: " ", startingAt: 0) + "  nodes  matched (teacher-forced)  mean IoU  score drift"]
        for row in rows {
            let a = row.agreement.teacherForced
            lines.append(row.scope.padding(toLength: width, withPad: " ", startingAt: 0)
                + "  " + String(format: "%5d  %24.3f  %8.3f  %11.4f", row.quantizedNodes, a.matchedFraction, a.meanIoU, a.maxScoreDrift))
        }
        lines.append("ranked by what quantizing the scope alone costs the detections; keep costly scopes in float with onnx --exclude SCOPE")
        return lines.joined(separator: "\n")
    }

    /// Quantizes `graph` in place (calibration runs within `budget`) and returns the lines to print.
    func quantize(_ graph: inout Graph, budget: MemoryBudget) throws -> [String] {
        let samples = try self.samples(for: graph, budget: budget)
        let report: QuantizationReport
        do { report = try VitQuantize.quantize(&graph, samples: samples, settings: settings, calibration: calibration(budget: budget)) } catch {
            throw CLIError("int8: \(error)")
        }
        let ops = report.quantizedByOp.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        var reasons: [String: Int] = [:]
        for kept in report.keptFloat { reasons[kept.reason, default: 0] += 1 }
        let kept = reasons.sorted { $0.key < $1.key }.map { "\($0.key) ×\($0.value)" }.joined(separator: "; ")
        return [
            "  int8: quantized \(ops), weights in [−\(Int(settings.weightMax)), \(Int(settings.weightMax))]; \(report.quantizedActivations) activations \(activationType.rawValue) (\(calibrator.rawValue), \(samples.count) samples)",
            "  int8: kept in float: \(kept.isEmpty ? "nothing" : kept)",
            "  int8: initializers \(report.parameterBytes.before) → \(report.parameterBytes.after) bytes",
        ]
    }

    /// --calibrate's photos, then --calibrate-dir's .jpg/.jpeg/.png files sorted by name.
    func calibrationPhotos() throws -> [String] {
        var photos = calibrateImages
        if let dir = calibrateDir {
            let names: [String]
            do { names = try FileManager.default.contentsOfDirectory(atPath: dir) } catch {
                throw CLIError("--calibrate-dir \(dir): not a readable directory")
            }
            let found = names.filter { ["jpg", "jpeg", "png"].contains(($0 as NSString).pathExtension.lowercased()) }.sorted()
            guard !found.isEmpty else { throw CLIError("--calibrate-dir \(dir): no .jpg, .jpeg or .png file") }
            photos += found.map { (dir as NSString).appendingPathComponent($0) }
        }
        guard photos.count <= Self.maxSamples else {
            throw CLIError("int8: \(photos.count) calibration photos; at most \(Self.maxSamples)")
        }
        return photos
    }

    /// One sample per photo: the graph's `image` input [1, 3, H, W] as `detect` prepares it,
    /// other inputs seeded with the sample's number.
    func photoSamples(_ photos: [String], graph: Graph, budget: MemoryBudget) throws -> [[String: Tensor]] {
        guard let size = photoInputSize(graph) else {
            throw CLIError("--calibrate: photos calibrate a model whose input image is [1, 3, H, W]; use --calibrate-input or --calibrate-seeded")
        }
        return try photos.enumerated().map { k, path in
            let tensor: Tensor
            do { tensor = try loadImageInput(path: path, height: size.height, width: size.width, keepAspect: calibrateKeepAspect, budget: budget).0 } catch {
                throw CLIError(error)
            }
            var feeds: [String: Tensor]
            do { feeds = try GraphInputs(seed: UInt64(k + 1)).feeds(for: graph) } catch { throw CLIError(error) }
            feeds["image"] = tensor
            return feeds
        }
    }
}
