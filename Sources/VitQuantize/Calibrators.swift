import Foundation

/// How an activation's quantization range is chosen from the values seen in calibration.
public enum Calibrator: Hashable, Sendable {
    /// The smallest and largest value seen (onnxruntime's default MinMax).
    case minMax
    /// Clips the tails: the range holding `percent` % of the values (of |x| for a symmetric
    /// range, of each side for an asymmetric one), e.g. 99.99.
    case percentile(Double)
    /// TensorRT's entropy calibration: the |x| threshold whose 128-level quantization of the
    /// histogram loses the least information (smallest KL divergence from the clipped one).
    case entropy

    /// The command-line spelling (`minmax`, `percentile`, `entropy`).
    public var name: String {
        switch self {
        case .minMax: "minmax"
        case .percentile: "percentile"
        case .entropy: "entropy"
        }
    }

    /// Whether the calibrator needs the histogram pass (min-max needs only the extremes).
    public var needsHistogram: Bool { self != .minMax }
}

/// What calibration saw of one tensor: its extremes over every sample and, for the calibrators
/// that need it, a histogram of the values over [−absMax, absMax] in `2 · halfBins` equal
/// bins (so |x| folds into `halfBins` bins of width absMax / halfBins).
public struct ActivationStatistics: Sendable, Equatable {
    public private(set) var min: Float = .infinity
    public private(set) var max: Float = -.infinity
    public private(set) var count = 0
    public private(set) var histogram: [Int] = []
    public let halfBins: Int

    public init(halfBins: Int = 2048) { self.halfBins = halfBins }

    public var absMax: Float { Swift.max(Swift.abs(min), Swift.abs(max)) }

    /// Adds values to the extremes (first pass).
    /// Returns the index of the first non-finite value instead, leaving the statistics as they
    /// were, when there is one. Eight lanes at a time (NaN compares false, as in the scalar loop).
    @discardableResult
    public mutating func observeExtremes(_ values: UnsafeBufferPointer<Float>) -> Int? {
        typealias Float8 = SIMD8<Float>
        let raw = UnsafeRawPointer(values.baseAddress), full = values.count & ~7
        var lo = Float8(repeating: .infinity), hi = Float8(repeating: -.infinity), finite = Float8(repeating: 0)
        var j = 0
        while j < full {
            let v = raw!.loadUnaligned(fromByteOffset: j * 4, as: Float8.self)
            lo.replace(with: v, where: v .< lo)
            hi.replace(with: v, where: v .> hi)
            finite += v * 0 // stays 0 while every value is finite; NaN once one is not
            j += 8
        }
        var (newMin, newMax) = (Swift.min(min, lo.min()), Swift.max(max, hi.max()))
        for v in values[full...] { (newMin, newMax) = (Swift.min(newMin, v), Swift.max(newMax, v)) }
        if finite != Float8(repeating: 0) || values[full...].contains(where: { !$0.isFinite }) {
            return values.firstIndex { !$0.isFinite }
        }
        (min, max) = (newMin, newMax)
        count += values.count
        return nil
    }

    /// Adds values to the histogram (second pass, after every extreme is known); values
    /// outside [−absMax, absMax] (none, when the same samples are replayed) go to the end bins.
    public mutating func observeHistogram(_ values: UnsafeBufferPointer<Float>) {
        let bins = 2 * halfBins
        if histogram.isEmpty { histogram = Array(repeating: 0, count: bins) }
        let a = absMax
        guard a > 0 else {
            histogram[halfBins] += values.count
            return
        }
        let perUnit = Double(bins) / (2 * Double(a))
        for v in values {
            let k = Int(Swift.min(Swift.max((Double(v) + Double(a)) * perUnit, 0), Double(bins - 1)))
            histogram[k] += 1
        }
    }

    /// Left edge of signed bin `k` (k = 2·halfBins is the right edge of the last bin).
    func edge(_ k: Int) -> Float { Float(-Double(absMax) + Double(k) * Double(absMax) / Double(halfBins)) }

    /// |x| folded into `halfBins` bins: bin j counts halfBins + j and halfBins − 1 − j.
    var absoluteHistogram: [Int] {
        (0..<halfBins).map { histogram[halfBins + $0] + histogram[halfBins - 1 - $0] }
    }
}

/// A calibrated range [lower, upper] holding 0 (both quantization schemes represent 0 exactly).
public struct ActivationRange: Sendable, Equatable {
    public var lower: Float
    public var upper: Float
    public init(lower: Float, upper: Float) {
        self.lower = Swift.min(lower, 0); self.upper = Swift.max(upper, 0)
    }
    /// The symmetric threshold max(|lower|, |upper|).
    public var absMax: Float { Swift.max(-lower, upper) }
}

