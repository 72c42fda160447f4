import Foundation
import VitIR

/// The flattened multi-level token layout: levels in pyramid order, each row-major.
struct LevelLayout {
    var shapes: [(Int, Int)]
    var tokens: Int { shapes.reduce(0) { $0 + $1.0 * $1.1 } }

    /// detrex `get_reference_points` with valid ratios 1: token (i, j) of a level of size
    /// (H, W) looks at ((j + 0.5) / W, (i + 0.5) / H). [1, S, 2].
    func encoderReferencePoints() -> Tensor {
        var values: [Float] = []
        values.reserveCapacity(tokens * 2)
        for (h, w) in shapes {
            for i in 0..<h { for j in 0..<w { values += [(Float(j) + 0.5) / Float(w), (Float(i) + 0.5) / Float(h)] } }
        }
        return Tensor(values, shape: [1, tokens, 2])
    }

    /// detrex `gen_encoder_output_proposals` with nothing masked: token (i, j) of level l
    /// proposes the box (cx, cy, w, h) = ((j + 0.5)/W, (i + 0.5)/H, 0.05·2^l, 0.05·2^l),
    /// valid only when every coordinate lies strictly inside (0.01, 0.99). Returns the
    /// proposals as logits log(p / (1 − p)) [1, S, 4], +∞ where invalid, and the validity
    /// [1, S, 1]. Float32 arithmetic in torch's order.
    func proposals() -> (logits: Tensor, valid: Tensor) {
        var logits: [Float] = [], valid: [Bool] = []
        logits.reserveCapacity(tokens * 4)
        valid.reserveCapacity(tokens)
        for (level, (h, w)) in shapes.enumerated() {
            let size = Float(0.05) * Float(1 << level)
            for i in 0..<h {
                for j in 0..<w {
                    let box: [Float] = [(Float(j) + 0.5) / Float(w), (Float(i) + 0.5) / Float(h), size, size]
                    let ok = box.allSatisfy { $0 > Float(0.01) && $0 < Float(0.99) }
                    valid.append(ok)
                    logits += box.map { ok ? Foundation.log($0 / (1 - $0)) : .infinity }
                }
            }
        }
        return (Tensor(logits, shape: [1, tokens, 4]), Tensor(valid, shape: [1, tokens, 1]))
    }
}

/// detrex's `MLP`: `layers.<k>` linears with ReLU between them (none after the last).
struct PerceptronModule {
    var name: String
    var layers: [Linear]

    init(_ m: ModelContext, _ name: String, in inFeatures: Int, hidden: Int, out: Int, layers count: Int) throws {
        self.name = name
        layers = try m.scope(name) {
            try (0..<count).map { k in
                try Linear(m, "layers.\(k)", in: k == 0 ? inFeatures : hidden, out: k == count - 1 ? out : hidden)
            }
        }
    }

    func callAsFunction(_ x: SymbolicTensor) throws -> SymbolicTensor {
        try x.tracer.scope(name) {
            var y = x
            for (k, layer) in layers.enumerated() {
                y = try layer(y)
                if k < layers.count - 1 { y = try y.relu() }
            }
            return y
        }
    }
}

/// detrex's `FFN` as the DINO layers use it: `layers.0.0` (D → ffn) with ReLU, `layers.1`
/// (ffn → D), added to the input.
func feedForward(_ m: ModelContext, _ name: String, _ x: SymbolicTensor, hidden: Int) throws -> SymbolicTensor {
    try m.scope(name) {
        let h = try Linear(m, "layers.0.0", in: x.dims.last ?? 0, out: hidden)(x).relu()
        return try Linear(m, "layers.1", in: h.dims.last ?? 0, out: x.dims[2])(h).add(x)
    }
}

