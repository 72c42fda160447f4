import Foundation
import Testing
import CVecKernels
import VitIR
@testable import VitInterp

/// Each fast path in Sources/VitInterp/FastPaths against the reference kernel it replaces, on
/// seeded random inputs with edge shapes (extents of 1, odd sizes around the eight-lane width,
/// empty extents where the op allows them) and edge values, at the tolerance class stated in
/// the fast path's file. "Bit-exact" compares bit patterns, any NaN matching any NaN.
@Suite struct FastPathTests {
    // MARK: GridSample, bilinear with zeros padding

    @Test(arguments: [false, true]) func gridSampleBilinearZeros(alignCorners: Bool) throws {
        var rng = SplitMix(seed: alignCorners ? 7 : 11)
        let attributes = GridSampleAttributes(mode: .bilinear, paddingMode: .zeros, alignCorners: alignCorners)
        var shapes = [(2, 11, 5, 7, 6, 4), (3, 8, 1, 3, 5, 3), (1, 17, 4, 4, 9, 1), (1, 1, 1, 1, 1, 1),
                      (1, 9, 1, 1, 3, 2), (2, 16, 2, 9, 1, 7), (1, 3, 6, 5, 0, 4), (2, 0, 3, 3, 2, 2),
                      (2, 20, 9, 13, 7, 5), (1, 32, 16, 16, 17, 4), (2, 9, 5, 6, 700, 3),  // two tiles of taps
                      (1, 3, 0, 4, 2, 3), (2, 9, 3, 0, 2, 2)]  // empty images: every tap outside
        for _ in 0..<40 {
            shapes.append((rng.int(1...3), rng.int(1...20), rng.int(1...8), rng.int(1...8), rng.int(1...6), rng.int(1...6)))
        }
        for (n, c, h, w, ho, wo) in shapes {
            var x = (0..<(n * c * h * w)).map { _ in rng.float(in: -2...2) }
            if rng.int(0...3) == 0, !x.isEmpty {  // Large magnitudes and non-finite pixels.
                for v: Float in [3e38, -3e38, .infinity, .nan, .leastNormalMagnitude / 16] { x[rng.int(0...(x.count - 1))] = v }
            }
            var grid = (0..<(n * ho * wo * 2)).map { _ in rng.float(in: -1.4...1.4) }
            // Corners and borders exactly, just inside and outside them, pixel centres and
            // edges of this size, signed zeros, far outside and non-finite coordinates.
            let size = Float(rng.bool() ? w : h)
            let special: [Float] = [-1, 1, 0, -0.0, 1.0000001, -1.0000001, Float(1).nextDown, Float(-1).nextUp,
                                    1 / size, -1 + 1 / size, -1 + 2 / size, 1 - 1 / size, 2 / Swift.max(size - 1, 1) - 1,
                                    .nan, .infinity, -.infinity, 3e9, -3e9, 1e30, -1e30, 0.5, -0.5]
            for v in special where !grid.isEmpty && rng.bool() { grid[rng.int(0...(grid.count - 1))] = v }
            let xt = Tensor(x, shape: [n, c, h, w]), gt = Tensor(grid, shape: [n, ho, wo, 2])
            let type = try inferTypes(.gridSample(attributes), [xt.type, gt.type])[0]
            #expect(bilinearZerosGridSampleApplies(xt, attributes))
            let reference = gridSampleReference(xt, gt, attributes, type)
            let portable = bilinearZerosGridSample(xt, gt, alignCorners: alignCorners, type, isa: .portable)
            expectBitExact(portable, reference, "n=\(n) c=\(c) h=\(h) w=\(w) ho=\(ho) wo=\(wo)")
            for isa in VectorISA.usable where isa != .portable {
                let fast = bilinearZerosGridSample(xt, gt, alignCorners: alignCorners, type, isa: isa)
                expectBitExact(fast, portable, "\(isa) n=\(n) c=\(c) h=\(h) w=\(w) ho=\(ho) wo=\(wo)")
                expectBitExact(fast, reference, "\(isa) vs reference n=\(n) c=\(c) h=\(h) w=\(w) ho=\(ho) wo=\(wo)")
            }
        }
        for mode in [GridSampleMode.nearest, .bicubic] {
            #expect(!bilinearZerosGridSampleApplies(Tensor([Float(0)], shape: [1, 1, 1, 1]), GridSampleAttributes(mode: mode)))
        }
        #expect(!bilinearZerosGridSampleApplies(Tensor([Float(0)], shape: [1, 1, 1, 1]), GridSampleAttributes(paddingMode: .border)))
    }

