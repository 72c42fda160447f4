import VitIR

/// Index values of an int64 or int32 tensor, resolved against `extent` (negative counts from
/// the end); an index outside [-extent, extent) throws.
func resolvedIndices(_ indices: Tensor, extent: Int, axis: Int) throws -> [Int] {
    try withInts(indices) { raw in
        try raw.map { v in
            let i = v < 0 ? Int(v) + extent : Int(v)
            guard i >= 0, i < extent else {
                throw KernelError(.invalidInput, "index \(v) out of range for axis \(axis) of extent \(extent)")
            }
            return i
        }
    }
}

/// ONNX Gather: out[a₀…, i…, b…] = data[a₀…, indices[i…], b…] along `axis`. Any data dtype;
/// negative indices count from the end; out-of-range indices throw. Exact.
func gather(_ data: Tensor, _ indices: Tensor, axis: Int, _ out: TensorType) throws -> Tensor {
    let a = try normalizeAxis(axis, rank: data.shape.count)
    let extent = data.shape[a]
    let idx = try resolvedIndices(indices, extent: extent, axis: a)
    let outer = data.shape[..<a].reduce(1, *)
    let block = data.shape[(a + 1)...].reduce(1, *) * data.dtype.byteSize
    return Tensor(dtype: data.dtype, shape: out.shape.ints ?? []) { raw in
        guard let dst = raw.baseAddress else { return }
        var k = 0
        for o in 0..<outer {
            for i in idx {
                (dst + k).copyMemory(from: data.rawPointer + (o * extent + i) * block, byteCount: block)
                k += block
            }
        }
    }
}

/// ONNX GatherElements: out[i] = data[i with axis coordinate replaced by indices[i]]. Any data
/// dtype; negative indices count from the end; out-of-range indices throw. Exact.
func gatherElements(_ data: Tensor, _ indices: Tensor, axis: Int) throws -> Tensor {
    let a = try normalizeAxis(axis, rank: data.shape.count)
    let idx = try resolvedIndices(indices, extent: data.shape[a], axis: a)
    let strides = rowMajorStrides(data.shape)
    var offsets: [Int] = []
    offsets.reserveCapacity(idx.count)
    var k = 0
    forEachIndex(indices.shape) { position in
        var o = 0
        for d in position.indices { o += (d == a ? idx[k] : position[d]) * strides[d] }
        offsets.append(o)
        k += 1
    }
    let flat = try reshaped(data, [data.count])
    return try reshaped(gatherAxes(flat, outShape: [offsets.count], tables: [offsets]), indices.shape)
}
