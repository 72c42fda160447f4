import VitIR

/// torch.nn.LayerNorm's parameters over the last axis, fetched once (see `Linear`).
struct LayerNormModule {
    var name: String
    var weight: SymbolicTensor
    var bias: SymbolicTensor
    var eps: Float

    init(_ m: ModelContext, _ name: String, channels: Int, eps: Float) throws {
        self.name = name
        (weight, bias) = try m.scope(name) {
            (try m.parameter("weight", [channels], .nearOne(std: 0.1)), try m.parameter("bias", [channels], .normal(std: 0.02)))
        }
        self.eps = eps
    }

    func callAsFunction(_ x: SymbolicTensor, file: String = #fileID, line: Int = #line) throws -> SymbolicTensor {
        try x.tracer.scope(name) {
            try x.tracer.apply(.layerNormalization(axis: -1, epsilon: eps), [x, weight, bias], file: file, line: line)[0]
        }
    }
}

/// Where a deformable attention's queries look.
enum DeformableReference {
    /// Normalized points (x, y) [B, Nq, 2], shared by every level; a sampling offset is in
    /// pixels of its level, so it is divided by that level's (W, H). Used by the encoder.
    case points(SymbolicTensor)
    /// Normalized boxes (cx, cy, w, h) [B, Nq, 4], shared by every level; a sampling offset
    /// moves by `offset / points · (w, h) · 0.5`. Used by the decoder.
    case boxes(SymbolicTensor)
}

