import CVecKernels
import VitIR

// Fast path of Softmax (Kernels/Normalization.swift).
//
// Applies when: the axis is not empty (any rank, axis, dtype, and any values).
// Tolerance class vs `softmaxReference`: per element |fast − ref| ≤ (k + 16)·2⁻²⁴·|ref| +
// 1.2e-38, k = min(⌈n/8⌉, 512) the terms in one Float partial sum of an axis of length n.
// Reason: both take the same Float x − m; `exp8` is within 2 ulp where libm's expf is within
// 1; the Float partial sums of positive terms add ≤ (k − 1)·2⁻²⁴ relative and the 8-lane
// reduction 7·2⁻²⁴ more; the rounded reciprocal and the multiply two roundings where the
// reference divides once. The absolute term is `exp8` flushing results under 2⁻¹²⁶ to 0.
// Non-finite values give the reference's NaN rows. Pinned by FastPathTests.softmaxVectorExp.

/// Softmax along the normalized axis `a` in Float: `exp8`, the sum in eight Float lanes folded
/// into a Double every 4096 terms, then one multiply by the rounded reciprocal. A strided axis
/// is gathered into a contiguous row per lane and scattered back. `isa` picks the
/// implementation of the row kernel (both give the same bits).
func softmaxVectorExp(_ x: Tensor, axis a: Int, isa: VectorISA = .best) -> Tensor {
    let n = x.shape[a], inner = x.shape[(a + 1)...].reduce(1, *), outer = x.shape[..<a].reduce(1, *)
    return withFloats(x) { src in
        makeFloats(x.dtype, x.shape, writesAll: true) { dst in
            guard n > 0 else { return }
            let s = src.baseAddress!, d = dst.baseAddress!
            if inner == 1 { return softmaxRows(s, d, rows: outer, n: n, isa: isa) }
            let grain = Swift.max(1, (1 << 14) / n)
            // Strided axis: gather each lane into a contiguous row, normalize it, scatter back.
            parallelChunks(outer * inner, grain: grain) { lanes in
                let row = UnsafeMutablePointer<Float>.allocate(capacity: n)
                defer { row.deallocate() }
                for lane in lanes {
                    let base = (lane / inner) * n * inner + lane % inner
                    for j in 0..<n { row[j] = s[base + j * inner] }
                    softmaxRow(row, row, n, isa)
                    for j in 0..<n { d[base + j * inner] = row[j] }
                }
            }
        }
    }
}

/// Softmax of `rows` contiguous rows of `n` > 0 floats each, rows split over the workers
/// (`dst` may equal `src`); each row's result does not depend on the split.
func softmaxRows(_ s: UnsafePointer<Float>, _ d: UnsafeMutablePointer<Float>, rows: Int, n: Int, isa: VectorISA = .best) {
    parallelChunks(rows, grain: Swift.max(1, (1 << 14) / n)) { range in
        for r in range { softmaxRow(s + r * n, d + r * n, n, isa) }
    }
}

/// Softmax of one contiguous row of `n` > 0 floats (`dst` may equal `src`).
func softmaxRow(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, _ n: Int, _ isa: VectorISA) {
    if isa == .avx2 { return vk_softmax_row_avx2(src, dst, n) }
    let full = n & ~7, tail = n - full
    var m8 = Float8(repeating: -.infinity)
    var j = 0
    while j < full {
        let v = load8(src + j)
        m8.replace(with: v, where: v .> m8)
        j += 8
    }
    var m = m8.max()
    for j in full..<n where src[j] > m { m = src[j] }
    let shift = Float8(repeating: m)

    var sum = 0.0
    var acc = Float8()
    j = 0
    while j < full {
        let e = exp8(load8(src + j) - shift)
        store8(e, dst + j)
        acc += e
        j += 8
        if j & 4095 == 0 {
            sum += Double(laneSum(acc))
            acc = Float8()
        }
    }
    if tail > 0 {
        let e = exp8(loadPartial8(src + full, tail, fill: -.infinity) - shift)
        storePartial8(e, dst + full, tail)
        acc += e
    }
    sum += Double(laneSum(acc))

    let scale = Float8(repeating: Float(1 / sum))
    j = 0
    while j < full {
        store8(load8(dst + j) * scale, dst + j)
        j += 8
    }
    for j in full..<n { dst[j] *= scale[0] }
}
