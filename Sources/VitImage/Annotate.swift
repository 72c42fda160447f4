import CCairo
import Foundation

/// One box to draw: (x1, y1, x2, y2) in the photo's pixels, its caption and a colour index.
public struct AnnotationBox: Sendable {
    public var box: (Double, Double, Double, Double)
    public var caption: String
    public var colorIndex: Int
    public init(box: (Double, Double, Double, Double), caption: String, colorIndex: Int) {
        self.box = box; self.caption = caption; self.colorIndex = colorIndex
    }
}

/// Distinct, saturated colours (Tableau 10, 0xRRGGBB); a class keeps its colour across photos.
private let palette: [UInt32] = [0x1F77B4, 0xFF7F0E, 0x2CA02C, 0xD62728, 0x9467BD, 0x8C564B, 0xE377C2, 0x7F7F7F, 0xBCBD22, 0x17BECF]

/// `image` with `boxes` drawn by cairo, as PNG bytes: each box outlined in its colour, its
/// caption on a filled label of the same colour (white or black text, whichever contrasts)
/// above the box, or inside it at the photo's top edge. Line width and text size scale with
/// the photo, so labels stay readable on a thumbnail and on a 24-megapixel photo. Boxes are
/// drawn in the given order (put the most confident last to draw it on top).
public func annotatedPNG(_ image: RGBImage, boxes: [AnnotationBox], path: String) throws(ImageError) -> [UInt8] {
    guard let surface = cairo_image_surface_create(CAIRO_FORMAT_RGB24, Int32(image.width), Int32(image.height)),
          cairo_surface_status(surface) == CAIRO_STATUS_SUCCESS else {
        throw ImageError(path, "cairo cannot make a \(image.width)×\(image.height) surface")
    }
    defer { cairo_surface_destroy(surface) }
    copyPixels(image, into: surface)
    guard let cr = cairo_create(surface) else { throw ImageError(path, "cairo cannot draw") }
    let side = Double(max(image.width, image.height))
    let lineWidth = max(2, (side / 400).rounded())
    let fontSize = max(11, (side / 45).rounded())
    cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_BOLD)
    cairo_set_font_size(cr, fontSize)
    for item in boxes { draw(item, on: cr, lineWidth: lineWidth, fontSize: fontSize, imageWidth: Double(image.width)) }
    let status = cairo_status(cr)
    cairo_destroy(cr)
    guard status == CAIRO_STATUS_SUCCESS else { throw ImageError(path, "cairo failed to draw: \(String(cString: cairo_status_to_string(status)))") }
    return try pngBytes(surface, path: path)
}

/// Fills the surface (cairo's RGB24: one native-endian 32-bit word 0x00RRGGBB per pixel).
private func copyPixels(_ image: RGBImage, into surface: OpaquePointer) {
    cairo_surface_flush(surface)
    let stride = Int(cairo_image_surface_get_stride(surface))
    let base = UnsafeMutableRawPointer(cairo_image_surface_get_data(surface)!)
    image.pixels.withUnsafeBufferPointer { px in
        for y in 0..<image.height {
            let row = (base + y * stride).assumingMemoryBound(to: UInt32.self)
            for x in 0..<image.width {
                let s = 3 * (y * image.width + x)
                row[x] = 0xFF00_0000 | UInt32(px[s]) << 16 | UInt32(px[s + 1]) << 8 | UInt32(px[s + 2])
            }
        }
    }
    cairo_surface_mark_dirty(surface)
}

private func draw(_ item: AnnotationBox, on cr: OpaquePointer, lineWidth: Double, fontSize: Double, imageWidth: Double) {
    let rgb = palette[((item.colorIndex % palette.count) + palette.count) % palette.count]
    let (r, g, b) = (Double(rgb >> 16) / 255, Double(rgb >> 8 & 0xFF) / 255, Double(rgb & 0xFF) / 255)
    let (x1, y1, x2, y2) = item.box
    cairo_set_source_rgb(cr, r, g, b)
    cairo_set_line_width(cr, lineWidth)
    cairo_rectangle(cr, x1, y1, max(x2 - x1, 0), max(y2 - y1, 0))
    cairo_stroke(cr)
    var extents = cairo_text_extents_t()
    cairo_text_extents(cr, item.caption, &extents)
    let pad = (fontSize / 4).rounded(), labelHeight = (fontSize * 1.25).rounded()
    let labelWidth = extents.x_advance + 2 * pad
    let top = y1 - labelHeight >= 0 ? y1 - labelHeight : y1
    let left = max(0, min(x1 - lineWidth / 2, imageWidth - labelWidth))
    cairo_rectangle(cr, left, top, labelWidth, labelHeight)
    cairo_fill(cr)
    let light = 0.299 * r + 0.587 * g + 0.114 * b > 0.55
    cairo_set_source_rgb(cr, light ? 0 : 1, light ? 0 : 1, light ? 0 : 1)
    cairo_move_to(cr, left + pad, top + labelHeight - (labelHeight - fontSize) / 2 - fontSize * 0.18)
    cairo_show_text(cr, item.caption)
}

/// The surface as PNG bytes (cairo's writer, into memory).
private func pngBytes(_ surface: OpaquePointer, path: String) throws(ImageError) -> [UInt8] {
    final class Sink { var bytes: [UInt8] = [] }
    let sink = Sink()
    let status = withExtendedLifetime(sink) {
        cairo_surface_write_to_png_stream(surface, { closure, data, length in
            let sink = Unmanaged<Sink>.fromOpaque(closure!).takeUnretainedValue()
            sink.bytes.append(contentsOf: UnsafeBufferPointer(start: data, count: Int(length)))
            return CAIRO_STATUS_SUCCESS
        }, Unmanaged.passUnretained(sink).toOpaque())
    }
    guard status == CAIRO_STATUS_SUCCESS else {
        throw ImageError(path, "cairo cannot write the PNG: \(String(cString: cairo_status_to_string(status)))")
    }
    return sink.bytes
}
