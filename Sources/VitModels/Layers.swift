import VitIR

// Composite layers as Swift functions that emit IR ops. Parameter names and layouts follow
// PyTorch's modules (Linear weight [out, in], Conv2d weight [out, in/groups, kh, kw]) so the
// initializer names are the checkpoint keys.

/// torch.nn.Linear, y = x · Wᵀ + b over the last axis, as one type: parameters
/// `<name>.weight` [out, in] and `<name>.bias` [out] (the checkpoint keys), fetched once so a
/// module applied several times (a head shared across decoder layers) has one initializer
/// per key; each application traces its ops under scope `name`.
///
/// Seeded initialisation, used when no checkpoint provides a key: the weight is drawn from
/// N(0, 1/in) (LeCun normal: a seeded layer keeps activations of order one at any width), the
/// bias from N(0, 0.02²). Layers that follow their model family's own scheme say so at the
/// call (timm's ViT blocks: weight N(0, 0.02²), see `timmLinearInit`).
public struct Linear {
    /// The default weight initialisation for `inFeatures` inputs: N(0, 1/in).
    public static func defaultWeightInit(inFeatures: Int) -> ParameterInit {
        .normal(std: 1 / Float(max(inFeatures, 1)).squareRoot())
    }
    /// The default bias initialisation: N(0, 0.02²).
    public static let defaultBiasInit = ParameterInit.normal(std: 0.02)

    /// Module name, the scope its ops are traced under (relative to the caller's scope).
    public var name: String
    public var weight: SymbolicTensor
    public var bias: SymbolicTensor?

    public init(_ m: ModelContext, _ name: String, in inFeatures: Int, out: Int, bias: Bool = true,
                weightInit: ParameterInit? = nil, biasInit: ParameterInit = Linear.defaultBiasInit) throws {
        self.name = name
        (self.weight, self.bias) = try m.scope(name) {
            (try m.parameter("weight", [out, inFeatures], weightInit ?? Linear.defaultWeightInit(inFeatures: inFeatures)),
             bias ? try m.parameter("bias", [out], biasInit) : nil)
        }
    }

    /// y = x · Wᵀ (+ b) over the last axis.
    public func callAsFunction(_ x: SymbolicTensor, file: String = #fileID, line: Int = #line) throws -> SymbolicTensor {
        try x.tracer.scope(name) {
            let y = try x.matmul(weight.transpose([1, 0], file: file, line: line), file: file, line: line)
            guard let bias else { return y }
            return try y.add(bias, file: file, line: line)
        }
    }
}

/// A `Linear` applied once to `x` (in = x's last extent), with the same parameters, names,
/// ops and initialisation. Its parameters are fetched as its ops need them: the weight,
/// then — after the product — the bias.
public func linear(_ m: ModelContext, _ name: String, _ x: SymbolicTensor, out: Int, bias: Bool = true,
                   weightInit: ParameterInit? = nil, biasInit: ParameterInit = Linear.defaultBiasInit,
                   file: String = #fileID, line: Int = #line) throws -> SymbolicTensor {
    try m.scope(name) {
        let inFeatures = x.dims.last ?? 0
        let w = try m.parameter("weight", [out, inFeatures], weightInit ?? Linear.defaultWeightInit(inFeatures: inFeatures))
        let y = try x.matmul(w.transpose([1, 0], file: file, line: line), file: file, line: line)
        guard bias else { return y }
        return try y.add(m.parameter("bias", [out], biasInit), file: file, line: line)
    }
}

/// timm's initialisation of a ViT block's Linear weights (`trunc_normal_(std=.02)`, drawn
/// here untruncated): N(0, 0.02²).
public let timmLinearInit = ParameterInit.normal(std: 0.02)

/// torch.nn.LayerNorm over the last axis (ONNX LayerNormalization, biased variance).
public func layerNorm(_ m: ModelContext, _ name: String, _ x: SymbolicTensor, eps: Float,
                      file: String = #fileID, line: Int = #line) throws -> SymbolicTensor {
    try m.scope(name) {
        let c = x.dims.last ?? 0
        let w = try m.parameter("weight", [c], .nearOne(std: 0.1))
        let b = try m.parameter("bias", [c], .normal(std: 0.02))
        return try m.tracer.apply(.layerNormalization(axis: -1, epsilon: eps), [x, w, b], file: file, line: line)[0]
    }
}

/// A LayerNorm over the channel axis of NCHW input (detectron2's `LayerNorm`):
/// (x − mean_c) / sqrt(var_c + eps) · w[c] + b[c], biased variance.
public func channelLayerNorm(_ m: ModelContext, _ name: String, _ x: SymbolicTensor, eps: Float,
                             file: String = #fileID, line: Int = #line) throws -> SymbolicTensor {
    try m.scope(name) {
        let c = x.dims[1]
        let w = try m.parameter("weight", [c], .nearOne(std: 0.1))
        let b = try m.parameter("bias", [c], .normal(std: 0.02))
        let mean = try x.reduceMean([1], file: file, line: line)
        let centered = try x.sub(mean, file: file, line: line)
        let variance = try centered.mul(centered, file: file, line: line).reduceMean([1], file: file, line: line)
        let normed = try centered.div(variance.add(eps, file: file, line: line).sqrt(file: file, line: line), file: file, line: line)
        let scale = try w.reshape([c, 1, 1], file: file, line: line)
        let shift = try b.reshape([c, 1, 1], file: file, line: line)
        return try normed.mul(scale, file: file, line: line).add(shift, file: file, line: line)
    }
}

