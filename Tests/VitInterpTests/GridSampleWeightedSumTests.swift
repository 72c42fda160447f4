import Testing
import VitIR
@testable import VitInterp

extension FastPathTests {
    // MARK: GridSample → Mul → ReduceSum in one pass

    /// `bilinearZerosWeightedSum` against GridSample, then Mul and ReduceSum over the last axis
    /// as the plain run computes them, bit for bit (NaN for NaN), on every ISA: channel counts
    /// off the blocks of eight, several tiles of taps, points outside the image, non-finite
    /// pixels, coordinates and weights.
    @Test(arguments: [false, true]) func gridSampleWeightedSum(alignCorners: Bool) throws {
        var rng = SplitMix(seed: alignCorners ? 41 : 43)
        let attributes = GridSampleAttributes(mode: .bilinear, paddingMode: .zeros, alignCorners: alignCorners)
        // (n, c, h, w, ho, wo)
        var shapes = [(8, 32, 16, 16, 700, 4), (2, 5, 3, 4, 9, 3), (1, 1, 1, 1, 1, 1), (3, 13, 7, 2, 33, 1), (1, 9, 4, 4, 2, 600)]
        for _ in 0..<30 {
            shapes.append((rng.int(1...3), rng.int(1...20), rng.int(1...8), rng.int(1...8), rng.int(1...40), rng.int(1...6)))
        }
        for (n, c, h, w, ho, wo) in shapes {
            func random(_ count: Int, _ range: ClosedRange<Float>) -> [Float] { (0..<count).map { _ in rng.float(in: range) } }
            var x = random(n * c * h * w, -2...2), grid = random(n * ho * wo * 2, -1.3...1.3), weights = random(n * ho * wo, 0...1)
            if rng.int(0...3) == 0 {
                for v: Float in [3e38, .infinity, .nan] { x[rng.int(0...(x.count - 1))] = v }
                for v: Float in [.nan, 1e30, -1] { grid[rng.int(0...(grid.count - 1))] = v }
                for v: Float in [.infinity, 3e38, -0.0] { weights[rng.int(0...(weights.count - 1))] = v }
            }
            let xt = Tensor(x, shape: [n, c, h, w]), gt = Tensor(grid, shape: [n, ho, wo, 2])
            let wt = Tensor(weights, shape: [n, 1, ho, wo])
            let samplesType = try inferTypes(.gridSample(attributes), [xt.type, gt.type])[0]
            let samples = gridSample(xt, gt, attributes, samplesType)
            let productType = try inferTypes(.mul, [samplesType, wt.type])[0]
            let sumType = TensorType(.float32, [n, c, ho])
            let plain = try reduce(binaryArithmetic(.mul, samples, wt, productType), .sum, ReduceAttributes(axes: [-1], keepDims: false), sumType)
            // The same image stored channels-last ([H·W, N, C]), as a Transpose view leaves it.
            let stored = transposeReference(try reshaped(xt, [n, c, h * w]), perm: [2, 0, 1])
            let channelsLast = try reshaped(stored, [n, c, h, w])
            for isa in VectorISA.usable {
                let fused = bilinearZerosWeightedSum(xt, gt, wt, alignCorners: alignCorners, sumType, isa: isa)
                expectBitExact(fused, plain, "\(isa) n=\(n) c=\(c) h=\(h) w=\(w) ho=\(ho) wo=\(wo)")
                let viewed = bilinearZerosWeightedSum(channelsLast, channelsLast: true, gt, wt, alignCorners: alignCorners, sumType, isa: isa)
                expectBitExact(viewed, plain, "channels-last \(isa) n=\(n) c=\(c) h=\(h) w=\(w) ho=\(ho) wo=\(wo)")
            }
            // float16: the plain nodes on float16 tensors round the samples, the products and
            // the sums; the fused kernel must round where they do.
            let (x16, g16, w16) = (try eval1(.cast(to: .float16), [xt]), try eval1(.cast(to: .float16), [gt]),
                                   try eval1(.cast(to: .float16), [wt]))
            let samples16 = gridSample(x16, g16, attributes, try inferTypes(.gridSample(attributes), [x16.type, g16.type])[0])
            let product16 = try binaryArithmetic(.mul, samples16, w16, try inferTypes(.mul, [samples16.type, w16.type])[0])
            let sum16 = TensorType(.float16, [n, c, ho])
            let plain16 = try reduce(product16, .sum, ReduceAttributes(axes: [-1], keepDims: false), sum16)
            let stored16 = try reshaped(transposeReference(try reshaped(x16, [n, c, h * w]), perm: [2, 0, 1]), [n, c, h, w])
            for isa in VectorISA.usable {
                let fused = bilinearZerosWeightedSum(x16, g16, w16, alignCorners: alignCorners, sum16, isa: isa)
                #expect(fused.dtype == .float16)
                expectBitExact(fused, plain16, "float16 \(isa) n=\(n) c=\(c) h=\(h) w=\(w) ho=\(ho) wo=\(wo)")
                let viewed = bilinearZerosWeightedSum(stored16, channelsLast: true, g16, w16, alignCorners: alignCorners, sum16, isa: isa)
                expectBitExact(viewed, plain16, "float16 channels-last \(isa) n=\(n) c=\(c) h=\(h) w=\(w) ho=\(ho) wo=\(wo)")
            }
        }
    }
}

