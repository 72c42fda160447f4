/// Resampling: ONNX Resize (static output sizes) and GridSample (4-D).
public enum SamplingOp: Hashable, Sendable {
    case resize(ResizeAttributes)
    case gridSample(GridSampleAttributes)
}

public enum ResizeMode: String, Hashable, Sendable { case nearest, linear, cubic }
public enum CoordinateTransformation: String, Hashable, Sendable {
    case halfPixel = "half_pixel", pytorchHalfPixel = "pytorch_half_pixel", alignCorners = "align_corners",
         asymmetric, tfCropAndResize = "tf_crop_and_resize", halfPixelSymmetric = "half_pixel_symmetric"
}
public enum NearestMode: String, Hashable, Sendable {
    case roundPreferFloor = "round_prefer_floor", roundPreferCeil = "round_prefer_ceil", floor, ceil
}

/// ONNX Resize with static output `sizes` for every axis. `antialias` is opset 18's attribute.
/// Scales used by the coordinate transform are `sizes[i] / inputShape[i]` unless `scales` is
/// given (torch's `scale_factor` path computes coordinates with the requested scale).
public struct ResizeAttributes: Hashable, Sendable {
    public var sizes: [Int]
    public var scales: [Float]?
    public var mode: ResizeMode
    public var coordinateTransformation: CoordinateTransformation
    public var cubicCoeffA: Float
    public var nearestMode: NearestMode
    public var excludeOutside: Bool
    public var antialias: Bool
    public init(sizes: [Int], scales: [Float]? = nil, mode: ResizeMode = .nearest,
                coordinateTransformation: CoordinateTransformation = .halfPixel,
                cubicCoeffA: Float = -0.75, nearestMode: NearestMode = .roundPreferFloor,
                excludeOutside: Bool = false, antialias: Bool = false) {
        self.sizes = sizes; self.scales = scales; self.mode = mode
        self.coordinateTransformation = coordinateTransformation; self.cubicCoeffA = cubicCoeffA
        self.nearestMode = nearestMode; self.excludeOutside = excludeOutside; self.antialias = antialias
    }
}

public enum GridSampleMode: String, Hashable, Sendable { case bilinear, nearest, bicubic }
public enum GridSamplePadding: String, Hashable, Sendable { case zeros, border, reflection }

/// ONNX GridSample (opset 16 names: bilinear/nearest/bicubic; opset 20 renames to linear/cubic).
public struct GridSampleAttributes: Hashable, Sendable {
    public var mode: GridSampleMode, paddingMode: GridSamplePadding, alignCorners: Bool
    public init(mode: GridSampleMode = .bilinear, paddingMode: GridSamplePadding = .zeros, alignCorners: Bool = false) {
        self.mode = mode; self.paddingMode = paddingMode; self.alignCorners = alignCorners
    }
}

extension Op {
    public static func resize(_ a: ResizeAttributes) -> Op { .sampling(.resize(a)) }
    public static func gridSample(_ a: GridSampleAttributes) -> Op { .sampling(.gridSample(a)) }
}

extension SamplingOp: OpDefinition {
    public var name: String {
        switch self {
        case .resize: "Resize"
        case .gridSample: "GridSample"
        }
    }

    public var attributeSummary: [(String, String)] {
        switch self {
        case .resize(let r):
            var out = [("sizes", attributeText(r.sizes)), ("mode", r.mode.rawValue),
                       ("coordinate_transformation_mode", r.coordinateTransformation.rawValue)]
            if r.mode == .cubic { out.append(("cubic_coeff_a", "\(r.cubicCoeffA)")) }
            if r.mode == .nearest { out.append(("nearest_mode", r.nearestMode.rawValue)) }
            if r.antialias { out.append(("antialias", "1")) }
            if r.excludeOutside { out.append(("exclude_outside", "1")) }
            return out
        case .gridSample(let g):
            return [("mode", g.mode.rawValue), ("padding_mode", g.paddingMode.rawValue), ("align_corners", "\(g.alignCorners)")]
        }
    }

    public var outputCount: Int { 1 }

    public func inferTypes(_ x: ShapeRuleInputs) throws(ShapeRuleError) -> [TensorType] {
        let dims = x.dims
        switch self {
        case .resize(let r):
            try x.arity(1...1)
            try x.float(0)
            guard r.sizes.count == dims[0].count, r.sizes.allSatisfy({ $0 > 0 }) else {
                throw ShapeRuleError("\(dims[0].count) positive output sizes, got \(r.sizes)")
            }
            if let sc = r.scales, sc.count != r.sizes.count || sc.contains(where: { !($0 > 0) || !$0.isFinite }) {
                throw ShapeRuleError("\(r.sizes.count) positive finite scales, got \(sc)")
            }
            return x.out(r.sizes)
        case .gridSample:
            try x.arity(2...2)
            try x.float(0)
            try x.sameDType([0, 1])
            let (input, grid) = (dims[0], dims[1])
            guard input.count == 4, grid.count == 4, grid[3] == 2, grid[0] == input[0] else {
                throw ShapeRuleError("X [N, C, H, W] and grid [N, Ho, Wo, 2] with equal N, got \(Shape(input)) and \(Shape(grid))")
            }
            return x.out([input[0], input[1], grid[1], grid[2]])
        }
    }

    public func estimatedFLOPs(_ s: CostShapes) -> Int { 8 * s.outputElements }
}
