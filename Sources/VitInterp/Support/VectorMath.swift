// Eight-lane Float helpers for the transcendental kernels (Softmax, Gelu). Written with
// operations that lower to baseline SSE2 (no rounding instructions, no FMA), so they vectorize
// on any x86-64 and on arm64 without target flags. Sources/CVecKernels repeats the kernels
// built on them with AVX2, operation for operation; `VectorISA` picks one.

import CVecKernels
import VitIR

/// Which implementation of the eight-lane kernels runs: the portable Swift one (SSE2 halves on
/// x86-64) or the AVX2 one in C (whole 8-lane registers). Both give the same bits.
enum VectorISA: Sendable, CaseIterable {
    case portable, avx2

    /// The widest one this CPU and OS support.
    static let best: VectorISA = vk_avx2_usable() == 1 ? .avx2 : .portable

    /// Every implementation usable here.
    static var usable: [VectorISA] { best == .avx2 ? [.portable, .avx2] : [.portable] }
}

typealias Float8 = SIMD8<Float>

/// Loads 8 floats from `p` (no alignment needed).
@inline(__always)
func load8(_ p: UnsafePointer<Float>) -> Float8 {
    UnsafeRawPointer(p).loadUnaligned(as: Float8.self)
}

/// Stores 8 floats to `p` (no alignment needed).
@inline(__always)
func store8(_ v: Float8, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: Float8.self)
}

/// Loads the first `count` (< 8) floats of `p`, the other lanes set to `fill`.
@inline(__always)
func loadPartial8(_ p: UnsafePointer<Float>, _ count: Int, fill: Float) -> Float8 {
    var v = Float8(repeating: fill)
    for i in 0..<count { v[i] = p[i] }
    return v
}

/// Stores the first `count` (< 8) lanes of `v` to `p`.
@inline(__always)
func storePartial8(_ v: Float8, _ p: UnsafeMutablePointer<Float>, _ count: Int) {
    for i in 0..<count { p[i] = v[i] }
}

/// Sum of the lanes in a fixed order: lanes i + (i + 4), then those two apart, then the last
/// two (the order CVecKernels' `lane_sum` uses).
@inline(__always)
func laneSum(_ v: Float8) -> Float {
    let h = v.lowHalf + v.highHalf
    let q = h.lowHalf + h.highHalf
    return q[0] + q[1]
}

/// eˣ per lane (Cephes expf scheme): x = n·ln2 + r with |r| ≤ ln2/2 (two-part ln2), e^r by a
/// degree-7 polynomial, times 2ⁿ built in the exponent bits. Relative error ≤ 2 ulp
/// (≈ 1.5e-7) for x in [−87.33, 88.37]; below −87.33 (results under 2⁻¹²⁶) it returns 0 (an
/// absolute error < 1.2e-38), above 88.37 +∞; NaN stays NaN.
@inline(__always)
func exp8(_ x: Float8) -> Float8 {
    let hi: Float = 88.3762626647949, lo: Float = -87.3365447504
    var v = x.replacing(with: hi, where: x .> hi)
    v.replace(with: lo, where: v .< lo)
    // Round v·log2(e) to the nearest integer n by adding 1.5·2²³: the sum's low mantissa bits
    // hold n, and subtracting the constant again gives n as a Float.
    let shifter: Float = 12_582_912
    let t = v * 1.44269504088896341 + shifter
    let n = t - shifter
    let r = v - n * 0.693359375 - n * -2.12194440e-4
    var p = 1.9875691500e-4 * r + 1.3981999507e-3
    p = p * r + 8.3334519073e-3
    p = p * r + 4.1665795894e-2
    p = p * r + 1.6666665459e-1
    p = p * r + 5.0000001201e-1
    let er = p * (r * r) + r + 1
    // 2ⁿ: biased exponent n + 127 in bits 23…30 (n in [−126, 127] after the clamp above).
    let bits = unsafeBitCast(t, to: SIMD8<Int32>.self) &- 0x4B40_0000 &+ 127
    var y = er * unsafeBitCast(bits &<< 23, to: Float8.self)
    y.replace(with: 0, where: x .< lo)
    y.replace(with: .infinity, where: x .> hi)
    return y
}

/// erfc(u) per lane for u ≥ 0 (NaN stays NaN), Numerical Recipes' erfcc: t·exp(−u² + P(t)),
/// t = 1/(1 + u/2), fractional error < 1.2e-7 with an exact exp; `exp8` adds its 2 ulp.
@inline(__always)
func erfc8(_ u: Float8) -> Float8 {
    let t = 1 / (1 + 0.5 * u)
    var p = 0.17087277 * t - 0.82215223
    p = p * t + 1.48851587
    p = p * t - 1.13520398
    p = p * t + 0.27886807
    p = p * t - 0.18628806
    p = p * t + 0.09678418
    p = p * t + 0.37409196
    p = p * t + 1.00002368
    p = p * t - 1.26551223
    return t * exp8(p - u * u)
}

/// `x` (any float dtype, computed in Float) mapped eight lanes at a time by `lanes`, a partial
/// last block padded with zeros, over parallel chunks; when `wide` is given it maps each
/// chunk's contiguous range instead (an AVX2 twin of `lanes`).
@inline(__always)
func mapLanes(_ x: Tensor, wide: ((UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int) -> Void)?,
              _ lanes: (Float8) -> Float8) -> Tensor {
    mapRanges(x) { mapLanes($0, $1, $2, wide: wide, lanes) }
}

/// `x` (any float dtype, computed in Float) mapped by `body` (source, destination, count) over
/// parallel chunks of whole 8-lane blocks, the last chunk ending at the tensor's end.
@inline(__always)
func mapRanges(_ x: Tensor, _ body: (UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int) -> Void) -> Tensor {
    withFloats(x) { src in
        makeFloats(x.dtype, x.shape, writesAll: true) { dst in
            let s = src.baseAddress!, d = dst.baseAddress!
            let count = src.count
            parallelChunks((count + 7) / 8, grain: 1 << 12) { blocks in
                let lower = blocks.lowerBound * 8, upper = Swift.min(blocks.upperBound * 8, count)
                body(s + lower, d + lower, upper - lower)
            }
        }
    }
}

/// `count` floats from `s` mapped into `d` (which may be `s`: each block is loaded before it is
/// stored) on the calling thread, by `wide` when given, else eight lanes at a time by `lanes`,
/// a partial last block padded with zeros. Lanes are independent, so any split of a tensor
/// into ranges gives the same elements.
@inline(__always)
func mapLanes(_ s: UnsafePointer<Float>, _ d: UnsafeMutablePointer<Float>, _ count: Int,
              wide: ((UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int) -> Void)?, _ lanes: (Float8) -> Float8) {
    if let wide { return wide(s, d, count) }
    var j = 0
    while j + 8 <= count {
        store8(lanes(load8(s + j)), d + j)
        j += 8
    }
    if j < count { storePartial8(lanes(loadPartial8(s + j, count - j, fill: 0)), d + j, count - j) }
}