/// The interpreter's planned GridSample → Mul → ReduceSum fusion
/// (FastPaths/GridSampleWeightedSum.swift): which chains the plan takes, and that a run with it
/// equals the run without it bit for bit, within the planned memory.
@Suite struct WeightedSamplingPlanTests {
    /// Output names of the chains `graph()` builds, fusable first.
    static let fusable = ["weighted", "swapped"]

    /// An image [2, 8, 3, 3] sampled at a grid [2, 6, 4, 2]: weighted by [2, 1, 6, 4] and
    /// summed (fusable; again with the Mul's operands swapped), and four chains the plan
    /// leaves: weights per channel, samples that are also an output, a sum over another axis,
    /// and a nearest-neighbour GridSample.
    func graph() throws -> (Graph, [String: Tensor]) {
        var rng = SplitMix(seed: 3)
        func random(_ shape: [Int], _ range: ClosedRange<Float>) -> Tensor {
            Tensor((0..<shape.reduce(1, *)).map { _ in rng.float(in: range) }, shape: shape)
        }
        let t = Tracer(name: "sampling")
        let image = t.input("image", TensorType(.float32, [2, 8, 3, 3])), grid = t.input("grid", TensorType(.float32, [2, 6, 4, 2]))
        let weights = t.input("weights", TensorType(.float32, [2, 1, 6, 4]))
        let perChannel = t.input("perChannel", TensorType(.float32, [2, 8, 6, 4]))
        let last = ReduceAttributes(axes: [-1], keepDims: false)
        func chain(_ name: String, _ attributes: GridSampleAttributes = GridSampleAttributes(),
                   weights w: SymbolicTensor, swap: Bool = false, axes: ReduceAttributes = last, keepSamples: Bool = false) throws {
            let samples = try t.apply(.gridSample(attributes), [image, grid])[0]
            let product = try t.apply(.mul, swap ? [w, samples] : [samples, w])[0]
            try t.output(name, t.apply(.reduceSum(axes), [product])[0])
            if keepSamples { try t.output(name + ".samples", samples) }
        }
        try chain("weighted", weights: weights)
        try chain("swapped", weights: weights, swap: true)
        try chain("perChannel", weights: perChannel)
        try chain("samplesKept", weights: weights, keepSamples: true)
        try chain("otherAxis", weights: weights, axes: ReduceAttributes(axes: [2], keepDims: false))
        try chain("nearest", GridSampleAttributes(mode: .nearest), weights: weights)
        let feeds = ["image": random([2, 8, 3, 3], -2...2), "grid": random([2, 6, 4, 2], -1.2...1.2),
                     "weights": random([2, 1, 6, 4], 0...1), "perChannel": random([2, 8, 6, 4], 0...1)]
        return (try t.finish(), feeds)
    }

    func plan(_ g: Graph, excluded: Set<ValueID> = []) -> WeightedSamplingPlan {
        weightedSamplingPlan(g, excluded: excluded, mulReduce: mulReduceSumPlan(g, excluded: excluded))
    }

    /// The node producing the graph output `name`.
    func producer(_ g: Graph, _ name: String) -> Int {
        g.nodes.firstIndex { $0.outputs.contains { g.name(of: $0) == name } }!
    }

    @Test func planTakesBilinearSamplesWeightedPerLocation() throws {
        let (g, _) = try graph()
        let p = plan(g)
        #expect(Set(p.byGridSample.values.map(\.reduce)) == Set(Self.fusable.map { producer(g, $0) }))
        for (sampler, chain) in p.byGridSample {
            #expect(p.gridSampleOfMul[chain.mul] == sampler)
            #expect(g.nodes[chain.mul].inputs.contains(g.nodes[sampler].outputs[0]))
            #expect(g.name(of: chain.weights) == "weights")
        }
        // Hooked samples leave their chain out.
        let first = try #require(p.byGridSample.keys.min())
        #expect(plan(g, excluded: [g.nodes[first].outputs[0]]).byGridSample.count == 1)
    }

    /// An image larger than its samples would live longer than `plannedMemory` counts it.
    @Test func planLeavesImagesLargerThanTheirSamples() throws {
        let t = Tracer(name: "large-image")
        let image = t.input("image", TensorType(.float32, [1, 2, 32, 32])), grid = t.input("grid", TensorType(.float32, [1, 3, 2, 2]))
        let samples = try t.apply(.gridSample(GridSampleAttributes()), [image, grid])[0]
        let product = try t.apply(.mul, [samples, t.input("weights", TensorType(.float32, [1, 1, 3, 2]))])[0]
        try t.output("sum", t.apply(.reduceSum(ReduceAttributes(axes: [-1], keepDims: true)), [product])[0])
        #expect(plan(try t.finish()).byGridSample.isEmpty)
    }

