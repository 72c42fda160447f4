/// The closed op set. Each case mirrors one ONNX operator and carries its attributes; inputs
/// that ONNX takes as tensors but that must be static for a shape to be known (Reshape's
/// shape, Slice's starts, TopK's K, Resize's sizes, …) are attributes here and become
/// initializers at export. A `switch` over `Op` in the interpreter or exporter is exhaustive,
/// so a missing kernel or lowering is a compile error.
public enum Op: Hashable, Sendable {
    // Elementwise binary with numpy broadcasting (ONNX Add, Sub, …).
    case add, sub, mul, div, pow, max, min
    // Comparisons and logic (output bool).
    case equal, less, lessOrEqual, greater, greaterOrEqual, and, or
    // Elementwise unary.
    case neg, abs, sqrt, reciprocal, exp, log, erf, sin, cos, tanh, sigmoid, relu, floor, ceil, not
    /// ONNX Gelu (opset 20): `approximate` is "none" or "tanh".
    case gelu(approximate: GeluApproximation)
    /// ONNX Clip with static bounds.
    case clip(min: Float?, max: Float?)
    /// ONNX Where(condition, x, y).
    case `where`
    case cast(to: DType)
    case identity

    case matMul
    case gemm(GemmAttributes)
    case conv(ConvAttributes)
    case convTranspose(ConvTransposeAttributes)
    case maxPool(PoolAttributes)

    case softmax(axis: Int)
    /// ONNX LayerNormalization(X, Scale, B?) over axes `axis..<rank`.
    case layerNormalization(axis: Int, epsilon: Float)
    /// ONNX GroupNormalization (opset 21 semantics: per-channel scale and bias).
    case groupNormalization(numGroups: Int, epsilon: Float)

    case reduceMean(ReduceAttributes)
    case reduceSum(ReduceAttributes)
    case reduceMax(ReduceAttributes)
    /// ONNX TopK; outputs (values, int64 indices).
    case topK(TopKAttributes)

    case gather(axis: Int)
    case gatherElements(axis: Int)
    /// `shape` is fully resolved (no 0 or -1) when traced.
    case reshape(shape: [Int])
    case transpose(perm: [Int])
    case concat(axis: Int)
    case split(axis: Int, sizes: [Int])
    case slice(SliceAttributes)
    case squeeze(axes: [Int])
    case unsqueeze(axes: [Int])
    case expand(shape: [Int])
    case tile(repeats: [Int])
    case pad(PadAttributes)
    case resize(ResizeAttributes)
    case gridSample(GridSampleAttributes)
    /// ONNX Range with static start/limit/delta.
    case range(start: Double, limit: Double, delta: Double, dtype: DType)

    /// Moore–Penrose pseudo-inverse of a rank-2 float matrix (singular values below
    /// max(m, n)·ε·σ_max are treated as zero, as `torch.linalg.pinv`). Not an ONNX operator:
    /// it exists so weight resampling (FlexiViT's pinv of a resize matrix) is part of the
    /// traced graph, and must fold to a constant before export.
    case pseudoInverse

    /// The ONNX operator name.
    public var name: String {
        switch self {
        case .add: "Add"
        case .sub: "Sub"
        case .mul: "Mul"
        case .div: "Div"
        case .pow: "Pow"
        case .max: "Max"
        case .min: "Min"
        case .equal: "Equal"
        case .less: "Less"
        case .lessOrEqual: "LessOrEqual"
        case .greater: "Greater"
        case .greaterOrEqual: "GreaterOrEqual"
        case .and: "And"
        case .or: "Or"
        case .neg: "Neg"
        case .abs: "Abs"
        case .sqrt: "Sqrt"
        case .reciprocal: "Reciprocal"
        case .exp: "Exp"
        case .log: "Log"
        case .erf: "Erf"
        case .sin: "Sin"
        case .cos: "Cos"
        case .tanh: "Tanh"
        case .sigmoid: "Sigmoid"
        case .relu: "Relu"
        case .floor: "Floor"
        case .ceil: "Ceil"
        case .not: "Not"
        case .gelu: "Gelu"
        case .clip: "Clip"
        case .where: "Where"
        case .cast: "Cast"
        case .identity: "Identity"
        case .matMul: "MatMul"
        case .gemm: "Gemm"
        case .conv: "Conv"
        case .convTranspose: "ConvTranspose"
        case .maxPool: "MaxPool"
        case .softmax: "Softmax"
        case .layerNormalization: "LayerNormalization"
        case .groupNormalization: "GroupNormalization"
        case .reduceMean: "ReduceMean"
        case .reduceSum: "ReduceSum"
        case .reduceMax: "ReduceMax"
        case .topK: "TopK"
        case .gather: "Gather"
        case .gatherElements: "GatherElements"
        case .reshape: "Reshape"
        case .transpose: "Transpose"
        case .concat: "Concat"
        case .split: "Split"
        case .slice: "Slice"
        case .squeeze: "Squeeze"
        case .unsqueeze: "Unsqueeze"
        case .expand: "Expand"
        case .tile: "Tile"
        case .pad: "Pad"
        case .resize: "Resize"
        case .gridSample: "GridSample"
        case .range: "Range"
        case .pseudoInverse: "PseudoInverse"
        }
    }

