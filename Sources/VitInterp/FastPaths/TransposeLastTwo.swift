import VitIR

// Fast path of Transpose (Kernels/Shape.swift).
//
// Applies when: the permutation swaps the last two axes and keeps the others in place
// ([…, m, n] → […, n, m]; a Linear weight's transpose, attention's Kᵀ), for any dtype.
// Tolerance class vs `transposeReference`: bit-exact (elements are copied, never converted).
// Pinned by FastPathTests.transposeLastTwo.

/// Whether `transposeLastTwo` computes Transpose(`perm`).
func transposeLastTwoApplies(_ perm: [Int]) -> Bool {
    let r = perm.count
    return r >= 2 && perm[r - 2] == r - 1 && perm[r - 1] == r - 2 && perm.dropLast(2).enumerated().allSatisfy { $0 == $1 }
}

/// Transpose of the last two axes in square tiles, so reads and writes both stay within a
/// few cache lines per tile (the general kernel reads a column at a cache line per element);
/// matrices are split over cores.
func transposeLastTwo(_ x: Tensor) -> Tensor {
    let r = x.shape.count
    let (m, n) = (x.shape[r - 2], x.shape[r - 1])
    var outShape = x.shape
    outShape.swapAt(r - 2, r - 1)
    let matrices = x.shape.dropLast(2).reduce(1, *)
    return Tensor.overwriting(x.dtype, outShape) { raw in
        guard let dst = raw.baseAddress, m > 0, n > 0 else { return }
        switch x.dtype.byteSize {
        case 1: transposeTiles(UInt8.self, x.rawPointer, dst, matrices, m, n)
        case 2: transposeTiles(UInt16.self, x.rawPointer, dst, matrices, m, n)
        case 4: transposeTiles(UInt32.self, x.rawPointer, dst, matrices, m, n)
        default: transposeTiles(UInt64.self, x.rawPointer, dst, matrices, m, n)
        }
    }
}

private func transposeTiles<T>(_: T.Type, _ srcRaw: UnsafeRawPointer, _ dstRaw: UnsafeMutableRawPointer,
                               _ matrices: Int, _ m: Int, _ n: Int) {
    let src = srcRaw.assumingMemoryBound(to: T.self)
    let dst = dstRaw.assumingMemoryBound(to: T.self)
    let tile = 32
    let rowTiles = (m + tile - 1) / tile
    // Work items: (matrix, row tile); each writes its own columns of the output.
    parallelChunks(matrices * rowTiles, grain: Swift.max(1, (1 << 15) / Swift.max(1, tile * n))) { items in
        for item in items {
            let b = item / rowTiles, i0 = (item % rowTiles) * tile
            let s = src + b * m * n, d = dst + b * m * n
            let i1 = Swift.min(i0 + tile, m)
            for j0 in stride(from: 0, to: n, by: tile) {
                let j1 = Swift.min(j0 + tile, n)
                for i in i0..<i1 {
                    for j in j0..<j1 { d[j * m + i] = s[i * n + j] }
                }
            }
        }
    }
}
