import Testing
@testable import VitIR

/// Gather, GatherElements, Reshape, Transpose, Concat, Split, Slice, Squeeze, Unsqueeze, Expand,
/// Tile, Pad, Resize, GridSample and Range.
@Suite struct DataMovementShapeTests {
    // MARK: Gather

    @Test("Gather: data[:axis] + indices.shape + data[axis+1:]",
          arguments: [
              (1, [2, 6], [5, 2, 6, 3]),
              (0, [], [4, 3]),              // scalar index drops the axis
              (-1, [7], [5, 4, 7]),
              (0, [2, 2, 2], [2, 2, 2, 4, 3]),
              (-3, [0], [0, 4, 3]),
          ] as [(Int, [Int], [Int])])
    func gatherValid(_ axis: Int, _ indices: [Int], _ expected: [Int]) {
        expectType(.gather(axis: axis), [f32(5, 4, 3), ty(.int64, indices)], ty(.float32, expected))
    }

    @Test("Gather accepts int32 indices and any data dtype")
    func gatherDTypes() {
        expectType(.gather(axis: 0), [i64(10, 8), i32(3)], i64(3, 8))
        expectType(.gather(axis: 1), [bool(2, 5), i64(1, 1)], bool(2, 1, 1))
    }

    @Test("Gather rejects non-integer indices and out-of-range axes")
    func gatherInvalid() {
        expectRejected(.gather(axis: 0), [f32(5, 4), f32(2)], mentioning: ["indices", "float32"])
        expectRejected(.gather(axis: 2), [f32(5, 4), i64(2)], mentioning: ["got 2"])
        expectRejected(.gather(axis: -3), [f32(5, 4), i64(2)], mentioning: ["got -3"])
        expectRejected(.gather(axis: 0), [f32(5, 4)], mentioning: ["2 inputs, got 1"])
    }

    // MARK: GatherElements

    @Test("GatherElements outputs the indices' shape")
    func gatherElementsValid() {
        expectType(.gatherElements(axis: 1), [f32(3, 4), i64(3, 2)], f32(3, 2))
        // Along the gather axis the indices may be longer than the data.
        expectType(.gatherElements(axis: 0), [f32(3, 4), i64(5, 4)], f32(5, 4))
        expectType(.gatherElements(axis: -1), [f16(2, 3, 4), i32(1, 2, 9)], f16(1, 2, 9))
    }

    @Test("GatherElements rejects rank mismatch, oversize off-axis extents and float indices")
    func gatherElementsInvalid() {
        expectRejected(.gatherElements(axis: 1), [f32(3, 4), i64(3)], mentioning: ["2 and 1"])
        expectRejected(.gatherElements(axis: 1), [f32(3, 4), i64(4, 2)], mentioning: ["axis 0", "4 > 3"])
        expectRejected(.gatherElements(axis: 0), [f32(3, 4), f32(3, 4)], mentioning: ["float32"])
        expectRejected(.gatherElements(axis: 2), [f32(3, 4), i64(3, 4)], mentioning: ["got 2"])
    }

    // MARK: Reshape, Transpose

    @Test("Reshape to any shape with the same element count",
          arguments: [([2, 3, 4], [6, 4]), ([2, 3, 4], [24]), ([1, 1], []), ([], [1, 1, 1]), ([0, 3], [3, 0, 5])] as [([Int], [Int])])
    func reshapeValid(_ from: [Int], _ to: [Int]) {
        expectType(.reshape(shape: to), [ty(.float32, from)], ty(.float32, to))
    }

    @Test("Reshape rejects an element-count mismatch (naming both counts) and unresolved -1")
    func reshapeInvalid() {
        expectRejected(.reshape(shape: [5, 5]), [f32(2, 3, 4)], mentioning: ["[5, 5]", "25", "24"])
        expectRejected(.reshape(shape: [-1, 4]), [f32(2, 3, 4)], mentioning: ["-1"])
        expectRejected(.reshape(shape: [4]), [f32(2, 3)])
    }