/// detrex's `inverse_sigmoid(x, eps=1e-3)`: log(max(x, eps) / max(1 − x, eps)) after clamping
/// x to [0, 1].
func inverseSigmoid(_ x: SymbolicTensor, eps: Float = 1e-3) throws -> SymbolicTensor {
    let clamped = try x.clip(min: 0, max: 1)
    let numerator = try clamped.clip(min: eps, max: nil)
    let denominator = try clamped.scalar(1).sub(clamped).clip(min: eps, max: nil)
    return try numerator.div(denominator).log()
}

/// Intermediate values of the DINO transformer.
struct DINOTransformerOutputs {
    var memory: SymbolicTensor
    /// Each encoder token's maximum class logit [B, S], which the query selection ranks.
    var proposalScores: SymbolicTensor
    /// The encoder tokens the decoder's queries start from [B, Q] (int64): the top-k by
    /// `proposalScores`, or the forced indices.
    var topkIndices: SymbolicTensor
    var initialReference: SymbolicTensor
    /// Per decoder layer: the normed state [B, Q, D] and the refined reference [B, Q, 4].
    var states: [SymbolicTensor]
    var references: [SymbolicTensor]
}

/// DINO's prediction heads (scope: the detector's root): `class_embed.<k>` (Linear D → classes)
/// and `bbox_embed.<k>` (3-layer MLP D → D → D → 4) for k in 0...L, L = decoder layers;
/// k < L serve decoder layer k, k = L the encoder's proposals. detrex also stores them as
/// `transformer.decoder.class_embed.<k>`/`bbox_embed.<k>` (the same modules).
/// `class_embed.<k>` for k < L − 1 only feed training's auxiliary losses and are not traced.
struct DINOHeads {
    /// `bbox_embed.<k>` for k in 0...L.
    var bboxEmbed: [PerceptronModule] = []
    /// `class_embed.<L − 1>`: the last decoder layer's classes.
    var finalClass: Linear
    /// `class_embed.<L>`: the encoder proposals' classes.
    var encoderClass: Linear

    init(_ m: ModelContext, embedDim dim: Int, numClasses: Int, decoderLayers: Int) throws {
        for k in 0...decoderLayers {
            bboxEmbed.append(try PerceptronModule(m, "bbox_embed.\(k)", in: dim, hidden: dim, out: 4, layers: 3))
        }
        finalClass = try Linear(m, "class_embed.\(decoderLayers - 1)", in: dim, out: numClasses)
        encoderClass = try Linear(m, "class_embed.\(decoderLayers)", in: dim, out: numClasses)
    }
}

/// detrex's `DINOTransformer` at inference (scope `transformer`) on the neck's levels.
///
/// - Encoder: tokens flattened per level; positions = sine embedding + `level_embeds[l]`
///   (constants folded at export); post-norm layers of deformable self-attention (query
///   with position, value without) and FFN.
/// - Two-stage proposals: memory zeroed at invalid proposals, `enc_output` + `enc_output_norm`,
///   the heads' encoder entries; the top-`num_queries` tokens by their maximum class logit;
///   their proposal boxes (head output + proposal logit, sigmoid) are the initial references.
/// - Decoder: learnt content queries `tgt_embed`; per layer, `query_pos =
///   ref_point_head(sine(cy, cx, w, h of the reference))`, self-attention, deformable
///   cross-attention on the memory around the reference box, FFN (post-norm); the
///   reference is refined by `bbox_embed[layer]` of the un-normed output, while the
///   returned state is `decoder.norm` of it. `refineLast` false skips the last layer's
///   refinement, which inference discards.
///
/// `forcedProposals` [B, Q] (int64), when given, replaces the top-k's indices as the tokens
/// whose proposal boxes become the initial references (teacher forcing); the top-k is then
/// not traced. Indices lie in [−S, S), S = encoder tokens (ONNX GatherElements: negative
/// counts from the end); others fail at run time in that GatherElements.
func dinoTransformer(_ m: ModelContext, _ levels: [SymbolicTensor], config t: DINOTransformerConfig,
                     heads: DINOHeads, refineLast: Bool,
                     forcedProposals: SymbolicTensor? = nil) throws -> DINOTransformerOutputs {
    let b = levels[0].dims[0]
    let dim = t.embedDim
    let layout = LevelLayout(shapes: levels.map { ($0.dims[2], $0.dims[3]) })

    let position = try m.scope("transformer") {
        let levelEmbeds = try m.parameter("level_embeds", [layout.shapes.count, dim], .normal(std: 1))
        return try concat(layout.shapes.enumerated().map { l, shape in
            let table = m.tracer.constant(Tensor(sinePositionTable(height: shape.0, width: shape.1, features: dim / 2),
                                                 shape: [1, shape.0 * shape.1, dim]), name: m.tracer.qualified("sine_position.\(l)"))
            return try table.add(levelEmbeds.slice(axis: 0, start: l, end: l + 1).unsqueeze([0]))
        }, axis: 1)
    }
    let tokens = try m.scope("transformer") {
        try concat(levels.map { try $0.reshape([b, dim, -1]).transpose([0, 2, 1]) }, axis: 1)
    }
    let memory = try m.scope("transformer.encoder") {
        try dinoEncoder(m, tokens, position: position, layout: layout, config: t)
    }
    let selection = try m.scope("transformer") {
        try selectProposals(m, memory, layout: layout, heads: heads, config: t, forced: forcedProposals)
    }
    let (states, references) = try m.scope("transformer") {
        try dinoDecoder(m, memory: memory, initialReference: selection.initialReference, layout: layout,
                        heads: heads, config: t, refineLast: refineLast)
    }
    return DINOTransformerOutputs(memory: memory, proposalScores: selection.scores, topkIndices: selection.indices,
                                  initialReference: selection.initialReference, states: states, references: references)
}

