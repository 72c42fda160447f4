import VitIR

/// The tiny convolution + attention model: a 3×3 convolution stem with a channel LayerNorm, a
/// patch embedding, pre-norm transformer blocks with learned position embeddings, a neck
/// (ConvTranspose ×2 up, GroupNorm, ReLU, MaxPool ×2 down) and a mean-pooled linear head.
/// Inputs: `image` [B, C, H, W]. Outputs: `logits` [B, classes], `features` [B, D/2, H/p, W/p];
/// B = `batch`.
public func traceConvAttention(_ m: ModelContext, _ config: ModelConfig, _ c: ConvAttentionConfig,
                               batch: Int = 1) throws {
    let (h, w) = (config.imageSize[0], config.imageSize[1])
    let image = m.tracer.input("image", TensorType(.float32, [batch, c.inChannels, h, w]))
    let eps = c.layerNormEps

    let stem = try m.scope("stem") {
        let x = try conv2d(m, "conv", image, out: c.stemChannels, kernel: 3, padding: 1, bias: false)
        return try channelLayerNorm(m, "norm", x, eps: eps).gelu()
    }
    let patches = try conv2d(m, "patch_embed.proj", stem, out: c.embedDim, kernel: c.patchSize, stride: c.patchSize)
    let (gh, gw) = (h / c.patchSize, w / c.patchSize)
    var tokens = try patches.reshape([batch, c.embedDim, gh * gw]).transpose([0, 2, 1])
    tokens = try tokens.add(m.parameter("pos_embed", [1, gh * gw, c.embedDim], .normal(std: 0.02)))

    for i in 0..<c.depth {
        tokens = try m.scope("blocks.\(i)") {
            var x = try tokens.add(selfAttention(m, "attn", layerNorm(m, "norm1", tokens, eps: eps), heads: c.numHeads))
            x = try x.add(mlp(m, "mlp", layerNorm(m, "norm2", x, eps: eps), hidden: Int(Double(c.embedDim) * c.mlpRatio)))
            return x
        }
    }
    tokens = try layerNorm(m, "norm", tokens, eps: eps)

    let features = try m.scope("neck") {
        let grid = try tokens.transpose([0, 2, 1]).reshape([batch, c.embedDim, gh, gw])
        var x = try convTranspose2d(m, "up", grid, out: c.embedDim / 2, kernel: 2, stride: 2)
        x = try groupNorm(m, "norm", x, groups: c.neckGroups, eps: 1e-5).relu()
        return try m.tracer.apply(.maxPool(PoolAttributes(kernelShape: [2, 2], strides: [2, 2])), [x])[0]
    }
    let logits = try m.scope("head") {
        try linear(m, "fc", features.reduceMean([2, 3], keepDims: false), out: c.numClasses, weightInit: .normal(std: 0.02))
    }
    try m.tracer.output("logits", logits)
    try m.tracer.output("features", features)
}