    /// Attributes as ordered (key, value) text pairs, for dumps. Empty for attribute-free ops.
    public var attributeSummary: [(String, String)] {
        func ints(_ a: [Int]) -> String { "[" + a.map(String.init).joined(separator: ",") + "]" }
        switch self {
        case .gelu(let a): return [("approximate", a.rawValue)]
        case .clip(let lo, let hi): return [("min", lo.map { "\($0)" } ?? "none"), ("max", hi.map { "\($0)" } ?? "none")]
        case .cast(let to): return [("to", to.rawValue)]
        case .gemm(let g): return [("alpha", "\(g.alpha)"), ("beta", "\(g.beta)"), ("transA", "\(g.transA)"), ("transB", "\(g.transB)")]
        case .conv(let c):
            return [("kernel", ints(c.kernelShape)), ("strides", ints(c.strides)), ("pads", ints(c.pads)),
                    ("dilations", ints(c.dilations)), ("group", "\(c.group)")]
        case .convTranspose(let c):
            return [("kernel", ints(c.kernelShape)), ("strides", ints(c.strides)), ("pads", ints(c.pads)),
                    ("dilations", ints(c.dilations)), ("output_padding", ints(c.outputPadding)), ("group", "\(c.group)")]
        case .maxPool(let p):
            return [("kernel", ints(p.kernelShape)), ("strides", ints(p.strides)), ("pads", ints(p.pads)),
                    ("dilations", ints(p.dilations)), ("ceil_mode", "\(p.ceilMode)")]
        case .softmax(let axis): return [("axis", "\(axis)")]
        case .layerNormalization(let axis, let eps): return [("axis", "\(axis)"), ("epsilon", "\(eps)")]
        case .groupNormalization(let g, let eps): return [("num_groups", "\(g)"), ("epsilon", "\(eps)")]
        case .reduceMean(let r), .reduceSum(let r), .reduceMax(let r):
            return [("axes", ints(r.axes)), ("keepdims", "\(r.keepDims)")]
        case .topK(let t): return [("k", "\(t.k)"), ("axis", "\(t.axis)"), ("largest", "\(t.largest)"), ("sorted", "\(t.sorted)")]
        case .gather(let axis), .gatherElements(let axis), .concat(let axis): return [("axis", "\(axis)")]
        case .reshape(let s): return [("shape", ints(s))]
        case .transpose(let p): return [("perm", ints(p))]
        case .split(let axis, let sizes): return [("axis", "\(axis)"), ("split", ints(sizes))]
        case .slice(let s): return [("starts", ints(s.starts)), ("ends", ints(s.ends)), ("axes", ints(s.axes)), ("steps", ints(s.steps))]
        case .squeeze(let a), .unsqueeze(let a): return [("axes", ints(a))]
        case .expand(let s): return [("shape", ints(s))]
        case .tile(let r): return [("repeats", ints(r))]
        case .pad(let p): return [("pads", ints(p.pads)), ("mode", p.mode.rawValue), ("value", "\(p.value)")]
        case .resize(let r):
            var out = [("sizes", ints(r.sizes)), ("mode", r.mode.rawValue),
                       ("coordinate_transformation_mode", r.coordinateTransformation.rawValue)]
            if r.mode == .cubic { out.append(("cubic_coeff_a", "\(r.cubicCoeffA)")) }
            if r.mode == .nearest { out.append(("nearest_mode", r.nearestMode.rawValue)) }
            if r.antialias { out.append(("antialias", "1")) }
            if r.excludeOutside { out.append(("exclude_outside", "1")) }
            return out
        case .gridSample(let g): return [("mode", g.mode.rawValue), ("padding_mode", g.paddingMode.rawValue), ("align_corners", "\(g.alignCorners)")]
        case .range(let s, let l, let d, let t): return [("start", "\(s)"), ("limit", "\(l)"), ("delta", "\(d)"), ("dtype", t.rawValue)]
        default: return []
        }
    }

