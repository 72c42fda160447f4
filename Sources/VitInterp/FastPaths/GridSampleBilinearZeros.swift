import CVecKernels
import VitIR

// Fast path of GridSample (Kernels/GridSample.swift).
//
// Applies when: mode bilinear, padding zeros, any align_corners, H, W and H·W < 2³¹ − 1 (tap
// offsets are Int32); any N, C, Ho, Wo and any grid values, non-finite ones included.
// Tolerance class vs `gridSampleReference`: bit-exact, for every `VectorISA`.
// Reason: all evaluate the same Float expressions in the same order per output element
// ((1−tx)·p00 + tx·p01, then the rows weighted by 1−ty and ty; no FMA), a tap outside the
// image reads +0.0 in all, and the floors (`floorIndex`, AVX2's round-down) equal
// `rounded(.down)` exactly, with indices that agree on inside/outside (an AVX2 index beyond
// Int32 converts to Int32.min, outside like `saturatingIndex`'s). The AVX2 steps (CVecKernels)
// only move data differently: taps eight locations at a time, and 8×8 transposes in registers
// for the interleaving copy and so that each channel's outputs are stored eight contiguous at
// a time. Pinned by FastPathTests.gridSampleBilinearZeros (each ISA against the reference and
// the portable path) and gridSampleTapsPerISA (AVX2 taps against the portable ones, field for
// field, on image sizes up to 2³⁰).

/// Whether `bilinearZerosGridSample` computes `gridSample(x, _, g, _)`.
func bilinearZerosGridSampleApplies(_ x: Tensor, _ g: GridSampleAttributes) -> Bool {
    g.mode == .bilinear && g.paddingMode == .zeros && bilinearTapsFit(h: x.shape[2], w: x.shape[3])
}

/// Whether an image of h × w pixels has Int32 tap offsets: H, W and H·W < 2³¹ − 1.
func bilinearTapsFit(h: Int, w: Int) -> Bool {
    let limit = Int(Int32.max)
    return h < limit && w < limit && h * w < limit  // both < 2³¹: the product fits
}

/// `gridSample` with bilinear mode and zeros padding (deformable attention's sampling),
/// evaluating `gridSampleReference`'s Float formula lane by lane, through `forEachBilinearTile`:
/// each location's taps are computed once and applied to eight channels at a time.
/// `isa` picks the portable Swift steps or the AVX2 ones in CVecKernels (same bits).
func bilinearZerosGridSample(_ x: Tensor, _ grid: Tensor, alignCorners: Bool, _ out: TensorType,
                             isa: VectorISA = .best) -> Tensor {
    let c = x.shape[1], ho = grid.shape[1], wo = grid.shape[2], plane = ho * wo
    return withFloats(x) { px in
        withFloats(grid) { pg in
            // Every location of every channel is gathered (an empty image reads its zero pixel).
            makeFloats(out.dtype, out.shape.ints ?? [], writesAll: true) { py in
                forEachBilinearTile(px.baseAddress!, x.shape, pg.baseAddress!, ho: ho, wo: wo, alignCorners: alignCorners,
                                    isa: isa) { image, block, lanes, taps, b, first, rows in
                    bilinearGather(image, taps, rows * wo, lanes: lanes,
                                   py.baseAddress! + (b * c + block * 8) * plane + first * wo, plane: plane, isa)
                }
            }
        }
    }
}

/// The loop both bilinear-zeros kernels share, on an image [N, C, H, W] (`shape`; stored
/// [H·W, N, C] when `channelsLast`) and a grid [N, Ho, Wo, 2]. Work splits over batch·output
/// rows. A worker copies the image of each batch element it touches once, channel-interleaved
/// in blocks of eight ([C/8][H·W + 1][8], with a zero pixel at H·W that outside taps read
/// without a branch), then takes its rows in tiles of up to 2048 locations (whole rows; 64 KB
/// of taps, cache-resident while every channel block reads them): the taps, then
/// `apply(image block, block, lanes, taps, b, first row, rows)` for every channel block.
func forEachBilinearTile(_ px: UnsafePointer<Float>, channelsLast: Bool = false, _ shape: [Int], _ pg: UnsafePointer<Float>,
                         ho: Int, wo: Int, alignCorners: Bool, isa: VectorISA,
                         _ apply: (UnsafePointer<Float>, Int, Int, UnsafePointer<vk_bilinear_taps>, Int, Int, Int) -> Void) {
    let n = shape[0], c = shape[1], h = shape[2], w = shape[3]
    let hw = h * w, blocks = (c + 7) / 8
    parallelChunks(n * ho, grain: Swift.max(1, 4096 / Swift.max(wo * c, 1))) { rows in
        let tileRows = wo > 0 ? Swift.max(1, Swift.min(2048 / wo, rows.count)) : rows.count
        var taps = [vk_bilinear_taps](repeating: vk_bilinear_taps(), count: tileRows * wo)
        var image = [Float](repeating: 0, count: blocks * (hw + 1) * 8)
        var row = rows.lowerBound
        while row < rows.upperBound {
            // Rows row..<end share batch b.
            let b = row / ho
            let end = Swift.min(rows.upperBound, (b + 1) * ho)
            defer { row = end }
            image.withUnsafeMutableBufferPointer { img in
                for block in 0..<blocks where hw > 0 {
                    let lanes = Swift.min(8, c - block * 8), dst = img.baseAddress! + block * (hw + 1) * 8
                    if channelsLast {
                        gather8(px + b * c + block * 8, stride: n * c, lanes: lanes, hw, dst)
                    } else {
                        interleave8(px + (b * c + block * 8) * hw, lanes: lanes, hw, dst, isa)
                    }
                }
            }
            for start in stride(from: row, to: end, by: tileRows) {
                let count = Swift.min(tileRows, end - start)  // rows start..<start + count
                taps.withUnsafeMutableBufferPointer { t in
                    bilinearTaps(pg + start * wo * 2, count * wo, w: w, h: h, alignCorners: alignCorners, t.baseAddress!, isa)
                }
                taps.withUnsafeBufferPointer { t in
                    image.withUnsafeBufferPointer { img in
                        for block in 0..<blocks {
                            apply(img.baseAddress! + block * (hw + 1) * 8, block, Swift.min(8, c - block * 8), t.baseAddress!,
                                  b, start - b * ho, count)
                        }
                    }
                }
            }
        }
    }
}

