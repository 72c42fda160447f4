import VitIR
import VitModels
import VitPasses

/// `metadata_props` key under which an export lists its detector stages: comma-separated
/// `stage=value` pairs in graph order (`backbone=debug.backbone,pyramid.p3=debug.pyramid.p3,…`),
/// where `value` names the internal value (or output) holding the stage.
public let stageMetadataKey = "vitexport.stages"

/// One recorded stage: its label (`backbone`, `decoder.1.state`, …) and the value holding it.
public struct StageValue: Sendable, Equatable {
    public var stage: String
    public var value: String
    public init(stage: String, value: String) { self.stage = stage; self.value = value }
}

/// Stage labels the comparison treats specially.
enum StageLabel {
    static let proposalScores = label(DetectorDebugOutput.proposalScores)
    static let proposalIndices = label(DetectorDebugOutput.topkIndices)
    static let logits = label(DetectorDebugOutput.logits)
    static let detectionIndex = label(DetectorDebugOutput.detectionIndex)

    /// `debug.pyramid.p3` → `pyramid.p3`.
    static func label(_ debugName: String) -> String {
        debugName.hasPrefix("debug.") ? String(debugName.dropFirst("debug.".count)) : debugName
    }
}

/// The stages `graph.metadata` records, in order; nil when it records none.
public func recordedStages(_ graph: Graph) -> [StageValue]? {
    guard let text = graph.metadata[stageMetadataKey], !text.isEmpty else { return nil }
    return text.split(separator: ",").compactMap { (pair: Substring) -> StageValue? in
        let parts = pair.split(separator: "=", maxSplits: 1)
        return parts.count == 2 ? StageValue(stage: String(parts[0]), value: String(parts[1])) : nil
    }
}

func encodeStages(_ stages: [StageValue]) -> String {
    stages.map { "\($0.stage)=\($0.value)" }.joined(separator: ",")
}

/// Records a detector graph traced with debug outputs in its metadata (`stageMetadataKey`).
/// Unless `keepOutputs`, the `debug.*` outputs are then removed and the pass pipeline run again
/// (with `passes`, or dead-code elimination alone), so the graph computes exactly what the
/// plain trace does and the stages stay as named internal values. A stage the passes remove
/// is not recorded.
func recordStages(_ graph: inout Graph, keepOutputs: Bool, passes: PassOptions?) throws {
    let producers = graph.producers()
    var stages: [StageValue] = []
    for v in graph.outputs where graph.name(of: v).hasPrefix("debug.") {
        stages.append(StageValue(stage: StageLabel.label(graph.name(of: v)), value: graph.name(of: keepOutputs ? v : source(of: v, producers, graph))))
    }
    if !keepOutputs {
        let values = graph.values
        graph.outputs.removeAll { values[$0.index].name.hasPrefix("debug.") }
        if let passes { _ = try optimize(&graph, options: passes) } else { _ = try eliminateDeadCode(&graph) }
        let defined = Set(graph.nodes.flatMap { $0.outputs.map { graph.name(of: $0) } } + graph.inputs.map { graph.name(of: $0) })
        stages.removeAll { !defined.contains($0.value) }
    }
    graph.metadata[stageMetadataKey] = encodeStages(stages)
}

/// The value `v` copies through Identity nodes (the tracer adds one when a value is output
/// twice); those copies vanish with the outputs.
private func source(of v: ValueID, _ producers: [ValueID: Int], _ graph: Graph) -> ValueID {
    var v = v
    while let n = producers[v], isIdentity(graph.nodes[n]) { v = graph.nodes[n].inputs[0] }
    return v
}

/// Whether `node` is an Identity: the one place this file inspects an op.
private func isIdentity(_ node: Node) -> Bool { node.op == .identity }
