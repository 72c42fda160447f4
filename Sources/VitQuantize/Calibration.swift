import VitIR
import VitInterp

/// A failure of calibration or of the QDQ rewrite; `description` is one line for the user.
public struct QuantizationError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// How calibration runs the interpreter.
public struct CalibrationOptions: Sendable {
    public var calibrator: Calibrator
    /// Histogram bins per sign (|x| is binned into this many bins).
    public var halfBins: Int
    /// The interpreter's options (memory budget) for each run.
    public var interpreter: Interpreter.Options
    /// At most this many bytes of observed activations are held at once: the targets are split
    /// into groups under it and each group is observed in a run of its own.
    public var maxObservedBytes: Int

    public init(calibrator: Calibrator = .minMax, halfBins: Int = 2048,
                interpreter: Interpreter.Options = Interpreter.Options(), maxObservedBytes: Int = 1 << 30) {
        self.calibrator = calibrator; self.halfBins = halfBins
        self.interpreter = interpreter; self.maxObservedBytes = maxObservedBytes
    }
}

/// Runs `graph` (float32, folded) in the interpreter on every sample and records the values
/// of `targets` (value names) through interpreter hooks: their extremes, and for percentile
/// and entropy calibration a second pass over the same samples fills histograms over the
/// extremes found. A sample is one feed per graph input; `samples` is iterated once per pass.
/// A non-finite activation is an error naming the tensor and the sample.
public func collectStatistics(_ graph: Graph, targets: [String], samples: some Collection<[String: Tensor]>,
                              options: CalibrationOptions = CalibrationOptions()) throws(QuantizationError) -> [String: ActivationStatistics] {
    guard !samples.isEmpty else { throw QuantizationError("calibration needs at least one sample") }
    var stats = Dictionary(uniqueKeysWithValues: targets.map { ($0, ActivationStatistics(halfBins: options.halfBins)) })
    let groups = observationGroups(graph, targets: targets, maxBytes: options.maxObservedBytes)
    let interpreter = Interpreter(graph)
    let passes = options.calibrator.needsHistogram ? 2 : 1
    for pass in 0..<passes {
        for (k, feeds) in samples.enumerated() {
            for group in groups {
                let result: Interpreter.Result
                do {
                    result = try interpreter.run(feeds: feeds, options: options.interpreter, hooks: Interpreter.Hooks(observe: group))
                } catch {
                    throw QuantizationError("calibration sample \(k + 1): \(error)")
                }
                for (name, tensor) in result.observed.sorted(by: { $0.key < $1.key }) {
                    let bad: Float? = withFloat32(tensor) { p in
                        if pass == 1 { stats[name]?.observeHistogram(p); return nil }
                        return stats[name]?.observeExtremes(p).map { p[$0] }
                    }
                    if let bad {
                        throw QuantizationError("calibration sample \(k + 1): activation '\(name)' holds \(bad); cannot calibrate a range")
                    }
                }
            }
        }
    }
    return stats
}

/// `body` on `t`'s elements as Float32: in place for a float32 tensor, else a widened copy.
private func withFloat32<R>(_ t: Tensor, _ body: (UnsafeBufferPointer<Float>) -> R) -> R {
    t.dtype == .float32 ? t.withElements(as: Float.self, body) : t.floats.withUnsafeBufferPointer(body)
}

/// `targets` split, in order, into groups whose float32 bytes stay under `maxBytes` (a tensor
/// larger than that is a group of its own).
func observationGroups(_ graph: Graph, targets: [String], maxBytes: Int) -> [Set<String>] {
    let sizes = Dictionary(graph.values.map { ($0.name, $0.type.shape.ints.flatMap { Checked.byteCount(dims: $0, .float32) } ?? Int.max) },
                           uniquingKeysWith: { a, _ in a })
    var groups: [Set<String>] = []
    var current: Set<String> = [], bytes = 0
    for name in targets {
        let size = sizes[name] ?? 0
        if !current.isEmpty, bytes + size > maxBytes {
            groups.append(current)
            current = []; bytes = 0
        }
        current.insert(name)
        bytes += size
    }
    if !current.isEmpty { groups.append(current) }
    return groups
}
