import Foundation
import ONNXProto
import VitIR

/// Resampling ↔ ONNX Resize (static sizes, or the requested scales) and GridSample (mode names by opset).
extension SamplingOp: ONNXMapping {
    func lower(_ node: Node, _ l: inout ExportLowering) throws(ExportError) {
        let ins = l.inputNames(node), outs = l.outputNames(node)
        switch self {
        case .resize(let r):
            try l.lowerResize(node, r, input: ins[0], output: outs[0])
        case .gridSample(let g):
            // GridSample-16 spells the modes bilinear/nearest/bicubic; GridSample-20 linear/nearest/cubic.
            let mode: String
            switch g.mode {
            case .bilinear: mode = l.opset >= 20 ? "linear" : "bilinear"
            case .nearest: mode = "nearest"
            case .bicubic: mode = l.opset >= 20 ? "cubic" : "bicubic"
            }
            l.emit("GridSample", ins, outs, [exportAttribute("align_corners", g.alignCorners ? 1 : 0), exportAttribute("mode", mode),
                                           exportAttribute("padding_mode", g.paddingMode.rawValue)], node: node)
        }
    }

    static var importers: [String: ONNXImporter] { [
        "Resize": { try $0.resize() },
        "GridSample": { try $0.gridSample() },
    ] }
}

extension ExportLowering {
    /// Resize-13/18/19 with `sizes`, or `scales` when the IR carries the requested scale
    /// (coordinates then use that scale, as torch's `scale_factor` does). `roi` is only read by
    /// tf_crop_and_resize; the IR's meaning there is the whole input, roi = [0…, 1…].
    mutating func lowerResize(_ node: Node, _ r: ResizeAttributes, input: String, output: String) throws(ExportError) {
        if r.antialias, opset < 18 { throw .needsOpset("Resize with antialias", 18, node) }
        if r.coordinateTransformation == .halfPixelSymmetric, opset < 19 {
            throw .needsOpset("Resize with coordinate_transformation_mode half_pixel_symmetric", 19, node)
        }
        let rank = r.sizes.count
        let roi = r.coordinateTransformation == .tfCropAndResize
            ? constant(exportFloatVector(Array(repeating: 0, count: rank) + Array(repeating: 1, count: rank)), node, "roi")
            : ""
        var inputs = [input, roi]
        if let scales = r.scales {
            // ONNX derives the output extent as floor(input extent × scale), in float.
            let inShape = inputType(node, 0).shape.ints ?? []
            for (i, (n, s)) in zip(inShape, scales).enumerated() {
                let extent = Checked.integer(Double((Float(n) * s).rounded(.down)))
                guard extent != r.sizes[i] else { continue }
                throw ExportError("Resize scales \(scales) give extent \(extent.map(String.init) ?? "beyond 64 bits") on axis \(i), the node declares \(r.sizes[i]) (\(node.exportLabel))")
            }
            inputs.append(constant(exportFloatVector(scales), node, "scales"))
        } else {
            inputs.append("")
            inputs.append(constant(exportInt64Vector(r.sizes), node, "sizes"))
        }
        var attributes = [exportAttribute("coordinate_transformation_mode", r.coordinateTransformation.rawValue),
                          exportAttribute("mode", r.mode.rawValue)]
        if r.mode == .cubic { attributes.append(exportAttribute("cubic_coeff_a", r.cubicCoeffA)) }
        if r.mode == .nearest { attributes.append(exportAttribute("nearest_mode", r.nearestMode.rawValue)) }
        if r.excludeOutside { attributes.append(exportAttribute("exclude_outside", 1)) }
        if r.antialias { attributes.append(exportAttribute("antialias", 1)) }
        emit("Resize", inputs, [output], attributes, node: node)
    }
}