    /// Values [1, 36, 2, 8] (36 pixels, 2 heads of 8 channels) split into heads as deformable
    /// attention does: Transpose(perm [0, 2, 3, 1]) then Reshape to a [2, 8, 6, 6] image. The
    /// Transpose runs as a view when only the sampling reads it; with a second use it is copied.
    func headsGraph(transposeKept: Bool, _ dtype: DType = .float32) throws -> (Graph, [String: Tensor]) {
        var rng = SplitMix(seed: 9)
        func random(_ shape: [Int], _ range: ClosedRange<Float>) throws -> Tensor { try rng.tensor(shape, in: range, dtype) }
        let t = Tracer(name: "heads")
        let values = t.input("values", TensorType(dtype, [1, 36, 2, 8])), grid = t.input("grid", TensorType(dtype, [2, 30, 4, 2]))
        let heads = try t.apply(.transpose(perm: [0, 2, 3, 1]), [t.apply(.relu, [values])[0]])[0]
        let image = try t.apply(.reshape(shape: [2, 8, 6, 6]), [heads])[0]
        let samples = try t.apply(.gridSample(GridSampleAttributes()), [image, grid])[0]
        let product = try t.apply(.mul, [samples, t.input("weights", TensorType(dtype, [2, 1, 30, 4]))])[0]
        try t.output("sum", t.apply(.reduceSum(ReduceAttributes(axes: [-1], keepDims: false)), [product])[0])
        if transposeKept { try t.output("heads", heads) }
        let feeds = ["values": try random([1, 36, 2, 8], -2...2), "grid": try random([2, 30, 4, 2], -1.2...1.2),
                     "weights": try random([2, 1, 30, 4], 0...1)]
        return (try t.finish(), feeds)
    }

    @Test(arguments: [false, true], [DType.float32, .float16])
    func headsTransposeRunsAsAView(transposeKept: Bool, dtype: DType) throws {
        let (g, feeds) = try headsGraph(transposeKept: transposeKept, dtype)
        let p = plan(g)
        let chain = try #require(p.byGridSample.values.first)
        #expect(chain.channelsLast == !transposeKept)
        #expect(p.viewTransposes.count == (transposeKept ? 0 : 1))
        #expect(p.viewTransposes.allSatisfy { g.nodes[$0].op == .transpose(perm: [0, 2, 3, 1]) })
        let samples = g.name(of: g.nodes[try #require(p.byGridSample.keys.first)].outputs[0])
        let fused = try Interpreter(g).run(feeds: feeds)
        let unfused = try Interpreter(g).run(feeds: feeds, hooks: Interpreter.Hooks(observe: [samples]))
        #expect(try #require(fused["sum"]).bitwiseEqual(try #require(unfused["sum"])))
        #expect(fused.peakBytes <= (try #require(plannedMemory(g))).peakActivationBytes)
        #expect(fused.peakBytes < unfused.peakBytes)
        // An observed image is computed in its declared layout: the chain stays, the view goes.
        let image = g.nodes[try #require(p.byGridSample.keys.first)].inputs[0]
        let hooked = plan(g, excluded: [image])
        #expect(hooked.viewTransposes.isEmpty && hooked.byGridSample.values.allSatisfy { !$0.channelsLast })
        let observe = Interpreter.Hooks(observe: [g.name(of: image)])
        let observed = try Interpreter(g).run(feeds: feeds, hooks: observe)
        let plain = try Interpreter(g).run(feeds: feeds, options: Interpreter.Options(fuse: false), hooks: observe)
        #expect(try #require(observed.observed[g.name(of: image)]).bitwiseEqual(try #require(plain.observed[g.name(of: image)])))
        #expect(try #require(observed["sum"]).bitwiseEqual(try #require(fused["sum"])))
    }

    @Test func fusedRunEqualsTheUnfusedRunBitForBit() throws {
        let (g, feeds) = try graph()
        let p = plan(g)
        let samples = Set(p.byGridSample.keys.map { g.name(of: g.nodes[$0].outputs[0]) })
        let fused = try Interpreter(g).run(feeds: feeds)
        let unfused = try Interpreter(g).run(feeds: feeds, hooks: Interpreter.Hooks(observe: samples))
        #expect(unfused.observed.count == 2)
        for name in fused.outputNames {
            #expect(try #require(fused[name]).bitwiseEqual(try #require(unfused[name])), "\(name)")
        }
        #expect(fused.peakBytes <= unfused.peakBytes)
        #expect(fused.peakBytes <= (try #require(plannedMemory(g))).peakActivationBytes)
    }
}
