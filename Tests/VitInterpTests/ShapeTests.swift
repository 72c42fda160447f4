import Testing
import VitIR
import VitInterp

@Suite struct ShapeTests {
    let x = f32(ramp(6), [2, 3])

    @Test func reshapeSqueezeUnsqueezeAreViews() throws {
        let r = try eval1(.reshape(shape: [3, 2]), [x])
        #expect(r.shape == [3, 2] && r.storage === x.storage && r.floats == x.floats)
        #expect(try eval1(.unsqueeze(axes: [0, -1]), [x]).shape == [1, 2, 3, 1])
        #expect(try eval1(.squeeze(axes: [1]), [f32([1, 2], [2, 1])]).shape == [2])
        #expect(try eval1(.identity, [x]).storage === x.storage)
    }

    @Test func transposeGeneralPermutation() throws {
        let y = try eval1(.transpose(perm: [2, 0, 1]), [f32(ramp(24), [2, 3, 4])])
        #expect(y.shape == [4, 2, 3])
        expectClose(y, [0, 4, 8, 12, 16, 20, 1, 5, 9, 13, 17, 21, 2, 6, 10, 14, 18, 22, 3, 7, 11, 15, 19, 23])
        #expect(try eval1(.transpose(perm: [1, 0]), [i64([1, 2, 3, 4, 5, 6], [2, 3])]).int64s == [1, 4, 2, 5, 3, 6])
    }

    @Test func concatAndSplit() throws {
        let y = try eval1(.concat(axis: -1), [x, f32([10, 20], [2, 1])])
        expectClose(y, [0, 1, 2, 10, 3, 4, 5, 20], shape: [2, 4])
        let parts = try evaluate(.split(axis: 1, sizes: [1, 2]), [x])
        expectClose(parts[0], [0, 3], shape: [2, 1])
        expectClose(parts[1], [1, 2, 4, 5], shape: [2, 2])
        let rows = try evaluate(.split(axis: 0, sizes: [2, 0]), [x])
        #expect(rows[0].floats == x.floats && rows[1].shape == [0, 3])
    }

    /// Concat on every axis of rank-1 to rank-4 inputs of 1-, 4- and 8-byte dtypes, with short
    /// (word-copied) and long (memcpy) rows, against index arithmetic on the flattened
    /// [outer, axis, inner] layout.
    @Test(arguments: [[3, 1, 4], [2, 5, 3, 40], [7], [4, 2, 1, 2]])
    func concatOnEveryAxisMatchesIndexing(_ shape: [Int]) throws {
        for axis in shape.indices {
            let sizes = [2, 1, 3]
            let shapes = sizes.map { s in shape.enumerated().map { $0.offset == axis ? s : $0.element } }
            let counts = shapes.map { $0.reduce(1, *) }
            let outer = shape[..<axis].reduce(1, *), inner = shape[(axis + 1)...].reduce(1, *)
            var start = 0
            let values: [[Int64]] = counts.map { n in defer { start += n }; return (start..<(start + n)).map { Int64($0) * 7 % 1000 } }
            var expected: [Int64] = []
            for o in 0..<outer {
                for (k, v) in values.enumerated() { expected += v[(o * sizes[k] * inner)..<((o + 1) * sizes[k] * inner)] }
            }
            let outShape = shape.enumerated().map { $0.offset == axis ? sizes.reduce(0, +) : $0.element }
            let ints = try eval1(.concat(axis: axis), zip(values, shapes).map { i64($0, $1) })
            #expect(ints.shape == outShape && ints.int64s == expected, "axis \(axis) of \(shape)")
            let floats = try eval1(.concat(axis: axis - shape.count), zip(values, shapes).map { f32($0.map(Float.init), $1) })
            #expect(floats.floats == expected.map(Float.init), "axis \(axis) of \(shape)")
            let bools = try eval1(.concat(axis: axis), zip(values, shapes).map { Tensor($0.map { $0 % 3 == 0 }, shape: $1) })
            #expect(bools.rawBytes.elementsEqual(expected.map { $0 % 3 == 0 ? 1 : 0 }), "axis \(axis) of \(shape)")
        }
    }