/// `interleave8`'s layout from channels-last pixels: pixel p's `lanes` ≤ 8 channels at
/// src + p·stride to dst[p·8…]; like `interleave8`, the other lanes must hold zeros.
func gather8(_ src: UnsafePointer<Float>, stride: Int, lanes: Int, _ hw: Int, _ dst: UnsafeMutablePointer<Float>) {
    if lanes == 8 {
        for p in 0..<hw { store8(load8(src + p * stride), dst + p * 8) }
    } else {
        for p in 0..<hw { (dst + p * 8).update(from: src + p * stride, count: lanes) }
    }
}

/// Taps of `count` grid points (x, y pairs) on a w × h image.
func bilinearTaps(_ g: UnsafePointer<Float>, _ count: Int, w: Int, h: Int, alignCorners: Bool,
                  _ taps: UnsafeMutablePointer<vk_bilinear_taps>, _ isa: VectorISA) {
    if isa == .avx2 { return vk_bilinear_taps_avx2(g, count, Int32(w), Int32(h), alignCorners ? 1 : 0, taps) }
    let hw = Int32(h * w)
    func tap(_ yy: Int, _ xx: Int) -> Int32 {
        yy >= 0 && yy < h && xx >= 0 && xx < w ? Int32(yy * w + xx) : hw
    }
    for l in 0..<count {
        let fx = unnormalizeGrid(g[2 * l], w, alignCorners: alignCorners)
        let fy = unnormalizeGrid(g[2 * l + 1], h, alignCorners: alignCorners)
        let x0 = floorIndex(fx), y0 = floorIndex(fy)
        let xi = x0.index, yi = y0.index, tx = fx - x0.value, ty = fy - y0.value
        taps[l] = vk_bilinear_taps(i00: tap(yi, xi), i01: tap(yi, xi + 1), i10: tap(yi + 1, xi), i11: tap(yi + 1, xi + 1),
                                   tx: tx, ty: ty, ux: 1 - tx, uy: 1 - ty)
    }
}

/// Copies `lanes` ≤ 8 image planes of `hw` pixels (plane j at src + j·hw) to `dst`, laid out
/// [hw + 1][8]. The portable copy writes only the used lanes of the first hw pixels: `dst`
/// must hold zeros in the others (a buffer zeroed once and reused with the same `lanes`).
func interleave8(_ src: UnsafePointer<Float>, lanes: Int, _ hw: Int, _ dst: UnsafeMutablePointer<Float>, _ isa: VectorISA) {
    if isa == .avx2 { return vk_interleave8_avx2(src, hw, Int32(lanes), hw, dst) }
    for lane in 0..<lanes {
        let plane = src + lane * hw
        for p in 0..<hw { dst[p * 8 + lane] = plane[p] }
    }
}

/// Samples an interleaved eight-channel image (`interleave8`'s layout) at `count` locations:
/// channel j < lanes of location l goes to dst[j·plane + l].
func bilinearGather(_ pixels: UnsafePointer<Float>, _ taps: UnsafePointer<vk_bilinear_taps>, _ count: Int, lanes: Int,
                    _ dst: UnsafeMutablePointer<Float>, plane: Int, _ isa: VectorISA) {
    if isa == .avx2 { return vk_bilinear_gather_avx2(pixels, taps, count, Int32(lanes), dst, plane) }
    for l in 0..<count {
        let v = bilinear8(pixels, taps[l])
        if lanes == 8 {
            dst[l] = v[0]; dst[plane + l] = v[1]; dst[2 * plane + l] = v[2]; dst[3 * plane + l] = v[3]
            dst[4 * plane + l] = v[4]; dst[5 * plane + l] = v[5]; dst[6 * plane + l] = v[6]; dst[7 * plane + l] = v[7]
        } else {
            for lane in 0..<lanes { dst[lane * plane + l] = v[lane] }
        }
    }
}

/// Eight channels of an interleaved image (`interleave8`'s layout) sampled at one location:
/// (1−tx)·p00 + tx·p01 and (1−tx)·p10 + tx·p11, weighted by 1−ty and ty, as the reference.
@inline(__always)
func bilinear8(_ pixels: UnsafePointer<Float>, _ k: vk_bilinear_taps) -> Float8 {
    let tx = Float8(repeating: k.tx), ux = Float8(repeating: k.ux)
    let ty = Float8(repeating: k.ty), uy = Float8(repeating: k.uy)
    let top = ux * load8(pixels + Int(k.i00) * 8) + tx * load8(pixels + Int(k.i01) * 8)
    let bottom = ux * load8(pixels + Int(k.i10) * 8) + tx * load8(pixels + Int(k.i11) * 8)
    return uy * top + ty * bottom
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
