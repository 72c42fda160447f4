import VitIR

/// The graph stages users can ask for (`vitexport dump --stage`).
public enum Stage: String, CaseIterable, Sendable {
    /// As traced: every op the model code emitted.
    case traced
    /// After the pass pipeline: constants folded, dead code and duplicates removed, simplified.
    case folded
}

public struct PassOptions: Sendable {
    public var budget = FoldingBudget()
    public var maxRounds = 8
    public init(budget: FoldingBudget = FoldingBudget(), maxRounds: Int = 8) {
        self.budget = budget
        self.maxRounds = maxRounds
    }
}

/// One pass run and its effect on the node count.
public struct PassRecord: Sendable {
    public var name: String
    public var nodesBefore: Int
    public var nodesAfter: Int
}

/// The pass pipeline, in order: fold ▸ dead code ▸ dedupe ▸ simplify, repeated until no pass
/// changes the graph (at most `maxRounds` rounds). The graph is verified at the end.
public func optimize(_ graph: inout Graph, options: PassOptions = PassOptions()) throws -> [PassRecord] {
    let passes: [(String, (inout Graph) throws -> Bool)] = [
        ("fold-constants", { try foldConstants(&$0, budget: options.budget) }),
        ("dead-code", eliminateDeadCode),
        ("deduplicate", deduplicate),
        ("simplify", simplify),
    ]
    var records: [PassRecord] = []
    for _ in 0..<options.maxRounds {
        var any = false
        for (name, pass) in passes {
            let before = graph.nodes.count
            let changed = try pass(&graph)
            if changed { records.append(PassRecord(name: name, nodesBefore: before, nodesAfter: graph.nodes.count)) }
            any = any || changed
        }
        if !any { break }
    }
    try verify(graph)
    return records
}