    @Test("Transpose permutes the extents")
    func transposeValid() {
        expectType(.transpose(perm: [2, 0, 1]), [f32(2, 3, 4)], f32(4, 2, 3))
        expectType(.transpose(perm: [0, 2, 1, 3]), [i64(2, 197, 12, 64)], i64(2, 12, 197, 64))
        expectType(.transpose(perm: []), [f32()], f32())
    }

    @Test("Transpose rejects a perm that is not a permutation of the axes",
          arguments: [[0, 0, 1], [1, 0], [0, 1, 3], [0, 1, 2, 3], [-1, 0, 1]] as [[Int]])
    func transposeInvalid(_ perm: [Int]) {
        expectRejected(.transpose(perm: perm), [f32(2, 3, 4)], mentioning: ["0..<3"])
    }

    // MARK: Concat, Split

    @Test("Concat sums the extents on the axis")
    func concatValid() {
        expectType(.concat(axis: 1), [f32(2, 3), f32(2, 5)], f32(2, 8))
        expectType(.concat(axis: -1), [f32(2, 3), f32(2, 5)], f32(2, 8))
        expectType(.concat(axis: 0), [f32(1, 3), f32(2, 3), f32(3, 3)], f32(6, 3))
        expectType(.concat(axis: 0), [i64(4)], i64(4))                      // a single input
        expectType(.concat(axis: 1), [f32(2, 0), f32(2, 5)], f32(2, 5))     // an empty piece
    }

    @Test("Concat rejects off-axis mismatches, rank and dtype mismatches and no inputs")
    func concatInvalid() {
        expectRejected(.concat(axis: 1), [f32(2, 3), f32(3, 5)], mentioning: ["axis 0", "[3, 5]", "[2, 3]"])
        expectRejected(.concat(axis: 0), [f32(2, 3), f32(2, 3), f32(2, 4)], mentioning: ["input 2", "axis 1"])
        expectRejected(.concat(axis: 0), [f32(2, 3), f32(2, 3, 1)], mentioning: ["equal rank"])
        expectRejected(.concat(axis: 0), [f32(2, 3), f16(2, 3)], mentioning: ["float16"])
        expectRejected(.concat(axis: 2), [f32(2, 3), f32(2, 3)], mentioning: ["got 2"])
        expectRejected(.concat(axis: 0), [], mentioning: ["at least one input"])
    }

    @Test("Split yields one output per size along the axis")
    func splitValid() {
        expectTypes(.split(axis: 1, sizes: [3, 7]), [f32(2, 10)], [f32(2, 3), f32(2, 7)])
        expectTypes(.split(axis: -1, sizes: [768, 768, 768]), [f16(2, 197, 2304)],
                    [f16(2, 197, 768), f16(2, 197, 768), f16(2, 197, 768)])
        expectTypes(.split(axis: 0, sizes: [0, 4]), [i64(4)], [i64(0), i64(4)])
        #expect(Op.split(axis: 0, sizes: [1, 2, 3]).outputCount == 3)
    }

    @Test("Split rejects sizes that do not sum to the extent, negative or no sizes")
    func splitInvalid() {
        expectRejected(.split(axis: 1, sizes: [3, 3]), [f32(2, 10)], mentioning: ["10", "[3, 3]"])
        expectRejected(.split(axis: 1, sizes: [12, -2]), [f32(2, 10)])
        expectRejected(.split(axis: 0, sizes: []), [f32(0)])
        expectRejected(.split(axis: 2, sizes: [1]), [f32(2, 10)], mentioning: ["got 2"])
    }

    // MARK: Slice

