import ModelZoo
import VitIR

/// What `vitexport inspect` reports about a checkpoint file (`inspectCheckpoint`).
public struct CheckpointInspection: Sendable, Encodable {
    public struct TensorEntry: Sendable, Encodable, Equatable {
        public var name: String
        /// The dtype it is read as (float64 narrows to float32), or nil when unreadable.
        public var dtype: String?
        public var shape: [Int]
        /// Why the entry cannot be read as a tensor.
        public var problem: String?
    }

    /// One configuration's dry-run binding.
    public struct Binding: Sendable, Encodable {
        public var config: String
        public var architecture: String
        /// The key prefix tried ("" for none; nil for a detector's detrex state dict).
        public var prefix: String?
        public var missing: [String]
        public var unexpected: [String]
        /// "<key>: model needs [..], checkpoint has [..]".
        public var misshaped: [String]
        public var unreadable: [String]
        /// Differences of the checkpoint's pixel_mean/pixel_std from the configuration's.
        public var pixelStatistics: [String]
        public var binds: Bool { problemCount == 0 }
        public var problemCount: Int { missing.count + unexpected.count + misshaped.count + unreadable.count }

        enum CodingKeys: String, CodingKey { case config, architecture, prefix, binds, missing, unexpected, misshaped, unreadable, pixelStatistics }
        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(config, forKey: .config)
            try c.encode(architecture, forKey: .architecture)
            try c.encode(prefix, forKey: .prefix)
            try c.encode(binds, forKey: .binds)
            try c.encode(missing, forKey: .missing)
            try c.encode(unexpected, forKey: .unexpected)
            try c.encode(misshaped, forKey: .misshaped)
            try c.encode(unreadable, forKey: .unreadable)
            try c.encode(pixelStatistics, forKey: .pixelStatistics)
        }
    }

    public var path: String
    /// "safetensors" or "pytorch".
    public var format: String
    /// How the state dict was found ("plain state dict", "\"model\" of a detectron2/detrex
    /// training checkpoint", …); "safetensors file" for safetensors.
    public var layout: String
    public var topLevelKeys: [String]
    public var tensors: [TensorEntry]
    /// Elements of every readable tensor.
    public var parameterCount: Int
    public var opaque: [OpaqueObject]
    /// pixel_mean / pixel_std values when the checkpoint holds them as small float tensors.
    public var pixelMean: [Float]?
    public var pixelStd: [Float]?
    /// Every embedded configuration's best binding (the fitting prefix, else the closest).
    public var bindings: [Binding]

    /// Configurations the checkpoint binds to strictly.
    public var binding: [Binding] { bindings.filter(\.binds) }
    /// The configuration with the fewest differences when none binds.
    public var closest: Binding? {
        binding.isEmpty ? bindings.min { ($0.problemCount, $0.config) < ($1.problemCount, $1.config) } : nil
    }
}

/// Reads `path` (safetensors or torch.save, by content; `weightsKey` as for `--weights-key`)
/// and dry-runs binding against each configuration in `configs` (default: every embedded
/// one), calling `onPhase` as each step starts. Throws the reader's error for a file that
/// cannot be read.
public func inspectCheckpoint(path: String, weightsKey: String? = nil, configs: [String] = ModelZoo.names,
                              budget: MemoryBudget = .physicalDefault,
                              onPhase: (String) -> Void = { _ in }) throws -> CheckpointInspection {
    onPhase("reading \(path)")
    let file = try openCheckpoint(path: path, weightsKey: weightsKey, budget: budget)
    var tensors: [CheckpointInspection.TensorEntry] = []
    var parameters = 0
    for name in file.names {
        guard let e = file.entryShape(named: name) else { continue }
        tensors.append(.init(name: name, dtype: e.dtype?.rawValue, shape: e.shape, problem: e.problem))
        if e.dtype != nil { parameters = Checked.product(e.shape).flatMap { Checked.add(parameters, $0) } ?? Int.max }
    }
    let torch = file as? TorchCheckpoint
    func smallFloats(_ key: String) -> [Float]? {
        guard let e = file.entryShape(named: key), e.dtype?.isFloatingPoint == true, let n = Checked.product(e.shape), n <= 16,
              let t = try? file.tensor(named: key) else { return nil }
        return t.floats
    }
    var report = CheckpointInspection(
        path: path, format: torch == nil ? "safetensors" : "pytorch", layout: torch?.layout ?? "safetensors file",
        topLevelKeys: torch?.topLevelKeys ?? [], tensors: tensors, parameterCount: parameters,
        opaque: torch?.opaqueObjects ?? [], pixelMean: smallFloats("pixel_mean"), pixelStd: smallFloats("pixel_std"), bindings: [])
    for name in configs {
        onPhase("dry-run binding to \(name)")
        let config = try ModelConfig.load(name)
        let requests = try parameterRequests(for: config, budget: budget)
        let prefixes: [String?] = config.architecture == .detector ? [nil] : candidatePrefixes(requests, names: file.names)
        var best: CheckpointInspection.Binding?
        for prefix in prefixes {
            let error = dryRunBinding(requests, file: file, config: config, prefix: prefix)
            var b = CheckpointInspection.Binding(config: config.name, architecture: config.architecture.rawValue, prefix: prefix,
                                                 missing: error?.missing ?? [], unexpected: error?.unexpected ?? [],
                                                 misshaped: (error?.misshaped ?? []).map(\.line), unreadable: error?.unreadable ?? [],
                                                 pixelStatistics: [])
            if let d = config.detector {
                b.pixelStatistics = pixelStatisticsProblems(d) { $0 == "pixel_mean" ? report.pixelMean : report.pixelStd }
            }
            if best.map({ b.problemCount < $0.problemCount }) ?? true { best = b }
            if b.binds { break }
        }
        if let best { report.bindings.append(best) }
    }
    return report
}

