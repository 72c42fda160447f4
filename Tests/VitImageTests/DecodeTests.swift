import Foundation
import Testing
import VitIR
@testable import VitImage

/// `Tests/Fixtures/images`, written by `Tools/gen_image_fixtures.py` with Pillow.
let imageFixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("Fixtures/images")

func fixturePath(_ name: String) -> String { imageFixtures.appendingPathComponent(name).path }

/// A Pillow reference (uint8, height × width × 3) as an image.
func referenceImage(_ name: String) throws -> RGBImage {
    let t = try Tensor(npy: [UInt8](Data(contentsOf: imageFixtures.appendingPathComponent(name))))
    #expect(t.dtype == .uint8 && t.shape.count == 3 && t.shape[2] == 3)
    let pixels = t.withElements(as: UInt8.self) { Array($0) }
    return RGBImage(width: t.shape[1], height: t.shape[0], pixels: pixels)
}

/// The largest difference between two images' samples (nil when their sizes differ).
func maxDifference(_ a: RGBImage, _ b: RGBImage) -> Int? {
    guard a.width == b.width, a.height == b.height else { return nil }
    return zip(a.pixels, b.pixels).map { abs(Int($0) - Int($1)) }.max() ?? 0
}

/// Every sample file against Pillow's `exif_transpose(...).convert("RGB")` (gray16.png: the
/// high byte, see `decodeImage`), within 1 grey level.
@Test(arguments: ["plain.jpg", "gray.jpg", "progressive.jpg", "yuv444.jpg", "rgba16.png", "interlaced.png", "orient-2.jpg", "orient-3.jpg", "orient-4.jpg", "orient-5.jpg", "orient-6.jpg",
                  "orient-7.jpg", "orient-8.jpg", "orient-6.png", "orient-8-late.png", "gray8.png", "gray1.png", "palette.png", "rgb16.png",
                  "gray16.png", "rgba.png", "graya.png"])
func decodesLikePillow(_ name: String) throws {
    let image = try decodeImage(path: fixturePath(name))
    let reference = try referenceImage("\(name).rgb.npy")
    #expect(image.width == reference.width && image.height == reference.height, "\(name): \(image.width)×\(image.height)")
    let diff = try #require(maxDifference(image, reference))
    #expect(diff <= 1, "\(name): differs from Pillow by \(diff) grey levels")
}

/// The stored pixels of orient-N are 30×40 for N ≥ 5; upright they are 40×30 like plain.jpg,
/// and close to it (JPEG loss apart), so the orientation was applied in the right direction.
@Test(arguments: 2...8)
func exifOrientationTurnsPhotosUpright(_ orientation: Int) throws {
    let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: fixturePath("orient-\(orientation).jpg"))))
    #expect(jpegExif(bytes).flatMap(exifOrientation) == orientation)
    let image = try decodeImage(bytes, path: "orient-\(orientation).jpg")
    let plain = try decodeImage(path: fixturePath("plain.jpg"))
    #expect(image.width == 40 && image.height == 30)
    let meanDifference = Double(zip(image.pixels, plain.pixels).map { abs(Int($0) - Int($1)) }.reduce(0, +)) / Double(plain.pixels.count)
    #expect(meanDifference < 8, "orientation \(orientation): mean difference \(meanDifference) from the upright photo")
}

/// Hand-checked: a 3×2 image (pixel value = its index) under each orientation.
@Test func orientingMovesPixelsAsPillowsTranspose() {
    // 0 1 2
    // 3 4 5
    let image = RGBImage(width: 3, height: 2, pixels: (0..<6).flatMap { [UInt8($0), 0, 0] })
    let expected: [Int: (Int, Int, [UInt8])] = [
        2: (3, 2, [2, 1, 0, 5, 4, 3]), 3: (3, 2, [5, 4, 3, 2, 1, 0]), 4: (3, 2, [3, 4, 5, 0, 1, 2]),
        5: (2, 3, [0, 3, 1, 4, 2, 5]), 6: (2, 3, [3, 0, 4, 1, 5, 2]), 7: (2, 3, [5, 2, 4, 1, 3, 0]),
        8: (2, 3, [2, 5, 1, 4, 0, 3]), 1: (3, 2, [0, 1, 2, 3, 4, 5]), 9: (3, 2, [0, 1, 2, 3, 4, 5]),
    ]
    for (orientation, (w, h, values)) in expected {
        let out = orienting(image, exifOrientation: orientation)
        #expect(out.width == w && out.height == h, "orientation \(orientation)")
        #expect(stride(from: 0, to: out.pixels.count, by: 3).map { out.pixels[$0] } == values, "orientation \(orientation)")
    }
}

