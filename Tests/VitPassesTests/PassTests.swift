import Testing
import VitIR
import VitInterp
import VitModels
@testable import VitPasses

/// Runs `graph` on seeded inputs with the plain kernels, node by node; used to show that a pass
/// preserves outputs. (The interpreter's linear-layer fusion applies only where a weight is an
/// initializer, so it would take folded graphs' linears and not traced ones': a rounding-class
/// difference of the interpreter's, tested in VitInterpTests, not of the pass.)
func outputs(of graph: Graph, seed: UInt64 = 1) throws -> [String: Tensor] {
    var rng = SplitMix64(seed: seed)
    var feeds: [String: Tensor] = [:]
    for id in graph.inputs {
        let t = graph.type(of: id)
        feeds[graph.name(of: id)] = Tensor.float32(t.shape.ints ?? []) { p in
            for i in p.indices { p[i] = rng.nextNormal() }
        }
    }
    return try Interpreter(graph).run(feeds: feeds, options: Interpreter.Options(fuse: false)).outputs
}

/// The reusable check: applying `pass` keeps every output bit-identical (all passes here
/// either run the same kernels on the same values or remove exact no-ops) and the graph valid.
func expectPreservesOutputs(_ graph: Graph, _ pass: (inout Graph) throws -> Bool,
                            expectChange: Bool = true, sourceLocation: Testing.SourceLocation = #_sourceLocation) throws -> Graph {
    let before = try outputs(of: graph)
    var after = graph
    let changed = try pass(&after)
    #expect(changed == expectChange, sourceLocation: sourceLocation)
    try verify(after)
    let result = try outputs(of: after)
    #expect(Set(result.keys) == Set(before.keys), sourceLocation: sourceLocation)
    for (name, t) in before {
        let u = try #require(result[name])
        #expect(t.bitwiseEqual(u), "output \(name) changed", sourceLocation: sourceLocation)
    }
    return after
}

func tiny() throws -> Graph { try traceModel(ModelConfig.load("tiny-convattn")) }

@Test func foldingPreservesOutputsAndRemovesWeightTransposes() throws {
    let g = try tiny()
    let folded = try expectPreservesOutputs(g) { try foldConstants(&$0) }
    #expect(folded.nodes.count < g.nodes.count)
    // Every Transpose of a Linear weight is now a constant.
    #expect(!folded.nodes.contains { n in
        if case .movement(.transpose) = n.op { return n.inputs.allSatisfy { folded.initializers[$0] != nil } }
        return false
    })
    #expect(folded.nodes.allSatisfy { !$0.inputs.allSatisfy { folded.initializers[$0] != nil } })
}

@Test func foldingRespectsTheGrowthBudget() throws {
    let t = Tracer(name: "g")
    let x = t.input("x", TensorType(.float32, [4, 1024]))
    let c = t.constant(Tensor.scalar(Float(2)), name: "two")
    let big = try c.expand([4, 1024])
    try t.output("y", try x.mul(big))
    let g = try t.finish()
    var small = g
    #expect(try foldConstants(&small, budget: FoldingBudget(maxGrowthBytes: 1024)) == false)
    #expect(small.nodes.count == 2)
    _ = try expectPreservesOutputs(g) { try foldConstants(&$0, budget: FoldingBudget(maxGrowthBytes: 1 << 20)) }
}

@Test func deadCodeIsRemoved() throws {
    let t = Tracer(name: "g")
    let x = t.input("x", TensorType(.float32, [2, 3]))
    _ = try x.exp()
    let unused = t.constant(Tensor([1, 2, 3] as [Float], shape: [3]), name: "unused")
    _ = unused
    try t.output("y", try x.relu())
    let g = try t.finish()
    let after = try expectPreservesOutputs(g, eliminateDeadCode)
    #expect(after.nodes.map(\.op.name) == ["Relu"])
    #expect(after.initializers.isEmpty)
    #expect(after.inputs.count == 1)
}

@Test func duplicatesAreMerged() throws {
    let t = Tracer(name: "g")
    let x = t.input("x", TensorType(.float32, [2, 3]))
    let a = t.constant(Tensor([1, 2, 3] as [Float], shape: [3]), name: "a")
    let b = t.constant(Tensor([1, 2, 3] as [Float], shape: [3]), name: "b")
    let y1 = try x.add(a).exp()
    let y2 = try x.add(b).exp()
    try t.output("y", try y1.mul(y2))
    try t.output("z", y2)
    let g = try t.finish()
    let after = try expectPreservesOutputs(g, deduplicate)
    #expect(after.initializers.count == 1)
    #expect(after.nodes.filter { $0.op == .add }.count == 1)
    #expect(after.nodes.filter { $0.op == .exp }.count == 1)
    #expect(after.outputs.map { after.name(of: $0) } == ["y", "z"])
}

@Test func simplificationRemovesNoOps() throws {
    let t = Tracer(name: "g")
    let x = t.input("x", TensorType(.float32, [2, 3, 4]))
    let one = t.constant(Tensor([1, 1, 1, 1] as [Float], shape: [4]), name: "ones")
    let zero = t.constant(Tensor.scalar(Float(0)), name: "zero")
    var y = try x.mul(one).add(zero)
    y = try y.transpose([1, 0, 2]).transpose([1, 0, 2])
    y = try y.reshape([6, 4]).reshape([2, 12])
    y = try t.apply(.identity, [y])[0]
    try t.output("y", try y.relu())
    let g = try t.finish()
    let after = try expectPreservesOutputs(g, simplify)
    #expect(after.nodes.map(\.op.name) == ["Reshape", "Relu"])
}

@Test func simplificationKeepsBroadcastingNeutrals() throws {
    // x·1 where 1 has a larger shape broadcasts x: not a no-op.
    let t = Tracer(name: "g")
    let x = t.input("x", TensorType(.float32, [3]))
    let ones = t.constant(Tensor([Float](repeating: 1, count: 6), shape: [2, 3]), name: "ones")
    try t.output("y", try x.mul(ones))
    let g = try t.finish()
    var after = g
    #expect(try simplify(&after) == false)
}

@Test func pipelineReachesAFixedPointAndPreservesTheTinyModel() throws {
    let g = try tiny()
    let after = try expectPreservesOutputs(g) { _ = try optimize(&$0); return true }
    #expect(after.nodes.count < g.nodes.count)
    var again = after
    let records = try optimize(&again)
    #expect(records.isEmpty, "a second run of the pipeline changed the graph: \(records.map(\.name))")
}
