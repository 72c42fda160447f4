import Foundation
import VitIR

/// ONNX Softmax (opset 13): exp(x − max) / Σ exp(x − max) along one axis. The sum accumulates
/// in Double. Tolerance class: rounding.
func softmax(_ x: Tensor, axis: Int) throws -> Tensor {
    let a = try normalizeAxis(axis, rank: x.shape.count)
    let n = x.shape[a], inner = x.shape[(a + 1)...].reduce(1, *), outer = x.shape[..<a].reduce(1, *)
    return withFloats(x) { src in
        makeFloats(x.dtype, x.shape) { dst in
            parallelChunks(outer * inner, grain: Swift.max(1, (1 << 14) / Swift.max(n, 1))) { lanes in
                for lane in lanes {
                    let base = (lane / inner) * n * inner + lane % inner
                    var m = -Float.infinity
                    for j in 0..<n { m = Swift.max(m, src[base + j * inner]) }
                    var sum = 0.0
                    for j in 0..<n {
                        let e = Foundation.exp(src[base + j * inner] - m)
                        dst[base + j * inner] = e
                        sum += Double(e)
                    }
                    let scale = Float(1 / sum)
                    for j in 0..<n { dst[base + j * inner] *= scale }
                }
            }
        }
    }
}

/// ONNX LayerNormalization(X, Scale, B?) over axes `axis..<rank`: (x − mean) / √(var + ε) ·
/// scale + bias with the biased variance; scale and bias broadcast to the normalized shape.
/// Mean and variance accumulate in Double (two passes). Tolerance class: rounding.
func layerNormalization(_ inputs: [Tensor], axis: Int, epsilon: Float) throws -> Tensor {
    let x = inputs[0]
    let a = try normalizeAxis(axis, rank: x.shape.count)
    let normShape = Array(x.shape[a...])
    let n = normShape.reduce(1, *), rows = x.shape[..<a].reduce(1, *)
    let scale = broadcasted(inputs[1], to: normShape)
    let bias = inputs.count == 3 ? broadcasted(inputs[2], to: normShape) : nil
    let biasValues = bias.map { withFloats($0) { Array($0) } } ?? [Float](repeating: 0, count: n)
    return withFloats(x) { src in
        withFloats(scale) { gamma in
            makeFloats(x.dtype, x.shape) { dst in
                parallelChunks(rows, grain: Swift.max(1, (1 << 14) / Swift.max(n, 1))) { range in
                    for r in range {
                        let row = src.baseAddress! + r * n
                        let (mean, invStd) = moments(row, n, epsilon)
                        for j in 0..<n {
                            dst[r * n + j] = Float((Double(row[j]) - mean) * invStd) * gamma[j] + biasValues[j]
                        }
                    }
                }
            }
        }
    }
}

/// Mean and 1/√(biased variance + ε) of `n` floats, accumulated in Double.
func moments(_ p: UnsafePointer<Float>, _ n: Int, _ epsilon: Float) -> (Double, Double) {
    guard n > 0 else { return (0, 1 / Double(epsilon).squareRoot()) }
    var sum = 0.0
    for j in 0..<n { sum += Double(p[j]) }
    let mean = sum / Double(n)
    var squares = 0.0
    for j in 0..<n {
        let d = Double(p[j]) - mean
        squares += d * d
    }
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
