import Foundation
import Testing
import VitIR
@testable import VitImage

/// Pillow's `resize(size, BILINEAR)` of plain.jpg's decoded pixels: shrinking (antialiased,
/// by 0.6 and by 5.7), enlarging, both at once, the identity, and either side of Pillow 13's
/// pass-order rule ((38, 25) and (56, 20) vertical first, (37, 25) horizontal first).
@Test(arguments: [(24, 18), (64, 48), (7, 5), (56, 20), (40, 30), (38, 25), (37, 25)])
func resizeMatchesPillowBilinear(_ size: (Int, Int)) throws {
    let source = try referenceImage("plain.jpg.rgb.npy")
    let out = resizeBilinear(source, width: size.0, height: size.1)
    let reference = try referenceImage("resize-\(size.0)x\(size.1).npy")
    // Integer arithmetic on the same 8-bit input: exact, not merely within 1 grey level.
    let diff = try #require(maxDifference(out, reference))
    #expect(diff == 0, "\(size): differs from Pillow by \(diff)")
    // The pass order matters: the other order is off by one somewhere on these sizes.
    if [[56, 20], [38, 25]].contains([size.0, size.1]) {
        let horizontalFirst = resizeBilinear(resizeBilinear(source, width: size.0, height: source.height), width: size.0, height: size.1)
        #expect(maxDifference(horizontalFirst, reference) == 1)
    }
}

/// Shrinking averages over the scaled filter support: a 1-pixel checkerboard shrunk 4× is a
/// flat grey (plain two-tap bilinear would alias it to black and white).
@Test func shrinkingIsAntialiased() {
    let w = 64, h = 64
    let pixels = (0..<(w * h)).flatMap { i -> [UInt8] in
        let v: UInt8 = (i % w + i / w) % 2 == 0 ? 255 : 0
        return [v, v, v]
    }
    let out = resizeBilinear(RGBImage(width: w, height: h, pixels: pixels), width: 16, height: 16)
    let inner = (2..<14).flatMap { y in (2..<14).map { x in Int(out.pixels[3 * (y * 16 + x)]) } }
    #expect(inner.allSatisfy { abs($0 - 128) <= 2 }, "\(inner.min()!)…\(inner.max()!)")
}

/// Letterboxing: the largest aspect-kept size, Pillow's resize at the top-left, zeros elsewhere;
/// the tensor is [1, 3, H, W] planar RGB 0…255.
@Test(arguments: [(32, 32, 32, 24), (30, 50, 30, 23)])
func letterboxMatchesPillow(_ c: (Int, Int, Int, Int)) throws {
    let source = try referenceImage("plain.jpg.rgb.npy")
    let (tensor, geometry) = modelInput(source, height: c.1, width: c.0, keepAspect: true)
    #expect(geometry == ImageGeometry(originalWidth: 40, originalHeight: 30, inputWidth: c.0, inputHeight: c.1,
                                      contentWidth: c.2, contentHeight: c.3))
    #expect(tensor.shape == [1, 3, c.1, c.0])
    let reference = try referenceImage("letterbox-\(c.0)x\(c.1).npy")
    let f = tensor.floats, plane = c.0 * c.1
    var worst: Float = 0
    for y in 0..<c.1 {
        for x in 0..<c.0 {
            for ch in 0..<3 {
                worst = max(worst, abs(f[ch * plane + y * c.0 + x] - Float(reference.pixels[3 * (y * c.0 + x) + ch])))
            }
        }
    }
    #expect(worst == 0)
    #expect(f[plane - 1] == 0 && f[3 * plane - 1] == 0)  // bottom-right is padding
}

/// `loadImageInput` stretches to the model size by default: the tensor holds Pillow's resize
/// in planar order, and boxes map back by original ÷ input per axis, clipped to the photo.
@Test func loadImageInputStretchesAndMapsBoxesBack() throws {
    let (tensor, geometry) = try loadImageInput(path: fixturePath("plain.jpg"), height: 18, width: 24, keepAspect: false)
    #expect(tensor.shape == [1, 3, 18, 24] && tensor.dtype == .float32)
    let reference = try referenceImage("resize-24x18.npy")
    let f = tensor.floats
    let green = (0..<(18 * 24)).map { Float(reference.pixels[3 * $0 + 1]) }
    #expect(zip(f[(18 * 24)..<(2 * 18 * 24)], green).allSatisfy { abs($0 - $1) <= 1 })  // via this machine's JPEG decoder
    let box = geometry.originalBox((12, 9, 24, 30))
    #expect(box.0 == 20 && box.1 == 15 && box.2 == 40 && box.3 == 30)
    #expect(throws: ImageError.self) { try loadImageInput(path: fixturePath("plain.jpg"), height: 0, width: 24, keepAspect: false) }
}

@Test func letterboxedBoxesStayInsideThePhoto() {
    let g = ImageGeometry(originalWidth: 40, originalHeight: 30, inputWidth: 32, inputHeight: 32, contentWidth: 32, contentHeight: 24)
    let box = g.originalBox((16, 12, 32, 32))  // reaches into the padding below the photo
    #expect(box.0 == 20 && box.1 == 15 && box.2 == 40 && box.3 == 30)
}

/// The annotated PNG decodes back (with this module's PNG reader) at the photo's size; pixels
/// away from the box are the photo's own, the box outline has the class colour.
@Test func annotatedPNGDecodesBack() throws {
    let photo = try decodeImage(path: fixturePath("plain.jpg"))
    let big = resizeBilinear(photo, width: 400, height: 300)
    let bytes = try annotatedPNG(big, boxes: [AnnotationBox(box: (100, 120, 300, 280), caption: "cat 0.93", colorIndex: 0)], path: "x.png")
    #expect(ImageFormat(sniffing: bytes) == .png)
    let back = try decodeImage(bytes, path: "x.png")
    #expect(back.width == 400 && back.height == 300)
    let at = { (img: RGBImage, x: Int, y: Int) in Array(img.pixels[(3 * (y * img.width + x))..<(3 * (y * img.width + x) + 3)]) }
    #expect(at(back, 20, 20) == at(big, 20, 20))
    #expect(at(back, 390, 10) == at(big, 390, 10))
    #expect(at(back, 200, 280) == [0x1F, 0x77, 0xB4])  // the bottom edge, Tableau blue
    // The label sits above the box: filled with the class colour at its left end.
    #expect(at(back, 101, 110) == [0x1F, 0x77, 0xB4])
}

/// Model input sizes from a configuration or an ONNX file are checked before anything is made.
@Test func unusableModelInputSizesAreRefused() throws {
    let budget = MemoryBudget(bytes: 1 << 30)
    try checkModelInputSize(height: 224, width: 224, budget: budget, source: "m.onnx")
    for (h, w) in [(0, 224), (224, -1), (1 << 20, 1 << 20), (Int.max, 2)] {
        #expect(throws: ImageError("m.onnx", "the model input size \(w)×\(h) is not a usable image size")) {
            try checkModelInputSize(height: h, width: w, budget: budget, source: "m.onnx")
        }
    }
    let error = try #require(throws: ImageError.self) {
        try checkModelInputSize(height: 10_000, width: 10_000, budget: budget, source: "m.onnx")
    }
    #expect(error.problem == "a 10000×10000 model input needs 1.7 GiB, over the memory budget of 1.0 GiB (--max-memory)")
}
