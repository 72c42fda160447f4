import VitIR

// Weight resampling as graph ops. Every function here emits ops over parameters only, so the
// traced graph shows the resampling (`vitexport dump --stage traced`) and constant folding
// turns it into one initializer before export.

extension ResizeAttributes {
    /// torch `F.interpolate(mode="bicubic", align_corners=False, antialias=False)` to `sizes`:
    /// half-pixel source coordinates, Keys cubic with a = −0.75 on four taps, border pixels
    /// replicated (ATen `upsample_bicubic2d`).
    public static func torchBicubic(sizes: [Int]) -> ResizeAttributes {
        ResizeAttributes(sizes: sizes, mode: .cubic, coordinateTransformation: .halfPixel, cubicCoeffA: -0.75)
    }

    /// torch `F.interpolate(mode="bicubic", align_corners=False, antialias=True)` to `sizes`
    /// (ATen `_upsample_bicubic2d_aa`): Keys cubic with a = −0.5, stretched by in/out when
    /// downsampling, window truncated at the borders and weights renormalised to sum 1 — ONNX
    /// Resize with antialias = 1, cubic_coeff_a = −0.5, exclude_outside = 1.
    public static func torchBicubicAntialiased(sizes: [Int]) -> ResizeAttributes {
        ResizeAttributes(sizes: sizes, mode: .cubic, coordinateTransformation: .halfPixel, cubicCoeffA: -0.5,
                         excludeOutside: true, antialias: true)
    }
}

/// The resize matrix of torch's antialiased bicubic interpolation from an `old` [h, w] grid to
/// a `new` one, as timm's `_compute_resize_matrix`: [new_h·new_w, old_h·old_w], column j the
/// resized j-th one-hot image, both grids flattened row-major. Traced from an identity
/// constant through Resize, so the matrix is exactly what the Resize kernel computes.
public func antialiasedBicubicResizeMatrix(_ m: ModelContext, from old: [Int], to new: [Int],
                                           file: String = #fileID, line: Int = #line) throws -> SymbolicTensor {
    let n = old[0] * old[1]
    let eye = Tensor.float32([n, 1, old[0], old[1]]) { p in for j in 0..<n { p[j * n + j] = 1 } }
    let basis = m.tracer.constant(eye, name: m.tracer.qualified("resize_basis"))
    let resized = try m.tracer.apply(.resize(.torchBicubicAntialiased(sizes: [n, 1, new[0], new[1]])), [basis],
                                     file: file, line: line)[0]
    return try resized.reshape([n, new[0] * new[1]], file: file, line: line).transpose([1, 0], file: file, line: line)
}

/// A conv kernel [O, I, h, w] resampled to [O, I, size[0], size[1]] by `method`; the result
/// is named `<scope>.weight_resampled`. Returns `weight` itself when the sizes already agree
/// (timm's `resample_patch_embed` does the same).
///
/// - `.pinv`: FlexiViT (Beyer et al. 2023, §3.4) as timm's `resample_patch_embed`: with M the
///   antialiased-bicubic resize matrix, w′ = pinv(M)ᵀ·w per kernel slice (row-major
///   flattened), i.e. `W.reshape(O·I, hw) @ pinv(M)`.
/// - `.bicubic`: EVA's plain bicubic interpolation of the kernel.
/// - `.none`: the sizes must already agree.
public func resamplePatchKernel(_ m: ModelContext, _ weight: SymbolicTensor, to size: [Int],
                                method: DINOv2Config.PatchResample,
                                file: String = #fileID, line: Int = #line) throws -> SymbolicTensor {
    let (o, i, h, w) = (weight.dims[0], weight.dims[1], weight.dims[2], weight.dims[3])
    if [h, w] == size { return weight }
    let name = m.tracer.qualified("weight_resampled")
    switch method {
    case .none:
        throw TraceError(op: "ResamplePatchKernel", scope: m.tracer.scope, location: SourceLocation(file: file, line: line),
                         inputTypes: [weight.type], message: "a \(size) kernel without resampling (patch_resample is \"none\")")
    case .bicubic:
        return try m.tracer.apply(.resize(.torchBicubic(sizes: [o, i, size[0], size[1]])), [weight], name: name,
                                  file: file, line: line)[0]
    case .pinv:
        let resize = try antialiasedBicubicResizeMatrix(m, from: [h, w], to: size, file: file, line: line)
        let inverse = try m.tracer.apply(.pseudoInverse, [resize], file: file, line: line)[0]
        let flat = try weight.reshape([o * i, h * w], file: file, line: line).matmul(inverse, file: file, line: line)
        return try m.tracer.apply(.reshape(shape: [o, i, size[0], size[1]]), [flat], name: name, file: file, line: line)[0]
    }
}

/// An absolute position table [1, prefix + old_h·old_w, D] resampled to a `new` grid as timm's
/// `resample_abs_pos_embed`: the `prefix` leading entries (cls/register slots) are kept, the
/// grid (row-major tokens) is resized with antialiased bicubic as [1, D, h, w], and the two
/// are concatenated again. Returns `table` unchanged when the grids agree. `name`, when given,
/// names the result (so the folded table keeps a checkpoint-derived name).
public func resamplePositionTable(_ m: ModelContext, _ table: SymbolicTensor, prefix: Int, from old: [Int], to new: [Int],
                                  name: String? = nil, file: String = #fileID, line: Int = #line) throws -> SymbolicTensor {
    if old == new { return table }
    let d = table.dims[2]
    let end = table.dims[1]
    let grid = prefix == 0 ? table : try table.slice(axis: 1, start: prefix, end: end, file: file, line: line)
    let image = try grid.reshape([1, old[0], old[1], d], file: file, line: line).transpose([0, 3, 1, 2], file: file, line: line)
    let resized = try m.tracer.apply(.resize(.torchBicubicAntialiased(sizes: [1, d, new[0], new[1]])), [image],
                                     file: file, line: line)[0]
    let channelsLast = try resized.transpose([0, 2, 3, 1], file: file, line: line)
    let tokens = try m.tracer.apply(.reshape(shape: [1, new[0] * new[1], d]), [channelsLast],
                                    name: prefix > 0 ? nil : name, file: file, line: line)[0]
    guard prefix > 0 else { return tokens }
    let head = try table.slice(axis: 1, start: 0, end: prefix, file: file, line: line)
    return try m.tracer.apply(.concat(axis: 1), [head, tokens], name: name, file: file, line: line)[0]
}