    @Test("Slice on one axis of extent 10: negatives wrap, bounds clamp, steps of either sign",
          arguments: [
              (2, 7, 1, 5),
              (-3, -1, 1, 2),                     // 7 ..< 9
              (2, 100, 1, 8),                     // end clamps to 10
              (-100, 3, 1, 3),                    // start clamps to 0
              (0, Int.max, 1, 10),
              (1, 10, 3, 3),                      // 1, 4, 7
              (7, 2, 1, 0),                       // start after end: empty
              (10, 20, 1, 0),                     // start clamps to the extent: empty
              (-1, -11, -1, 10),                  // reverse all: end −1 wraps to −1 and clamps there
              (Int.max, Int.min, -1, 10),         // reverse all with sentinels
              (9, 0, -2, 5),                      // 9, 7, 5, 3, 1
              (8, 1, -3, 3),                      // 8, 5, 2
              (-1, -1, -1, 0),                    // 9 down to 9: empty
              (100, 5, -1, 4),                    // start clamps to 9: 9, 8, 7, 6
              (2, 7, -1, 0),                      // negative step with start < end: empty
          ] as [(Int, Int, Int, Int)])
    func sliceOneAxis(_ start: Int, _ end: Int, _ step: Int, _ count: Int) {
        let op = Op.slice(SliceAttributes(starts: [start], ends: [end], steps: [step]))
        expectType(op, [f32(10)], f32(count))
        #expect(sliceCount(extent: 10, start: start, end: end, step: step) == count)
    }

    @Test("Slice over several (possibly negative, unordered) axes leaves the others alone")
    func sliceAxes() {
        let op = Op.slice(SliceAttributes(starts: [1, 2], ends: [3, 6], axes: [2, -2]))
        expectType(op, [f32(4, 6, 8)], f32(4, 4, 2))
        expectType(.slice(SliceAttributes(starts: [0], ends: [1], axes: [1])), [f32(2, 197, 768)], f32(2, 1, 768))
        expectType(.slice(SliceAttributes(starts: [0], ends: [-1], axes: [0], steps: [-1])), [f32(0, 3)], f32(0, 3))
    }

    @Test("Slice rejects step 0, mismatched lengths, duplicate and out-of-range axes")
    func sliceInvalid() {
        expectRejected(.slice(SliceAttributes(starts: [0], ends: [5], steps: [0])), [f32(10)], mentioning: ["non-zero steps"])
        expectRejected(.slice(SliceAttributes(starts: [0, 0], ends: [5])), [f32(10, 10)], mentioning: ["equal length"])
        expectRejected(.slice(SliceAttributes(starts: [0, 0], ends: [5, 5], axes: [1, -1])), [f32(10, 10)],
                       mentioning: ["distinct"])
        expectRejected(.slice(SliceAttributes(starts: [0], ends: [5], axes: [2])), [f32(10, 10)], mentioning: ["got 2"])
    }

    // MARK: Squeeze, Unsqueeze, Expand, Tile

    @Test("Squeeze removes the listed size-1 axes")
    func squeezeValid() {
        expectType(.squeeze(axes: [0, 2]), [f32(1, 3, 1, 4)], f32(3, 4))
        expectType(.squeeze(axes: [-2]), [f32(1, 3, 1, 4)], f32(1, 3, 4))
        expectType(.squeeze(axes: [0]), [i64(1)], i64())
    }

    @Test("Squeeze rejects an axis whose extent is not 1, duplicates and out-of-range axes")
    func squeezeInvalid() {
        expectRejected(.squeeze(axes: [1]), [f32(1, 3, 1, 4)], mentioning: ["axis 1", "got 3"])
        expectRejected(.squeeze(axes: [0, -4]), [f32(1, 3, 1, 4)], mentioning: ["distinct"])
        expectRejected(.squeeze(axes: [4]), [f32(1, 3, 1, 4)], mentioning: ["got 4"])
    }

