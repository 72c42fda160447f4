import Foundation
import Testing
import VitIR
import VitInterp
import VitModels
@testable import VitQuantize

/// Statistics of `values` as calibration collects them (extremes, then the histogram).
func statistics(_ values: [Float], halfBins: Int = 2048) -> ActivationStatistics {
    var s = ActivationStatistics(halfBins: halfBins)
    values.withUnsafeBufferPointer { s.observeExtremes($0) }
    values.withUnsafeBufferPointer { s.observeHistogram($0) }
    return s
}

/// `n` standard-normal values (SplitMix64 + Box–Muller, deterministic).
func gaussian(_ n: Int, seed: UInt64) -> [Float] {
    var rng = SplitMix64(seed: seed)
    return (0..<n).map { _ in rng.nextNormal() }
}

@Suite struct CalibratorTests {
    @Test func minMaxIsTheExtremes() {
        let s = statistics([-3, 1, 2, 0.5])
        #expect(Calibrator.minMax.range(s, symmetric: false) == ActivationRange(lower: -3, upper: 2))
        #expect(Calibrator.minMax.range(s, symmetric: true) == ActivationRange(lower: -3, upper: 3))
        // A range always holds 0: all-positive values give lower = 0.
        #expect(Calibrator.minMax.range(statistics([1, 4]), symmetric: false) == ActivationRange(lower: 0, upper: 4))
    }

    /// The eight-lane extremes equal the scalar ones over lengths with and without tails, and
    /// a non-finite value anywhere (vector body or tail) is reported by its first index and
    /// leaves the statistics as they were.
    @Test func extremesAndTheFirstNonFiniteValue() {
        var rng = SplitMix64(seed: 9)
        for n in [0, 1, 7, 8, 9, 63, 64, 1001] {
            let values = (0..<n).map { _ in rng.nextNormal() * 5 }
            var s = ActivationStatistics()
            let first = values.withUnsafeBufferPointer { s.observeExtremes($0) }
            #expect(first == nil)
            #expect(s.min == (values.min() ?? .infinity) && s.max == (values.max() ?? -.infinity) && s.count == n, "n=\(n)")
            for (position, bad) in [(0, Float.nan), (n / 2, .infinity), (n - 1, -.infinity)] where n > 0 {
                var spoiled = values
                spoiled[position] = bad
                if position + 1 < n { spoiled[n - 1] = .nan }
                var t = s
                let index = spoiled.withUnsafeBufferPointer { t.observeExtremes($0) }
                #expect(index == position, "n=\(n) \(bad) at \(position)")
                #expect(t == s)
            }
        }
    }

    @Test func percentileCountsWholeBins() {
        // absMax 1, 4 bins per sign of width 0.25: 97 values in |x| bin 0, 2 in bin 2, 1 in bin 3.
        let values = Array(repeating: Float(0.1), count: 97) + [0.6, -0.6, -1]
        let s = statistics(values, halfBins: 4)
        #expect(Calibrator.percentile(97).range(s, symmetric: true).upper == 0.25)
        #expect(Calibrator.percentile(99).range(s, symmetric: true).upper == 0.75)
        #expect(Calibrator.percentile(100).range(s, symmetric: true).upper == 1)
        // Asymmetric, signed bins of 0.25 over [−1, 1]: counts [1, 1, 0, 0, 97, 0, 1, 0].
        // 99 %: more than 1 value lies below the end of bin 1 ([−0.75, −0.5)), and 99 values
        // lie at or below bin 4 ([0, 0.25)).
        #expect(Calibrator.percentile(99).range(s, symmetric: false) == ActivationRange(lower: -0.75, upper: 0.25))
        // 99.5 %: both ends reach the outer values; edges are clipped to the extremes.
        #expect(Calibrator.percentile(99.5).range(s, symmetric: false) == ActivationRange(lower: -1, upper: 0.6))
    }

    @Test func uniformValuesKeepTheWholeRangeUnderEveryCalibrator() {
        let values = (0..<20_000).map { Float($0) / 10_000 - 1 }   // [−1, 0.9999]
        let s = statistics(values)
        #expect(Calibrator.minMax.range(s, symmetric: true).absMax == 1)
        #expect(Calibrator.entropy.range(s, symmetric: true).absMax == 1)
        let p = Calibrator.percentile(99).range(s, symmetric: true).absMax
        #expect(abs(p - 0.99) <= 1.0 / 2048, "\(p)")
    }

    @Test func percentileAndEntropyClipOutliersMinMaxDoesNot() {
        // 100 000 standard normals and 10 outliers at ±60.
        let values = gaussian(100_000, seed: 11) + Array(repeating: 60, count: 5) + Array(repeating: -60, count: 5)
        let s = statistics(values)
        #expect(Calibrator.minMax.range(s, symmetric: true).absMax == 60)
        // |x| of a standard normal is below 3.2905 with probability 99.9 %.
        let p = Calibrator.percentile(99.9).range(s, symmetric: true).absMax
        #expect(abs(p - 3.29) < 0.1, "\(p)")
        // Entropy: at least 128 bins of 60/2048 (3.75), and far below the outliers.
        let e = Calibrator.entropy.range(s, symmetric: true).absMax
        #expect(e >= 3.75 && e < 10, "\(e)")
        let asymmetric = Calibrator.entropy.range(s, symmetric: false)
        #expect(asymmetric.lower == -e && asymmetric.upper == e)
    }

    @Test func entropyOnAFewBinsKeepsEverything() {
        #expect(entropyThreshold([5, 3, 1], levels: 128) == 3)
        #expect(smoothed([0, 0]) == nil)
    }

    @Test func activationScalesFollowTheScheme() {
        let (s, z) = activationScale(ActivationRange(lower: -1, upper: 3), .uint8)
        #expect(s == 4 / 255 && z == 64)                      // round(1 / (4/255)) = round(63.75)
        let (si, zi) = activationScale(ActivationRange(lower: -1, upper: 3), .int8)
        #expect(si == 3 / 127 && zi == 0)
        #expect(activationScale(ActivationRange(lower: 0, upper: 0), .uint8) == (1, 0))
    }
}