/// The encoder's post-norm layers `layers.<i>` (scope: the caller's, `transformer.encoder`):
/// deformable self-attention around each token's own point (query with `position`, value
/// without), `norms.0`, FFN, `norms.1`. Returns the memory [B, S, D].
private func dinoEncoder(_ m: ModelContext, _ tokens: SymbolicTensor, position: SymbolicTensor, layout: LevelLayout,
                         config t: DINOTransformerConfig) throws -> SymbolicTensor {
    let referencePoints = m.tracer.constant(layout.encoderReferencePoints(), name: m.tracer.qualified("reference_points"))
    var memory = tokens
    for i in 0..<t.encoderLayers {
        memory = try m.scope("layers.\(i)") {
            var x = try multiScaleDeformableAttention(
                m, "attentions.0", query: memory, queryPos: position, value: memory,
                reference: .points(referencePoints), spatialShapes: layout.shapes,
                heads: t.numHeads, points: t.numPoints)
            x = try LayerNormModule(m, "norms.0", channels: t.embedDim, eps: t.layerNormEps)(x)
            x = try feedForward(m, "ffns.0", x, hidden: t.ffnDim)
            return try LayerNormModule(m, "norms.1", channels: t.embedDim, eps: t.layerNormEps)(x)
        }
    }
    return memory
}

/// The two-stage query selection's result.
private struct ProposalSelection {
    /// Each encoder token's maximum class logit [B, S].
    var scores: SymbolicTensor
    /// The selected tokens [B, Q] (int64): the top-k by `scores`, or the forced indices.
    var indices: SymbolicTensor
    /// The selected tokens' proposal boxes [B, Q, 4] (cx, cy, w, h, normalized).
    var initialReference: SymbolicTensor
}

