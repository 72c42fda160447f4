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
    convertOriginalDINOv2Layout(tensors, shape: \.shape, isFloat: \.dtype.isFloatingPoint) { cls, pos in
        let d = cls.shape[2]
        let posValues = pos.floats
        let clsValues = cls.floats
        return (Tensor((0..<d).map { clsValues[$0] + posValues[$0] }, shape: [1, 1, d]),
                Tensor(Array(posValues[d...]), shape: [1, pos.shape[1] - 1, d]))
    }
}

/// `convertOriginalDINOv2` for entries of any kind (tensors, or shapes alone for a dry run):
/// the same renames and the same conditions; `registers` makes the new cls token and position
/// table from the original ones (shapes already checked).
func convertOriginalDINOv2Layout<V>(_ entries: [String: V], shape: (V) -> [Int], isFloat: (V) -> Bool,
                                    registers: (_ cls: V, _ pos: V) -> (cls: V, pos: V)) -> [String: V] {
    var out: [String: V] = [:]
    var rest = entries
    rest["mask_token"] = nil
    if let reg = rest["register_tokens"], let cls = rest["cls_token"], let pos = rest["pos_embed"] {
        let (c, p) = (shape(cls), shape(pos))
        if c.count == 3, p.count == 3, c[0] == 1, c[1] == 1, p[0] == 1, p[1] >= 1, p[2] == c[2], isFloat(cls), isFloat(pos) {
            let converted = registers(cls, pos)
            out["reg_token"] = reg
            out["cls_token"] = converted.cls
            out["pos_embed"] = converted.pos
            rest["register_tokens"] = nil
            rest["cls_token"] = nil
            rest["pos_embed"] = nil
        }
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
