/// Numpy broadcasting of up to three row-major operands onto an output shape, walked in
/// output order. Adjacent axes are merged where every operand is contiguous (or broadcast)
/// across them, so a same-shape or bias-add broadcast walks a 1- or 2-d space. Along the
/// innermost merged axis each operand's stride is 0 (broadcast) or 1.
struct BroadcastWalk {
    /// Merged output extents (rank ≥ 1).
    private(set) var shape: [Int] = []
    /// Per operand, element strides over `shape`.
    private(set) var strides: [[Int]]
    let count: Int

    init(outShape: [Int], operands: [[Int]]) {
        count = outShape.reduce(1, *)
        let full = operands.map { broadcastStrides($0, to: outShape) }
        strides = Array(repeating: [], count: operands.count)
        for axis in outShape.indices where outShape[axis] != 1 {
            let extent = outShape[axis]
            let mergeable = !shape.isEmpty && full.indices.allSatisfy { k in
                strides[k][strides[k].count - 1] == full[k][axis] * extent
            }
            if mergeable {
                shape[shape.count - 1] *= extent
                for k in full.indices { strides[k][strides[k].count - 1] = full[k][axis] }
            } else {
                shape.append(extent)
                for k in full.indices { strides[k].append(full[k][axis]) }
            }
        }
        if shape.isEmpty {
            shape = [1]
            for k in full.indices { strides[k] = [0] }
        }
    }

    /// Innermost stride (0 or 1) of operand `k`.
    func innerStride(_ k: Int) -> Int { strides[k][shape.count - 1] }

    /// Calls `body(outStart, offset0, offset1, offset2, n)` for runs of `n` consecutive output
    /// elements within `range` along the innermost axis; offsets are the operands' element
    /// offsets at the run's start (0 for absent operands).
    @inline(__always)
    func forEachRun(in range: Range<Int>, _ body: (Int, Int, Int, Int, Int) -> Void) {
        guard !range.isEmpty else { return }
        let rank = shape.count
        var index = Array(repeating: 0, count: rank)
        var rest = range.lowerBound
        for axis in stride(from: rank - 1, through: 0, by: -1) {
            index[axis] = rest % shape[axis]
            rest /= shape[axis]
        }
        var position = range.lowerBound
        let inner = shape[rank - 1]
        while position < range.upperBound {
            var offsets = (0, 0, 0)
            for axis in 0..<rank {
                let i = index[axis]
                if strides.count > 0 { offsets.0 += i * strides[0][axis] }
                if strides.count > 1 { offsets.1 += i * strides[1][axis] }
                if strides.count > 2 { offsets.2 += i * strides[2][axis] }
            }
            let n = Swift.min(inner - index[rank - 1], range.upperBound - position)
            body(position, offsets.0, offsets.1, offsets.2, n)
            position += n
            index[rank - 1] += n
            var axis = rank - 1
            while axis > 0, index[axis] == shape[axis] {
                index[axis] = 0
                axis -= 1
                index[axis] += 1
            }
        }
    }

    /// Walks the whole output, on all cores when it is large.
    @inline(__always)
    func forEachRunParallel(_ body: (Int, Int, Int, Int, Int) -> Void) {
        parallelChunks(count) { range in forEachRun(in: range, body) }
    }
}

/// One run of a binary elementwise op: `out[j] = f(a[j·sa], b[j·sb])` for `j < n`, where each
/// stride is 0 (broadcast) or 1. Call it with a closure literal so `f` inlines into the loop.
@inline(__always)
func binaryRun<A, B, R>(_ a: UnsafePointer<A>, _ sa: Int, _ b: UnsafePointer<B>, _ sb: Int,
                        _ out: UnsafeMutablePointer<R>, _ n: Int, _ f: (A, B) -> R) {
    switch (sa, sb) {
    case (1, 1): for j in 0..<n { out[j] = f(a[j], b[j]) }
    case (1, _): let y = b[0]; for j in 0..<n { out[j] = f(a[j], y) }
    case (_, 1): let x = a[0]; for j in 0..<n { out[j] = f(x, b[j]) }
    default: out.update(repeating: f(a[0], b[0]), count: n)
    }
}

/// Walks two broadcast operands and calls `run(a, sa, b, sb, out, n)` per run (see `binaryRun`).
func forEachBinaryRun<A, B, R>(_ walk: BroadcastWalk, _ a: UnsafePointer<A>, _ b: UnsafePointer<B>, _ out: UnsafeMutablePointer<R>,
                               _ run: (UnsafePointer<A>, Int, UnsafePointer<B>, Int, UnsafeMutablePointer<R>, Int) -> Void) {
    let sa = walk.innerStride(0), sb = walk.innerStride(1)
    walk.forEachRunParallel { o, ia, ib, _, n in run(a + ia, sa, b + ib, sb, out + o, n) }
}