extension NodeImport {
    /// Resize-11/13/18/19 → static sizes. `scales` give sizes ⌊in × scale⌋ and are kept in
    /// `ResizeAttributes.scales`; `sizes` are used as given, or fitted per
    /// keep_aspect_ratio_policy (Resize-18: one scale for the listed axes, sizes rounded half
    /// up, that scale kept). `axes` (Resize-18) lists the axes scales/sizes refer to.
    /// tf_crop_and_resize (roi), and Resize-10, are unsupported.
    fileprivate mutating func resize() throws(ImportError) {
        guard opset >= 11 else { throw fail("Resize-10 semantics unsupported; use opset ≥ 11") }
        let x = try dims(0)
        let r = x.count
        let modeName = try string("mode", default: "nearest")
        guard let mode = ResizeMode(rawValue: modeName) else { throw fail("mode='\(modeName)' unsupported") }
        let ctmName = try string("coordinate_transformation_mode", default: "half_pixel")
        guard let ctm = CoordinateTransformation(rawValue: ctmName), ctm != .tfCropAndResize else {
            throw fail("coordinate_transformation_mode='\(ctmName)' unsupported")
        }
        if ctm == .halfPixelSymmetric && opset < 19 { throw fail("half_pixel_symmetric needs opset ≥ 19") }
        let nearestName = try string("nearest_mode", default: "round_prefer_floor")
        guard let nearest = NearestMode(rawValue: nearestName) else { throw fail("nearest_mode='\(nearestName)' unsupported") }
        let cubicA = try float("cubic_coeff_a", default: -0.75)
        let exclude = try bool("exclude_outside", default: false)
        _ = try float("extrapolation_value")  // Used by tf_crop_and_resize only.
        let antialias = opset >= 18 ? try bool("antialias", default: false) : false
        let policy = opset >= 18 ? try string("keep_aspect_ratio_policy", default: "stretch") : "stretch"
        let axesAttr = opset >= 18 ? try ints("axes") : nil
        var axes = Array(0..<r)
        if let axesAttr {
            axes = []
            for axis in axesAttr {
                let a = axis < 0 ? axis + r : axis
                guard a >= 0, a < r, !axes.contains(a) else { throw fail("invalid axes \(axesAttr) for rank \(r)") }
                axes.append(a)
            }
        }
        // Input 1 (roi) matters for tf_crop_and_resize only, which is rejected above.
        var scalesIn: [Float]?
        if let t = try constant(2, "scales"), t.count > 0 {
            guard t.dtype == .float32, t.shape.count == 1 else { throw fail("scales must be a 1-D float tensor") }
            scalesIn = t.floats
        }
        var sizesIn = try constantInts(3, "sizes")
        if sizesIn?.isEmpty == true { sizesIn = nil }
        var sizes = x
        var scales: [Float]? = nil
        switch (scalesIn, sizesIn) {
        case (let sc?, nil):
            guard sc.count == axes.count, sc.allSatisfy({ $0 > 0 }) else {
                throw fail("scales \(sc) must have \(axes.count) positive entries")
            }
            var full = Array(repeating: Float(1), count: r)
            for (k, a) in axes.enumerated() {
                full[a] = sc[k]
                guard let extent = Checked.integer((Double(sc[k]) * Double(x[a])).rounded(.down)) else {
                    throw fail("scale \(sc[k]) on axis \(a) gives an output extent beyond 64 bits")
                }
                sizes[a] = extent
            }
            scales = full
        case (nil, let sz?):
            guard sz.count == axes.count else { throw fail("sizes \(sz) must have \(axes.count) entries") }
            switch policy {
            case "stretch":
                for (k, a) in axes.enumerated() { sizes[a] = sz[k] }
            case "not_larger", "not_smaller":
                let ratios = axes.enumerated().map { Double(sz[$0.offset]) / Double(x[$0.element]) }
                guard let scale = policy == "not_larger" ? ratios.min() : ratios.max() else { throw fail("sizes without axes") }
                var full = Array(repeating: Float(1), count: r)
                for a in axes {
                    guard let extent = Checked.integer((scale * Double(x[a]) + 0.5).rounded(.down)) else {
                        throw fail("sizes \(sz) give an output extent beyond 64 bits on axis \(a)")
                    }
                    sizes[a] = extent
                    full[a] = Float(scale)
                }
                scales = full
            default:
                throw fail("keep_aspect_ratio_policy='\(policy)' unsupported")
            }
        case (nil, nil):
            throw fail("neither scales nor sizes given")
        case (.some, .some):
            throw fail("both scales and sizes given")
        }
        let a = ResizeAttributes(sizes: sizes, scales: scales, mode: mode, coordinateTransformation: ctm,
                                 cubicCoeffA: cubicA, nearestMode: nearest, excludeOutside: exclude, antialias: antialias)
        try emitFinal(.resize(a), [input(0)])
    }

    /// GridSample-16: mode bilinear | nearest | bicubic; GridSample-20: linear | nearest |
    /// cubic. padding_mode zeros, align_corners 0.
    fileprivate mutating func gridSample() throws(ImportError) {
        let modeName = try string("mode", default: opset >= 20 ? "linear" : "bilinear")
        let mode: GridSampleMode
        switch (modeName, opset >= 20) {
        case ("bilinear", false), ("linear", true): mode = .bilinear
        case ("bicubic", false), ("cubic", true): mode = .bicubic
        case ("nearest", _): mode = .nearest
        default: throw fail("mode='\(modeName)' unsupported at opset \(opset)")
        }
        let padName = try string("padding_mode", default: "zeros")
        guard let padding = GridSamplePadding(rawValue: padName) else { throw fail("padding_mode='\(padName)' unsupported") }
        let g = GridSampleAttributes(mode: mode, paddingMode: padding, alignCorners: try bool("align_corners", default: false))
        try emitFinal(.gridSample(g), [input(0), input(1)])
    }
}
