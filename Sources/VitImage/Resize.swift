/// Resizing exactly as Pillow's `Image.resize(size, Image.BILINEAR)` does on an 8-bit image
/// (libImaging/Resample.c), which detectron2's `T.Resize` calls: separable, one pass per axis
/// with the first pass's result rounded to 8 bits. The horizontal pass runs first, except when
/// the height shrinks by more than twice as many pixels as the width does: then the vertical
/// pass runs first (Pillow 13, python-pillow/Pillow#9549; the rule was read off Pillow 13.0's
/// output over 247 random sizes). Earlier Pillow always ran the horizontal pass first, which
/// can differ from this by 1 grey level in those cases.
///
/// Per axis (in → out pixels): scale = in / out; the triangle filter's support is 1 pixel,
/// widened to `scale` pixels when shrinking (antialiasing: each output pixel averages every
/// input pixel the shrunk triangle covers). Output pixel i is centred at (i + 0.5)·scale; it
/// takes input pixels from ⌊centre − support + 0.5⌋ to ⌊centre + support + 0.5⌋ (clamped to the
/// image), weighted by the triangle at (j + 0.5 − centre) / max(scale, 1), normalised to sum 1
/// and converted to fixed point with 22 fraction bits (rounded half away from zero); a pixel
/// is (Σ weight·value + 2^21) >> 22 clamped to 0…255.
public func resizeBilinear(_ image: RGBImage, width: Int, height: Int) -> RGBImage {
    var current = image
    let verticalFirst = height < image.height && image.height - height > 2 * (image.width - width)
    if verticalFirst { current = resampleColumns(current, ResampleAxis(inSize: current.height, outSize: height)) }
    if width != current.width { current = resampleRows(current, ResampleAxis(inSize: current.width, outSize: width)) }
    if height != current.height { current = resampleColumns(current, ResampleAxis(inSize: current.height, outSize: height)) }
    return current
}

/// One axis's taps: output pixel i reads `count[i]` input pixels from `first[i]`, with the
/// fixed-point weights `weights[i * taps ..< i * taps + count[i]]`.
struct ResampleAxis {
    static let precisionBits = 22
    var first: [Int] = []
    var count: [Int] = []
    var weights: [Int] = []
    let taps: Int

    init(inSize: Int, outSize: Int) {
        // Pillow computes the scale from a float box (exact for sizes below 2^24).
        let scale = Double(Float(inSize)) / Double(outSize)
        let filterScale = max(scale, 1)
        let support = filterScale
        taps = Int(support.rounded(.up)) * 2 + 1
        weights = [Int](repeating: 0, count: outSize * taps)
        for i in 0..<outSize {
            let centre = (Double(i) + 0.5) * scale
            let lo = max(Int(centre - support + 0.5), 0)
            let n = min(Int(centre + support + 0.5), inSize) - lo
            // Pillow multiplies by the reciprocal (not dividing): the rounding is part of the result.
            let reciprocal = 1 / filterScale
            var k = (0..<n).map { j in max(0, 1 - abs((Double(j + lo) - centre + 0.5) * reciprocal)) }
            let total = k.reduce(0, +)
            if total != 0 { k = k.map { $0 / total } }
            for j in 0..<n {
                let scaled = k[j] * Double(1 << Self.precisionBits)
                weights[i * taps + j] = Int(scaled < 0 ? scaled - 0.5 : scaled + 0.5)
            }
            first.append(lo)
            count.append(n)
        }
    }

    @inline(__always) static func clip(_ sum: Int) -> UInt8 { UInt8(clamping: sum >> precisionBits) }
}

/// The horizontal pass: every row resampled to `axis`'s output width.
private func resampleRows(_ image: RGBImage, _ axis: ResampleAxis) -> RGBImage {
    let outWidth = axis.count.count, inWidth = image.width
    var out = [UInt8](repeating: 0, count: outWidth * image.height * 3)
    let half = 1 << (ResampleAxis.precisionBits - 1)
    image.pixels.withUnsafeBufferPointer { src in
        out.withUnsafeMutableBufferPointer { dst in
            for y in 0..<image.height {
                let row = y * inWidth * 3
                for x in 0..<outWidth {
                    var (r, g, b) = (half, half, half)
                    let k = x * axis.taps, lo = axis.first[x]
                    for j in 0..<axis.count[x] {
                        let w = axis.weights[k + j], s = row + (lo + j) * 3
                        r += Int(src[s]) * w; g += Int(src[s + 1]) * w; b += Int(src[s + 2]) * w
                    }
                    let d = (y * outWidth + x) * 3
                    dst[d] = ResampleAxis.clip(r); dst[d + 1] = ResampleAxis.clip(g); dst[d + 2] = ResampleAxis.clip(b)
                }
            }
        }
    }
    return RGBImage(width: outWidth, height: image.height, pixels: out)
}

/// The vertical pass: every column resampled to `axis`'s output height.
private func resampleColumns(_ image: RGBImage, _ axis: ResampleAxis) -> RGBImage {
    let outHeight = axis.count.count, rowBytes = image.width * 3
    var out = [UInt8](repeating: 0, count: rowBytes * outHeight)
    let half = 1 << (ResampleAxis.precisionBits - 1)
    image.pixels.withUnsafeBufferPointer { src in
        out.withUnsafeMutableBufferPointer { dst in
            for y in 0..<outHeight {
                let k = y * axis.taps, lo = axis.first[y]
                for i in 0..<rowBytes {
                    var sum = half
                    for j in 0..<axis.count[y] { sum += Int(src[(lo + j) * rowBytes + i]) * axis.weights[k + j] }
                    dst[y * rowBytes + i] = ResampleAxis.clip(sum)
                }
            }
        }
    }
    return RGBImage(width: image.width, height: outHeight, pixels: out)
}
