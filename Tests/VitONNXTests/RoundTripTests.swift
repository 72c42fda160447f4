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