    @Test func sliceWithNegativeStepsAndClampedBounds() throws {
        let v = f32(ramp(10), [10])
        expectClose(try eval1(.slice(SliceAttributes(starts: [-1], ends: [-100], steps: [-2])), [v]), [9, 7, 5, 3, 1])
        expectClose(try eval1(.slice(SliceAttributes(starts: [2], ends: [100])), [v]), [2, 3, 4, 5, 6, 7, 8, 9])
        expectClose(try eval1(.slice(SliceAttributes(starts: [8], ends: [2], steps: [-3])), [v]), [8, 5])
        let m = f32(ramp(12), [3, 4])
        expectClose(try eval1(.slice(SliceAttributes(starts: [-1, 1], ends: [0, 3], axes: [1, 0], steps: [-1, 1])), [m]),
                    [7, 6, 5, 11, 10, 9], shape: [2, 3])
        #expect(try eval1(.slice(SliceAttributes(starts: [5], ends: [2])), [v]).shape == [0])
    }

    @Test func expandAndTile() throws {
        let y = try eval1(.expand(shape: [2, 3, 2]), [f32([1, 2, 3], [3, 1])])
        expectClose(y, [1, 1, 2, 2, 3, 3, 1, 1, 2, 2, 3, 3], shape: [2, 3, 2])
        let t = try eval1(.tile(repeats: [2, 2]), [f32([1, 2, 3, 4], [2, 2])])
        expectClose(t, [1, 2, 1, 2, 3, 4, 3, 4, 1, 2, 1, 2, 3, 4, 3, 4], shape: [4, 4])
    }

    @Test func padModes() throws {
        let m = i64([1, 2, 3, 4, 5, 6], [2, 3])
        let pads = [1, 2, 0, 1]
        #expect(try eval1(.pad(PadAttributes(pads: pads, mode: .reflect)), [m]).int64s
            == [6, 5, 4, 5, 6, 5, 3, 2, 1, 2, 3, 2, 6, 5, 4, 5, 6, 5])
        #expect(try eval1(.pad(PadAttributes(pads: pads, mode: .edge)), [m]).int64s
            == [1, 1, 1, 2, 3, 3, 1, 1, 1, 2, 3, 3, 4, 4, 4, 5, 6, 6])
        let c = try eval1(.pad(PadAttributes(pads: [0, 1, 0, 1], value: -1.5)), [x])
        expectClose(c, [-1.5, 0, 1, 2, -1.5, -1.5, 3, 4, 5, -1.5], shape: [2, 5])
        // Negative pads crop.
        expectClose(try eval1(.pad(PadAttributes(pads: [0, -1, -1, 1])), [x]), [1, 2, 0], shape: [1, 3])
    }

    @Test func range() throws {
        expectClose(try eval1(.range(start: 1, limit: 2, delta: 0.25, dtype: .float32), []), [1, 1.25, 1.5, 1.75])
        #expect(try eval1(.range(start: 10, limit: 3, delta: -3, dtype: .int64), []).int64s == [10, 7, 4])
        #expect(try eval1(.range(start: 0, limit: 0, delta: 1, dtype: .int32), []).shape == [0])
    }

    @Test func boolAndHalfDataMovesBytes() throws {
        let b = Tensor([true, false, false, true], shape: [2, 2])
        #expect(try eval1(.transpose(perm: [1, 0]), [b]).int64s == [1, 0, 0, 1])
        let h = try eval1(.cast(to: .float16), [x])
        let p = try eval1(.pad(PadAttributes(pads: [0, 1, 0, 0], value: 7)), [h])
        #expect(p.dtype == .float16 && p.floats == [7, 0, 1, 2, 7, 3, 4, 5])
    }
}