extension Calibrator {
    /// The range this calibrator chooses from `s`: symmetric ranges ([−T, T], reported as
    /// the values' own side(s) of it) come from |x|, asymmetric ones from x.
    public func range(_ s: ActivationStatistics, symmetric: Bool) -> ActivationRange {
        guard s.count > 0, s.absMax > 0 else { return ActivationRange(lower: 0, upper: 0) }
        switch self {
        case .minMax:
            return symmetric ? ActivationRange(lower: -s.absMax, upper: s.absMax) : ActivationRange(lower: s.min, upper: s.max)
        case .percentile(let percent):
            let p = Swift.min(Swift.max(percent / 100, 0), 1)
            if symmetric {
                let t = percentileThreshold(s.absoluteHistogram, fraction: p) * s.absMax / Float(s.halfBins)
                return ActivationRange(lower: -t, upper: t)
            }
            let (lo, hi) = signedPercentiles(s.histogram, fraction: p)
            return ActivationRange(lower: Swift.max(s.edge(lo), s.min), upper: Swift.min(s.edge(hi), s.max))
        case .entropy:
            let t = Swift.min(entropyThreshold(s.absoluteHistogram) * s.absMax / Float(s.halfBins), s.absMax)
            if symmetric { return ActivationRange(lower: -t, upper: t) }
            return ActivationRange(lower: Swift.max(s.min, -t), upper: Swift.min(s.max, t))
        }
    }
}

/// The number of |x| bins (from 0) holding at least `fraction` of the counts: the threshold
/// in bin widths.
func percentileThreshold(_ hist: [Int], fraction: Double) -> Float {
    let total = hist.reduce(0, +)
    let target = Double(total) * fraction
    var sum = 0
    for (j, c) in hist.enumerated() {
        sum += c
        if Double(sum) >= target { return Float(j + 1) }
    }
    return Float(hist.count)
}

/// Signed bin edges (as bin indices) [lo, hi) clipping (1 − fraction) of the counts on each side.
func signedPercentiles(_ hist: [Int], fraction: Double) -> (Int, Int) {
    let total = Double(hist.reduce(0, +))
    var sum = 0, lo = 0
    for (k, c) in hist.enumerated() {
        sum += c
        if Double(sum) > total * (1 - fraction) { lo = k; break }
    }
    sum = 0
    for (k, c) in hist.enumerated() {
        sum += c
        if Double(sum) >= total * fraction { return (lo, k + 1) }
    }
    return (lo, hist.count)
}

/// TensorRT's entropy calibration over an |x| histogram: for each candidate i ≥ levels bins,
/// P is the first i bins with the counts beyond added to bin i − 1, Q is those i bins merged
/// into `levels` groups (the last takes the remainder) and spread back uniformly over each
/// group's non-empty bins; both are smoothed (ε = 1e-4 moved onto empty bins) and the i with
/// the smallest KL(P‖Q) wins. Returns the threshold (i + 0.5) in bin widths, or the whole
/// histogram when it has fewer than `levels` bins.
func entropyThreshold(_ hist: [Int], levels: Int = 128) -> Float {
    guard hist.count > levels else { return Float(hist.count) }
    var suffix = Array(repeating: 0, count: hist.count + 1)
    for j in stride(from: hist.count - 1, through: 0, by: -1) { suffix[j] = suffix[j + 1] + hist[j] }
    var best = (divergence: Double.infinity, bins: hist.count)
    for i in levels...hist.count {
        var p = hist[0..<i].map(Double.init)
        p[i - 1] += Double(suffix[i])
        var q = Array(repeating: 0.0, count: i)
        let width = i / levels
        for g in 0..<levels {
            let start = g * width, end = g == levels - 1 ? i : start + width
            let nonEmpty = (start..<end).filter { hist[$0] != 0 }.count
            guard nonEmpty > 0 else { continue }
            let share = Double((start..<end).reduce(0) { $0 + hist[$1] }) / Double(nonEmpty)
            for j in start..<end where hist[j] != 0 { q[j] = share }
        }
        guard let d = klDivergence(smoothed(p), smoothed(q)) else { continue }
        if d < best.divergence { best = (d, i) }
    }
    return Float(best.bins) + 0.5
}

/// `counts` normalized, with ε of mass moved onto its empty bins (MXNet's smoothing), or nil
/// when nothing is left for the non-empty bins.
func smoothed(_ counts: [Double], epsilon: Double = 1e-4) -> [Double]? {
    let total = counts.reduce(0, +)
    let zeros = counts.filter { $0 == 0 }.count, nonZeros = counts.count - zeros
    guard total > 0, nonZeros > 0 else { return nil }
    let taken = epsilon * Double(zeros) / Double(nonZeros)
    let out = counts.map { $0 == 0 ? epsilon : $0 / total - taken }
    return out.allSatisfy { $0 > 0 } ? out : nil
}

/// KL(p‖q) = Σ p log(p / q) over strictly positive distributions, or nil when either is nil.
func klDivergence(_ p: [Double]?, _ q: [Double]?) -> Double? {
    guard let p, let q else { return nil }
    var d = 0.0
    for (a, b) in zip(p, q) { d += a * Foundation.log(a / b) }
    return d
}
