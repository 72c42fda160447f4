import VitIR

// Fast path of GridSample (Kernels/GridSample.swift).
//
// Applies when: mode bilinear, padding zeros, any align_corners, H·W < 2³¹ − 1 (tap offsets
// are Int32); any N, C, H, W, Ho, Wo and any grid values, non-finite ones included.
// Tolerance class vs `gridSampleReference`: bit-exact. Both evaluate the same Float
// expressions in the same order per output element ((1−tx)·p00 + tx·p01, then the rows
// weighted by ty), a tap outside the image reads +0.0 in both, and `floorIndex` equals
// `rounded(.down)` + `saturatingIndex` exactly. Pinned by FastPathTests.gridSampleBilinearZeros.

/// Whether `bilinearZerosGridSample` computes `gridSample(x, _, g, _)`.
func bilinearZerosGridSampleApplies(_ x: Tensor, _ g: GridSampleAttributes) -> Bool {
    g.mode == .bilinear && g.paddingMode == .zeros && x.shape[2] * x.shape[3] < Int(Int32.max)
}

/// One output location's bilinear taps: pixel offsets into an image plane (the plane size,
/// which indexes an appended zero pixel, for a tap outside the image) and the fractional parts.
private struct BilinearTaps {
    var i00: Int32 = 0, i01: Int32 = 0, i10: Int32 = 0, i11: Int32 = 0
    var tx: Float = 0, ty: Float = 0
}

/// `gridSample` with bilinear mode and zeros padding (deformable attention's sampling),
/// evaluating `gridSampleReference`'s Float formula lane by lane. Each output location's taps
/// are computed once and applied to eight channels at a time: the image is first copied
/// channel-interleaved in blocks of eight, [C/8][H·W + 1][8], with a zero pixel at H·W that
/// outside taps read without a branch. Work splits over batch·output rows.
func bilinearZerosGridSample(_ x: Tensor, _ grid: Tensor, alignCorners: Bool, _ out: TensorType) -> Tensor {
    let n = x.shape[0], c = x.shape[1], h = x.shape[2], w = x.shape[3]
    let ho = grid.shape[1], wo = grid.shape[2]
    let hw = h * w, plane = ho * wo, blocks = (c + 7) / 8
    return withFloats(x) { px in
        withFloats(grid) { pg in
            makeFloats(out.dtype, out.shape.ints ?? []) { py in
                parallelChunks(n * ho, grain: Swift.max(1, 4096 / Swift.max(wo * c, 1))) { rows in
                    var taps = [BilinearTaps](repeating: BilinearTaps(), count: rows.count * wo)
                    var image = [Float](repeating: 0, count: blocks * (hw + 1) * 8)
                    var row = rows.lowerBound
                    while row < rows.upperBound {
                        // Rows row..<end share batch b; their locations are first..<first + count.
                        let b = row / ho
                        let end = Swift.min(rows.upperBound, (b + 1) * ho)
                        let first = (row - b * ho) * wo, count = (end - row) * wo
                        for l in 0..<count {
                            let gp = (b * plane + first + l) * 2
                            let fx = unnormalizeGrid(pg[gp], w, alignCorners: alignCorners)
                            let fy = unnormalizeGrid(pg[gp + 1], h, alignCorners: alignCorners)
                            let x0 = floorIndex(fx), y0 = floorIndex(fy)
                            let xi = x0.index, yi = y0.index, tx = fx - x0.value, ty = fy - y0.value
                            func tap(_ yy: Int, _ xx: Int) -> Int32 {
                                yy >= 0 && yy < h && xx >= 0 && xx < w ? Int32(yy * w + xx) : Int32(hw)
                            }
                            taps[l] = BilinearTaps(i00: tap(yi, xi), i01: tap(yi, xi + 1), i10: tap(yi + 1, xi),
                                                   i11: tap(yi + 1, xi + 1), tx: tx, ty: ty)
                        }
                        for ch in 0..<c {
                            let src = px.baseAddress! + (b * c + ch) * hw
                            let base = ((ch / 8) * (hw + 1)) * 8 + ch % 8
                            for p in 0..<hw { image[base + p * 8] = src[p] }
                        }
                        taps.withUnsafeBufferPointer { t in
                            image.withUnsafeBufferPointer { img in
                                for block in 0..<blocks {
                                    let pixels = img.baseAddress! + block * (hw + 1) * 8
                                    let lanes = Swift.min(8, c - block * 8)
                                    let dst = py.baseAddress! + (b * c + block * 8) * plane + first
                                    for l in 0..<count {
                                        let k = t[l]
                                        let tx = Float8(repeating: k.tx), ux = Float8(repeating: 1 - k.tx)
                                        let ty = Float8(repeating: k.ty), uy = Float8(repeating: 1 - k.ty)
                                        let top = ux * load8(pixels + Int(k.i00) * 8) + tx * load8(pixels + Int(k.i01) * 8)
                                        let bottom = ux * load8(pixels + Int(k.i10) * 8) + tx * load8(pixels + Int(k.i11) * 8)
                                        let v = uy * top + ty * bottom
                                        if lanes == 8 {
                                            dst[l] = v[0]; dst[plane + l] = v[1]; dst[2 * plane + l] = v[2]; dst[3 * plane + l] = v[3]
                                            dst[4 * plane + l] = v[4]; dst[5 * plane + l] = v[5]; dst[6 * plane + l] = v[6]; dst[7 * plane + l] = v[7]
                                        } else {
                                            for lane in 0..<lanes { dst[lane * plane + l] = v[lane] }
                                        }
                                    }
                                }
                            }
                        }
                        row = end
                    }
                }
            }
        }
    }
}

/// `v.rounded(.down)` and `saturatingIndex` of it, by integer truncation when |v| < 2²² (no
/// libm call); exactly equal to those, including the sign of a zero.
@inline(__always)
func floorIndex(_ v: Float) -> (value: Float, index: Int) {
    guard v > -4194304, v < 4194304, v != 0 else {
        let f = v.rounded(.down)
        return (f, saturatingIndex(Double(f)))
    }
    let t = Int(v)
    let i = Float(t) > v ? t - 1 : t
    return (Float(i), i)
}
