import VitIR

/// ONNX GridSample (opset 16 names) on X [N, C, H, W] with grid [N, Ho, Wo, 2] holding (x, y)
/// in [-1, 1]. Coordinates are unnormalized in Float: align_corners maps ±1 to the corner pixel
/// centres 0 and size−1, otherwise to the outer edges −0.5 and size−0.5. Padding applies per
/// tap: a tap outside the image reads 0 (zeros), the nearest edge pixel (border) or the pixel
/// reflected about those bounds (reflection). Nearest rounds half to even; bicubic uses Keys'
/// a = −0.75. This is ONNX Runtime's and torch's `grid_sample` behaviour; the ONNX reference
/// evaluator differs only for bicubic with border padding, where it clamps the coordinate
/// before taking taps. Takes the fast path `bilinearZerosGridSample` (FastPaths/, bit-exact)
/// where it applies, else `gridSampleReference`. Tolerance class: rounding.
func gridSample(_ x: Tensor, _ grid: Tensor, _ g: GridSampleAttributes, _ out: TensorType) -> Tensor {
    if bilinearZerosGridSampleApplies(x, g) {
        return bilinearZerosGridSample(x, grid, alignCorners: g.alignCorners, out)
    }
    return gridSampleReference(x, grid, g, out)
}

/// `gridSample` for every mode and padding, one output element at a time. Tolerance class: rounding.
func gridSampleReference(_ x: Tensor, _ grid: Tensor, _ g: GridSampleAttributes, _ out: TensorType) -> Tensor {
    let n = x.shape[0], c = x.shape[1], h = x.shape[2], w = x.shape[3]
    let ho = grid.shape[1], wo = grid.shape[2]
    let outShape = out.shape.ints ?? []
    let bounds: (Float, Float, Float, Float) = g.alignCorners
        ? (0, Float(w - 1), 0, Float(h - 1))
        : (-0.5, Float(w) - 0.5, -0.5, Float(h) - 0.5)

    func unnormalize(_ v: Float, _ size: Int) -> Float { unnormalizeGrid(v, size, alignCorners: g.alignCorners) }
    /// The pixel index a tap reads along one axis, or nil for a zero.
    func tapIndex(_ i: Int, _ lo: Float, _ hi: Float, _ size: Int) -> Int? {
        switch g.paddingMode {
        case .zeros: return i >= 0 && i < size ? i : nil
        case .border: return Swift.min(Swift.max(i, 0), size - 1)
        case .reflection:
            let r = i >= 0 && i < size ? i : saturatingIndex(Double(reflect(Float(i), lo, hi)).rounded(.towardZero))
            return r >= 0 && r < size ? r : nil
        }
    }

    return withFloats(x) { px in
        withFloats(grid) { pg in
            makeFloats(out.dtype, outShape) { py in
                parallelChunks(n * c, grain: Swift.max(1, 4096 / Swift.max(ho * wo, 1))) { planes in
                    for plane in planes {
                        let b = plane / c
                        let image = px.baseAddress! + plane * h * w
                        func pixel(_ yi: Int, _ xi: Int) -> Float {
                            guard let yy = tapIndex(yi, bounds.2, bounds.3, h), let xx = tapIndex(xi, bounds.0, bounds.1, w) else { return 0 }
                            return image[yy * w + xx]
                        }
                        for oy in 0..<ho {
                            for ox in 0..<wo {
                                let gp = ((b * ho + oy) * wo + ox) * 2
                                var fx = unnormalize(pg[gp], w), fy = unnormalize(pg[gp + 1], h)
                                if g.mode == .nearest {
                                    fx = fx.rounded(.toNearestOrEven)
                                    fy = fy.rounded(.toNearestOrEven)
                                }
                                let value: Float
                                switch g.mode {
                                case .nearest:
                                    value = pixel(saturatingIndex(Double(fy)), saturatingIndex(Double(fx)))
                                case .bilinear:
                                    let x0 = fx.rounded(.down), y0 = fy.rounded(.down)
                                    let tx = fx - x0, ty = fy - y0
                                    let xi = saturatingIndex(Double(x0)), yi = saturatingIndex(Double(y0))
                                    let top = (1 - tx) * pixel(yi, xi) + tx * pixel(yi, xi + 1)
                                    let bottom = (1 - tx) * pixel(yi + 1, xi) + tx * pixel(yi + 1, xi + 1)
                                    value = (1 - ty) * top + ty * bottom
                                case .bicubic:
                                    let x0 = fx.rounded(.down), y0 = fy.rounded(.down)
                                    let cx = cubicCoefficients(Double(fx - x0), -0.75).map(Float.init)
                                    let cy = cubicCoefficients(Double(fy - y0), -0.75).map(Float.init)
                                    let xi = saturatingIndex(Double(x0)), yi = saturatingIndex(Double(y0))
                                    var sum: Float = 0
                                    for r in 0..<4 {
                                        var row: Float = 0
                                        for q in 0..<4 { row += cx[q] * pixel(yi - 1 + r, xi - 1 + q) }
                                        sum += cy[r] * row
                                    }
                                    value = sum
                                }
                                py[(plane * ho + oy) * wo + ox] = value
                            }
                        }
                    }
                }
            }
        }
    }
}

/// A grid coordinate in [-1, 1] as a pixel coordinate along an axis of `size` pixels.
@inline(__always)
func unnormalizeGrid(_ v: Float, _ size: Int, alignCorners: Bool) -> Float {
    alignCorners ? (v + 1) / 2 * Float(size - 1) : ((v + 1) * Float(size) - 1) / 2
}

/// Reflects `v` about the bounds [lo, hi] until it lies inside (ONNX reference `_gs_reflect`).
func reflect(_ v: Float, _ lo: Float, _ hi: Float) -> Float {
    let range = hi - lo
    guard range > 0, v.isFinite else { return v.isNaN ? v : lo }
    if v < lo {
        let d = lo - v
        let flips = (d / range).rounded(.towardZero)
        let r = d - flips * range
        return flips.truncatingRemainder(dividingBy: 2) == 0 ? lo + r : hi - r
    }
    if v > hi {
        let d = v - hi
        let flips = (d / range).rounded(.towardZero)
        let r = d - flips * range
        return flips.truncatingRemainder(dividingBy: 2) == 0 ? hi - r : lo + r
    }
    return v
}

extension SamplingOp {
    /// Runs the op's kernel; `types` are the shape rule's output types.
    func evaluate(_ x: [Tensor], _ types: [TensorType]) throws -> [Tensor] {
        switch self {
        case .resize(let r): [try VitInterp.resize(x[0], r)]
        case .gridSample(let g): [VitInterp.gridSample(x[0], x[1], g, types[0])]
        }
    }
}
