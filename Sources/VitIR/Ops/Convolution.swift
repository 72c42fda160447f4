/// Sliding-window ops over [N, C, spatial…]: ONNX Conv, ConvTranspose and MaxPool, all with
/// explicit pads (no auto_pad; import resolves it).
public enum ConvolutionOp: Hashable, Sendable {
    case conv(ConvAttributes)
    case convTranspose(ConvTransposeAttributes)
    case maxPool(PoolAttributes)
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

extension Op {
    public static func conv(_ a: ConvAttributes) -> Op { .convolution(.conv(a)) }
    public static func convTranspose(_ a: ConvTransposeAttributes) -> Op { .convolution(.convTranspose(a)) }
    public static func maxPool(_ a: PoolAttributes) -> Op { .convolution(.maxPool(a)) }
}

extension ConvolutionOp: OpDefinition {
    public var name: String {
        switch self {
        case .conv: "Conv"
        case .convTranspose: "ConvTranspose"
        case .maxPool: "MaxPool"
        }
    }

    public var attributeSummary: [(String, String)] {
        switch self {
        case .conv(let c):
            [("kernel", attributeText(c.kernelShape)), ("strides", attributeText(c.strides)), ("pads", attributeText(c.pads)),
             ("dilations", attributeText(c.dilations)), ("group", "\(c.group)")]
        case .convTranspose(let c):
            [("kernel", attributeText(c.kernelShape)), ("strides", attributeText(c.strides)), ("pads", attributeText(c.pads)),
             ("dilations", attributeText(c.dilations)), ("output_padding", attributeText(c.outputPadding)), ("group", "\(c.group)")]
        case .maxPool(let p):
            [("kernel", attributeText(p.kernelShape)), ("strides", attributeText(p.strides)), ("pads", attributeText(p.pads)),
             ("dilations", attributeText(p.dilations)), ("ceil_mode", "\(p.ceilMode)")]
        }
    }

    public var outputCount: Int { 1 }

    public func inferTypes(_ x: ShapeRuleInputs) throws(ShapeRuleError) -> [TensorType] {
        switch self {
        case .conv(let c): try convTypes(x, c)
        case .convTranspose(let c): try convTransposeTypes(x, c)
        case .maxPool(let p): try maxPoolTypes(x, p)
        }
    }

    public func estimatedFLOPs(_ s: CostShapes) -> Int {
        let out = s.outputElements
        let bias = s.inputs.count > 2 ? out : 0
        switch self {
        case .conv:
            // Each output element reads Cin/group × kh × kw weights (W is [Cout, Cin/group, kh, kw]).
            return 2 * out * s.inputs[1].dropFirst().reduce(1, *) + bias
        case .convTranspose:
            return 2 * s.inputElements(0) * s.inputs[1].dropFirst().reduce(1, *) + bias
        case .maxPool:
            return s.inputElements(0)
        }
    }

    private func convTypes(_ x: ShapeRuleInputs, _ c: ConvAttributes) throws(ShapeRuleError) -> [TensorType] {
        let (xs, w, s) = try weightedOperands(x, c.kernelShape, strides: c.strides, pads: c.pads, dilations: c.dilations)
        let dims = x.dims
        guard c.group >= 1, xs[1] % c.group == 0, w[0] % c.group == 0, xs[1] / c.group == w[1] else {
            throw ShapeRuleError("W's input channels (\(w[1])) × group (\(c.group)) to equal X's channels (\(xs[1])), and output channels divisible by group")
        }
        if x.count == 3, dims[2] != [w[0]] { throw ShapeRuleError("bias of shape [\(w[0])], got \(Shape(dims[2]))") }
        var o = [xs[0], w[0]]
        for i in 0..<s {
            let span = try kernelSpan(c.kernelShape[i], c.dilations[i], axis: i)
            let padded = try paddedExtent(xs[i + 2], c.pads[i], c.pads[i + s], axis: i)
            guard padded >= span else {
                throw ShapeRuleError("padded input extent \(padded) on spatial axis \(i) ≥ dilated kernel extent \(span)")
            }
            o.append((padded - span) / c.strides[i] + 1)
        }
        return x.out(o)
    }

    private func convTransposeTypes(_ x: ShapeRuleInputs, _ c: ConvTransposeAttributes) throws(ShapeRuleError) -> [TensorType] {
        let (xs, w, s) = try weightedOperands(x, c.kernelShape, strides: c.strides, pads: c.pads, dilations: c.dilations)
        let dims = x.dims
        guard c.outputPadding.count == s, zip(c.outputPadding, c.strides).allSatisfy({ $0 >= 0 && ($0 < $1 || $0 == 0) }) else {
            throw ShapeRuleError("output_padding of length \(s), each smaller than its stride, got \(c.outputPadding)")
        }
        guard c.group >= 1, w[0] == xs[1], xs[1] % c.group == 0 else {
            throw ShapeRuleError("W's first dimension (\(w[0])) to equal X's channels (\(xs[1])), divisible by group (\(c.group))")
        }
        let m = w[1] * c.group
        if x.count == 3, dims[2] != [m] { throw ShapeRuleError("bias of shape [\(m)], got \(Shape(dims[2]))") }
        var o = [xs[0], m]
        for i in 0..<s {
            let what = "the output extent on spatial axis \(i)"
            let stretched = try checked(Checked.multiply(c.strides[i], xs[i + 2] - 1), what)
            let span = try kernelSpan(c.kernelShape[i], c.dilations[i], axis: i)
            let e = try checked(Checked.sum([stretched, c.outputPadding[i], span]).flatMap { Checked.subtract($0, c.pads[i]) }
                .flatMap { Checked.subtract($0, c.pads[i + s]) }, what)
            guard e > 0 else { throw ShapeRuleError("a positive output extent on spatial axis \(i), got \(e)") }
            o.append(e)
        }
        return x.out(o)
    }

