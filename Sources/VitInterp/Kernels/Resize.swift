import Foundation
import VitIR

// ONNX Resize (opset 19 semantics, every axis resized, static output sizes). Interpolation is
// separable, so each resized axis is one 1-d pass; an axis whose size and scale are unchanged is
// skipped (every mode maps it to itself exactly). Coordinates and weights are computed in
// Double as the ONNX reference evaluator does.

/// Resize entry point. `nearest` is an exact gather; `linear`/`cubic` accumulate in Double and
/// round once per pass (tolerance class: rounding). `antialias` widens the linear/cubic filter by
/// 1/scale when downscaling and normalizes the weights; it is ignored for `nearest` (as the
/// spec says it applies to linear and cubic). `tf_crop_and_resize` needs an ROI input this op
/// does not carry and throws unsupported.
func resize(_ x: Tensor, _ r: ResizeAttributes) throws -> Tensor {
    guard r.coordinateTransformation != .tfCropAndResize else {
        throw KernelError(.unsupported, "Resize coordinate_transformation_mode tf_crop_and_resize (needs an roi input)")
    }
    let rank = x.shape.count
    for i in 0..<rank where x.shape[i] == 0 {
        throw KernelError(.invalidInput, "Resize of an empty axis \(i) to extent \(r.sizes[i])")
    }
    let scales = (0..<rank).map { i in r.scales.map { Double($0[i]) } ?? Double(r.sizes[i]) / Double(x.shape[i]) }
    let axes = (0..<rank).filter { !(r.sizes[$0] == x.shape[$0] && scales[$0] == 1) }

    if r.mode == .nearest {
        let strides = rowMajorStrides(x.shape)
        let tables = (0..<rank).map { k in
            (0..<r.sizes[k]).map { o in
                axes.contains(k) ? nearestIndex(o, inLength: x.shape[k], outLength: r.sizes[k], scale: scales[k], r) * strides[k]
                                 : o * strides[k]
            }
        }
        return gatherAxes(x, outShape: r.sizes, tables: tables)
    }

    var shape = x.shape
    var values = withFloats(x) { $0.map(Double.init) }
    for axis in axes {
        let taps = interpolationTaps(inLength: shape[axis], outLength: r.sizes[axis], scale: scales[axis], r)
        values = resample(values, shape: shape, axis: axis, taps)
        shape[axis] = r.sizes[axis]
    }
    return fromFloats(values.map(Float.init), dtype: x.dtype, shape: shape)
}

/// The source coordinate of output index `o` along one axis (ONNX Resize
/// coordinate_transformation_mode; `outLength` is the integer output extent, `scale` the
/// axis scale). pytorch_half_pixel maps a length-1 output to 0 as the spec and ONNX Runtime do.
func sourceCoordinate(_ o: Int, inLength: Int, outLength: Int, scale: Double, _ mode: CoordinateTransformation) -> Double {
    let y = Double(o)
    switch mode {
    case .halfPixel, .tfCropAndResize:
        return (y + 0.5) / scale - 0.5
    case .pytorchHalfPixel:
        return outLength > 1 ? (y + 0.5) / scale - 0.5 : 0
    case .alignCorners:
        return outLength == 1 ? 0 : y * Double(inLength - 1) / Double(outLength - 1)
    case .asymmetric:
        return y / scale
    case .halfPixelSymmetric:
        let adjustment = Double(outLength) / (scale * Double(inLength))
        let offset = Double(inLength) / 2 * (1 - adjustment)
        return offset + (y + 0.5) / scale - 0.5
    }
}

/// The input index nearest mode picks for output `o`, clamped to the input.
func nearestIndex(_ o: Int, inLength: Int, outLength: Int, scale: Double, _ r: ResizeAttributes) -> Int {
    let x = sourceCoordinate(o, inLength: inLength, outLength: outLength, scale: scale, r.coordinateTransformation)
    let lower = x.rounded(.down)
    var i = x
    if x != lower {
        let frac = x - lower
        switch r.nearestMode {
        case .roundPreferFloor: i = frac <= 0.5 ? lower : lower + 1
        case .roundPreferCeil: i = frac < 0.5 ? lower : lower + 1
        case .floor: i = lower
        case .ceil: i = lower + 1
        }
    }
    return Swift.min(Swift.max(saturatingIndex(i), 0), inLength - 1)
}

/// Per output index, `width` input indices (clamped to the input, as ONNX's edge padding) and
/// their weights.
struct AxisTaps {
    var width: Int
    var indices: [Int]
    var weights: [Double]
}