extension CheckpointBindingError.Misshaped {
    /// "<key>: model needs [..], checkpoint has [..]" (and the dtype when it is not a float).
    public var line: String {
        let dtype = foundDType.isFloatingPoint ? "" : " (\(foundDType.rawValue), not a float type)"
        return "\(key): model needs \(expected), checkpoint has \(found)\(dtype)"
    }
}

extension CheckpointInspection {
    /// The report as text: tensors, counts, opaque objects, pixel statistics and bindings;
    /// `limit` shortens long lists of differences (nil: all).
    public func text(limit: Int?) -> String {
        var lines = ["\(path): \(format == "safetensors" ? "safetensors file" : "PyTorch checkpoint, state dict: \(layout)")"]
        if !topLevelKeys.isEmpty { lines.append("top-level keys: " + topLevelKeys.joined(separator: ", ")) }
        lines.append("tensors: \(tensors.count), parameters: \(parameterCount)")
        let width = min(tensors.map(\.name.count).max() ?? 0, 72)
        for t in tensors {
            let name = t.name.padding(toLength: max(width, t.name.count), withPad: " ", startingAt: 0)
            lines.append("  \(name)  " + (t.dtype.map { "\($0) \(t.shape)" } ?? "unreadable: \(t.problem ?? "?")"))
        }
        if opaque.isEmpty {
            if format == "pytorch" { lines.append("opaque objects: none") }
        } else {
            lines.append("opaque objects (not executed, skipped): \(opaque.count)")
            lines += ProblemList.abbreviated(opaque.map { "  \($0.path): \($0.reason)" }, limit: limit)
        }
        if let pixelMean { lines.append("pixel_mean: \(pixelMean)") }
        if let pixelStd { lines.append("pixel_std: \(pixelStd)") }
        lines += bindingLines(limit: limit)
        return lines.joined(separator: "\n") + "\n"
    }

    func bindingLines(limit: Int?) -> [String] {
        func prefixNote(_ b: Binding) -> String {
            guard let p = b.prefix, !p.isEmpty else { return "" }
            return " with --weights-prefix \(p)"
        }
        var lines: [String] = []
        if binding.isEmpty {
            lines.append("binds to: no embedded configuration")
        } else {
            lines.append("binds to:")
            for b in binding {
                lines.append("  \(b.config) (\(b.architecture))\(prefixNote(b))")
                lines += b.pixelStatistics.map { "    but \($0)" }
            }
        }
        guard let c = closest else { return lines }
        lines.append("closest: \(c.config)\(prefixNote(c)): \(c.missing.count) missing, \(c.unexpected.count) unexpected, \(c.misshaped.count) misshaped"
                     + (c.unreadable.isEmpty ? "" : ", \(c.unreadable.count) unreadable"))
        let differences = c.missing.map { "  missing:    \($0)" } + c.unexpected.map { "  unexpected: \($0)" }
            + c.misshaped.map { "  misshaped:  \($0)" } + c.unreadable.map { "  unreadable: \($0)" }
        return lines + ProblemList.abbreviated(differences, limit: limit)
    }
}