    /// Number of outputs the op produces.
    public var outputCount: Int {
        switch self {
        case .topK: 2
        case .split(_, let sizes): sizes.count
        default: 1
        }
    }
}

public enum GeluApproximation: String, Hashable, Sendable { case none, tanh }

public struct GemmAttributes: Hashable, Sendable {
    public var alpha: Float = 1, beta: Float = 1, transA = false, transB = false
    public init(alpha: Float = 1, beta: Float = 1, transA: Bool = false, transB: Bool = false) {
        self.alpha = alpha; self.beta = beta; self.transA = transA; self.transB = transB
    }
}

/// ONNX Conv attributes, all explicit (no auto_pad). `pads` is [begin..., end...].
public struct ConvAttributes: Hashable, Sendable {
    public var kernelShape: [Int], strides: [Int], pads: [Int], dilations: [Int], group: Int
    public init(kernelShape: [Int], strides: [Int]? = nil, pads: [Int]? = nil, dilations: [Int]? = nil, group: Int = 1) {
        let n = kernelShape.count
        self.kernelShape = kernelShape
        self.strides = strides ?? Array(repeating: 1, count: n)
        self.pads = pads ?? Array(repeating: 0, count: 2 * n)
        self.dilations = dilations ?? Array(repeating: 1, count: n)
        self.group = group
    }
}

/// ONNX ConvTranspose attributes with explicit pads and output_padding.
public struct ConvTransposeAttributes: Hashable, Sendable {
    public var kernelShape: [Int], strides: [Int], pads: [Int], dilations: [Int], outputPadding: [Int], group: Int
    public init(kernelShape: [Int], strides: [Int]? = nil, pads: [Int]? = nil, dilations: [Int]? = nil,
                outputPadding: [Int]? = nil, group: Int = 1) {
        let n = kernelShape.count
        self.kernelShape = kernelShape
        self.strides = strides ?? Array(repeating: 1, count: n)
        self.pads = pads ?? Array(repeating: 0, count: 2 * n)
        self.dilations = dilations ?? Array(repeating: 1, count: n)
        self.outputPadding = outputPadding ?? Array(repeating: 0, count: n)
        self.group = group
    }
}

/// ONNX MaxPool attributes with explicit pads.
public struct PoolAttributes: Hashable, Sendable {
    public var kernelShape: [Int], strides: [Int], pads: [Int], dilations: [Int], ceilMode: Bool
    public init(kernelShape: [Int], strides: [Int]? = nil, pads: [Int]? = nil, dilations: [Int]? = nil, ceilMode: Bool = false) {
        let n = kernelShape.count
        self.kernelShape = kernelShape
        self.strides = strides ?? Array(repeating: 1, count: n)
        self.pads = pads ?? Array(repeating: 0, count: 2 * n)
        self.dilations = dilations ?? Array(repeating: 1, count: n)
        self.ceilMode = ceilMode
    }
}

/// Reduction axes (empty = all axes, ONNX's default with noop_with_empty_axes = 0).
public struct ReduceAttributes: Hashable, Sendable {
    public var axes: [Int], keepDims: Bool
    public init(axes: [Int], keepDims: Bool = true) { self.axes = axes; self.keepDims = keepDims }
}

public struct TopKAttributes: Hashable, Sendable {
    public var k: Int, axis: Int, largest: Bool, sorted: Bool
    public init(k: Int, axis: Int = -1, largest: Bool = true, sorted: Bool = true) {
        self.k = k; self.axis = axis; self.largest = largest; self.sorted = sorted
    }
}

/// ONNX Slice with static starts/ends/axes/steps (ends may exceed the extent; they clamp).
public struct SliceAttributes: Hashable, Sendable {
    public var starts: [Int], ends: [Int], axes: [Int], steps: [Int]
    public init(starts: [Int], ends: [Int], axes: [Int]? = nil, steps: [Int]? = nil) {
        self.starts = starts; self.ends = ends
        self.axes = axes ?? Array(0..<starts.count)
        self.steps = steps ?? Array(repeating: 1, count: starts.count)
    }
}

public enum PadMode: String, Hashable, Sendable { case constant, reflect, edge }

/// ONNX Pad with static pads ([begin..., end...] over all axes) and constant value.
public struct PadAttributes: Hashable, Sendable {
    public var pads: [Int], mode: PadMode, value: Float
    public init(pads: [Int], mode: PadMode = .constant, value: Float = 0) { self.pads = pads; self.mode = mode; self.value = value }
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
