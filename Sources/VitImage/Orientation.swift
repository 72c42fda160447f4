/// The orientation (EXIF tag 0x0112 in IFD0, 1…8) recorded in `tiff`, the TIFF structure an
/// EXIF block holds; nil when absent, out of range or unreadable. Every offset is bounds-checked.
func exifOrientation(_ tiff: [UInt8]) -> Int? {
    guard tiff.count >= 8 else { return nil }
    let little: Bool
    switch (tiff[0], tiff[1]) {
    case (0x49, 0x49): little = true
    case (0x4D, 0x4D): little = false
    default: return nil
    }
    func u16(_ at: Int) -> Int? {
        guard at >= 0, at + 2 <= tiff.count else { return nil }
        return little ? Int(tiff[at]) | Int(tiff[at + 1]) << 8 : Int(tiff[at]) << 8 | Int(tiff[at + 1])
    }
    func u32(_ at: Int) -> Int? {
        guard let a = u16(at), let b = u16(at + 2) else { return nil }
        return little ? a | b << 16 : a << 16 | b
    }
    guard u16(2) == 42, let ifd = u32(4), let entries = u16(ifd) else { return nil }
    for e in 0..<entries {
        let entry = ifd + 2 + 12 * e
        guard let tag = u16(entry), let type = u16(entry + 2) else { return nil }
        guard tag == 0x0112 else { continue }
        // SHORT (3) as the standard says; LONG (4) from writers that get it wrong.
        let value = type == 3 ? u16(entry + 8) : type == 4 ? u32(entry + 8) : nil
        return value.flatMap { (1...8).contains($0) ? $0 : nil }
    }
    return nil
}

/// `image` turned upright per its EXIF `orientation`, as detectron2's `_apply_exif_orientation`
/// does with Pillow's `Image.transpose`: 2 mirror left–right, 3 rotate 180°, 4 mirror top–bottom,
/// 5 transpose (mirror over the main diagonal), 6 rotate 90° clockwise (ROTATE_270), 7
/// transverse (mirror over the anti-diagonal), 8 rotate 90° counter-clockwise (ROTATE_90).
/// 1 or anything else leaves it as it is.
public func orienting(_ image: RGBImage, exifOrientation orientation: Int) -> RGBImage {
    guard (2...8).contains(orientation) else { return image }
    let (w, h) = (image.width, image.height)
    let swaps = orientation >= 5
    let (ow, oh) = swaps ? (h, w) : (w, h)
    // The source pixel of output pixel (x, y).
    let source: (Int, Int) -> (Int, Int) = switch orientation {
    case 2: { x, y in (w - 1 - x, y) }
    case 3: { x, y in (w - 1 - x, h - 1 - y) }
    case 4: { x, y in (x, h - 1 - y) }
    case 5: { x, y in (y, x) }
    case 6: { x, y in (y, h - 1 - x) }
    case 7: { x, y in (w - 1 - y, h - 1 - x) }
    default: { x, y in (w - 1 - y, x) }
    }
    var out = [UInt8](repeating: 0, count: image.pixels.count)
    image.pixels.withUnsafeBufferPointer { src in
        for y in 0..<oh {
            for x in 0..<ow {
                let (sx, sy) = source(x, y)
                let s = 3 * (sy * w + sx), d = 3 * (y * ow + x)
                out[d] = src[s]; out[d + 1] = src[s + 1]; out[d + 2] = src[s + 2]
            }
        }
    }
    return RGBImage(width: ow, height: oh, pixels: out)
}