    private func maxPoolTypes(_ x: ShapeRuleInputs, _ p: PoolAttributes) throws(ShapeRuleError) -> [TensorType] {
        try x.arity(1...1)
        try x.float(0)
        let xs = x.dims[0], s = p.kernelShape.count
        guard xs.count == s + 2 else { throw ShapeRuleError("X of rank \(s + 2) for a \(s)-d kernel, got \(Shape(xs))") }
        try checkSpatialAttributes(s, strides: p.strides, pads: p.pads, dilations: p.dilations)
        guard p.kernelShape.allSatisfy({ $0 >= 1 }) else { throw ShapeRuleError("positive kernel_shape, got \(p.kernelShape)") }
        var o = [xs[0], xs[1]]
        for i in 0..<s {
            let span = try kernelSpan(p.kernelShape[i], p.dilations[i], axis: i)
            let padded = try paddedExtent(xs[i + 2], p.pads[i], p.pads[i + s], axis: i)
            guard padded >= span else {
                throw ShapeRuleError("padded input extent \(padded) on spatial axis \(i) ≥ dilated kernel extent \(span)")
            }
            guard p.pads[i] < span, p.pads[i + s] < span else {
                throw ShapeRuleError("pads smaller than the kernel extent on spatial axis \(i)")
            }
            var n = p.ceilMode ? ceilDiv(padded - span, p.strides[i]) + 1 : (padded - span) / p.strides[i] + 1
            // ONNX: with ceil_mode, a last window starting in the end padding is dropped.
            if p.ceilMode, (n - 1) * p.strides[i] >= xs[i + 2] + p.pads[i] { n -= 1 }
            o.append(n)
        }
        return x.out(o)
    }
}

/// Conv and ConvTranspose's common checks: X, W and the optional bias of one float dtype; X and
/// W of rank 2 + the kernel's; valid strides, pads and dilations; W's spatial shape equal to
/// kernel_shape. Returns X's dims, W's dims and the spatial rank.
private func weightedOperands(_ x: ShapeRuleInputs, _ kernelShape: [Int], strides: [Int], pads: [Int],
                              dilations: [Int]) throws(ShapeRuleError) -> ([Int], [Int], Int) {
    try x.arity(2...3)
    try x.float(0)
    try x.sameDType(x.all)
    let xs = x.dims[0], w = x.dims[1], s = kernelShape.count
    guard xs.count == s + 2, w.count == s + 2 else {
        throw ShapeRuleError("X and W of rank \(s + 2) for a \(s)-d kernel, got \(Shape(xs)) and \(Shape(w))")
    }
    try checkSpatialAttributes(s, strides: strides, pads: pads, dilations: dilations)
    guard Array(w[2...]) == kernelShape else {
        throw ShapeRuleError("W's spatial shape \(Shape(Array(w[2...]))) to equal kernel_shape \(Shape(kernelShape))")
    }
    return (xs, w, s)
}

/// (kernel − 1)·dilation + 1, checked.
private func kernelSpan(_ kernel: Int, _ dilation: Int, axis: Int) throws(ShapeRuleError) -> Int {
    try checked(Checked.subtract(kernel, 1).flatMap { Checked.multiply($0, dilation) }.flatMap { Checked.add($0, 1) },
                "the dilated kernel extent on spatial axis \(axis) (kernel \(kernel), dilation \(dilation))")
}

/// extent + begin pad + end pad, checked.
private func paddedExtent(_ extent: Int, _ begin: Int, _ end: Int, axis: Int) throws(ShapeRuleError) -> Int {
    try checked(Checked.sum([extent, begin, end]), "the padded extent on spatial axis \(axis) (pads \(begin), \(end))")
}

private func checkSpatialAttributes(_ s: Int, strides: [Int], pads: [Int], dilations: [Int]) throws(ShapeRuleError) {
    guard strides.count == s, strides.allSatisfy({ $0 >= 1 }) else { throw ShapeRuleError("\(s) positive strides, got \(strides)") }
    guard dilations.count == s, dilations.allSatisfy({ $0 >= 1 }) else { throw ShapeRuleError("\(s) positive dilations, got \(dilations)") }
    guard pads.count == 2 * s, pads.allSatisfy({ $0 >= 0 }) else { throw ShapeRuleError("\(2 * s) non-negative pads, got \(pads)") }
}
