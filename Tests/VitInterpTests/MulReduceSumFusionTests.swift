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
                                       ([2, 3, 0], [2, 3, 0])]
        for _ in 0..<60 {
            let rank = rng.int(1...4)
            let full = (0..<rank).map { _ in rng.int(1...6) }
            // Each operand keeps or broadcasts (1) each axis, and may drop leading axes.
            func operand() -> [Int] { Array(full.map { rng.int(0...2) == 0 ? 1 : $0 }.dropFirst(rng.int(0...(rank - 1)))) }
            cases.append((operand(), operand()))
        }
        for (sa, sb) in cases {
            func random(_ shape: [Int]) -> Tensor {
                Tensor((0..<shape.reduce(1, *)).map { _ in rng.float(in: -1e3...1e3) }, shape: shape)
            }
            let a = random(sa), b = random(sb)
            let productType = try inferTypes(.mul, [a.type, b.type])[0]
            let product = try binaryArithmetic(.mul, a, b, productType)
            let attributes = ReduceAttributes(axes: [-1], keepDims: rng.bool())
            let sumType = try inferTypes(.reduceSum(attributes), [productType])[0]
            let plain = try reduce(product, .sum, attributes, sumType)
            let fused = mulReduceLastAxis(a, b, productShape: productType.shape.ints ?? [], sumType)
            #expect(fused.bitwiseEqual(plain), "\(sa) · \(sb)")
        }
    }

    /// x [2, 3, 4] · w [4] summed over the last axis (fusable, with the product's operands
    /// swapped in a second pair), a product that is also an output, and a sum over axis 1.
    func graph() throws -> (Graph, [String: Tensor]) {
        var rng = SplitMix(seed: 7)
        func random(_ shape: [Int]) -> Tensor { Tensor((0..<shape.reduce(1, *)).map { _ in rng.float(in: -1...1) }, shape: shape) }
        let t = Tracer(name: "weighted-sums")
        let x = t.input("x", TensorType(.float32, [2, 3, 4]))
        let last = ReduceAttributes(axes: [2], keepDims: false)
        let s1 = try t.apply(.reduceSum(last), [t.apply(.mul, [x, t.parameter("w", random([4]))])[0]])[0]
        let s2 = try t.apply(.reduceSum(ReduceAttributes(axes: [-1], keepDims: true)), [t.apply(.mul, [t.parameter("v", random([3, 1])), x])[0]])[0]
        let p = try t.apply(.mul, [x, x])[0]
        let s3 = try t.apply(.reduceSum(last), [p])[0]
        let s4 = try t.apply(.reduceSum(ReduceAttributes(axes: [1], keepDims: false)), [t.apply(.mul, [x, x])[0]])[0]
        for (name, v) in [("s1", s1), ("s2", s2), ("p", p), ("s3", s3), ("s4", s4)] { try t.output(name, v) }
        return (try t.finish(), ["x": random([2, 3, 4])])
    }

    @Test func planTakesSingleUseProductsSummedOverTheLastAxis() throws {
        let (g, _) = try graph()
        let plan = mulReduceSumPlan(g, excluded: [])
        // s1 and s2; not the product that is an output (s3), not the sum over axis 1 (s4).
        #expect(plan.count == 2)
        #expect(plan.allSatisfy { g.nodes[$0.key].op.name == "Mul" && g.nodes[$0.value].op.name == "ReduceSum" })
        let hooked = g.nodes[try #require(plan.keys.min())].outputs[0]
        #expect(mulReduceSumPlan(g, excluded: [hooked]).count == 1)
    }

    @Test func fusedRunEqualsThePlainRun() throws {
        let (g, feeds) = try graph()
        let fused = try Interpreter(g).run(feeds: feeds)
        let plain = try Interpreter(g).run(feeds: feeds, options: Interpreter.Options(fuse: false))
        for name in ["s1", "s2", "p", "s3", "s4"] {
            #expect(try #require(fused[name]).bitwiseEqual(try #require(plain[name])), "\(name)")
        }
        #expect(fused.peakBytes <= plain.peakBytes)
    }
}
