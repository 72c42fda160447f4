import CVecKernels
import VitIR

// Fast path of Erf (Kernels/Elementwise.swift `unaryFloat(.erf, _)`, libm's erff per element).
// An exported Gelu below opset 20 is Div → Erf → Add → Mul → Mul, so `run --onnx` of a ViT
// spends its Gelu time here.
//
// Applies when: always (any shape, dtype and values).
// Tolerance class vs the libm kernel: per element |fast − ref| ≤ 6e-7·|ref| + 1e-45.
// Reason: for |x| < 0.5 the odd Taylor series to x¹⁵ (truncation < 3e-11 relative), eight
// Float Horner steps and the product, a few ulp; for |x| ≥ 0.5, 1 − erfc(|x|) with erfc from
// Gelu's form t·exp(−x² + P(t)) (Numerical Recipes' erfcc, fractional error < 1.2e-7, `exp8`
// within 2 ulp, its Float arithmetic a few ulp more), where erfc ≤ 0.48 < erf, so the error
// relative to erf is below erfc's; libm's own ≤ 1 ulp. The absolute term covers subnormal x.
// ±∞ give ±1, NaN stays NaN, −0 stays −0. Pinned by FastPathTests.erfVectorExp.

/// Erf evaluated in Float, eight lanes at a time (see the header for the two forms). `isa` picks
/// the implementation (CVecKernels' AVX2 twin gives the same bits).
func erfVectorExp(_ x: Tensor, isa: VectorISA = .best) -> Tensor {
    mapLanes(x, wide: isa == .avx2 ? { vk_erf_avx2($0, $1, $2) } : nil) { erf8($0) }
}

@inline(__always)
private func erf8(_ x: Float8) -> Float8 {
    let ax = x.replacing(with: -x, where: x .< 0)
    let z = ax * ax
    // |x| < 0.5: (2/√π)·x·Σₖ (−z)ᵏ / (k!·(2k + 1)), k ≤ 7.
    var s = Float8(repeating: -1.0 / 75600)
    s = s * z + 1.0 / 9360
    s = s * z - 1.0 / 1320
    s = s * z + 1.0 / 216
    s = s * z - 1.0 / 42
    s = s * z + 0.1
    s = s * z - 1.0 / 3
    s = s * z + 1
    let small = x * (1.12837916709551257 * s)
    // |x| ≥ 0.5: erf = ±(1 − erfc(|x|)).
    let e = erfc8(ax)
    let large = (1 - e).replacing(with: e - 1, where: x .< 0)
    return large.replacing(with: small, where: ax .< 0.5)
}