    /// The AVX2 taps against the portable ones on image sizes too large to allocate (a floor
    /// beyond Float's integer range, indices near Int32's), field for field.
    @Test(arguments: [false, true]) func gridSampleTapsPerISA(alignCorners: Bool) {
        var rng = SplitMix(seed: alignCorners ? 5 : 9)
        let sizes = [(1, 1), (1, 2), (7, 3), (64, 64), (1, 16_777_217), (16_777_219, 1), (46_340, 46_340), (2, 1_073_741_822)]
        let special: [Float] = [-1, 1, 0, -0.0, 1.0000001, -1.0000001, Float(1).nextDown, Float(-1).nextUp, .nan,
                                .infinity, -.infinity, 3e9, -3e9, 1e30, -1e30, 0.5, -0.5, 2.1e9 / 1.1e9, -1.9999999]
        for (h, w) in sizes {
            let count = rng.int(1...40)
            var grid = (0..<(count * 2)).map { _ in rng.float(in: -1.3...1.3) }
            for v in special where rng.bool() { grid[rng.int(0...(grid.count - 1))] = v }
            func taps(_ isa: VectorISA) -> [vk_bilinear_taps] {
                var t = [vk_bilinear_taps](repeating: vk_bilinear_taps(), count: count)
                t.withUnsafeMutableBufferPointer { bilinearTaps(grid, count, w: w, h: h, alignCorners: alignCorners, $0.baseAddress!, isa) }
                return t
            }
            let portable = taps(.portable)
            for isa in VectorISA.usable where isa != .portable {
                for (l, (a, b)) in zip(taps(isa), portable).enumerated() {
                    func same(_ x: Float, _ y: Float) -> Bool { x.bitPattern == y.bitPattern || (x.isNaN && y.isNaN) }
                    #expect(a.i00 == b.i00 && a.i01 == b.i01 && a.i10 == b.i10 && a.i11 == b.i11, "\(isa) h=\(h) w=\(w) l=\(l)")
                    #expect(same(a.tx, b.tx) && same(a.ty, b.ty) && same(a.ux, b.ux) && same(a.uy, b.uy),
                            "\(isa) h=\(h) w=\(w) l=\(l) grid \(grid[2 * l]) \(grid[2 * l + 1])")
                }
            }
        }
    }

    @Test func floorIndexMatchesLibm() {
        for v: Float in [0, -0.0, 0.5, -0.5, 1, -1, 2.9999998, -2.9999998, 4194303.5, -4194303.5, 4194304, -4194305,
                         1e20, -1e20, .nan, .infinity, -.infinity, .leastNonzeroMagnitude, -.leastNonzeroMagnitude] {
            let f = floorIndex(v), expected = v.rounded(.down)
            #expect(f.value.bitPattern == expected.bitPattern || (f.value.isNaN && expected.isNaN), "\(v)")
            #expect(f.index == saturatingIndex(Double(expected)), "\(v)")
        }
    }

    // MARK: Softmax with the vector exp

    @Test func softmaxVectorExp() throws {
        var rng = SplitMix(seed: 21)
        let extents = [1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 33, 64, 100]
        var cases: [(shape: [Int], axis: Int)] = [([1], 0), ([4097], 0), ([2, 5000], -1), ([3, 4100, 2], 1), ([9, 1], 0)]
        for _ in 0..<60 {
            let shape = (0..<rng.int(1...4)).map { _ in extents[rng.int(0...(extents.count - 1))] }
            cases.append((shape, rng.int(-shape.count...(shape.count - 1))))
        }
        for (shape, axis) in cases {
            let count = shape.reduce(1, *)
            let scale: Float = [1, 20, 100, 1e30][rng.int(0...3)]
            var x = (0..<count).map { _ in rng.float(in: -scale...scale) }
            if rng.int(0...2) == 0 {
                for v: Float in [.nan, .infinity, -.infinity, -.infinity, 3e38, -3e38, -90, -100] where rng.bool() {
                    x[rng.int(0...(count - 1))] = v
                }
            }
            let xt = Tensor(x, shape: shape)
            let a = axis < 0 ? axis + shape.count : axis
            let fast = VitInterp.softmaxVectorExp(xt, axis: a, isa: .portable)
            for isa in VectorISA.usable where isa != .portable {
                expectBitExact(VitInterp.softmaxVectorExp(xt, axis: a, isa: isa), fast, "\(isa) shape \(shape) axis \(axis)")
            }
            let reference = try softmaxReference(xt, axis: axis)
            // k terms per Float partial sum (8 lanes, folded every 4096 elements).
            let n = shape[axis < 0 ? axis + shape.count : axis]
            let k = Double(Swift.min((n + 7) / 8, 512))
            expectClose(fast, reference, relative: { _ in (k + 16) * 0x1p-24 }, absolute: 1.2e-38, "shape \(shape) axis \(axis)")
        }
        // A lane of only −∞ is NaN in both.
        let allNegativeInfinity = Tensor([Float](repeating: -.infinity, count: 9), shape: [9])
        #expect(VitInterp.softmaxVectorExp(allNegativeInfinity, axis: 0).floats.allSatisfy { $0.isNaN })
        let referenceLane = try softmaxReference(allNegativeInfinity, axis: 0)
        #expect(referenceLane.floats.allSatisfy { $0.isNaN })
    }

    /// The AVX2 kernels run wherever the CPU has AVX2 (Linux's own reading of CPUID says so),
    /// so the bit-for-bit comparisons above are not silently skipped on such a machine.
    @Test func avx2DetectedWhereTheCPUHasIt() throws {
        guard let cpuinfo = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
              let flags = cpuinfo.split(separator: "\n").first(where: { $0.hasPrefix("flags") }) else { return }
        let hasAVX2 = flags.split(separator: " ").contains("avx2")
        #expect((VectorISA.best == .avx2) == hasAVX2)
    }

    // MARK: Gelu with the vector exp

    @Test(arguments: [GeluApproximation.none, .tanh]) func geluVectorExp(approximate: GeluApproximation) throws {
        var rng = SplitMix(seed: approximate == .none ? 31 : 37)
        var sizes = [0, 1, 7, 8, 9, 15, 17, 64, 100, 1001, 70_001]
        for _ in 0..<20 { sizes.append(rng.int(1...300)) }
        let special: [Float] = [.nan, .infinity, -.infinity, 0, -0.0, .leastNormalMagnitude / 16, -.leastNormalMagnitude / 16, .leastNonzeroMagnitude,
                                3e38, -3e38, 1e5, -1e5, -13.2, -10.2, -9.5, -3, 3]
        for count in sizes {
            let scale: Float = [4, 12, 20][rng.int(0...2)]
            var x = (0..<count).map { _ in rng.float(in: -scale...scale) }
            if count > 0 { for v in special where rng.bool() { x[rng.int(0...(count - 1))] = v } }
            let xt = Tensor(x, shape: [count])
            let fast = VitInterp.geluVectorExp(xt, approximate, isa: .portable)
            for isa in VectorISA.usable where isa != .portable {
                expectBitExact(VitInterp.geluVectorExp(xt, approximate, isa: isa), fast, "\(isa) count \(count)")
            }
            let reference = geluReference(xt, approximate)
            expectClose(fast, reference, relative: { x in 1.1e-6 + 2e-7 * x * x }, absolute: 5e-38, input: x,
                        "count \(count)")
        }
    }

    // MARK: Erf with the vector exp

    @Test func erfVectorExp() throws {
        var rng = SplitMix(seed: 41)
        // A dense sweep over where erf is not ±1 in Float, around the 0.5 switch, and random sizes.
        var x = stride(from: Float(-4.5), through: 4.5, by: 1.0 / 4096).map { $0 }
        x += (0..<2000).map { _ in rng.float(in: 0.49...0.51) * (rng.bool() ? 1 : -1) }
        x += [.nan, .infinity, -.infinity, 0, -0.0, .leastNonzeroMagnitude, -.leastNormalMagnitude, 1e-20, 3e38, -3e38, 10, -10]
        for count in [x.count, 1, 7, 9, 17] {
            let xt = Tensor(Array(x.prefix(count)), shape: [count])
            let fast = VitInterp.erfVectorExp(xt, isa: .portable)
            for isa in VectorISA.usable where isa != .portable {
                expectBitExact(VitInterp.erfVectorExp(xt, isa: isa), fast, "\(isa) count \(count)")
            }
            let reference = unaryFloat(.erf, xt)
            expectClose(fast, reference, relative: { _ in 6e-7 }, absolute: 1e-45, "count \(count)")
        }
        for isa in VectorISA.usable {
            let signs = VitInterp.erfVectorExp(Tensor([-0.0, .infinity, -.infinity], shape: [3]), isa: isa).floats
            #expect(signs[0].sign == .minus && signs[0] == 0 && signs[1] == 1 && signs[2] == -1, "\(isa)")
        }
    }

    // MARK: Conv with a 1×1 kernel

    /// im2col (copies of contiguous runs between the padding, no pre-zeroed buffer) against its
    /// definition element by element: 1–3 spatial axes, strides, dilations and pads up to
    /// wider than the input, where whole rows are padding.
    @Test func im2colMatchesItsDefinition() throws {
        var rng = SplitMix(seed: 61)
        for _ in 0..<60 {
            let s = rng.int(1...3), channels = rng.int(1...3)
            let input = (0..<s).map { _ in rng.int(1...7) }, kernel = (0..<s).map { _ in rng.int(1...4) }
            let strides = (0..<s).map { _ in rng.int(1...3) }, dilations = (0..<s).map { _ in rng.int(1...2) }
            let padBegin = (0..<s).map { _ in rng.int(0...8) }, padEnd = (0..<s).map { _ in rng.int(0...3) }
            var output: [Int] = []
            for i in 0..<s {
                let span: Int = input[i] + padBegin[i] + padEnd[i] - dilations[i] * (kernel[i] - 1) - 1
                output.append(span < 0 ? 0 : span / strides[i] + 1)
            }
            guard output.allSatisfy({ $0 > 0 }) else { continue }
            let g = WindowGeometry(input: input, output: output, kernel: kernel, strides: strides, padBegin: padBegin,
                                   dilations: dilations)
            let x = (0..<(channels * input.reduce(1, *))).map { _ in rng.float(in: -1...1) }
            let kernelSize = kernel.reduce(1, *), outCount = output.reduce(1, *), inCount = input.reduce(1, *)
            var cols = [Float](repeating: .nan, count: channels * kernelSize * outCount)
            x.withUnsafeBufferPointer { px in cols.withUnsafeMutableBufferPointer { im2col(px.baseAddress!, channels: channels, g, $0.baseAddress!) } }
            var expected: [Float] = []
            for c in 0..<channels {
                forEachIndex(kernel) { taps in
                    forEachIndex(output) { o in
                        expected.append(tappedIndex(g, output: o, taps: taps).map { x[c * inCount + $0] } ?? 0)
                    }
                }
            }
            #expect(cols.map { $0.bitPattern } == expected.map { $0.bitPattern }, "input \(input) kernel \(kernel) strides \(strides) dilations \(dilations) pads \(padBegin)")
        }
    }

    /// The row-major index within `g.input` of output `o`'s tap `taps`, or nil in the padding.
    func tappedIndex(_ g: WindowGeometry, output o: [Int], taps: [Int]) -> Int? {
        var flat = 0
        for i in g.input.indices {
            let p = g.inputCoordinate(axis: i, output: o[i], tap: taps[i])
            guard p >= 0 && p < g.input[i] else { return nil }
            flat = flat * g.input[i] + p
        }
        return flat
    }

    /// col2im (ConvTranspose's scatter) against its definition: every (channel, tap, position) in
    /// that order adds its column value at the image coordinate it maps to, when inside.
    @Test func col2imMatchesItsDefinition() throws {
        var rng = SplitMix(seed: 67)
        for _ in 0..<60 {
            let s = rng.int(1...3), channels = rng.int(1...3)
            let image = (0..<s).map { _ in rng.int(1...9) }, positions = (0..<s).map { _ in rng.int(1...5) }
            let kernel = (0..<s).map { _ in rng.int(1...4) }, strides = (0..<s).map { _ in rng.int(1...3) }
            let dilations = (0..<s).map { _ in rng.int(1...2) }, padBegin = (0..<s).map { _ in rng.int(0...6) }
            let g = WindowGeometry(input: image, output: positions, kernel: kernel, strides: strides, padBegin: padBegin,
                                   dilations: dilations)
            let kernelSize = kernel.reduce(1, *), colCount = positions.reduce(1, *), imageCount = image.reduce(1, *)
            let cols = (0..<(channels * kernelSize * colCount)).map { _ in rng.float(in: -1...1) }
            let start = (0..<(channels * imageCount)).map { _ in rng.float(in: -1...1) }
            var y = start
            cols.withUnsafeBufferPointer { pc in y.withUnsafeMutableBufferPointer { col2im(pc.baseAddress!, channels: channels, g, $0.baseAddress!) } }
            var expected = start, k = 0
            for c in 0..<channels {
                forEachIndex(kernel) { taps in
                    forEachIndex(positions) { o in
                        if let flat = tappedIndex(g, output: o, taps: taps) { expected[c * imageCount + flat] += cols[k] }
                        k += 1
                    }
                }
            }
            #expect(y.map { $0.bitPattern } == expected.map { $0.bitPattern }, "image \(image) positions \(positions) kernel \(kernel) strides \(strides) dilations \(dilations) pads \(padBegin)")
        }
    }

    @Test func pointwiseConv() throws {
        var rng = SplitMix(seed: 41)
        for trial in 0..<60 {
            let rank = rng.int(1...3)
            let spatial = (0..<rank).map { _ in trial < 4 ? 1 : rng.int(1...9) }
            let group = [1, 1, 2, 3][rng.int(0...3)]
            let cg = rng.int(1...9), mg = rng.int(1...9), batch = rng.int(1...2)
            let c = ConvAttributes(kernelShape: Array(repeating: 1, count: rank),
                                   dilations: (0..<rank).map { _ in rng.int(1...3) }, group: group)
            var x = (0..<(batch * group * cg * spatial.reduce(1, *))).map { _ in rng.float(in: -3...3) }
            if trial % 5 == 0 { for v: Float in [1e30, -1e30, .nan, .infinity] { x[rng.int(0...(x.count - 1))] = v } }
            var inputs = [Tensor(x, shape: [batch, group * cg] + spatial),
                          Tensor((0..<(group * mg * cg)).map { _ in rng.float(in: -1...1) }, shape: [group * mg, cg] + Array(repeating: 1, count: rank))]
            if rng.bool() { inputs.append(Tensor((0..<(group * mg)).map { _ in rng.float(in: -1...1) }, shape: [group * mg])) }
            let type = try inferTypes(.conv(c), inputs.map(\.type))[0]
            #expect(pointwiseConvApplies(c))
            expectBitExact(VitInterp.pointwiseConv(inputs, c, type), convReference(inputs, c, type),
                           "x \(inputs[0].shape) w \(inputs[1].shape) group \(group) bias \(inputs.count == 3)")
        }
        #expect(!pointwiseConvApplies(ConvAttributes(kernelShape: [1, 1], strides: [1, 2])))
        #expect(!pointwiseConvApplies(ConvAttributes(kernelShape: [1, 1], pads: [0, 1, 0, 0])))
        #expect(!pointwiseConvApplies(ConvAttributes(kernelShape: [1, 3])))
    }

    // MARK: Concat by block copies

    @Test func concatBlockCopy() throws {
        var rng = SplitMix(seed: 51)
        let dtypes: [DType] = [.float32, .float16, .bfloat16, .int64, .int32, .uint8, .bool]
        var tested = 0
        while tested < 80 {
            let dtype = dtypes[rng.int(0...(dtypes.count - 1))]
            let rank = rng.int(1...4)
            // Mostly small extents (short rows copied word by word), sometimes a long one
            // (rows of ≥ 128 bytes copied with memcpy).
            let base = (0..<rank).map { _ in rng.int(0...5) == 0 ? rng.int(20...70) : rng.int(1...4) }
            let axis = rng.int(0...(rank - 1))
            let inputs = (0..<rng.int(1...4)).map { _ -> Tensor in
                var shape = base
                shape[axis] = rng.int(0...4)  // Empty inputs are allowed along the axis.
                return Tensor(dtype: dtype, shape: shape) { raw in
                    for i in raw.indices { raw[i] = dtype == .bool ? UInt8(rng.int(0...1)) : UInt8(truncatingIfNeeded: rng.next()) }
                }
            }
            let signedAxis = rng.bool() ? axis : axis - rank
            let type = try inferTypes(.concat(axis: signedAxis), inputs.map(\.type))[0]
            guard (type.shape.ints ?? []).reduce(1, *) > 0 else { continue }
            let fast = VitInterp.concatBlockCopy(inputs, axis: axis, type)
            let reference = try concatReference(inputs, axis: signedAxis, type)
            #expect(fast.bitwiseEqual(reference), "\(dtype) \(inputs.map(\.shape)) axis \(signedAxis)")
            tested += 1
        }
    }

    // MARK: Slice and Split parts as views

    @Test func contiguousViews() throws {
        var rng = SplitMix(seed: 83)
        var views = 0, copies = 0
        for _ in 0..<300 {
            let rank = rng.int(1...4)
            let shape = (0..<rank).map { _ in rng.int(0...3) == 0 ? 1 : rng.int(1...6) }
            let x = Tensor(dtype: .float32, shape: shape) { raw in
                for i in raw.indices { raw[i] = UInt8(truncatingIfNeeded: rng.next()) }
            }
            // Slice: random bounds and steps on a random subset of axes.
            let axes = (0..<rank).filter { _ in rng.bool() }
            let attributes = SliceAttributes(starts: axes.map { _ in rng.int(-3...3) }, ends: axes.map { _ in rng.int(-3...7) },
                                             axes: axes, steps: axes.map { _ in [1, 1, 1, 2, -1][rng.int(0...4)] })
            let type = try inferTypes(.slice(attributes), [x.type])[0]
            let part = try VitInterp.slice(x, attributes, type)
            #expect(part.bitwiseEqual(try sliceCopy(x, attributes, type)), "slice \(shape) \(attributes)")
            let expectView = sliceStart(inShape: shape, attributes, outShape: part.shape)
                .flatMap { contiguousPartOffset(inShape: shape, start: $0, outShape: part.shape) } != nil
            #expect((part.storage === x.storage) == expectView)
            if expectView { views += 1 } else { copies += 1 }
            // Split along a random axis into two or three pieces.
            let a = rng.int(0...(rank - 1))
            let first = rng.int(0...shape[a]), second = rng.int(0...(shape[a] - first))
            let sizes = [first, second, shape[a] - first - second]
            let types = try inferTypes(.split(axis: a, sizes: sizes), [x.type])
            let pieces = try VitInterp.split(x, axis: a, sizes: sizes, types)
            let copied = try VitInterp.split(x, axis: a, sizes: sizes, types, copying: true)
            for (k, (p, c)) in zip(pieces, copied).enumerated() {
                #expect(p.bitwiseEqual(c), "split \(shape) axis \(a) \(sizes)")
                let contiguous = p.count > 0 && (sizes[k] == shape[a] || shape[..<a].allSatisfy { $0 == 1 })
                #expect((p.storage === x.storage) == contiguous, "split \(shape) axis \(a) \(sizes) piece \(k)")
            }
        }
        #expect(views > 30 && copies > 30, "both paths exercised: \(views) views, \(copies) copies")
        // The detector's cases: a level's rows of the value projection, a third of q/k/v.
        #expect(contiguousPartOffset(inShape: [1, 5440, 256], start: [0, 0, 0], outShape: [1, 4096, 256]) == 0)
        #expect(contiguousPartOffset(inShape: [1, 5440, 256], start: [0, 4096, 0], outShape: [1, 1024, 256]) == nil)  // under half
        #expect(contiguousPartOffset(inShape: [2, 4, 3], start: [0, 1, 0], outShape: [2, 2, 3]) == nil)
        #expect(contiguousPartOffset(inShape: [2, 4, 3], start: [1, 0, 0], outShape: [1, 4, 3]) == 12)
        #expect(contiguousPartOffset(inShape: [3, 1, 12, 1025, 64], start: [1, 0, 0, 0, 0], outShape: [1, 1, 12, 1025, 64],
                                     atLeastHalf: false) == 12 * 1025 * 64)
    }

    // MARK: Transpose of the last two axes

    @Test func transposeLastTwo() throws {
        var rng = SplitMix(seed: 71)
        let dtypes: [DType] = [.float32, .float16, .int64, .uint8, .bool]
        for _ in 0..<80 {
            let dtype = dtypes[rng.int(0...(dtypes.count - 1))]
            let rank = rng.int(2...4)
            // Extents around the 32-element tile: 1, 31, 32, 33, 70, and empty ones.
            let shape = (0..<rank).map { _ in [0, 1, 2, 31, 32, 33, 70][rng.int(0...6)] }
            let x = Tensor(dtype: dtype, shape: shape) { raw in
                for i in raw.indices { raw[i] = dtype == .bool ? UInt8(rng.int(0...1)) : UInt8(truncatingIfNeeded: rng.next()) }
            }
            var perm = Array(0..<rank)
            perm.swapAt(rank - 2, rank - 1)
            #expect(transposeLastTwoApplies(perm))
            #expect(VitInterp.transposeLastTwo(x).bitwiseEqual(transposeReference(x, perm: perm)), "\(dtype) \(shape)")
        }
        #expect(!transposeLastTwoApplies([1, 0, 2]))
        #expect(!transposeLastTwoApplies([0]))
        #expect(!transposeLastTwoApplies([2, 1, 0]))
        #expect(transposeLastTwoApplies([1, 0]))
    }

    // MARK: MaxPool over two spatial axes

    @Test func maxPool2D() throws {
        var rng = SplitMix(seed: 61)
        var tested = 0
        while tested < 80 {
            let kernel = [rng.int(1...4), rng.int(1...4)]
            let p = PoolAttributes(kernelShape: kernel, strides: [rng.int(1...3), rng.int(1...3)],
                                   pads: [rng.int(0...kernel[0] - 1), rng.int(0...kernel[1] - 1),
                                          rng.int(0...kernel[0] - 1), rng.int(0...kernel[1] - 1)],
                                   dilations: [rng.int(1...2), rng.int(1...2)], ceilMode: rng.bool())
            let shape = [rng.int(1...2), rng.int(1...3), rng.int(1...9), rng.int(1...9)]
            var x = (0..<shape.reduce(1, *)).map { _ in Float(rng.int(-4...4)) / 2 }  // Many ties.
            for v: Float in [.nan, .infinity, -.infinity, -0.0, 0] where rng.int(0...2) == 0 { x[rng.int(0...(x.count - 1))] = v }
            let xt = Tensor(x, shape: shape)
            guard let type = try? inferTypes(.maxPool(p), [xt.type])[0] else { continue }
            #expect(maxPool2DApplies(p))
            expectBitExact(VitInterp.maxPool2D(xt, p, type), maxPoolReference(xt, p, type), "\(shape) \(p)")
            tested += 1
        }
        #expect(!maxPool2DApplies(PoolAttributes(kernelShape: [2])))
        #expect(!maxPool2DApplies(PoolAttributes(kernelShape: [2, 2, 2])))
    }

    // MARK: MatMul with a batch-free right operand

    @Test func sharedRightMatMul() throws {
        var rng = SplitMix(seed: 71)
        for trial in 0..<80 {
            let m = rng.int(0...12) == 0 ? 0 : rng.int(1...40), k = trial % 17 == 0 ? 0 : rng.int(1...70)
            let columns = rng.int(1...40)
            let aBatch = (0..<rng.int(0...3)).map { _ in rng.int(1...4) }
            let aShape = rng.int(0...5) == 0 ? [k] : aBatch + [m, k]
            let bShape = rng.int(0...5) == 0 ? [k] : Array(repeating: 1, count: rng.int(0...2)) + [k, columns]
            let n = bShape.count == 1 ? 1 : columns
            var x = (0..<aShape.reduce(1, *)).map { _ in rng.float(in: -2...2) }
            if trial % 7 == 0, !x.isEmpty { for v: Float in [.nan, .infinity, 1e30] { x[rng.int(0...(x.count - 1))] = v } }
            let a = Tensor(x, shape: aShape)
            let b = Tensor((0..<bShape.reduce(1, *)).map { _ in rng.float(in: -2...2) }, shape: bShape)
            let type = try inferTypes(.matMul, [a.type, b.type])[0]
            #expect(sharedRightMatMulApplies(a, b))
            let fast = VitInterp.sharedRightMatMul(a, b, type).floats, reference = matMulReference(a, b, type).floats
            #expect(fast.count == reference.count)
            // Both are Float dot products of length k in orders of BLAS's choosing: each within
            // k·2⁻²⁴·Σ|aⱼ·bⱼ| of the exact value.
            let y = b.floats
            for (i, (f, r)) in zip(fast, reference).enumerated() {
                let row = i / n, column = i % n
                let magnitude = (0..<k).reduce(0.0) { $0 + Double(Swift.abs(x[row * k + $1] * y[$1 * n + column])) }
                let ok = f.isFinite && r.isFinite
                    ? Double(Swift.abs(f - r)) <= 2 * Double(k) * 0x1p-24 * magnitude
                    : (f.isNaN && r.isNaN) || f == r
                if !ok {
                    Issue.record("element \(i): fast \(f) reference \(r) (A \(aShape) B \(bShape))")
                    break
                }
            }
        }
        #expect(!sharedRightMatMulApplies(Tensor([Float](repeating: 0, count: 4), shape: [2, 2]),
                                          Tensor([Float](repeating: 0, count: 8), shape: [2, 2, 2])))
        #expect(!sharedRightMatMulApplies(Tensor([Int64](repeating: 0, count: 4), shape: [2, 2]),
                                          Tensor([Int64](repeating: 0, count: 4), shape: [2, 2])))
    }

    // MARK: GEMM through oneDNN

    @Test func oneDNNGemm() {
        var rng = SplitMix(seed: 83)
        // Small edge shapes, then ViT-like shapes where the libraries block and thread: a thin
        // m or n with a long k (where oneDNN may split k), and panels beyond their block sizes.
        // The large shapes split into row blocks over two or more workers (see oneDNNGemm), each
        // with all four transpositions.
        var shapes = [(1, 1, 1), (1, 37, 5), (9, 1, 300), (3, 5, 4096), (70, 3, 1000), (64, 64, 64)]
        for _ in 0..<40 { shapes.append((rng.int(1...90), rng.int(1...90), rng.int(1...200))) }
        var cases = shapes.map { (m: $0.0, n: $0.1, k: $0.2, transA: rng.bool(), transB: rng.bool()) }
        for (m, n, k) in [(257, 130, 768), (1000, 40, 100)] {
            for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] { cases.append((m, n, k, ta, tb)) }
        }
        for (m, n, k, transA, transB) in cases {
            let alpha: Float = rng.bool() ? 1 : rng.float(in: -2...2)
            let beta: Float = [0, 1, rng.float(in: -2...2)][rng.int(0...2)]
            let a = (0..<(m * k)).map { _ in rng.float(in: -2...2) }, b = (0..<(k * n)).map { _ in rng.float(in: -2...2) }
            // With beta 0, C's prior contents must be ignored (BLAS semantics): NaN would show.
            let c0 = (0..<(m * n)).map { _ in beta == 0 ? Float.nan : rng.float(in: -2...2) }
            var fast = c0, plain = c0
            fast.withUnsafeMutableBufferPointer { c in
                VitInterp.oneDNNGemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a, b, beta: beta, c.baseAddress!)
            }
            plain.withUnsafeMutableBufferPointer { c in
                cblasGemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a, b, beta: beta, c.baseAddress!)
            }
            // Each is within (k + 2)·2⁻²⁴·(|alpha|·Σⱼ|aⱼ·bⱼ| + |beta·c|) of the exact value: k
            // roundings in the dot product, one scaling by alpha, one addition of beta·c.
            for i in 0..<m {
                for j in 0..<n {
                    var magnitude = 0.0
                    for p in 0..<k {
                        let x = transA ? a[p * m + i] : a[i * k + p], y = transB ? b[j * k + p] : b[p * n + j]
                        magnitude += Double(Swift.abs(x * y))
                    }
                    let bound = 2 * Double(k + 2) * 0x1p-24 * (Double(Swift.abs(alpha)) * magnitude + (beta == 0 ? 0 : Double(Swift.abs(beta * c0[i * n + j]))))
                    let f = fast[i * n + j], r = plain[i * n + j]
                    if !(f.isFinite && r.isFinite && Double(Swift.abs(f - r)) <= bound) {
                        Issue.record("m=\(m) n=\(n) k=\(k) transA=\(transA) transB=\(transB) beta=\(beta) at (\(i), \(j)): oneDNN \(f) OpenBLAS \(r)")
                        return
                    }
                }
            }
        }
    }

    // MARK: Linear layer: MatMul and bias Add as one GEMM

    @Test func linearWithBias() throws {
        var rng = SplitMix(seed: 89)
        var shapes: [([Int], Int)] = [([1], 1), ([5], 3), ([2, 3, 0, 4], 6), ([3, 0], 5), ([1, 300, 96], 200)]
        for _ in 0..<40 { shapes.append(((0..<rng.int(1...3)).map { _ in rng.int(1...30) } + [rng.int(1...70)], rng.int(1...50))) }
        for (aShape, n) in shapes {
            let k = aShape.last!
            let a = Tensor((0..<aShape.reduce(1, *)).map { _ in rng.float(in: -2...2) }, shape: aShape)
            let b = Tensor((0..<(k * n)).map { _ in rng.float(in: -2...2) }, shape: [k, n])
            let bias = Tensor((0..<n).map { _ in rng.float(in: -3...3) }, shape: rng.bool() ? [n] : [1, n])
            let product = try evaluate(.matMul, [a, b])[0]
            let reference = try evaluate(.add, [product, bias])[0]
            let fast = VitInterp.linearWithBias(a, b, bias, reference.type)
            #expect(fast.type == reference.type)
            let x = a.floats, y = b.floats, z = bias.floats
            for (i, (f, r)) in zip(fast.floats, reference.floats).enumerated() {
                let row = i / n, column = i % n
                let magnitude = (0..<k).reduce(Double(Swift.abs(z[column]))) { $0 + Double(Swift.abs(x[row * k + $1] * y[$1 * n + column])) }
                if !(Double(Swift.abs(f - r)) <= 2 * Double(k + 1) * 0x1p-24 * magnitude) {
                    Issue.record("element \(i): fused \(f) plain \(r) (A \(aShape), n \(n))")
                    break
                }
            }
            // float16: the plain MatMul's rounded product plus the bias, bit for bit.
            let (a16, b16, bias16) = try (eval1(.cast(to: .float16), [a]), eval1(.cast(to: .float16), [b]), eval1(.cast(to: .float16), [bias]))
            let reference16 = try evaluate(.add, [try evaluate(.matMul, [a16, b16])[0], bias16])[0]
            let fast16 = VitInterp.linearWithBias(a16, b16, bias16, reference16.type)
            #expect(fast16.type == reference16.type && fast16.bitwiseEqual(reference16), "float16 A \(aShape), n \(n)")
        }
    }

    /// Each epilogue step on the fused product, bit for bit as its own node's kernel computes
    /// it from the unfused-epilogue product; row counts that give oneDNN one and several blocks,
    /// and a stacked batch (blocked per element).
    @Test func linearEpilogue() throws {
        var rng = SplitMix(seed: 97)
        func random(_ shape: [Int], _ range: ClosedRange<Float> = -2...2) -> Tensor {
            Tensor((0..<shape.reduce(1, *)).map { _ in rng.float(in: range) }, shape: shape)
        }
        // float16: every operand float16, each plain node's value rounded to it; residuals up
        // to 6e4 take some sums beyond its range.
        for dtype in [DType.float32, .float16] {
          for aShape in [[1, 3], [7, 20], [3, 50, 64], [1, 1200, 96]] {
            let k = aShape.last!, n = 40
            func typed(_ t: Tensor) throws -> Tensor { dtype == .float32 ? t : try eval1(.cast(to: dtype), [t]) }
            let a = try typed(random(aShape)), b = try typed(random([k, n])), bias = try typed(random([n]))
            let outShape = Array(aShape.dropLast()) + [n], type = TensorType(dtype, Shape(outShape))
            let gamma = try typed(random([1, n], -1...1))
            let residual = try typed(random(outShape, dtype == .float32 ? -50...50 : -6e4...6e4))
            let chains: [[LinearEpilogue<Tensor>]] = [
                [.relu], [.gelu(.none)], [.gelu(.tanh)], [.scale(gamma)], [.residual(residual)],
                [.scale(gamma), .residual(residual)], [.gelu(.none), .scale(gamma), .residual(residual), .relu],
            ]
            for steps in chains {
                var expected = VitInterp.linearWithBias(a, b, bias, type)
                for step in steps {
                    switch step {
                    case .relu: expected = try eval1(.relu, [expected])
                    case .gelu(let approximate): expected = try eval1(.gelu(approximate: approximate), [expected])
                    case .scale(let g): expected = try eval1(.mul, [expected, g])
                    case .residual(let r): expected = try eval1(.add, [r, expected])
                    }
                }
                let fused = VitInterp.linearWithBias(a, b, bias, type, epilogue: steps)
                #expect(fused.dtype == dtype)
                expectBitExact(fused, expected, "\(dtype) A \(aShape), steps \(steps.map(\.name))")
            }
          }
        }
    }

    // MARK: Comparison

    /// Expects equal shapes and equal bit patterns per element (any NaN matches any NaN).
    func expectBitExact(_ fast: Tensor, _ reference: Tensor, _ context: String,
                        sourceLocation: Testing.SourceLocation = #_sourceLocation) {
        #expect(fast.shape == reference.shape, "\(context)", sourceLocation: sourceLocation)
        let a = fast.floats, b = reference.floats
        guard a.count == b.count else { return }
        if let i = a.indices.first(where: { a[$0].bitPattern != b[$0].bitPattern && !(a[$0].isNaN && b[$0].isNaN) }) {
            Issue.record("element \(i): fast \(a[i]) reference \(b[i]) (\(context))", sourceLocation: sourceLocation)
        }
    }

    /// Expects |fast − reference| ≤ relative(xᵢ)·|reference| + absolute per element, NaN exactly
    /// where the reference is NaN, and equal infinities. `relative` takes the element's input
    /// when `input` is given (else 0).
    func expectClose(_ fast: Tensor, _ reference: Tensor, relative: (Double) -> Double, absolute: Double,
                     input: [Float]? = nil, _ context: String,
                     sourceLocation: Testing.SourceLocation = #_sourceLocation) {
        #expect(fast.shape == reference.shape, "\(context)", sourceLocation: sourceLocation)
        let a = fast.floats, b = reference.floats
        guard a.count == b.count else { return }
        for i in a.indices {
            let f = Double(a[i]), r = Double(b[i])
            let ok: Bool
            if r.isNaN || f.isNaN || r.isInfinite || f.isInfinite {
                ok = (r.isNaN && f.isNaN) || f == r
            } else {
                ok = Swift.abs(f - r) <= relative(Double(input?[i] ?? 0)) * Swift.abs(r) + absolute
            }
            if !ok {
                let x = input.map { " at x = \($0[i])" } ?? ""
                Issue.record("element \(i)\(x): fast \(a[i]) reference \(b[i]) (\(context))", sourceLocation: sourceLocation)
                return
            }
        }
    }
}

/// A small deterministic generator for test data (SplitMix64).
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func float(in range: ClosedRange<Float>) -> Float {
        range.lowerBound + (range.upperBound - range.lowerBound) * Float(next() >> 40) / Float(1 << 24)
    }
    mutating func int(_ range: ClosedRange<Int>) -> Int {
        range.lowerBound + Int(next() % UInt64(range.upperBound - range.lowerBound + 1))
    }
    mutating func bool() -> Bool { next() & 1 == 1 }
    /// A tensor of `shape` drawn uniformly from `range` in row-major order, cast to `dtype`.
    mutating func tensor(_ shape: [Int], in range: ClosedRange<Float>, _ dtype: DType = .float32) throws -> Tensor {
        let values = Tensor((0..<shape.reduce(1, *)).map { _ in float(in: range) }, shape: shape)
        return dtype == .float32 ? values : try eval1(.cast(to: dtype), [values])
    }
}
