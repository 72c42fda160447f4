import Foundation
import VitIR

/// ONNX Softmax (opset 13): exp(x − max) / Σ exp(x − max) along one axis, in Float: `exp8`
/// (≤ 2 ulp), the sum in eight Float lanes folded into a Double every 4096 terms, then one
/// multiply by the rounded reciprocal. Tolerance class: per element ≤ (1e-6 + 6e-8·|x − max|)
/// relative (the second term is the Float rounding of x − max), independent of the axis length
/// (each Float partial sum adds ≤ 512 terms); `exp8` flushes terms below e^−87.3 to 0. A NaN, or
/// +∞, in a row, or a row of only −∞, makes that row NaN (as numpy).
func softmax(_ x: Tensor, axis: Int) throws -> Tensor {
    let a = try normalizeAxis(axis, rank: x.shape.count)
    let n = x.shape[a], inner = x.shape[(a + 1)...].reduce(1, *), outer = x.shape[..<a].reduce(1, *)
    return withFloats(x) { src in
        makeFloats(x.dtype, x.shape) { dst in
            guard n > 0 else { return }
            let s = src.baseAddress!, d = dst.baseAddress!
            let grain = Swift.max(1, (1 << 14) / n)
            if inner == 1 {
                parallelChunks(outer, grain: grain) { rows in
                    for r in rows { softmaxRow(s + r * n, d + r * n, n) }
                }
                return
            }
            // Strided axis: gather each lane into a contiguous row, normalize it, scatter back.
            parallelChunks(outer * inner, grain: grain) { lanes in
                let row = UnsafeMutablePointer<Float>.allocate(capacity: n)
                defer { row.deallocate() }
                for lane in lanes {
                    let base = (lane / inner) * n * inner + lane % inner
                    for j in 0..<n { row[j] = s[base + j * inner] }
                    softmaxRow(row, row, n)
                    for j in 0..<n { d[base + j * inner] = row[j] }
                }
            }
        }
    }
}

/// Softmax of one contiguous row of `n` > 0 floats (`dst` may equal `src`).
private func softmaxRow(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, _ n: Int) {
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
            sum += Double(acc.sum())
            acc = Float8()
        }
    }
    if tail > 0 {
        let e = exp8(loadPartial8(src + full, tail, fill: -.infinity) - shift)
        storePartial8(e, dst + full, tail)
        acc += e
    }
    sum += Double(acc.sum())

    let scale = Float8(repeating: Float(1 / sum))
    j = 0
    while j < full {
        store8(load8(dst + j) * scale, dst + j)
        j += 8
    }
    for j in full..<n { dst[j] *= scale[0] }
}

/// ONNX LayerNormalization(X, Scale, B?) over axes `axis..<rank`: (x − mean) / √(var + ε) ·
/// scale + bias with the biased variance; scale and bias broadcast to the normalized shape.
/// Mean and variance accumulate in Double (two passes, so a large common offset costs no
/// precision); x̂ = (x − mean)/σ is rounded once from Double, then x̂·scale + bias in Float.
/// Tolerance class: rounding (a few ulp).
func layerNormalization(_ inputs: [Tensor], axis: Int, epsilon: Float) throws -> Tensor {
    let x = inputs[0]
    let a = try normalizeAxis(axis, rank: x.shape.count)
    let normShape = Array(x.shape[a...])
    let n = normShape.reduce(1, *), rows = x.shape[..<a].reduce(1, *)
    let scale = broadcasted(inputs[1], to: normShape)
    let bias = inputs.count == 3 ? broadcasted(inputs[2], to: normShape) : Tensor.zeros(.float32, normShape)
    return withFloats(x) { src in
        withFloats(scale) { gamma in
            withFloats(bias) { beta in
                makeFloats(x.dtype, x.shape) { dst in
                    let s = src.baseAddress!, d = dst.baseAddress!, g = gamma.baseAddress!, b = beta.baseAddress!
                    parallelChunks(rows, grain: Swift.max(1, (1 << 14) / Swift.max(n, 1))) { range in
                        for r in range {
                            let row = s + r * n, out = d + r * n
                            let (mean, invStd) = moments(row, n, epsilon)
                            for j in 0..<n { out[j] = Float((Double(row[j]) - mean) * invStd) * g[j] + b[j] }
                        }
                    }
                }
            }
        }
    }
}

/// Mean and 1/√(biased variance + ε) of `n` floats, accumulated in Double (four partial sums
/// so the loops are not bound by the add latency).
func moments(_ p: UnsafePointer<Float>, _ n: Int, _ epsilon: Float) -> (Double, Double) {
    guard n > 0 else { return (0, 1 / Double(epsilon).squareRoot()) }
    let full = n & ~3
    var s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0
    var j = 0
    while j < full {
        s0 += Double(p[j]); s1 += Double(p[j + 1]); s2 += Double(p[j + 2]); s3 += Double(p[j + 3])
        j += 4
    }
    for j in full..<n { s0 += Double(p[j]) }
    let mean = ((s0 + s1) + (s2 + s3)) / Double(n)
    s0 = 0; s1 = 0; s2 = 0; s3 = 0
    j = 0
    while j < full {
        let d0 = Double(p[j]) - mean, d1 = Double(p[j + 1]) - mean
        let d2 = Double(p[j + 2]) - mean, d3 = Double(p[j + 3]) - mean
        s0 += d0 * d0; s1 += d1 * d1; s2 += d2 * d2; s3 += d3 * d3
        j += 4
    }
    for j in full..<n {
        let d = Double(p[j]) - mean
        s0 += d * d
    }
    let squares = (s0 + s1) + (s2 + s3)
    return (mean, 1 / (squares / Double(n) + Double(epsilon)).squareRoot())
}

/// ONNX GroupNormalization (opset 21): X [N, C, …] normalized per (n, group) over its C/G
/// channels and all spatial positions (biased variance), then scale[c]·x̂ + bias[c] per channel.
/// Tolerance class: rounding.
func groupNormalization(_ inputs: [Tensor], groups: Int, epsilon: Float) -> Tensor {
    let x = inputs[0]
    let batch = x.shape[0], channels = x.shape[1], spatial = x.shape[2...].reduce(1, *)
    let perGroup = channels / groups * spatial
    return withFloats(x) { src in
        withFloats(inputs[1]) { gamma in
            withFloats(inputs[2]) { beta in
                makeFloats(x.dtype, x.shape) { dst in
                    parallelChunks(batch * groups, grain: Swift.max(1, (1 << 14) / Swift.max(perGroup, 1))) { range in
                        for block in range {
                            let base = block * perGroup
                            let (mean, invStd) = moments(src.baseAddress! + base, perGroup, epsilon)
                            for j in 0..<perGroup {
                                let c = (block % groups) * (channels / groups) + j / spatial
                                dst[base + j] = Float((Double(src[base + j]) - mean) * invStd) * gamma[c] + beta[c]
                            }
                        }
                    }
                }
            }
        }
    }
}

extension NormalizationOp {
    /// Runs the op's kernel; `types` are the shape rule's output types.
    func evaluate(_ x: [Tensor], _ types: [TensorType]) throws -> [Tensor] {
        switch self {
        case .softmax(let axis): [try VitInterp.softmax(x[0], axis: axis)]
        case .layerNormalization(let axis, let epsilon): [try VitInterp.layerNormalization(x, axis: axis, epsilon: epsilon)]
        case .groupNormalization(let groups, let epsilon): [VitInterp.groupNormalization(x, groups: groups, epsilon: epsilon)]
        }
    }
}