@Test func exifParserReadsBothByteOrdersAndRejectsGarbage() {
    // II, 42, IFD at 8, one entry: tag 0x0112 SHORT count 1 value 6.
    let little: [UInt8] = [0x49, 0x49, 42, 0, 8, 0, 0, 0, 1, 0, 0x12, 0x01, 3, 0, 1, 0, 0, 0, 6, 0, 0, 0]
    let big: [UInt8] = [0x4D, 0x4D, 0, 42, 0, 0, 0, 8, 0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, 3, 0, 0]
    #expect(exifOrientation(little) == 6)
    #expect(exifOrientation(big) == 3)
    #expect(exifOrientation(Array(little.prefix(15))) == nil)  // entry cut off
    var outOfRange = little
    outOfRange[18] = 9
    #expect(exifOrientation(outOfRange) == nil)
    var farIFD = little
    farIFD[4] = 0xF0; farIFD[7] = 0x7F  // IFD offset beyond the data
    #expect(exifOrientation(farIFD) == nil)
    #expect(exifOrientation([]) == nil)
}

/// One line naming the file and the problem, for every kind of bad input.
@Test func badImagesAreRefusedWithOneLine() throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("vitimage-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    let plain = try Data(contentsOf: URL(fileURLWithPath: fixturePath("plain.jpg")))
    let png = try Data(contentsOf: URL(fileURLWithPath: fixturePath("rgba.png")))
    let cases: [(String, Data?, String)] = [
        ("truncated.jpg", plain.prefix(plain.count - 300), "corrupt or truncated JPEG data (libjpeg-turbo: Premature end of JPEG file)"),
        ("truncated.png", png.prefix(png.count - 30), "not a readable PNG: chunk IDAT at byte 33 claims 545 bytes, past the end of the file (truncated or corrupt)"),
        ("notes.jpg", Data("just some text\n".utf8), "is not a JPEG or PNG image (it starts with bytes 6a 75 73 74)"),
        ("anim.png", Data("GIF89a".utf8) + Data(count: 20), "is a GIF image; only JPEG and PNG are read (convert it first)"),
        ("empty.png", Data(), "the file is empty"),
        ("missing.jpg", nil, "cannot read the image: No such file or directory"),
    ]
    for (name, data, problem) in cases {
        let path = dir.appendingPathComponent(name).path
        if let data { try data.write(to: URL(fileURLWithPath: path)) }
        #expect(throws: ImageError(path, problem)) { try decodeImage(path: path) }
    }
    #expect(throws: ImageError(fixturePath("cmyk.jpg"), "is a CMYK JPEG; only grayscale and color (YCbCr/RGB) JPEGs are read")) {
        try decodeImage(path: fixturePath("cmyk.jpg"))
    }
    for name in ["huge-header.png", "huge-header.jpg"] {
        let error = try #require(throws: ImageError.self) { try decodeImage(path: fixturePath(name)) }
        #expect(error.path == fixturePath(name))
        #expect(!error.description.contains("\n"))
        #expect(error.problem.contains("over the limit of \(ImageLimits.maxPixels) pixels"),
                "\(name): \(error.problem)")
    }
}

/// The header's size is checked against the memory budget too, before decoding.
@Test func imagesOverTheMemoryBudgetAreRefused() throws {
    let error = try #require(throws: ImageError.self) {
        try decodeImage(path: fixturePath("plain.jpg"), budget: MemoryBudget(bytes: 11_999))
    }
    #expect(error.problem.contains("decoding 40×30 pixels needs 11.7 KiB, over the memory budget"))
}
