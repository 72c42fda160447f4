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
    /// offsets at the run's start (0 for absent operands). The offsets are stepped from run to
    /// run (an axis that wraps gives back its span), so a run of a few elements costs a few
    /// additions, not a pass over every axis.
    @inline(__always)
    func forEachRun(in range: Range<Int>, _ body: (Int, Int, Int, Int, Int) -> Void) {
        guard !range.isEmpty else { return }
        let rank = shape.count
        let (s0, s1, s2) = paddedStrides
        var index = Array(repeating: 0, count: rank)
        var (o0, o1, o2) = locate(range.lowerBound, axes: rank, (s0, s1, s2), index: &index)
        var position = range.lowerBound
        let last = rank - 1, inner = shape[last]
        while position < range.upperBound {
            let n = Swift.min(inner - index[last], range.upperBound - position)
            body(position, o0, o1, o2, n)
            position += n
            index[last] += n
            o0 += n * s0[last]
            o1 += n * s1[last]
            o2 += n * s2[last]
            var axis = last
            while axis > 0, index[axis] == shape[axis] {
                o0 -= shape[axis] * s0[axis]
                o1 -= shape[axis] * s1[axis]
                o2 -= shape[axis] * s2[axis]
                index[axis] = 0
                axis -= 1
                index[axis] += 1
                o0 += s0[axis]
                o1 += s1[axis]
                o2 += s2[axis]
            }
        }
    }

    /// A short innermost axis (at most 8 elements) under a second one: the output is walked as
    /// blocks of `rows` × `columns` (the two innermost merged axes, output row-major), with the
    /// operands' strides along both (any values, not only 0 and 1).
    struct Block {
        let rows: Int, columns: Int
        let rowStrides: [Int], columnStrides: [Int]
    }

    /// The block shape when the innermost run is short enough that per-run work would dominate.
    var shortRunBlock: Block? {
        let rank = shape.count
        guard rank >= 2, shape[rank - 1] <= 8 else { return nil }
        return Block(rows: shape[rank - 2], columns: shape[rank - 1], rowStrides: strides.map { $0[rank - 2] },
                     columnStrides: strides.map { $0[rank - 1] })
    }

    /// Calls `body(outStart, offset0, offset1, offset2)` for every block of `shortRunBlock`'s
    /// size (outer positions over the axes before the last two), on all cores when there are
    /// many; offsets are the operands' element offsets at the block's start.
    func forEachBlockParallel(_ body: (Int, Int, Int, Int) -> Void) {
        let rank = shape.count, outer = shape[..<(rank - 2)].reduce(1, *), size = shape[rank - 2] * shape[rank - 1]
        let strides3 = paddedStrides
        parallelChunks(outer, grain: Swift.max(1, (1 << 15) / Swift.max(size, 1))) { range in
            var index = Array(repeating: 0, count: rank - 2)
            for position in range {
                let (o0, o1, o2) = locate(position, axes: rank - 2, strides3, index: &index)
                body(position * size, o0, o1, o2)
            }
        }
    }

    /// Each operand's strides over `shape`, zeros for operands the walk does not have.
    private var paddedStrides: ([Int], [Int], [Int]) {
        let zeros = [Int](repeating: 0, count: shape.count)
        return (strides.count > 0 ? strides[0] : zeros, strides.count > 1 ? strides[1] : zeros,
                strides.count > 2 ? strides[2] : zeros)
    }

    /// Position `position` over the first `axes` axes of `shape`: writes its index per axis into
    /// `index` and returns each operand's element offset there.
    @inline(__always)
    private func locate(_ position: Int, axes: Int, _ s: ([Int], [Int], [Int]), index: inout [Int]) -> (Int, Int, Int) {
        var rest = position, o0 = 0, o1 = 0, o2 = 0
        for axis in stride(from: axes - 1, through: 0, by: -1) {
            let i = rest % shape[axis]
            index[axis] = i
            rest /= shape[axis]
            o0 += i * s.0[axis]
            o1 += i * s.1[axis]
            o2 += i * s.2[axis]
        }
        return (o0, o1, o2)
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

/// One block of a binary elementwise op (see `BroadcastWalk.shortRunBlock`):
/// `out[i·columns + j] = f(a[i·ra + j·ca], b[i·rb + j·cb])`. Call it with a closure literal so
/// `f` inlines into the loop.
@inline(__always)
func binaryBlock<A, B, R>(_ a: UnsafePointer<A>, _ b: UnsafePointer<B>, _ out: UnsafeMutablePointer<R>,
                          _ block: BroadcastWalk.Block, _ f: (A, B) -> R) {
    let ra = block.rowStrides[0], ca = block.columnStrides[0], rb = block.rowStrides[1], cb = block.columnStrides[1]
    var o = out, x = a, y = b
    for _ in 0..<block.rows {
        for j in 0..<block.columns { o[j] = f(x[j * ca], y[j * cb]) }
        o += block.columns
        x += ra
        y += rb
    }
}

/// Walks two broadcast operands and calls `run(a, sa, b, sb, out, n)` per run (see `binaryRun`).
func forEachBinaryRun<A, B, R>(_ walk: BroadcastWalk, _ a: UnsafePointer<A>, _ b: UnsafePointer<B>, _ out: UnsafeMutablePointer<R>,
                               _ run: (UnsafePointer<A>, Int, UnsafePointer<B>, Int, UnsafeMutablePointer<R>, Int) -> Void) {
    let sa = walk.innerStride(0), sb = walk.innerStride(1)
    walk.forEachRunParallel { o, ia, ib, _, n in run(a + ia, sa, b + ib, sb, out + o, n) }
}
