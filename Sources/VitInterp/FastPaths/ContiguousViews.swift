import VitIR

// Fast path of Slice and Split (Kernels/Shape.swift): a part that is one contiguous range of
// its input is a view of the input's storage instead of a copy (as Reshape's output already is).
//
// Applies when: the part starts at `start` with extents `outShape`, every sliced axis has step
// 1 (or one element), every axis before the first cut one has extent 1 and every axis after it
// is whole, so the part is one row-major range; and, for Slice, it holds at least half the
// input's elements. A view keeps its whole input alive until the view's last use
// (`plannedMemory` counts that); the half bounds what a Slice can keep beyond a copy's own size,
// and Split's pieces together are the whole input.
// Tolerance class: bit-exact (the same bytes). Pinned by FastPathTests.contiguousViews.

/// Element offset of the part of `inShape` at `start` with extents `outShape` when it is one
/// non-empty row-major range (of at least half the input's elements when `atLeastHalf`), else nil.
func contiguousPartOffset(inShape: [Int], start: [Int], outShape: [Int], atLeastHalf: Bool = true) -> Int? {
    let total = inShape.reduce(1, *), count = outShape.reduce(1, *)
    guard count > 0, !atLeastHalf || 2 * count >= total, inShape.count == outShape.count, start.count == inShape.count else { return nil }
    if let cut = inShape.indices.first(where: { outShape[$0] != inShape[$0] }) {
        guard outShape[..<cut].allSatisfy({ $0 == 1 }),
              outShape[(cut + 1)...].elementsEqual(inShape[(cut + 1)...]) else { return nil }
    }
    return zip(start, rowMajorStrides(inShape)).reduce(0) { $0 + $1.0 * $1.1 }
}

/// Per-axis start of a Slice of `inShape` (nil when a sliced axis of more than one output
/// element has a step other than 1).
func sliceStart(inShape: [Int], _ s: SliceAttributes, outShape: [Int]) -> [Int]? {
    guard let axes = try? normalizeAxes(s.axes, rank: inShape.count) else { return nil }
    var start = Array(repeating: 0, count: inShape.count)
    for (j, a) in axes.enumerated() {
        guard s.steps[j] == 1 || outShape[a] <= 1 else { return nil }
        start[a] = sliceBounds(extent: inShape[a], start: s.starts[j], end: s.ends[j], step: s.steps[j]).0
    }
    return start
}

/// Per output of a node, whether the interpreter returns it as a view of the node's first
/// input (for `plannedMemory`): Reshape, Squeeze, Unsqueeze, Identity, the contiguous parts
/// of Slice and Split, and a Transpose that moves no element (`transposeIsView`).
func viewOutputs(_ node: Node, _ graph: Graph) -> [Bool] {
    guard let input = node.inputs.first, let inShape = graph.type(of: input).shape.ints else {
        return node.outputs.map { _ in false }
    }
    let outShapes = node.outputs.map { graph.type(of: $0).shape.ints ?? [] }
    switch node.op {
    case .movement(.reshape), .movement(.squeeze), .movement(.unsqueeze), .elementwise(.identity):
        return [true]
    case .movement(.slice(let s)):
        guard let start = sliceStart(inShape: inShape, s, outShape: outShapes[0]) else { return [false] }
        return [contiguousPartOffset(inShape: inShape, start: start, outShape: outShapes[0]) != nil]
    case .movement(.transpose(let perm)):
        return [transposeIsView(inShape, perm)]
    case .movement(.split(let axis, _)):
        guard let a = try? normalizeAxis(axis, rank: inShape.count) else { return outShapes.map { _ in false } }
        var column = 0
        return outShapes.map { shape in
            var start = Array(repeating: 0, count: inShape.count)
            start[a] = column
            column += shape.isEmpty ? 0 : shape[a]
            return contiguousPartOffset(inShape: inShape, start: start, outShape: shape, atLeastHalf: false) != nil
        }
    default:
        return node.outputs.map { _ in false }
    }
}

/// The part of `x` at element offset `offset` with `shape`, sharing `x`'s storage.
func partView(_ x: Tensor, offset: Int, shape: [Int]) -> Tensor? {
    try? Tensor(dtype: x.dtype, shape: shape, storage: x.storage, offset: x.offset + offset * x.dtype.byteSize)
}
