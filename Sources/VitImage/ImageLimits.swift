import VitIR

/// Every limit on an image file, checked before anything the header asks for is allocated.
/// (The limits on other untrusted input are in VitModels' `InputLimits`.)
///
/// Budget: a photo takes `bytesPerPixel` bytes per pixel at its peak — 3 decoded, 3 more for
/// the copy EXIF orientation makes, 4 for cairo's surface while it is annotated — so one at
/// `maxPixels` needs 1.25 GiB; the header's size is checked against these limits and the
/// memory budget (`--max-memory`) before any pixel is allocated. The pixel limit is of the
/// order of Pillow's decompression-bomb limit (about 179 megapixels).
public enum ImageLimits {
    /// Bytes of an image file (a 100-megapixel JPEG is about 50 MB).
    public static let maxFileBytes = 256 << 20
    /// Pixels of a decoded image (width × height).
    public static let maxPixels = 1 << 27
    /// Width or height in pixels (JPEG's own limit is 65,535).
    public static let maxSide = 65_535
    /// Bytes of an EXIF block that is parsed for the orientation (JPEG's APP1 holds < 64 KiB).
    public static let maxExifBytes = 1 << 16
    /// Bytes of a PNG chunk that libpng holds in memory (eXIf, iCCP, text): it allocates the
    /// length the chunk claims before reading it. Image data (IDAT) is streamed, not held.
    public static let maxPNGChunkBytes = 16 << 20
    /// Peak bytes per pixel while a photo is decoded, oriented and annotated.
    public static let bytesPerPixel = 10
}

/// An image that cannot be read; `description` is one line naming the file and the problem.
public struct ImageError: Error, CustomStringConvertible, Sendable, Equatable {
    public var path: String
    public var problem: String
    public init(_ path: String, _ problem: String) { self.path = path; self.problem = problem }
    public var description: String { "\(path): \(problem)" }
}

/// Decoded 8-bit RGB pixels, row-major, 3 bytes per pixel, top row first.
public struct RGBImage: Sendable, Equatable {
    public let width: Int
    public let height: Int
    public var pixels: [UInt8]

    public init(width: Int, height: Int, pixels: [UInt8]) {
        precondition(width >= 0 && height >= 0 && pixels.count == width * height * 3, "RGBImage: pixel count does not match the size")
        self.width = width; self.height = height; self.pixels = pixels
    }
}

/// Checks a header's `width` × `height` against `ImageLimits` (and the memory budget, for the
/// decoded bytes) before the pixels are allocated.
func checkImageSize(width: Int, height: Int, path: String, budget: MemoryBudget) throws(ImageError) {
    guard width > 0, height > 0 else { throw ImageError(path, "the header gives an empty image (\(width)×\(height))") }
    guard width <= ImageLimits.maxSide, height <= ImageLimits.maxSide,
          let pixels = Checked.multiply(width, height), pixels <= ImageLimits.maxPixels else {
        throw ImageError(path, "the header gives \(width)×\(height) pixels, over the limit of \(ImageLimits.maxPixels) pixels (sides ≤ \(ImageLimits.maxSide))")
    }
    do { try budget.check(Checked.multiply(pixels, ImageLimits.bytesPerPixel), "decoding \(width)×\(height) pixels") } catch {
        throw ImageError(path, "\(error)")
    }
}
