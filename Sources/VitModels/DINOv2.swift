import VitIR

/// Traces the DINOv2 backbone model: input `image` [B, C, H, W], output `features`
/// [B, D, H/p, W/p] with p the export patch size (see `dinov2Backbone`), B = `batch`.
public func traceDINOv2(_ m: ModelContext, _ config: ModelConfig, _ c: DINOv2Config, batch: Int = 1) throws {
    let image = m.tracer.input("image", TensorType(.float32, [batch, c.inChannels, config.imageSize[0], config.imageSize[1]]))
    try m.tracer.output("features", dinov2Backbone(m, c, image: image))
}

/// A DINOv2 ViT as timm's `VisionTransformer` (`vit_*_patch14_dinov2`) computes
/// `forward_intermediates(x, indices=[outIndex], norm=finalNorm, output_fmt="NCHW")`, which is
/// what detrex's `TimmBackbone(features_only=True, out_indices=(-1,))` hands to the pyramid:
/// the traced block's tokens, prefix tokens dropped, as [N, D, H/p, W/p].
///
/// Traced under the current scope with timm's parameter names (`patch_embed.proj.weight`,
/// `pos_embed`, `cls_token`, `reg_token`, `blocks.N.{norm1,attn.qkv,attn.proj,ls1.gamma,norm2,
/// mlp.fc1,mlp.fc2,ls2.gamma}`, `norm`). The checkpoint's patch kernel and position table are
/// requested in their stored shapes and resampled by graph ops (`resamplePatchKernel`,
/// `resamplePositionTable`), as timm's `checkpoint_filter_fn` does at load:
/// 1. patch embedding: Conv(kernel = stride = p) with the resampled kernel, flattened to
///    tokens row-major;
/// 2. position table: checkpoint grid → (optional load grid →) image grid; with
///    `noEmbedClass` it is added to the patch tokens before [cls, registers…, patches] are
///    concatenated, otherwise after (its first entries then belong to the prefix tokens);
/// 3. pre-norm blocks: x += ls1(attn(norm1(x))); x += ls2(mlp(norm2(x)));
/// 4. optionally the final norm; then prefix tokens dropped and tokens laid out as NCHW.
public func dinov2Backbone(_ m: ModelContext, _ c: DINOv2Config, image: SymbolicTensor) throws -> SymbolicTensor {
    let (n, h, w) = (image.dims[0], image.dims[2], image.dims[3])
    let d = c.embedDim
    let p = c.exportPatchSize
    let grid = [h / p, w / p]

    // Blocks after the output and a pruned final norm are checkpoint keys the model skips on
    // purpose (timm's FeatureGetterNet prunes them after loading).
    let skipped = (c.tracedDepth..<c.depth).map { "blocks.\($0)." }
    m.permitUnusedParameters(c.finalNorm ? [] : ["norm.weight", "norm.bias"], prefixes: skipped)

    let patches = try m.scope("patch_embed.proj") {
        let fanIn = Float(c.inChannels * c.patchSize * c.patchSize)
        let stored = try m.parameter("weight", [d, c.inChannels, c.patchSize, c.patchSize], .uniform(bound: 1 / fanIn.squareRoot()))
        let kernel = try resamplePatchKernel(m, stored, to: [p, p], method: c.patchResample)
        let bias = try m.parameter("bias", [d], .normal(std: 0.02))
        let attrs = ConvAttributes(kernelShape: [p, p], strides: [p, p])
        return try m.tracer.apply(.conv(attrs), [image, kernel, bias])[0]
    }
    var x = try patches.reshape([n, d, grid[0] * grid[1]]).transpose([0, 2, 1])

    let stored = try m.parameter("pos_embed", [1, c.posEmbedPrefix + c.posEmbedGrid[0] * c.posEmbedGrid[1], d], .normal(std: 0.02))
    let resampledName = m.tracer.qualified("pos_embed_resampled")
    let positions = try m.scope("pos_embed") {
        // Grid steps that change the table; the last result is named after the checkpoint key.
        var steps: [([Int], [Int])] = []
        var from = c.posEmbedGrid
        for to in [c.posEmbedLoadGrid, grid].compactMap({ $0 }) where to != from {
            steps.append((from, to))
            from = to
        }
        var table = stored
        for (k, (old, new)) in steps.enumerated() {
            table = try resamplePositionTable(m, table, prefix: c.posEmbedPrefix, from: old, to: new,
                                              name: k == steps.count - 1 ? resampledName : nil)
        }
        return table
    }
    var prefix = [try m.parameter("cls_token", [1, 1, d], .normal(std: 0.02))]
    if c.regTokens > 0 { prefix.append(try m.parameter("reg_token", [1, c.regTokens, d], .normal(std: 0.02))) }
    if n != 1 { prefix = try prefix.map { try broadcastBatch($0, like: x) } }
    if c.noEmbedClass {
        x = try concat(prefix + [x.add(positions)], axis: 1)
    } else {
        x = try concat(prefix + [x], axis: 1).add(positions)
    }

    for i in 0..<c.tracedDepth {
        x = try m.scope("blocks.\(i)") { try dinov2Block(m, c, x) }
    }
    if c.finalNorm { x = try layerNorm(m, "norm", x, eps: c.layerNormEps) }

    return try m.scope("features") {
        try x.slice(axis: 1, start: c.prefixTokens, end: x.dims[1])
            .transpose([0, 2, 1])
            .reshape([n, d, grid[0], grid[1]])
    }
}

