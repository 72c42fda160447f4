import VitIR

/// detectron2's `Conv2d` wrapper with a channel LayerNorm (`norm="LN"`): a bias-free
/// convolution named `<name>.weight` followed by `<name>.norm.{weight,bias}` (eps 1e-6 in
/// ViTDet), no activation.
func convWithChannelNorm(_ m: ModelContext, _ name: String, _ x: SymbolicTensor, out: Int, kernel: Int,
                         eps: Float) throws -> SymbolicTensor {
    try m.scope(name) {
        let y = try conv2d(m, "", x, out: out, kernel: kernel, padding: (kernel - 1) / 2, bias: false)
        return try channelLayerNorm(m, "norm", y, eps: eps)
    }
}

/// ViTDet's SimpleFeaturePyramid (detectron2 `modeling/backbone/vit.py`, detrex
/// `modeling/backbone/eva.py`) on one NCHW feature map of stride `plan` was made for.
///
/// Per scale factor, module `simfp_<log2 stride>` is a sequence:
/// - 4.0: ConvTranspose(k2 s2, D→D/2), channel LN, GELU, ConvTranspose(k2 s2, D/2→D/4);
/// - 2.0: ConvTranspose(k2 s2, D→D/2, with bias);
/// - 1.0: nothing;
/// - 0.5: MaxPool(k2 s2, floor);
/// then a 1×1 and a 3×3 bias-free convolution, each with a channel LN. The top block
/// (`LastLevelMaxPool`) appends `max_pool2d(k=1, s=2)` of its input level: every other row
/// and column, ceil(n/2) of them. Returns the levels in the plan's order (finest first).
func simpleFeaturePyramid(_ m: ModelContext, _ features: SymbolicTensor, plan: PyramidPlan,
                          config: PyramidConfig) throws -> [SymbolicTensor] {
    let dim = features.dims[1]
    let eps = config.normEps
    var outputs: [SymbolicTensor] = []
    for level in plan.levels {
        let y = try m.scope("simfp_\(level.stage)") {
            var x = features
            var index = 0
            switch level.scale {
            case 4:
                x = try convTranspose2d(m, "0", x, out: dim / 2, kernel: 2, stride: 2)
                x = try channelLayerNorm(m, "1", x, eps: eps).gelu()
                x = try convTranspose2d(m, "3", x, out: dim / 4, kernel: 2, stride: 2)
                index = 4
            case 2:
                x = try convTranspose2d(m, "0", x, out: dim / 2, kernel: 2, stride: 2)
                index = 1
            case 0.5:
                x = try m.scope("0") {
                    try m.tracer.apply(.maxPool(PoolAttributes(kernelShape: [2, 2], strides: [2, 2])), [x])[0]
                }
                index = 1
            default:
                index = 0
            }
            x = try convWithChannelNorm(m, "\(index)", x, out: config.outChannels, kernel: 1, eps: eps)
            return try convWithChannelNorm(m, "\(index + 1)", x, out: config.outChannels, kernel: 3, eps: eps)
        }
        outputs.append(y)
    }
    if let top = config.topBlock, let source = plan.outputNames.firstIndex(of: top.inFeature) {
        let pooled = try m.scope("top_block") {
            try m.tracer.apply(.maxPool(PoolAttributes(kernelShape: [1, 1], strides: [2, 2])), [outputs[source]])[0]
        }
        outputs.append(pooled)
    }
    return outputs
}

/// detrex's ChannelMapper with one input per level and no extra convolutions: per level
/// `convs.<i>.conv` (1×1, with bias) then `convs.<i>.norm` (GroupNorm), no activation.
func channelMapper(_ m: ModelContext, _ levels: [SymbolicTensor], out: Int, config: NeckConfig) throws -> [SymbolicTensor] {
    try levels.enumerated().map { i, x in
        try m.scope("convs.\(i)") {
            let y = try conv2d(m, "conv", x, out: out, kernel: 1)
            return try groupNorm(m, "norm", y, groups: config.groups, eps: config.groupNormEps)
        }
    }
}
