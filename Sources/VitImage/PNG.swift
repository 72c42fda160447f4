import CPNG
import VitIR

/// Decodes a PNG with libpng to RGB as Pillow's `convert("RGB")` sees it (see `decodeImage`),
/// and returns it with its eXIf chunk (before or after the image data).
func decodePNG(_ bytes: [UInt8], path: String, budget: MemoryBudget) throws(ImageError) -> (RGBImage, [UInt8]?) {
    try checkPNGChunks(bytes, path: path, budget: budget)
    let state = UnsafeMutablePointer<vit_png>.allocate(capacity: 1)
    defer { vit_png_end(state); state.deallocate() }
    return try bytes.withUnsafeBufferPointer { (source) throws(ImageError) -> (RGBImage, [UInt8]?) in
        guard vit_png_begin(state, source.baseAddress, source.count, ImageLimits.maxPNGChunkBytes) == 0 else {
            throw ImageError(path, "not a readable PNG: \(pngMessage(state))")
        }
        let p = state.pointee
        let (width, height, channels) = (Int(p.width), Int(p.height), Int(p.channels))
        try checkImageSize(width: width, height: height, path: path, budget: budget)
        guard (1...4).contains(channels), p.rowbytes == width * channels else {
            throw ImageError(path, "unsupported PNG layout (\(channels) channels, \(p.rowbytes) bytes per row)")
        }
        var samples = [UInt8](repeating: 0, count: width * height * channels)
        let status = samples.withUnsafeMutableBufferPointer { vit_png_read(state, $0.baseAddress) }
        guard status == 0 else { throw ImageError(path, "cannot decode the PNG: \(pngMessage(state))") }
        _ = vit_png_read_tail(state)
        let q = state.pointee
        let exif = q.exif.map { Array(UnsafeBufferPointer(start: $0, count: min(Int(q.exif_size), ImageLimits.maxExifBytes))) }
        return (RGBImage(width: width, height: height, pixels: rgb(samples, channels: channels)), exif)
    }
}

/// Walks the chunk list before libpng sees it: the size in IHDR (always the first chunk) is
/// checked against the limits, and every chunk must fit in the file. libpng allocates what a
/// chunk's length field claims before reading it (eXIf ignores its chunk memory limit), so a
/// length past the end of the file would be an allocation of up to 2 GiB for a few bytes.
func checkPNGChunks(_ bytes: [UInt8], path: String, budget: MemoryBudget) throws(ImageError) {
    let be32 = { (at: Int) in bytes[at..<(at + 4)].reduce(0) { $0 << 8 | Int($1) } }
    if bytes.count >= 24, bytes[12..<16].elementsEqual("IHDR".utf8) {
        try checkImageSize(width: be32(16), height: be32(20), path: path, budget: budget)
    }
    var at = 8
    while at + 8 <= bytes.count {
        let length = be32(at)
        let kind = String(decoding: bytes[(at + 4)..<(at + 8)].map { (32...126).contains($0) ? $0 : 63 }, as: UTF8.self)
        guard length <= bytes.count - at - 12 else {
            throw ImageError(path, "not a readable PNG: chunk \(kind) at byte \(at) claims \(length) bytes, past the end of the file (truncated or corrupt)")
        }
        if kind == "IEND" { return }
        at += 12 + length
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
