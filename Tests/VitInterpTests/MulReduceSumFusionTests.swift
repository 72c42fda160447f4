import Testing
import VitIR
@testable import VitInterp

/// The interpreter's planned Mul → ReduceSum(last axis) fusion (FastPaths/MulReduceSum.swift):
/// the kernel against Mul then ReduceSum, bit for bit, on broadcast shapes; which pairs the plan
/// takes; and a fused run against the plain run.
@Suite struct MulReduceSumFusionTests {
    @Test func kernelEqualsMulThenReduceSumBitForBit() throws {
        var rng = SplitMix(seed: 97)
        var cases: [([Int], [Int])] = [([8, 32, 40, 4], [8, 1, 40, 4]), ([5], [5]), ([1], [7]), ([3, 1], [1, 6]), ([2, 0, 3], [2, 1, 3]),
                                       ([2, 3, 0], [2, 3, 0]), ([3, 5000], [5000]), ([2, 4500], [2, 4500]), ([2, 1500, 3], [2, 1500, 1])]
        for _ in 0..<60 {
            let rank = rng.int(1...4)
            let full = (0..<rank).map { _ in rng.int(1...6) }
            // Each operand keeps or broadcasts (1) each axis, and may drop leading axes.
            func operand() -> [Int] { Array(full.map { rng.int(0...2) == 0 ? 1 : $0 }.dropFirst(rng.int(0...(rank - 1)))) }
            cases.append((operand(), operand()))
        }
        for (sa, sb) in cases {
            // float16 operands lie within ±16, so only the planted 6e4 (times anything over 1.1)
            // leaves its range.
            func random(_ shape: [Int], _ dtype: DType) throws -> Tensor {
                let range: ClosedRange<Float> = dtype == .float16 ? -16...16 : -1e3...1e3
                var v = (0..<shape.reduce(1, *)).map { _ in rng.float(in: range) }
                if v.count > 8, rng.int(0...3) == 0 { v[rng.int(0...(v.count - 1))] = .nan }
                if dtype == .float16, v.count > 8 { v[rng.int(0...(v.count - 1))] = 6e4 }
                let t = Tensor(v, shape: shape)
                return dtype == .float16 ? try eval1(.cast(to: .float16), [t]) : t
            }
            // float16 too: products beyond its range (±∞), NaNs, and rows longer than the
            // kernel's 4096-product scratch in the long cases.
            for dtype in [DType.float32, .float16] {
                let a = try random(sa, dtype), b = try random(sb, dtype)
                let productType = try inferTypes(.mul, [a.type, b.type])[0]
                let product = try binaryArithmetic(.mul, a, b, productType)
                let attributes = ReduceAttributes(axes: [-1], keepDims: rng.bool())
                let sumType = try inferTypes(.reduceSum(attributes), [productType])[0]
                let plain = try reduce(product, .sum, attributes, sumType)
                let fused = mulReduceLastAxis(a, b, productShape: productType.shape.ints ?? [], sumType)
                #expect(fused.dtype == dtype && fused.bitwiseEqual(plain), "\(dtype) \(sa) · \(sb)")
            }
        }
    }

    /// x [2, 3, 4] · w [4] summed over the last axis (fusable, with the product's operands
    /// swapped in a second pair), a product that is also an output, and a sum over axis 1.
    func graph(_ dtype: DType = .float32) throws -> (Graph, [String: Tensor]) {
        var rng = SplitMix(seed: 7)
        func random(_ shape: [Int]) throws -> Tensor { try rng.tensor(shape, in: -1...1, dtype) }
        let t = Tracer(name: "weighted-sums")
        let x = t.input("x", TensorType(dtype, [2, 3, 4]))
        let last = ReduceAttributes(axes: [2], keepDims: false)
        let s1 = try t.apply(.reduceSum(last), [t.apply(.mul, [x, t.parameter("w", random([4]))])[0]])[0]
        let s2 = try t.apply(.reduceSum(ReduceAttributes(axes: [-1], keepDims: true)), [t.apply(.mul, [t.parameter("v", try random([3, 1])), x])[0]])[0]
        let p = try t.apply(.mul, [x, x])[0]
        let s3 = try t.apply(.reduceSum(last), [p])[0]
        let s4 = try t.apply(.reduceSum(ReduceAttributes(axes: [1], keepDims: false)), [t.apply(.mul, [x, x])[0]])[0]
        for (name, v) in [("s1", s1), ("s2", s2), ("p", p), ("s3", s3), ("s4", s4)] { try t.output(name, v) }
        return (try t.finish(), ["x": try random([2, 3, 4])])
    }

    @Test(arguments: [DType.float32, .float16])
    func planTakesSingleUseProductsSummedOverTheLastAxis(_ dtype: DType) throws {
        let (g, _) = try graph(dtype)
        let plan = mulReduceSumPlan(g, excluded: [])
        // s1 and s2; not the product that is an output (s3), not the sum over axis 1 (s4).
        #expect(plan.count == 2)
        #expect(plan.allSatisfy { g.nodes[$0.key].op.name == "Mul" && g.nodes[$0.value].op.name == "ReduceSum" })
        let hooked = g.nodes[try #require(plan.keys.min())].outputs[0]
        #expect(mulReduceSumPlan(g, excluded: [hooked]).count == 1)
    }

    @Test(arguments: [DType.float32, .float16])
    func fusedRunEqualsThePlainRun(_ dtype: DType) throws {
        let (g, feeds) = try graph(dtype)
        let fused = try Interpreter(g).run(feeds: feeds)
        let plain = try Interpreter(g).run(feeds: feeds, options: Interpreter.Options(fuse: false))
        for name in ["s1", "s2", "p", "s3", "s4"] {
            #expect(try #require(fused[name]).bitwiseEqual(try #require(plain[name])), "\(name)")
        }
        #expect(fused.peakBytes <= plain.peakBytes)
    }
}
