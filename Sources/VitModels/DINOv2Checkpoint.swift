import VitIR

/// Converts a checkpoint in the original DINOv2 release layout (facebookresearch/dinov2
/// `DinoVisionTransformer`) to timm's `VisionTransformer` layout, with the same arithmetic as
/// timm's `_convert_dinov2`:
/// - `mask_token` is dropped (only used for masked-image pre-training);
/// - with `register_tokens` [1, R, D]: it becomes `reg_token`; the original adds the registers
///   after the position embedding and keeps a cls slot in `pos_embed` [1, 1+HW, D], so timm's
///   `no_embed_class` layout gets `cls_token + pos_embed[:, 0]` as its cls token and
///   `pos_embed[:, 1:]` as its table;
/// - `blocks.N.mlp.w12` / `blocks.N.mlp.w3` (the fused SwiGLU of ViT-g) become `mlp.fc1` /
///   `mlp.fc2`.
/// All other names (`blocks.N.ls1.gamma`, `patch_embed.proj`, `attn.qkv`, …) are already timm's.
/// Tensors whose shapes do not allow the register conversion are left as they are, so strict
/// binding reports them.
public func convertOriginalDINOv2(_ tensors: [String: Tensor]) -> [String: Tensor] {
    var out: [String: Tensor] = [:]
    var rest = tensors
    rest["mask_token"] = nil
    if let registers = rest["register_tokens"], let cls = rest["cls_token"], let pos = rest["pos_embed"],
       cls.shape.count == 3, pos.shape.count == 3, cls.shape[0] == 1, cls.shape[1] == 1, pos.shape[0] == 1,
       pos.shape[1] >= 1, pos.shape[2] == cls.shape[2], cls.dtype.isFloatingPoint, pos.dtype.isFloatingPoint {
        let d = cls.shape[2]
        let posValues = pos.floats
        let clsValues = cls.floats
        out["reg_token"] = registers
        out["cls_token"] = Tensor((0..<d).map { clsValues[$0] + posValues[$0] }, shape: [1, 1, d])
        out["pos_embed"] = Tensor(Array(posValues[d...]), shape: [1, pos.shape[1] - 1, d])
        rest["register_tokens"] = nil
        rest["cls_token"] = nil
        rest["pos_embed"] = nil
    }
    for (key, t) in rest {
        out[renamedOriginalMLPKey(key) ?? key] = t
    }
    return out
}

/// `blocks.N.mlp.w12.{weight,bias}` → `…mlp.fc1.…`, `blocks.N.mlp.w3.…` → `…mlp.fc2.…`.
private func renamedOriginalMLPKey(_ key: String) -> String? {
    let parts = key.split(separator: ".", omittingEmptySubsequences: false)
    guard parts.count == 5, parts[0] == "blocks", Int(parts[1]) != nil, parts[2] == "mlp",
          parts[4] == "weight" || parts[4] == "bias" else { return nil }
    switch parts[3] {
    case "w12": return "blocks.\(parts[1]).mlp.fc1.\(parts[4])"
    case "w3": return "blocks.\(parts[1]).mlp.fc2.\(parts[4])"
    default: return nil
    }
}
