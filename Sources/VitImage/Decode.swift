import Foundation
import VitIR

/// The file formats `decodeImage` reads, recognised by their first bytes (never the extension).
public enum ImageFormat: String, Sendable {
    case jpeg = "JPEG", png = "PNG"

    /// The format `bytes` start with, or nil.
    public init?(sniffing bytes: [UInt8]) {
        if bytes.starts(with: [0xFF, 0xD8, 0xFF]) { self = .jpeg; return }
        if bytes.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { self = .png; return }
        return nil
    }
}

/// The photo at `path` as detectron2's `read_image(path, "RGB")` sees it: decoded (JPEG through
/// libjpeg-turbo, PNG through libpng), turned upright by its EXIF orientation (Pillow's
/// `exif_transpose`, orientations 2–8) and converted as Pillow's `convert("RGB")` does —
/// gray replicated, palette looked up, alpha dropped (not composited), 16-bit samples reduced
/// to their high byte. One deliberate difference: a 16-bit grayscale PNG keeps its high byte,
/// where Pillow clips the 16-bit value to 255 (nearly every pixel white). Anything else (other
/// formats, CMYK JPEGs, corrupt or truncated data, sizes over `ImageLimits`) is an
/// `ImageError` naming the file.
public func decodeImage(path: String, budget: MemoryBudget = .physicalDefault) throws(ImageError) -> RGBImage {
    try decodeImage(readImageFile(path), path: path, budget: budget)
}

/// `decodeImage(path:budget:)` for bytes already read; `path` names them in errors.
public func decodeImage(_ bytes: [UInt8], path: String, budget: MemoryBudget = .physicalDefault) throws(ImageError) -> RGBImage {
    guard let format = ImageFormat(sniffing: bytes) else { throw ImageError(path, unknownFormatProblem(bytes)) }
    let (image, exif): (RGBImage, [UInt8]?)
    switch format {
    case .jpeg: (image, exif) = try decodeJPEG(bytes, path: path, budget: budget)
    case .png: (image, exif) = try decodePNG(bytes, path: path, budget: budget)
    }
    let orientation = exif.flatMap(exifOrientation) ?? 1
    return orienting(image, exifOrientation: orientation)
}

/// The bytes of `path`, refused when missing, not a regular file, empty or over
/// `ImageLimits.maxFileBytes` (checked before reading).
func readImageFile(_ path: String) throws(ImageError) -> [UInt8] {
    var st = stat()
    guard stat(path, &st) == 0 else { throw ImageError(path, "cannot read the image: \(String(cString: strerror(errno)))") }
    guard (st.st_mode & S_IFMT) == S_IFREG else { throw ImageError(path, "is not a regular file") }
    guard st.st_size > 0 else { throw ImageError(path, "the file is empty") }
    guard st.st_size <= ImageLimits.maxFileBytes else {
        throw ImageError(path, "the file has \(st.st_size) bytes, over the image limit of \(formatBytes(ImageLimits.maxFileBytes))")
    }
    guard let handle = FileHandle(forReadingAtPath: path) else { throw ImageError(path, "cannot open the image") }
    defer { try? handle.close() }
    let data: Data?
    do { data = try handle.readToEnd() } catch { throw ImageError(path, "cannot read the image: \(error.localizedDescription)") }
    guard let data, data.count <= ImageLimits.maxFileBytes else { throw ImageError(path, "cannot read the image") }
    return [UInt8](data)
}

/// What a file that is neither JPEG nor PNG looks like, for the error.
func unknownFormatProblem(_ bytes: [UInt8]) -> String {
    let known: [(prefix: [UInt8], name: String)] = [
        (Array("GIF8".utf8), "GIF"), (Array("BM".utf8), "BMP"), (Array("II*\0".utf8), "TIFF"), (Array("MM\0*".utf8), "TIFF"),
    ]
    var name = known.first { bytes.starts(with: $0.prefix) }?.name
    if bytes.count >= 12, bytes[0..<4].elementsEqual("RIFF".utf8), bytes[8..<12].elementsEqual("WEBP".utf8) { name = "WebP" }
    if bytes.count >= 12, bytes[4..<8].elementsEqual("ftyp".utf8) { name = "HEIF/AVIF (ISO media)" }
    if let name { return "is a \(name) image; only JPEG and PNG are read (convert it first)" }
    let head = bytes.prefix(4).map { String(format: "%02x", $0) }.joined(separator: " ")
    return "is not a JPEG or PNG image (it starts with bytes \(head))"
}

/// Checks, without decoding, that `path` is a JPEG or PNG whose header size is within
/// `ImageLimits` and `budget`: what a command runs over all its photos before the slow work.
/// Returns the stored size (before EXIF orientation).
public func probeImage(path: String, budget: MemoryBudget = .physicalDefault) throws(ImageError) -> (width: Int, height: Int) {
    let bytes = try readImageFile(path)
    guard let format = ImageFormat(sniffing: bytes) else { throw ImageError(path, unknownFormatProblem(bytes)) }
    let size: (width: Int, height: Int)
    switch format {
    case .jpeg: size = try jpegHeaderSize(bytes, path: path)
    case .png:
        guard bytes.count >= 24, bytes[12..<16].elementsEqual("IHDR".utf8) else { throw ImageError(path, "not a readable PNG: no IHDR chunk first") }
        let be32 = { (at: Int) in bytes[at..<(at + 4)].reduce(0) { $0 << 8 | Int($1) } }
        size = (be32(16), be32(20))
    }
    try checkImageSize(width: size.width, height: size.height, path: path, budget: budget)
    return size
}
