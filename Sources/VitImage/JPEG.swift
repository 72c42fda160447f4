import CTurboJPEG
import VitIR

/// Decodes a JPEG with libjpeg-turbo (the TurboJPEG API: accurate integer DCT and fancy
/// upsampling, libjpeg's defaults, which Pillow also uses) to RGB, and returns it with the
/// first APP1 EXIF block's TIFF data. Any libjpeg warning (a truncated file, corrupt entropy
/// data) refuses the file, as Pillow refuses a truncated one.
func decodeJPEG(_ bytes: [UInt8], path: String, budget: MemoryBudget) throws(ImageError) -> (RGBImage, [UInt8]?) {
    guard let handle = tjInitDecompress() else { throw ImageError(path, "libjpeg-turbo could not start") }
    defer { tjDestroy(handle) }
    let (width, height) = try jpegHeader(handle, bytes, path: path)
    try checkImageSize(width: Int(width), height: Int(height), path: path, budget: budget)
    var pixels = [UInt8](repeating: 0, count: Int(width) * Int(height) * 3)
    let status = bytes.withUnsafeBufferPointer { source in
        pixels.withUnsafeMutableBufferPointer { out in
            tjDecompress2(handle, source.baseAddress, UInt(source.count), out.baseAddress, width, 0, height,
                          Int32(TJPF_RGB.rawValue), 0)
        }
    }
    guard status == 0 else {
        let kind = tjGetErrorCode(handle) == Int32(TJERR_WARNING.rawValue) ? "corrupt or truncated JPEG data" : "cannot decode the JPEG"
        throw ImageError(path, "\(kind) (libjpeg-turbo: \(turboMessage(handle)))")
    }
    return (RGBImage(width: Int(width), height: Int(height), pixels: pixels), jpegExif(bytes))
}

/// The size a JPEG's header gives, refusing CMYK (not what `convert("RGB")` would show).
private func jpegHeader(_ handle: tjhandle, _ bytes: [UInt8], path: String) throws(ImageError) -> (Int32, Int32) {
    var width: Int32 = 0, height: Int32 = 0, subsampling: Int32 = 0, colorspace: Int32 = 0
    let header = bytes.withUnsafeBufferPointer {
        tjDecompressHeader3(handle, $0.baseAddress, UInt($0.count), &width, &height, &subsampling, &colorspace)
    }
    guard header == 0 else { throw ImageError(path, "not a readable JPEG (libjpeg-turbo: \(turboMessage(handle)))") }
    if colorspace == Int32(TJCS_CMYK.rawValue) || colorspace == Int32(TJCS_YCCK.rawValue) {
        throw ImageError(path, "is a CMYK JPEG; only grayscale and color (YCbCr/RGB) JPEGs are read")
    }
    return (width, height)
}

/// `jpegHeader` with a handle of its own (`probeImage`).
func jpegHeaderSize(_ bytes: [UInt8], path: String) throws(ImageError) -> (width: Int, height: Int) {
    guard let handle = tjInitDecompress() else { throw ImageError(path, "libjpeg-turbo could not start") }
    defer { tjDestroy(handle) }
    let (w, h) = try jpegHeader(handle, bytes, path: path)
    return (Int(w), Int(h))
}

private func turboMessage(_ handle: tjhandle) -> String {
    guard let text = tjGetErrorStr2(handle) else { return "unknown error" }
    return String(cString: text)
}

/// The TIFF data of the first APP1 segment that starts with "Exif\0\0", walking the marker
/// segments before the scan; nil when there is none or the segments do not parse.
func jpegExif(_ bytes: [UInt8]) -> [UInt8]? {
    var i = 2
    while i + 4 <= bytes.count, bytes[i] == 0xFF {
        let marker = bytes[i + 1]
        if marker == 0xFF { i += 1; continue }  // fill byte
        if marker == 0xDA || marker == 0xD9 { return nil }  // start of scan, end of image
        let length = Int(bytes[i + 2]) << 8 | Int(bytes[i + 3])
        guard length >= 2, i + 2 + length <= bytes.count else { return nil }
        let body = bytes[(i + 4)..<(i + 2 + length)]
        if marker == 0xE1, body.starts(with: [0x45, 0x78, 0x69, 0x66, 0, 0]) {
            return Array(body.dropFirst(6).prefix(ImageLimits.maxExifBytes))
        }
        i += 2 + length
    }
    return nil
}