/// timm's `Block`: pre-norm attention and MLP residuals, each scaled by LayerScale.
func dinov2Block(_ m: ModelContext, _ c: DINOv2Config, _ x: SymbolicTensor) throws -> SymbolicTensor {
    var y = try selfAttention(m, "attn", layerNorm(m, "norm1", x, eps: c.layerNormEps), heads: c.numHeads)
    if c.layerScale { y = try layerScale(m, "ls1", y) }
    let x = try x.add(y)
    let normed = try layerNorm(m, "norm2", x, eps: c.layerNormEps)
    switch c.mlpLayer {
    case .mlp: y = try mlp(m, "mlp", normed, hidden: c.mlpHiddenDim)
    case .swigluPacked: y = try swiGLUPacked(m, "mlp", normed, hidden: c.mlpHiddenDim)
    }
    if c.layerScale { y = try layerScale(m, "ls2", y) }
    return try x.add(y)
}

/// timm's `LayerScale`: y · gamma over the last axis. Seeded gammas are near 1 so random
/// models stay non-degenerate (timm initialises them to 1e-5, which makes blocks near no-ops).
func layerScale(_ m: ModelContext, _ name: String, _ x: SymbolicTensor) throws -> SymbolicTensor {
    try m.scope(name) { try x.mul(m.parameter("gamma", [x.dims.last ?? 0], .nearOne(std: 0.1))) }
}

/// timm's `SwiGLUPacked` (`GluMlp` with SiLU, gate first): fc1 to `hidden` features, split in
/// halves (x₁, x₂), SiLU(x₁)·x₂, fc2 back to the input width.
func swiGLUPacked(_ m: ModelContext, _ name: String, _ x: SymbolicTensor, hidden: Int) throws -> SymbolicTensor {
    try m.scope(name) {
        let c = x.dims.last ?? 0
        let halves = try linear(m, "fc1", x, out: hidden, weightInit: timmLinearInit).split(axis: -1, sizes: [hidden / 2, hidden / 2])
        let gate = try halves[0].mul(halves[0].sigmoid())
        return try linear(m, "fc2", gate.mul(halves[1]), out: c, weightInit: timmLinearInit)
    }
}

/// `constant` [1, …] repeated over the batch of `x` [B, …] (same rank): Where(true, constant,
/// x[:, :1, …, :1]), which takes every value from `constant` exactly whatever `x` holds. A
/// constant Expand to [B, …] would fold to a batch-sized constant; this form keeps the batch
/// extent flowing from the input, so a dynamic-batch export can carry it.
func broadcastBatch(_ constant: SymbolicTensor, like x: SymbolicTensor) throws -> SymbolicTensor {
    var row = x
    for axis in 1..<x.rank { row = try row.slice(axis: axis, start: 0, end: 1) }
    let always = x.tracer.constant(Tensor([true], shape: [1]), name: x.tracer.qualified("batch_select"))
    return try x.tracer.apply(.where, [always, constant, row])[0]
}
