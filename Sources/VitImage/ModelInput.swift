import VitIR

/// Where a photo sits in a model's input and how to map model coordinates back to the photo.
/// The photo (after EXIF orientation) of `originalWidth` × `originalHeight` pixels fills
/// `contentWidth` × `contentHeight` pixels at the input's top-left corner; the rest of the
/// `inputWidth` × `inputHeight` input is zero padding (letterboxing) or nothing (stretching).
public struct ImageGeometry: Sendable, Equatable {
    public var originalWidth: Int
    public var originalHeight: Int
    public var inputWidth: Int
    public var inputHeight: Int
    public var contentWidth: Int
    public var contentHeight: Int

    public init(originalWidth: Int, originalHeight: Int, inputWidth: Int, inputHeight: Int, contentWidth: Int, contentHeight: Int) {
        self.originalWidth = originalWidth; self.originalHeight = originalHeight
        self.inputWidth = inputWidth; self.inputHeight = inputHeight
        self.contentWidth = contentWidth; self.contentHeight = contentHeight
    }

    /// An (x1, y1, x2, y2) box in input pixels as a box in the photo's pixels: scaled by
    /// original ÷ content per axis (the resize's own coordinate map, pixel edges to pixel
    /// edges) and clipped to the photo.
    public func originalBox(_ box: (Float, Float, Float, Float)) -> (Double, Double, Double, Double) {
        let sx = Double(originalWidth) / Double(contentWidth), sy = Double(originalHeight) / Double(contentHeight)
        func x(_ v: Float) -> Double { min(max(Double(v) * sx, 0), Double(originalWidth)) }
        func y(_ v: Float) -> Double { min(max(Double(v) * sy, 0), Double(originalHeight)) }
        return (x(box.0), y(box.1), x(box.2), y(box.3))
    }
}

/// The size a `width` × `height` photo is scaled to when it is letterboxed into `inputWidth` ×
/// `inputHeight`: the largest that fits with the aspect kept (each side rounded, at least 1).
public func letterboxContentSize(width: Int, height: Int, inputWidth: Int, inputHeight: Int) -> (width: Int, height: Int) {
    let scale = min(Double(inputWidth) / Double(width), Double(inputHeight) / Double(height))
    let w = min(inputWidth, max(1, Int((Double(width) * scale).rounded())))
    let h = min(inputHeight, max(1, Int((Double(height) * scale).rounded())))
    return (w, h)
}

/// Checks a model's input size before a photo is made into it: both sides ≥ 1, at most
/// `ImageLimits.maxPixels`, and the float32 tensor plus the resized pixels within `budget`.
public func checkModelInputSize(height: Int, width: Int, budget: MemoryBudget, source: String) throws(ImageError) {
    guard height > 0, width > 0, let pixels = Checked.multiply(height, width), pixels <= ImageLimits.maxPixels else {
        throw ImageError(source, "the model input size \(width)×\(height) is not a usable image size")
    }
    do { try budget.check(Checked.multiply(pixels, 3 * (4 + 2)), "a \(width)×\(height) model input") } catch {
        throw ImageError(source, "\(error)")
    }
}

/// `image` as a model's input: resized with Pillow's bilinear filter to `width` × `height` (or,
/// with `keepAspect`, to the letterbox size and padded right and bottom with zeros), as a
/// [1, 3, height, width] float32 tensor of RGB values 0…255 (the graph normalises).
/// Precondition: the size passed `checkModelInputSize`.
public func modelInput(_ image: RGBImage, height: Int, width: Int, keepAspect: Bool) -> (Tensor, ImageGeometry) {
    let content = keepAspect
        ? letterboxContentSize(width: image.width, height: image.height, inputWidth: width, inputHeight: height)
        : (width: width, height: height)
    let resized = resizeBilinear(image, width: content.width, height: content.height)
    let plane = height * width
    let tensor = Tensor.float32([1, 3, height, width]) { out in
        out.initialize(repeating: 0)
        resized.pixels.withUnsafeBufferPointer { px in
            for y in 0..<content.height {
                for x in 0..<content.width {
                    let s = 3 * (y * content.width + x), d = y * width + x
                    out[d] = Float(px[s]); out[plane + d] = Float(px[s + 1]); out[2 * plane + d] = Float(px[s + 2])
                }
            }
        }
    }
    let geometry = ImageGeometry(originalWidth: image.width, originalHeight: image.height, inputWidth: width,
                                 inputHeight: height, contentWidth: content.width, contentHeight: content.height)
    return (tensor, geometry)
}

/// The photo at `path` decoded (`decodeImage`) and made a model input (`modelInput`): the one
/// call for code that feeds photos to a model (`detect`, calibration).
public func loadImageInput(path: String, height: Int, width: Int, keepAspect: Bool,
                           budget: MemoryBudget = .physicalDefault) throws(ImageError) -> (Tensor, ImageGeometry) {
    try checkModelInputSize(height: height, width: width, budget: budget, source: path)
    return modelInput(try decodeImage(path: path, budget: budget), height: height, width: width, keepAspect: keepAspect)
}