    @Test("Unsqueeze inserts size-1 axes at positions of the output",
          arguments: [([0], [1, 3, 4]), ([-1], [3, 4, 1]), ([0, 3], [1, 3, 4, 1]), ([3, 0], [1, 3, 4, 1]),
                      ([1, 2], [3, 1, 1, 4]), ([-4, 2], [1, 3, 1, 4])] as [([Int], [Int])])
    func unsqueezeValid(_ axes: [Int], _ expected: [Int]) {
        expectType(.unsqueeze(axes: axes), [f32(3, 4)], ty(.float32, expected))
    }

    @Test("Unsqueeze rejects duplicate and out-of-range axes")
    func unsqueezeInvalid() {
        expectRejected(.unsqueeze(axes: [1, 1]), [f32(3, 4)], mentioning: ["distinct"])
        expectRejected(.unsqueeze(axes: [3]), [f32(3, 4)], mentioning: ["got 3"])
        expectRejected(.unsqueeze(axes: [-4]), [f32(3, 4)], mentioning: ["got -4"])
        expectType(.unsqueeze(axes: []), [f32(3, 4)], f32(3, 4))
    }

    @Test("Expand broadcasts the input against the shape in both directions")
    func expand() {
        expectType(.expand(shape: [2, 3, 4]), [f32(3, 1)], f32(2, 3, 4))
        expectType(.expand(shape: [1, 1]), [f32(3, 4)], f32(3, 4))            // shape smaller than input
        expectType(.expand(shape: [5]), [i64(2, 1)], i64(2, 5))
        expectRejected(.expand(shape: [3, 4]), [f32(3, 2)], mentioning: ["2 vs 4"])
    }

    @Test("Tile multiplies each extent by its repeat")
    func tile() {
        expectType(.tile(repeats: [2, 1]), [f32(2, 3)], f32(4, 3))
        expectType(.tile(repeats: [1, 3, 0]), [i64(2, 3, 4)], i64(2, 9, 0))
        expectRejected(.tile(repeats: [2]), [f32(2, 3)], mentioning: ["2 non-negative repeats", "[2]"])
        expectRejected(.tile(repeats: [2, -1]), [f32(2, 3)], mentioning: ["[2, -1]"])
    }

    // MARK: Pad

    @Test("Pad adds begin and end pads per axis; negative pads crop")
    func padValid() {
        expectType(.pad(PadAttributes(pads: [0, 0, 1, 2, 0, 0, 3, 4])), [f32(1, 3, 4, 4)], f32(1, 3, 8, 10))
        expectType(.pad(PadAttributes(pads: [-1, -2])), [f32(5)], f32(2))
        expectType(.pad(PadAttributes(pads: [0, 7, 0, 7], mode: .edge)), [f32(1, 1)], f32(1, 15))
        expectType(.pad(PadAttributes(pads: [0, 0, 3, 3, 0, 0, 3, 3], mode: .reflect)), [f32(1, 3, 4, 4)], f32(1, 3, 10, 10))
    }

    @Test("Pad rejects wrong pad counts, over-cropping and reflect pads as large as the extent")
    func padInvalid() {
        expectRejected(.pad(PadAttributes(pads: [1, 1])), [f32(2, 2)], mentioning: ["4 pads", "got 2"])
        expectRejected(.pad(PadAttributes(pads: [-3, -3])), [f32(5)], mentioning: ["got -1"])
        expectRejected(.pad(PadAttributes(pads: [0, 0, 4, 0, 0, 0, 0, 0], mode: .reflect)), [f32(1, 3, 4, 4)],
                       mentioning: ["reflect", "4", "axis 2"])
        expectRejected(.pad(PadAttributes(pads: [0, 0, 0, 0, 0, 0, 0, 5], mode: .reflect)), [f32(1, 3, 4, 4)],
                       mentioning: ["axis 3"])
    }

    // MARK: Resize, GridSample

    @Test("Resize outputs the requested sizes")
    func resizeValid() {
        expectType(.resize(ResizeAttributes(sizes: [1, 3, 16, 16], mode: .linear)), [f32(1, 3, 8, 8)], f32(1, 3, 16, 16))
        expectType(.resize(ResizeAttributes(sizes: [1, 3, 7, 5], scales: [1, 1, 0.875, 0.625], mode: .cubic)),
                   [f16(1, 3, 8, 8)], f16(1, 3, 7, 5))
    }

