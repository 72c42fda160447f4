import VitIR

// Fast path of Concat (Kernels/Shape.swift).
//
// Applies when: the output is not empty (any dtype, rank and axis; inputs with an empty
// extent along the axis are allowed).
// Tolerance class vs `concatReference`: bit-exact (bytes are copied, never converted).
// Pinned by FastPathTests.concatBlockCopy.

/// Concat along the normalized axis `a`: each output row (the axes before `a`) is the inputs'
/// rows side by side, copied as byte blocks in tiles of rows, split over cores by rows.
func concatBlockCopy(_ inputs: [Tensor], axis a: Int, _ out: TensorType) -> Tensor {
    let outShape = out.shape.ints ?? []
    let outer = outShape[..<a].reduce(1, *)
    let inner = outShape[(a + 1)...].reduce(1, *) * out.dtype.byteSize
    let blocks = inputs.map { $0.shape[a] * inner }
    let rowBytes = outShape[a] * inner
    return Tensor(dtype: out.dtype, shape: outShape) { raw in
        guard let dst = raw.baseAddress, rowBytes > 0 else { return }
        // Tiles of about 16 KB of output, so each output cache line is filled while cached.
        let tile = Swift.max(1, (1 << 14) / rowBytes)
        parallelChunks(outer, grain: Swift.max(1, (1 << 18) / rowBytes)) { rows in
            for start in stride(from: rows.lowerBound, to: rows.upperBound, by: tile) {
                let tileRows = start..<Swift.min(start + tile, rows.upperBound)
                var column = 0
                for (t, block) in zip(inputs, blocks) {
                    copyRows(tileRows, from: t.rawPointer, stride: block, to: dst + column, stride: rowBytes, byteCount: block)
                    column += block
                }
            }
        }
    }
}

/// Copies `byteCount` bytes per row for `rows`, from `src + row·srcStride` to
/// `dst + row·dstStride`; short rows copy word by word instead of calling memcpy per row.
private func copyRows(_ rows: Range<Int>, from src: UnsafeRawPointer, stride srcStride: Int,
                      to dst: UnsafeMutableRawPointer, stride dstStride: Int, byteCount: Int) {
    guard byteCount > 0 else { return }
    let aligned = (Int(bitPattern: src) | Int(bitPattern: dst) | srcStride | dstStride | byteCount) % 4 == 0
    if byteCount >= 128 || !aligned {
        for r in rows { (dst + r * dstStride).copyMemory(from: src + r * srcStride, byteCount: byteCount) }
        return
    }
    let words = byteCount / 4, s = src.assumingMemoryBound(to: UInt32.self), d = dst.assumingMemoryBound(to: UInt32.self)
    let ss = srcStride / 4, ds = dstStride / 4
    for r in rows {
        for j in 0..<words { d[r * ds + j] = s[r * ss + j] }
    }
}