/// torch.nn.Conv2d with square kernel.
public func conv2d(_ m: ModelContext, _ name: String, _ x: SymbolicTensor, out: Int, kernel: Int, stride: Int = 1,
                   padding: Int = 0, groups: Int = 1, bias: Bool = true,
                   file: String = #fileID, line: Int = #line) throws -> SymbolicTensor {
    try m.scope(name) {
        let cin = x.dims.count > 1 ? x.dims[1] : 0
        let fanIn = Float(max(cin / max(groups, 1) * kernel * kernel, 1))
        var inputs = [x, try m.parameter("weight", [out, max(cin / max(groups, 1), 1), kernel, kernel], .uniform(bound: 1 / fanIn.squareRoot()))]
        if bias { inputs.append(try m.parameter("bias", [out], .normal(std: 0.02))) }
        let attrs = ConvAttributes(kernelShape: [kernel, kernel], strides: [stride, stride],
                                   pads: [padding, padding, padding, padding], group: groups)
        return try m.tracer.apply(.conv(attrs), inputs, file: file, line: line)[0]
    }
}

/// torch.nn.ConvTranspose2d with square kernel (weight [in, out/groups, k, k]).
public func convTranspose2d(_ m: ModelContext, _ name: String, _ x: SymbolicTensor, out: Int, kernel: Int, stride: Int,
                            bias: Bool = true, file: String = #fileID, line: Int = #line) throws -> SymbolicTensor {
    try m.scope(name) {
        let cin = x.dims.count > 1 ? x.dims[1] : 0
        var inputs = [x, try m.parameter("weight", [cin, out, kernel, kernel], .uniform(bound: 1 / Float(max(cin * kernel * kernel, 1)).squareRoot()))]
        if bias { inputs.append(try m.parameter("bias", [out], .normal(std: 0.02))) }
        let attrs = ConvTransposeAttributes(kernelShape: [kernel, kernel], strides: [stride, stride])
        return try m.tracer.apply(.convTranspose(attrs), inputs, file: file, line: line)[0]
    }
}

/// torch.nn.GroupNorm (per-channel affine), ONNX GroupNormalization.
public func groupNorm(_ m: ModelContext, _ name: String, _ x: SymbolicTensor, groups: Int, eps: Float,
                      file: String = #fileID, line: Int = #line) throws -> SymbolicTensor {
    try m.scope(name) {
        let c = x.dims.count > 1 ? x.dims[1] : 0
        let w = try m.parameter("weight", [c], .nearOne(std: 0.1))
        let b = try m.parameter("bias", [c], .normal(std: 0.02))
        return try m.tracer.apply(.groupNormalization(numGroups: groups, epsilon: eps), [x, w, b], file: file, line: line)[0]
    }
}

/// Multi-head self-attention as timm's `Attention`: fused `qkv` linear, scaled dot product,
/// softmax over keys, output projection `proj`. Input and output [B, N, C].
public func selfAttention(_ m: ModelContext, _ name: String, _ x: SymbolicTensor, heads: Int) throws -> SymbolicTensor {
    try m.scope(name) {
        let (b, n, c) = (x.dims[0], x.dims[1], x.dims[2])
        let d = c / heads
        let qkv = try linear(m, "qkv", x, out: 3 * c, weightInit: timmLinearInit)
            .reshape([b, n, 3, heads, d])
            .transpose([2, 0, 3, 1, 4])
        let parts = try qkv.split(axis: 0, sizes: [1, 1, 1])
        let q = try parts[0].squeeze([0]).mul(1 / Float(d).squareRoot())
        let k = try parts[1].squeeze([0])
        let v = try parts[2].squeeze([0])
        let attention = try q.matmul(k.transpose([0, 1, 3, 2])).softmax(axis: -1)
        let y = try attention.matmul(v).transpose([0, 2, 1, 3]).reshape([b, n, c])
        return try linear(m, "proj", y, out: c, weightInit: timmLinearInit)
    }
}

/// timm's `Mlp`: fc1 → GELU (erf) → fc2.
public func mlp(_ m: ModelContext, _ name: String, _ x: SymbolicTensor, hidden: Int) throws -> SymbolicTensor {
    try m.scope(name) {
        let c = x.dims.last ?? 0
        let h = try linear(m, "fc1", x, out: hidden, weightInit: timmLinearInit).gelu()
        return try linear(m, "fc2", h, out: c, weightInit: timmLinearInit)
    }
}