    @Test("Resize rejects wrong size counts, non-positive sizes or scales and integer input")
    func resizeInvalid() {
        expectRejected(.resize(ResizeAttributes(sizes: [16, 16])), [f32(1, 3, 8, 8)], mentioning: ["4 positive output sizes"])
        expectRejected(.resize(ResizeAttributes(sizes: [1, 3, 0, 16])), [f32(1, 3, 8, 8)])
        expectRejected(.resize(ResizeAttributes(sizes: [1, 3, 16, 16], scales: [2, 2])), [f32(1, 3, 8, 8)], mentioning: ["scales"])
        expectRejected(.resize(ResizeAttributes(sizes: [1, 3, 16, 16], scales: [1, 1, 2, -2])), [f32(1, 3, 8, 8)])
        expectRejected(.resize(ResizeAttributes(sizes: [1, 3, 16, 16], scales: [1, 1, 2, .nan])), [f32(1, 3, 8, 8)])
        expectRejected(.resize(ResizeAttributes(sizes: [1, 3, 16, 16])), [i64(1, 3, 8, 8)], mentioning: ["int64"])
    }

    @Test("GridSample: X [N, C, H, W] and grid [N, Ho, Wo, 2] give [N, C, Ho, Wo]")
    func gridSample() {
        let op = Op.gridSample(GridSampleAttributes())
        expectType(op, [f32(2, 3, 8, 8), f32(2, 5, 7, 2)], f32(2, 3, 5, 7))
        expectType(.gridSample(GridSampleAttributes(mode: .nearest, paddingMode: .border, alignCorners: true)),
                   [f16(1, 256, 64, 64), f16(1, 100, 4, 2)], f16(1, 256, 100, 4))
        expectRejected(op, [f32(2, 3, 8, 8), f32(2, 5, 7, 3)], mentioning: ["[2, 5, 7, 3]"])
        expectRejected(op, [f32(2, 3, 8, 8), f32(1, 5, 7, 2)], mentioning: ["equal N"])
        expectRejected(op, [f32(3, 8, 8), f32(2, 5, 7, 2)])
        expectRejected(op, [f32(2, 3, 8, 8), f16(2, 5, 7, 2)], mentioning: ["float16"])
        expectRejected(op, [i64(2, 3, 8, 8), i64(2, 5, 7, 2)], mentioning: ["int64"])
    }

    // MARK: Range

    @Test("Range count = max(ceil((limit − start) / delta), 0)",
          arguments: [
              (0.0, 10.0, 1.0, 10),
              (0.0, 10.0, 3.0, 4),          // 0, 3, 6, 9
              (10.0, 0.0, -2.0, 5),         // 10, 8, 6, 4, 2
              (0.0, -5.0, 1.0, 0),          // wrong direction: empty
              (5.0, 5.0, 1.0, 0),
              (1.0, 2.0, 0.3, 4),           // 1, 1.3, 1.6, 1.9
              (-3.0, 3.0, 0.5, 12),
          ] as [(Double, Double, Double, Int)])
    func range(_ start: Double, _ limit: Double, _ delta: Double, _ count: Int) {
        expectType(.range(start: start, limit: limit, delta: delta, dtype: .float32), [], f32(count))
        expectType(.range(start: start, limit: limit, delta: delta, dtype: .int64), [], i64(count))
    }

    @Test("Range rejects delta 0 and any inputs")
    func rangeInvalid() {
        expectRejected(.range(start: 0, limit: 10, delta: 0, dtype: .int64), [], mentioning: ["non-zero delta"])
        expectRejected(.range(start: 0, limit: 10, delta: 1, dtype: .int64), [i64()], mentioning: ["got 1"])
    }
}
