import Foundation
import Testing
import VitIR
import VitInterp
import VitModels
import VitPasses
@testable import VitONNX

/// Export → import → interpret against interpreting the original graph.
@Suite struct RoundTripTests {
    func seededFeeds(_ graph: Graph) -> [String: Tensor] {
        var rng = SplitMix64(seed: 3)
        var feeds: [String: Tensor] = [:]
        for id in graph.inputs {
            feeds[graph.name(of: id)] = Tensor.float32(graph.type(of: id).shape.ints!) { p in
                for i in p.indices { p[i] = rng.nextNormal() }
            }
        }
        return feeds
    }

    func foldedTiny() throws -> Graph {
        var g = try traceModel(ModelConfig.load("tiny-convattn"))
        _ = try optimize(&g)
        return g
    }

    /// At opset 21 every IR op of the tiny model has a native ONNX form, so the imported graph
    /// runs the very same kernels on the same values: outputs must be bit-identical.
    @Test func nativeOpsetRoundTripIsExact() throws {
        let g = try foldedTiny()
        var back = try importModel(makeModel(g, options: ExportOptions(opset: 21, runChecker: false)), baseDirectory: nil)
        // The exporter's static-input initializers (Reshape shapes, Squeeze axes, …) become
        // attributes again on import and are then unused.
        _ = try eliminateDeadCode(&back)
        #expect(back.nodes.count == g.nodes.count)
        #expect(back.nodes.map(\.op) == g.nodes.map(\.op))
        #expect(Set(back.initializers.keys.map { back.name(of: $0) }) == Set(g.initializers.keys.map { g.name(of: $0) }))
        let feeds = seededFeeds(g)
        let a = try Interpreter(g).run(feeds: feeds), b = try Interpreter(back).run(feeds: feeds)
        #expect(a.outputNames == b.outputNames)
        for name in a.outputNames { #expect(a[name]!.bitwiseEqual(b[name]!), "output \(name) differs") }
    }

    /// At opset 17 Gelu and GroupNormalization are decomposed into elementary ops, which
    /// round differently from the fused kernels: agreement to 1e-5 of the output's magnitude
    /// (a few float32 ulps accumulated through the tiny model's depth).
    @Test(arguments: [16, 17, 18, 20])
    func decomposedOpsetRoundTripAgrees(opset: Int) throws {
        let g = try foldedTiny()
        let back = try importModel(makeModel(g, options: ExportOptions(opset: opset, runChecker: false)), baseDirectory: nil)
        let feeds = seededFeeds(g)
        let a = try Interpreter(g).run(feeds: feeds), b = try Interpreter(back).run(feeds: feeds)
        for name in a.outputNames {
            let scale = a[name]!.floats.map(abs).max()!
            #expect(maxAbsDiff(a[name]!, b[name]!) <= 1e-5 * scale, "output \(name) at opset \(opset)")
        }
    }

    /// The op zoo (every op case) survives the round trip structurally at opset 21.
    @Test func everyOpRoundTrips() throws {
        let g = try exportOpZooGraph()
        let back = try importModel(makeModel(g, options: ExportOptions(opset: 21, runChecker: false)), baseDirectory: nil)
        #expect(Set(back.nodes.map(\.op.name)) == Set(g.nodes.map(\.op.name)))
        let feeds = seededFeeds(g)
        let a = try Interpreter(g).run(feeds: feeds), b = try Interpreter(back).run(feeds: feeds)
        for name in a.outputNames { #expect(maxAbsDiff(a[name]!, b[name]!) == 0, "output \(name)") }
    }
}

/// QuantizeLinear/DequantizeLinear export and import back at every opset, int8 without a zero
/// point included (output_dtype at 21, an explicit zero zero point below).
@Suite struct QuantizationRoundTripTests {
    func graph() throws -> Graph {
        let t = Tracer(name: "qdq")
        let x = t.input("x", TensorType(.float32, [2, 3]))
        let s = t.constant(Tensor([0.1, 0.2, 0.3], shape: [3]), name: "s")
        let q = try t.apply(.quantizeLinear(QuantizeAttributes(axis: 1, outputDType: .int8)), [x, s])[0]
        let y = try t.apply(.dequantizeLinear(axis: 1), [q, s])[0]
        try t.output("q", q)
        try t.output("y", y)
        return try t.finish()
    }

    @Test(arguments: [16, 17, 19, 21])
    func quantizeRoundTrips(opset: Int) throws {
        let g = try graph()
        let model = try makeModel(g, options: ExportOptions(opset: opset))
        let quantize = try #require(model.graph.node.first { $0.opType == "QuantizeLinear" })
        #expect(quantize.input.count == (opset >= 21 ? 2 : 3))
        #expect(quantize.attribute.contains { $0.name == "output_dtype" && $0.i == 3 } == (opset >= 21))
        let back = try importModel(model, baseDirectory: nil)
        let feeds = ["x": Tensor([0.04, -0.25, 100, -0.16, 0.36, 0.5], shape: [2, 3])]
        let a = try Interpreter(g).run(feeds: feeds), b = try Interpreter(back).run(feeds: feeds)
        #expect(a["q"]!.bitwiseEqual(b["q"]!) && a["y"]!.bitwiseEqual(b["y"]!))
        #expect(a["q"]!.int64s == [0, -1, 127, -2, 2, 2])
    }
}
