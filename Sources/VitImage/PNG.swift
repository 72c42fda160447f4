import CPNG
import VitIR

/// Decodes a PNG with libpng to RGB as Pillow's `convert("RGB")` sees it (see `decodeImage`),
/// and returns it with its eXIf chunk when that precedes the image data.
func decodePNG(_ bytes: [UInt8], path: String, budget: MemoryBudget) throws(ImageError) -> (RGBImage, [UInt8]?) {
    // The size first, from IHDR (always the first chunk), before libpng reads further.
    if bytes.count >= 24, bytes[12..<16].elementsEqual("IHDR".utf8) {
        let be32 = { (at: Int) in bytes[at..<(at + 4)].reduce(0) { $0 << 8 | Int($1) } }
        try checkImageSize(width: be32(16), height: be32(20), path: path, budget: budget)
    }
    let state = UnsafeMutablePointer<vit_png>.allocate(capacity: 1)
    defer { vit_png_end(state); state.deallocate() }
    return try bytes.withUnsafeBufferPointer { (source) throws(ImageError) -> (RGBImage, [UInt8]?) in
        guard vit_png_begin(state, source.baseAddress, source.count) == 0 else {
            throw ImageError(path, "not a readable PNG: \(pngMessage(state))")
        }
        let p = state.pointee
        let (width, height, channels) = (Int(p.width), Int(p.height), Int(p.channels))
        try checkImageSize(width: width, height: height, path: path, budget: budget)
        guard (1...4).contains(channels), p.rowbytes == width * channels else {
            throw ImageError(path, "unsupported PNG layout (\(channels) channels, \(p.rowbytes) bytes per row)")
        }
        let exif = p.exif.map { Array(UnsafeBufferPointer(start: $0, count: min(Int(p.exif_size), ImageLimits.maxExifBytes))) }
        var samples = [UInt8](repeating: 0, count: width * height * channels)
        let status = samples.withUnsafeMutableBufferPointer { vit_png_read(state, $0.baseAddress) }
        guard status == 0 else { throw ImageError(path, "cannot decode the PNG: \(pngMessage(state))") }
        return (RGBImage(width: width, height: height, pixels: rgb(samples, channels: channels)), exif)
    }
}

private func pngMessage(_ state: UnsafeMutablePointer<vit_png>) -> String {
    withUnsafeBytes(of: state.pointee.message) { raw in
        String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
    }
}

/// 8-bit samples with 1 (gray), 2 (gray, alpha), 3 (RGB) or 4 (RGBA) channels as RGB:
/// gray replicated, alpha dropped.
func rgb(_ samples: [UInt8], channels: Int) -> [UInt8] {
    if channels == 3 { return samples }
    let count = samples.count / channels
    var out = [UInt8](repeating: 0, count: count * 3)
    for i in 0..<count {
        let s = i * channels
        if channels <= 2 {
            out[3 * i] = samples[s]; out[3 * i + 1] = samples[s]; out[3 * i + 2] = samples[s]
        } else {
            out[3 * i] = samples[s]; out[3 * i + 1] = samples[s + 1]; out[3 * i + 2] = samples[s + 2]
        }
    }
    return out
}