/// Linear or cubic taps along one axis, following the ONNX reference: with x the source
/// coordinate, x₀ = ⌊x⌋ (x − 1 when x is an integer) and ratio = x − x₀ ∈ (0, 1].
func interpolationTaps(inLength: Int, outLength: Int, scale: Double, _ r: ResizeAttributes) -> AxisTaps {
    let a = Double(r.cubicCoeffA)
    let s = Swift.min(scale, 1)
    // First tap relative to x₀, and the tap count.
    let first: Int
    switch (r.mode, r.antialias) {
    case (.cubic, true): first = Int((-2 / s).rounded(.down)) + 1
    case (.cubic, false): first = -1
    case (_, true): first = Int((-1 / s).rounded(.down)) + 1
    default: first = 0
    }
    let width = 2 - 2 * first
    var taps = AxisTaps(width: width, indices: [], weights: [])
    taps.indices.reserveCapacity(outLength * width)
    taps.weights.reserveCapacity(outLength * width)
    for o in 0..<outLength {
        let x = sourceCoordinate(o, inLength: inLength, outLength: outLength, scale: scale, r.coordinateTransformation)
        let lower = x.rounded(.down)
        let x0 = x == lower ? lower - 1 : lower
        let ratio = x - x0
        var w = [Double](repeating: 0, count: width)
        switch (r.mode, r.antialias) {
        case (.cubic, false):
            w = cubicCoefficients(ratio, a)
        case (.cubic, true):
            for t in 0..<width { w[t] = cubicKernel(s * (Double(first + t) - ratio), a) }
        case (_, true):
            for t in 0..<width { w[t] = Swift.min(Swift.max(1 - Swift.abs((Double(first + t) - ratio) * s), 0), 1) }
        default:
            w = [1 - ratio, ratio]
        }
        let base = saturatingIndex(x0) + first
        if r.excludeOutside {
            for t in 0..<width where base + t < 0 || base + t >= inLength { w[t] = 0 }
        }
        if r.antialias || r.excludeOutside {
            let sum = w.reduce(0, +)
            if sum != 0 { w = w.map { $0 / sum } }
        }
        for t in 0..<width {
            taps.indices.append(Swift.min(Swift.max(base + t, 0), inLength - 1))
            taps.weights.append(w[t])
        }
    }
    return taps
}

/// Keys' cubic convolution weights for taps x₀−1 … x₀+2 at fractional offset `ratio`.
func cubicCoefficients(_ ratio: Double, _ a: Double) -> [Double] {
    let p = ratio + 1, q = 1 - ratio, u = 2 - ratio
    return [
        ((a * p - 5 * a) * p + 8 * a) * p - 4 * a,
        ((a + 2) * ratio - (a + 3)) * ratio * ratio + 1,
        ((a + 2) * q - (a + 3)) * q * q + 1,
        ((a * u - 5 * a) * u + 8 * a) * u - 4 * a,
    ]
}

/// Keys' cubic convolution kernel W(d) with coefficient `a`, support |d| < 2.
func cubicKernel(_ d: Double, _ a: Double) -> Double {
    let x = Swift.abs(d)
    if x <= 1 { return ((a + 2) * x - (a + 3)) * x * x + 1 }
    if x < 2 { return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a }
    return 0
}

/// One separable pass: `values` of `shape` resampled along `axis` with `taps`.
func resample(_ values: [Double], shape: [Int], axis: Int, _ taps: AxisTaps) -> [Double] {
    let outer = shape[..<axis].reduce(1, *), inLength = shape[axis], inner = shape[(axis + 1)...].reduce(1, *)
    let outLength = taps.indices.count / Swift.max(taps.width, 1)
    var result = [Double](repeating: 0, count: outer * outLength * inner)
    values.withUnsafeBufferPointer { src in
        result.withUnsafeMutableBufferPointer { dst in
            parallelChunks(outer * outLength, grain: Swift.max(1, (1 << 14) / Swift.max(inner * taps.width, 1))) { rows in
                for row in rows {
                    let o = row / outLength, j = row % outLength
                    let out = dst.baseAddress! + row * inner
                    for t in 0..<taps.width {
                        let w = taps.weights[j * taps.width + t]
                        if w == 0 { continue }
                        let from = src.baseAddress! + (o * inLength + taps.indices[j * taps.width + t]) * inner
                        for i in 0..<inner { out[i] += w * from[i] }
                    }
                }
            }
        }
    }
    return result
}
