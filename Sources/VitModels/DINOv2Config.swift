/// A DINOv2 ViT backbone as timm builds it (`vit_*_patch14_dinov2`, `vit_*_patch14_reg4_dinov2`
/// in `timm/models/vision_transformer.py`), adapted to an export patch size and image size the
/// way timm's `checkpoint_filter_fn` adapts a checkpoint, and cut where detrex's
/// `TimmBackbone(features_only=True, out_indices=(-1,))` hands features to the pyramid.
public struct DINOv2Config: Sendable, Equatable, Decodable {
    /// How the checkpoint's patch kernel is brought to `exportPatchSize`.
    public enum PatchResample: String, Sendable, Equatable, Decodable {
        /// FlexiViT / timm `resample_patch_embed`: the kernel times the pseudo-inverse of the
        /// antialiased-bicubic resize matrix, so ⟨resize(x), w′⟩ ≈ ⟨x, w⟩ for every patch x.
        case pinv
        /// EVA's `interpolate_patch_14to16`: the kernel itself resized with plain bicubic
        /// (torch `interpolate(mode="bicubic", align_corners=False)`, no antialias).
        case bicubic
        /// No resampling: the checkpoint's kernel already has the export patch size.
        case none
    }

    /// The MLP of each block.
    public enum MLPLayer: String, Sendable, Equatable, Decodable {
        /// timm `Mlp`: fc1 → GELU (erf) → fc2.
        case mlp
        /// timm `SwiGLUPacked` (original DINOv2 `SwiGLUFFNFused`): fc1 → split in halves
        /// (x₁, x₂) → SiLU(x₁)·x₂ → fc2.
        case swigluPacked = "swiglu_packed"
    }

    public var inChannels: Int
    public var embedDim: Int
    public var depth: Int
    public var numHeads: Int
    public var mlpLayer: MLPLayer
    /// Output features of fc1 (for `swiglu_packed` both halves together).
    public var mlpHiddenDim: Int
    /// Register tokens (timm `reg_tokens`), placed after the cls token.
    public var regTokens: Int
    /// timm `no_embed_class`: the position table covers patches only and is added before the
    /// prefix tokens are prepended.
    public var noEmbedClass: Bool
    /// LayerScale after attention and MLP (`ls1.gamma`, `ls2.gamma`).
    public var layerScale: Bool
    public var layerNormEps: Float
    /// Patch size of the checkpoint's kernel (`patch_embed.proj.weight` [D, C, p, p]).
    public var patchSize: Int
    /// Patch size of the exported model.
    public var exportPatchSize: Int
    public var patchResample: PatchResample
    /// [rows, cols] of the checkpoint's position table (without prefix entries).
    public var posEmbedGrid: [Int]
    /// [rows, cols] timm's model was constructed with (`img_size // patch_size`), when it
    /// differs from the image's grid: the checkpoint filter resamples the table to it at load,
    /// then `dynamic_img_size` resamples again to the image's grid at run time.
    public var posEmbedLoadGrid: [Int]?
    /// The block whose output the pyramid consumes (negative counts from the end, timm's
    /// `out_indices`); later blocks are not traced.
    public var outIndex: Int
    /// Whether the final `norm` is applied (timm's features_only prunes it: false).
    public var finalNorm: Bool

    /// Prefix tokens in the sequence: cls, then the registers.
    public var prefixTokens: Int { 1 + regTokens }
    /// Prefix entries in the position table.
    public var posEmbedPrefix: Int { noEmbedClass ? 0 : prefixTokens }
    /// Number of blocks traced (through `outIndex`).
    public var tracedDepth: Int { outIndex < 0 ? depth + outIndex + 1 : outIndex + 1 }

    /// Relations the schema cannot state, each naming the key and the fix.
    func problems(imageSize: [Int]) -> [String] {
        var problems: [String] = []
        if embedDim % numHeads != 0 {
            problems.append("dinov2.num_heads: \(numHeads) does not divide embed_dim \(embedDim)")
        }
        for (axis, extent) in zip(["height", "width"], imageSize) where extent % exportPatchSize != 0 {
            problems.append("image_size: \(axis) \(extent) is not divisible by dinov2.export_patch_size \(exportPatchSize)")
        }
        if patchResample == .none && patchSize != exportPatchSize {
            problems.append("dinov2.patch_resample: \"none\" needs patch_size \(patchSize) == export_patch_size \(exportPatchSize); choose \"pinv\" or \"bicubic\"")
        }
        if mlpLayer == .swigluPacked && mlpHiddenDim % 2 != 0 {
            problems.append("dinov2.mlp_hidden_dim: \(mlpHiddenDim) must be even for swiglu_packed (two halves)")
        }
        if !(-depth..<depth).contains(outIndex) {
            problems.append("dinov2.out_index: \(outIndex) is not a block index for depth \(depth) (use \(-depth)…\(depth - 1))")
        }
        return problems
    }
}
