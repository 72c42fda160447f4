import Testing
import VitIR
import VitInterp
import VitModels
import VitPasses

// Teacher forcing (`DetectorTraceOptions.forcedProposals`): the decoder starts from fed
// proposal indices instead of the two-stage top-k.

/// The tiny detector with seeded weights, traced with debug outputs and folded, both plain and
/// teacher-forced, and the plain graph's run on a seeded image. Computed once.
struct TeacherForcingRun: Sendable {
    var config: ModelConfig
    var forced: Graph
    var plain: Graph
    var image: Tensor
    var plainOutputs: Interpreter.Result

    static let shared: Result<TeacherForcingRun, any Error> = Result {
        let config = try ModelConfig.load("dino-tiny")
        var plain = try traceDetectorModel(config, options: DetectorTraceOptions(debugOutputs: true))
        var forced = try traceDetectorModel(config, options: DetectorTraceOptions(debugOutputs: true, forcedProposals: true))
        _ = try optimize(&plain)
        _ = try optimize(&forced)
        var rng = SplitMix64(seed: 7)
        let image = Tensor.float32([1, 3, config.imageSize[0], config.imageSize[1]]) { p in
            for i in p.indices { p[i] = 255 * rng.nextUnit() }
        }
        let outputs = try Interpreter(plain).run(feeds: ["image": image])
        return TeacherForcingRun(config: config, forced: forced, plain: plain, image: image, plainOutputs: outputs)
    }

    func runForced(_ indices: Tensor) throws -> Interpreter.Result {
        try Interpreter(forced).run(feeds: ["image": image, detectorProposalIndicesInput: indices])
    }

    func plainOutput(_ name: String) throws -> Tensor { try #require(plainOutputs[name], "no output \(name)") }
}

/// The ops of every node `output` depends on, and whether the graph input `input` is among
/// its sources.
private func ancestry(of output: String, in graph: Graph, input: String) throws -> (ops: [String], usesInput: Bool) {
    let producers = graph.producers()
    var pending = [try #require(graph.outputs.first { graph.name(of: $0) == output }, "no output \(output)")]
    var seen: Set<ValueID> = []
    var ops: [String] = []
    var usesInput = false
    while let v = pending.popLast() {
        guard seen.insert(v).inserted else { continue }
        if graph.inputs.contains(v) && graph.name(of: v) == input { usesInput = true }
        guard let n = producers[v] else { continue }
        ops.append(graph.nodes[n].op.name)
        pending += graph.nodes[n].inputs
    }
    return (ops, usesInput)
}

@Test func forcedTraceTakesProposalIndicesInsteadOfTopK() throws {
    let run = try TeacherForcingRun.shared.get()
    let queries = try #require(run.config.detector?.transformer.numQueries)
    let input = try #require(run.forced.inputs.first { run.forced.name(of: $0) == detectorProposalIndicesInput })
    #expect(run.forced.type(of: input) == TensorType(.int64, [1, queries]))
    #expect(!run.plain.inputs.contains { run.plain.name(of: $0) == detectorProposalIndicesInput })
    for stage in [DetectorDebugOutput.initialReference, DetectorDebugOutput.state(0), DetectorDebugOutput.logits] {
        let forced = try ancestry(of: stage, in: run.forced, input: detectorProposalIndicesInput)
        #expect(forced.usesInput, "\(stage) does not depend on \(detectorProposalIndicesInput)")
        #expect(!forced.ops.contains("TopK"), "a TopK feeds \(stage)")
        // The plain trace's decoder does start from the top-k.
        #expect(try ancestry(of: stage, in: run.plain, input: detectorProposalIndicesInput).ops.contains("TopK"))
    }
    // Only post-processing's top-k over (query, class) pairs remains.
    #expect(run.forced.nodes.filter { $0.op.name == "TopK" }.map(\.scope) == ["postprocess"])
}

@Test func feedingTheOwnSelectionReproducesThePlainRunExactly() throws {
    let run = try TeacherForcingRun.shared.get()
    let forced = try run.runForced(try run.plainOutput(DetectorDebugOutput.topkIndices))
    #expect(forced.outputNames == run.plainOutputs.outputNames)
    for name in run.plainOutputs.outputNames {
        let a = try run.plainOutput(name), b = try #require(forced[name], "no forced output \(name)")
        #expect(a.type == b.type, "\(name)")
        #expect(Array(a.rawBytes) == Array(b.rawBytes), "\(name) differs by \(maxAbsDiff(a, b))")
    }
}

@Test func feedingPermutedIndicesChangesTheDecoder() throws {
    let run = try TeacherForcingRun.shared.get()
    let selected = try run.plainOutput(DetectorDebugOutput.topkIndices)
    let permuted = Tensor(Array(selected.int64s.reversed()), shape: selected.shape)
    let forced = try run.runForced(permuted)
    #expect(try #require(forced[DetectorDebugOutput.topkIndices]).int64s == permuted.int64s)
    // Encoder stages do not depend on the selection; the decoder's queries pair the learnt
    // content queries with other boxes, so its outputs change.
    #expect(maxAbsDiff(try run.plainOutput(DetectorDebugOutput.memory), try #require(forced[DetectorDebugOutput.memory])) == 0)
    for name in [DetectorDebugOutput.initialReference, DetectorDebugOutput.state(0), DetectorDebugOutput.reference(0),
                 DetectorDebugOutput.logits, DetectorDebugOutput.boxes] {
        #expect(maxAbsDiff(try run.plainOutput(name), try #require(forced[name])) > 0, "\(name) did not change")
    }
}

@Test func outOfRangeProposalIndexNamesTheGatherNode() throws {
    let run = try TeacherForcingRun.shared.get()
    let tokens = try #require(run.plainOutput(DetectorDebugOutput.proposalScores).shape.last)
    var indices = try run.plainOutput(DetectorDebugOutput.topkIndices).int64s
    indices[3] = Int64(tokens)
    let error = #expect(throws: InterpreterError.self) {
        _ = try run.runForced(Tensor(indices, shape: [1, indices.count]))
    }
    guard case .node(_, let op, let scope, _)? = error?.site else {
        Issue.record("expected a node error, got \(String(describing: error))")
        return
    }
    #expect(op == "GatherElements")
    #expect(scope == "transformer")
    #expect(error?.description.contains("index \(tokens) out of range") == true, "\(String(describing: error))")
}