/// Two-stage proposals (scope: the caller's, `transformer`): memory zeroed at invalid
/// proposals, `enc_output` + `enc_output_norm`, the heads' encoder entries; the top-Q tokens
/// by their maximum class logit (or `forced`) and their boxes, head output + proposal logit
/// through a sigmoid.
private func selectProposals(_ m: ModelContext, _ memory: SymbolicTensor, layout: LevelLayout, heads: DINOHeads,
                             config t: DINOTransformerConfig, forced: SymbolicTensor?) throws -> ProposalSelection {
    let (b, dim) = (memory.dims[0], t.embedDim)
    let (proposalLogits, proposalValid) = layout.proposals()
    let valid = m.tracer.constant(proposalValid, name: m.tracer.qualified("proposal_valid"))
    let kept = try m.tracer.apply(.where, [valid, memory, memory.scalar(0)])[0]
    let projected = try Linear(m, "enc_output", in: kept.dims.last ?? 0, out: dim)(kept)
    let outputMemory = try LayerNormModule(m, "enc_output_norm", channels: dim, eps: t.layerNormEps)(projected)
    let classes = try heads.encoderClass(outputMemory)
    let proposals = m.tracer.constant(proposalLogits, name: m.tracer.qualified("proposals"))
    let coordinates = try heads.bboxEmbed[t.decoderLayers](outputMemory).add(proposals)
    let scores = try classes.reduceMax([2], keepDims: false)
    let topk = try forced ?? scores.topK(t.numQueries, axis: 1).indices                    // [B, Q]
    let index = try topk.unsqueeze([2]).expand([b, t.numQueries, 4])
    let selected = try m.tracer.apply(.gatherElements(axis: 1), [coordinates, index])[0]
    return ProposalSelection(scores: scores, indices: topk, initialReference: try selected.sigmoid())
}

/// The decoder (scope: the caller's, `transformer`): learnt content queries `tgt_embed`;
/// per layer `decoder.layers.<i>`, `query_pos = ref_point_head(sine(reference))`,
/// self-attention, deformable cross-attention on `memory` around the reference box, FFN
/// (post-norm); the reference is refined by `bbox_embed[i]` of the un-normed output (not
/// after the last layer unless `refineLast`). Returns per layer the `decoder.norm`ed state
/// and the refined reference.
private func dinoDecoder(_ m: ModelContext, memory: SymbolicTensor, initialReference: SymbolicTensor,
                         layout: LevelLayout, heads: DINOHeads, config t: DINOTransformerConfig,
                         refineLast: Bool) throws -> (states: [SymbolicTensor], references: [SymbolicTensor]) {
    let (b, dim) = (memory.dims[0], t.embedDim)
    let queries = try m.parameter("tgt_embed.weight", [t.numQueries, dim], .normal(std: 1)).unsqueeze([0])
    var output = try b == 1 ? queries.expand([b, t.numQueries, dim]) : broadcastBatch(queries, like: initialReference)
    return try m.scope("decoder") {
        let refPointHead = try PerceptronModule(m, "ref_point_head", in: 2 * dim, hidden: dim, out: dim, layers: 2)
        let norm = try LayerNormModule(m, "norm", channels: dim, eps: t.layerNormEps)
        let sine = BoxSineEmbedding(m, features: dim / 2)
        var reference = initialReference
        var states: [SymbolicTensor] = [], references: [SymbolicTensor] = []
        for i in 0..<t.decoderLayers {
            let queryPos = try refPointHead(sine(reference))
            output = try m.scope("layers.\(i)") {
                var x = try multiheadSelfAttention(m, "attentions.0", output, pos: queryPos, heads: t.numHeads)
                x = try LayerNormModule(m, "norms.0", channels: dim, eps: t.layerNormEps)(x)
                x = try multiScaleDeformableAttention(
                    m, "attentions.1", query: x, queryPos: queryPos, value: memory,
                    reference: .boxes(reference), spatialShapes: layout.shapes,
                    heads: t.numHeads, points: t.numPoints)
                x = try LayerNormModule(m, "norms.1", channels: dim, eps: t.layerNormEps)(x)
                x = try feedForward(m, "ffns.0", x, hidden: t.ffnDim)
                return try LayerNormModule(m, "norms.2", channels: dim, eps: t.layerNormEps)(x)
            }
            states.append(try norm(output))
            if i < t.decoderLayers - 1 || refineLast {
                reference = try heads.bboxEmbed[i](output).add(inverseSigmoid(reference)).sigmoid()
                references.append(reference)
            }
        }
        return (states, references)
    }
}
