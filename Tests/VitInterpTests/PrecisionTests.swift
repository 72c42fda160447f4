import Foundation
import Testing
import VitIR
import VitInterp

/// The Float kernels (Softmax, Gelu, LayerNormalization) against Double references, at the
/// tolerance classes stated in their doc comments.
@Suite struct PrecisionTests {
    /// Deterministic values in [−scale, scale).
    static func values(_ n: Int, scale: Float, seed: UInt32 = 7) -> [Float] {
        var state = seed
        return (0..<n).map { _ in
            state = state &* 1_664_525 &+ 1_013_904_223
            return (Float(state >> 8) / 8_388_608 - 1) * scale
        }
    }

    /// Max relative error of `got` against `want`, relative to max(|want|, floor).
    static func relError(_ got: [Float], _ want: [Double], floor: Double) -> Double {
        zip(got, want).map { abs(Double($0) - $1) / max(abs($1), floor) }.max() ?? 0
    }

    @Test func softmaxLongRowsWithinStatedRelativeError() throws {
        for n in [1, 7, 8, 9, 1024, 3001, 10000] {
            let x = Self.values(2 * n, scale: 20, seed: UInt32(n))
            let got = try eval1(.softmax(axis: -1), [f32(x, [2, n])]).floats
            for r in 0..<2 {
                let row = x[(r * n)..<((r + 1) * n)].map(Double.init)
                let m = row.max()!
                let e = row.map { Foundation.exp($0 - m) }
                let s = e.reduce(0, +)
                for j in 0..<n {
                    // 1e-6 relative, plus the rounding of x − max in Float (≤ 6e-8·|x − max|).
                    let want = e[j] / s, bound = (1e-6 + 6e-8 * (m - row[j])) * want
                    let g = Double(got[r * n + j])
                    #expect(abs(g - want) <= bound, "n=\(n) [\(r), \(j)]: \(g), want \(want)")
                }
            }
        }
    }

    @Test func softmaxStridedAxisMatchesLastAxis() throws {
        let x = Self.values(5 * 3 * 7, scale: 10)
        let strided = try eval1(.softmax(axis: 0), [f32(x, [5, 21])])
        let moved = try eval1(.transpose(perm: [1, 0]), [f32(x, [5, 21])])
        let contiguous = try eval1(.transpose(perm: [1, 0]), [try eval1(.softmax(axis: -1), [moved])])
        #expect(strided.bitwiseEqual(contiguous))
    }

    @Test func softmaxSpecialValues() throws {
        let y = try eval1(.softmax(axis: -1), [f32([0, -.infinity, 0, -.infinity, 1, .nan, 2, 3, -200, 88, 0, -100], [3, 4])]).floats
        #expect(Array(y[0..<4]) == [0.5, 0, 0.5, 0])
        #expect(y[4].isNaN && y[5].isNaN && y[6].isNaN && y[7].isNaN)
        // e^−88 is subnormal: flushed to 0 (exp8's documented absolute error < 1.2e-38).
        #expect(y[8] == 0 && abs(y[9] - 1) <= 1e-7 && y[10] >= 0 && y[10] < 1.2e-38 && y[11] == 0)
    }

    static func geluReference(_ x: Double, tanh approximate: Bool) -> Double {
        if approximate {
            let u = (2 / Double.pi).squareRoot() * (x + 0.044715 * x * x * x)
            return x / (1 + Foundation.exp(-2 * u))
        }
        return 0.5 * x * Foundation.erfc(-x / 2.0.squareRoot())
    }

    @Test(arguments: [false, true]) func geluAgainstDouble(tanh approximate: Bool) throws {
        let xs = (0...4000).map { Float($0 - 2000) / 200 }  // −10 … 10 in steps of 0.005
        let got = try eval1(.gelu(approximate: approximate ? .tanh : .none), [f32(xs, [xs.count])]).floats
        for (x, g) in zip(xs, got) {
            let want = Self.geluReference(Double(x), tanh: approximate)
            // 1e-6 relative for x ≥ −3; below, the Float argument's rounding is amplified by the
            // steep tail: ≤ 2e-7·x² relative.
            let bound = Swift.max(1e-6, 2e-7 * Double(x * x)) * abs(want) + 1e-38
            #expect(abs(Double(g) - want) <= bound, "gelu(\(x)) = \(g), want \(want)")
        }
    }

    @Test func geluSpecialValues() throws {
        for mode in [GeluApproximation.none, .tanh] {
            let y = try eval1(.gelu(approximate: mode), [f32([.nan, .infinity, -.infinity, 0, -0.0], [5])]).floats
            #expect(y[0].isNaN && y[1] == .infinity && y[2].isNaN && y[3] == 0 && y[4] == 0)
        }
    }

    @Test func layerNormKeepsPrecisionUnderLargeOffset() throws {
        let n = 768
        let x = Self.values(n, scale: 1).map { $0 + 1000 }
        let y = try eval1(.layerNormalization(axis: -1, epsilon: 1e-6), [f32(x, [1, n]), f32(Array(repeating: 1, count: n), [n])]).floats
        let d = x.map(Double.init)
        let mean = d.reduce(0, +) / Double(n)
        let variance = d.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(n)
        let want = d.map { ($0 - mean) / (variance + 1e-6).squareRoot() }
        let err = zip(y, want).map { abs(Double($0) - $1) }.max()!
        #expect(err <= 1e-6, "max abs error \(err)")
    }
}
