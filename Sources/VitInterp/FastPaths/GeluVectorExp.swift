import CVecKernels
import VitIR

// Fast path of Gelu (Kernels/Elementwise.swift).
//
// Applies when: always (any shape, dtype, approximation and values).
// Tolerance class vs `geluReference`: per element |fast − ref| ≤ (1.1e-6 + 2e-7·x²)·|ref| +
// 5e-38. Reason: for x ≥ −3 the Float polynomial/`exp8` evaluation is within 1e-6 relative;
// below, where |result| < 0.004, the Float rounding of the exponent argument (−z² + P(t), or
// −2u) is amplified by the steep tail, ≤ 2e-7·x² relative; the extra 1e-7 is the reference's
// own rounding. The absolute term is the far tail flushed to ±0: `none` where `exp8` flushes
// results under 2⁻¹²⁶ (x < −13.2, |result| < 2e-38); `tanh` where e^(−2u) exceeds `exp8`'s
// 88.37 cut-off and becomes +∞ (x < −10.05, |result| < 10.1/e^88.37 ≈ 4.2e-38), which the
// reference, in Double, divides out. Non-finite values give the reference's results exactly.
// Pinned by FastPathTests.geluVectorExp.

/// Gelu evaluated in Float, eight lanes at a time, in forms without cancellation for x < 0:
/// - `none`: 0.5·x·erfc(−x/√2), erfc(z) = t·exp(−z² + P(t)), t = 1/(1 + |z|/2) (Numerical
///   Recipes' erfcc, fractional error < 1.2e-7 everywhere), erfc(−z) = 2 − erfc(z);
/// - `tanh`: x / (1 + exp(−2u)), u = √(2/π)·(x + 0.044715·x³).
/// ±∞ and NaN give what the formulas give in IEEE arithmetic (+∞ → +∞, −∞ → NaN).
/// `isa` picks the implementation (both give the same bits).
func geluVectorExp(_ x: Tensor, _ approximate: GeluApproximation, isa: VectorISA = .best) -> Tensor {
    mapRanges(x) { geluVectorExp($0, $1, $2, approximate, isa: isa) }
}

/// `geluVectorExp` of `count` floats from `s` into `d` (which may be `s`) on the calling thread:
/// the same element for element (a fused linear layer's epilogue, FastPaths/LinearBias.swift).
func geluVectorExp(_ s: UnsafePointer<Float>, _ d: UnsafeMutablePointer<Float>, _ count: Int,
                   _ approximate: GeluApproximation, isa: VectorISA = .best) {
    let form: Int32 = approximate == .tanh ? 1 : 0
    mapLanes(s, d, count, wide: isa == .avx2 ? { vk_gelu_avx2($0, $1, $2, form) } : nil) { gelu8($0, approximate) }
}

@inline(__always)
private func gelu8(_ x: Float8, _ approximate: GeluApproximation) -> Float8 {
    switch approximate {
    case .none:
        // z = |x|/√2 ≥ 0; e = erfc(z).
        let z = Float8(repeating: 0).replacing(with: x, where: x .> 0).replacing(with: -x, where: x .< 0)
            * 0.707106781186547524
        let e = erfc8(z)
        // erfc(−x/√2) is e for x < 0 and 2 − e for x ≥ 0 (NaN stays NaN through e).
        let c = e.replacing(with: 2 - e, where: x .>= 0)
        return 0.5 * x * c
    case .tanh:
        let u = 0.797884560802865355 * (x + 0.044715 * x * x * x)
        return x / (1 + exp8(-2 * u))
    }
}
