import VitIR

// Fast path of Transpose (Kernels/Shape.swift) for the general permutations of attention and
// deformable attention ([1, 1025, 3, 12, 64] perm [2, 0, 3, 1, 4], [1, 4096, 8, 32] perm
// [0, 2, 3, 1], …): axes of extent 1 are dropped and input axes that stay adjacent and in
// order in the output are merged, so the copy runs on the fewest axes. What remains is one of:
// - no movement at all: the output is a view of the input's storage with the output shape
//   (`viewOutputs` tells `plannedMemory`);
// - a swap of the last two merged axes ([4096, 256] → [256, 4096]): `transposeLastTwo`'s
//   tiles, matrices and row tiles split over cores;
// - anything else: `transposeReference` on the merged view, which copies each output row of
//   the merged last axis as one block when that axis is contiguous in the input (inner runs
//   of 64 floats for attention's heads) and splits rows over cores.
//
// Applies when: the permutation is not a swap of the last two axes (`transposeLastTwo`'s),
// every extent is nonzero, any dtype.
// Tolerance class vs `transposeReference`: bit-exact (elements are copied, never converted;
// the merged view holds the same elements in the same order).
// Pinned by FastPathTests.transposeMergedAxes.

/// `shape` and `perm` with extent-1 axes dropped and runs of input axes that stay adjacent and
/// in order in the output merged into one axis each; the result's output has the same
/// elements in the same order as Transpose(`perm`) of `shape`.
func mergedTranspose(_ shape: [Int], _ perm: [Int]) -> (shape: [Int], perm: [Int]) {
    let extents = shape.filter { $0 != 1 }
    var renumbered = [Int](repeating: -1, count: shape.count)  // input axis → its position among extents
    for (position, axis) in shape.indices.filter({ shape[$0] != 1 }).enumerated() { renumbered[axis] = position }
    // Groups of kept input axes, in output order: each a run a, a + 1, … of consecutive axes.
    var groups: [[Int]] = []
    for axis in perm.map({ renumbered[$0] }) where axis >= 0 {
        if let last = groups.last?.last, axis == last + 1 { groups[groups.count - 1].append(axis) } else { groups.append([axis]) }
    }
    let inputOrder = groups.indices.sorted { groups[$0][0] < groups[$1][0] }  // group indices by input position
    var rank = [Int](repeating: 0, count: groups.count)
    for (position, g) in inputOrder.enumerated() { rank[g] = position }
    let mergedShape = inputOrder.map { groups[$0].reduce(1) { $0 * extents[$1] } }
    return (mergedShape, groups.indices.map { rank[$0] })
}

/// Whether `transpose` returns a view of its input (`viewOutputs`, for `plannedMemory`): the
/// permutation takes `transposeMergedAxes` and moves no element once merged.
func transposeIsView(_ shape: [Int], _ perm: [Int]) -> Bool {
    !transposeLastTwoApplies(perm) && !shape.contains(0) && isIdentity(mergedTranspose(shape, perm).perm)
}

private func isIdentity(_ perm: [Int]) -> Bool { perm.enumerated().allSatisfy { $0 == $1 } }

/// Transpose(`perm`) of `x` through `mergedTranspose`'s axes (see the header).
func transposeMergedAxes(_ x: Tensor, perm: [Int]) -> Tensor {
    let outShape = perm.map { x.shape[$0] }
    let (shape, p) = mergedTranspose(x.shape, perm)
    // Views of an existing storage with the same element count cannot fail.
    guard let view = try? reshaped(x, shape) else { return transposeReference(x, perm: perm) }
    let moved: Tensor
    if isIdentity(p) {
        moved = view
    } else if transposeLastTwoApplies(p) {
        moved = transposeLastTwo(view)
    } else {
        moved = transposeReference(view, perm: p)
    }
    return (try? reshaped(moved, outShape)) ?? transposeReference(x, perm: perm)
}