/// detrex's `MultiScaleDeformableAttention` (Deformable DETR §4.1, batch first) on a
/// flattened multi-level value [B, Σ H_l·W_l, D] whose levels have `spatialShapes` (H, W).
///
/// Offsets come from `sampling_offsets(query + queryPos)` laid out (head, level, point, xy);
/// weights from `attention_weights(query + queryPos)`, a softmax over levels × points jointly
/// per head. Each head samples its 32-channel slice of `value_proj(value)` bilinearly at
/// `2·location − 1` (GridSample, zero padding, align_corners false: pixel (x·W − 0.5,
/// y·H − 0.5)). The weighted sum goes through `output_proj` and is added to `query` (the
/// un-positioned identity). Inference masks nothing, so the value is not masked.
func multiScaleDeformableAttention(_ m: ModelContext, _ name: String, query: SymbolicTensor,
                                   queryPos: SymbolicTensor?, value: SymbolicTensor,
                                   reference: DeformableReference, spatialShapes: [(Int, Int)],
                                   heads: Int, points: Int) throws -> SymbolicTensor {
    try m.scope(name) {
        let (b, nq, dim) = (query.dims[0], query.dims[1], query.dims[2])
        let levels = spatialShapes.count
        let headDim = dim / heads
        let q = try queryPos.map { try query.add($0) } ?? query
        let v = try Linear(m, "value_proj", in: value.dims.last ?? 0, out: dim)(value)

        // Offsets of a few pixels, so that some samples fall outside their map.
        let offsets = try Linear(m, "sampling_offsets", in: q.dims.last ?? 0, out: heads * levels * points * 2,
                                 biasInit: .uniform(bound: 4))(q)
            .reshape([b, nq, heads, levels, points, 2])
        let weights = try Linear(m, "attention_weights", in: q.dims.last ?? 0, out: heads * levels * points)(q)
            .reshape([b, nq, heads, levels * points])
            .softmax(axis: -1)

        // GridSample's coordinates 2·location − 1 of the sampling locations.
        let grids: SymbolicTensor
        switch reference {
        case .points(let ref):
            // location = ref + offset / (W, H) per level, written as (2·ref − 1) + offset · 2/(W, H):
            // two passes over the offsets instead of four, the same value up to rounding.
            let scale = m.tracer.constant(Tensor(spatialShapes.flatMap { [2 / Float($0.1), 2 / Float($0.0)] },
                                                 shape: [1, 1, 1, levels, 1, 2]), name: m.tracer.qualified("offset_scale"))
            grids = try ref.reshape([ref.dims[0], nq, 1, 1, 1, 2]).mul(2).sub(1)   // [1, …]: shared by the batch
                .add(offsets.mul(scale))
        case .boxes(let ref):
            let center = try ref.slice(axis: 2, start: 0, end: 2).reshape([b, nq, 1, 1, 1, 2])
            let size = try ref.slice(axis: 2, start: 2, end: 4).reshape([b, nq, 1, 1, 1, 2])
            grids = try center.add(offsets.div(Float(points)).mul(size).mul(0.5)).mul(2).sub(1)
        }

        // Each level's samples weighted and summed over its points, then the levels added:
        // detrex stacks all levels' samples and sums the L·P products at once; this is the same
        // sum, grouped by level, without materialising the stacked samples.
        // Levels outermost, so that each level's grids and weights are one contiguous piece
        // (Split hands out views of them); the value's levels are consecutive rows already.
        let levelGrids = try grids.transpose([3, 0, 2, 1, 4, 5])                       // [L, B, heads, Nq, P, 2]
            .split(axis: 0, sizes: Array(repeating: 1, count: levels))
        let levelWeights = try weights.reshape([b, nq, heads, levels, points]).transpose([3, 0, 2, 1, 4])
            .split(axis: 0, sizes: Array(repeating: 1, count: levels))                 // L × [1, B, heads, Nq, P]
        let levelValues = try v.split(axis: 1, sizes: spatialShapes.map { $0.0 * $0.1 })
        var attended: SymbolicTensor?
        for (l, (h, w)) in spatialShapes.enumerated() {
            let levelValue = try levelValues[l]
                .reshape([b, h * w, heads, headDim])
                .transpose([0, 2, 3, 1])
                .reshape([b * heads, headDim, h, w])
            let grid = try levelGrids[l].reshape([b * heads, nq, points, 2])
            let sampled = try m.tracer.apply(.gridSample(GridSampleAttributes(mode: .bilinear, paddingMode: .zeros,
                                                                             alignCorners: false)),
                                             [levelValue, grid])[0]                 // [B·heads, d, Nq, P]
            let weight = try levelWeights[l].reshape([b * heads, 1, nq, points])
            let levelSum = try sampled.mul(weight).reduceSum([3], keepDims: false)         // [B·heads, d, Nq]
            attended = try attended.map { try $0.add(levelSum) } ?? levelSum
        }
        guard let summed = attended else {
            throw TraceError(op: "GridSample", scope: m.tracer.scope, location: SourceLocation(file: #fileID, line: #line),
                             inputTypes: [value.type], message: "deformable attention needs at least one feature level")
        }
        let output = try summed.reshape([b, dim, nq]).transpose([0, 2, 1])
        return try Linear(m, "output_proj", in: output.dims.last ?? 0, out: dim)(output).add(query)
    }
}

/// torch.nn.MultiheadAttention (batch first) as detrex's `MultiheadAttention` wrapper uses it
/// for the decoder's self-attention: queries and keys are `x + pos`, values `x`; the packed
/// `attn.in_proj_weight` [3D, D] holds Wq, Wk, Wv in that order; heads of D/heads channels,
/// scores scaled by 1/√(D/heads), softmax over keys, `attn.out_proj`; the result is added to
/// `x` (the identity).
func multiheadSelfAttention(_ m: ModelContext, _ name: String, _ x: SymbolicTensor, pos: SymbolicTensor,
                            heads: Int) throws -> SymbolicTensor {
    try m.scope(name) {
        let (b, n, dim) = (x.dims[0], x.dims[1], x.dims[2])
        let d = dim / heads
        let projected = try m.scope("attn") { () throws -> (SymbolicTensor, SymbolicTensor, SymbolicTensor) in
            let w = try m.parameter("in_proj_weight", [3 * dim, dim], .normal(std: 1 / Float(dim).squareRoot()))
            let bias = try m.parameter("in_proj_bias", [3 * dim], .normal(std: 0.02))
            let ws = try w.split(axis: 0, sizes: [dim, dim, dim])
            let bs = try bias.split(axis: 0, sizes: [dim, dim, dim])
            let qk = try x.add(pos)
            func project(_ input: SymbolicTensor, _ k: Int) throws -> SymbolicTensor {
                try input.matmul(ws[k].transpose([1, 0])).add(bs[k])
                    .reshape([b, n, heads, d]).transpose([0, 2, 1, 3])
            }
            return (try project(qk, 0), try project(qk, 1), try project(x, 2))
        }
        let (q, k, v) = projected
        let scores = try q.mul(Float((1 / Double(d)).squareRoot())).matmul(k.transpose([0, 1, 3, 2])).softmax(axis: -1)
        let mixed = try scores.matmul(v).transpose([0, 2, 1, 3]).reshape([b, n, dim])
        return try Linear(m, "attn.out_proj", in: mixed.dims.last ?? 0, out: dim)(mixed).add(x)
    }
}
