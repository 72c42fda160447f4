import VitIR
import VitInterp

/// Limits on what constant folding may materialise.
public struct FoldingBudget: Sendable {
    /// A folded result larger than its constant inputs together is kept only up to this many
    /// bytes; above it the node stays, since the runtime computes it cheaply (an Expand of a
    /// scalar, a Tile, a Range) while the file would grow. Results that are no larger than their
    /// inputs (a Transpose of a weight, a resampled kernel) always fold.
    public var maxGrowthBytes: Int
    public init(maxGrowthBytes: Int = 16 << 20) { self.maxGrowthBytes = maxGrowthBytes }
}

/// Constant folding. Contract: every node whose inputs are all initializers, and whose
/// results fit `budget`, is executed with the interpreter's kernel (`VitInterp.evaluate`; there
/// is no second implementation) and replaced by initializers carrying its output values'
/// names. Graph outputs are never turned into initializers (they stay node outputs); an
/// initializer whose every use was folded is removed. Returns whether anything was folded.
public func foldConstants(_ graph: inout Graph, budget: FoldingBudget = FoldingBudget()) throws -> Bool {
    var changed = false
    var kept: [Node] = []
    kept.reserveCapacity(graph.nodes.count)
    let outputs = Set(graph.outputs)
    // An initializer whose last use folds away is dropped at once (dead-code elimination would
    // drop it after the pass), so folding every weight's Transpose does not hold both copies.
    var uses = graph.useCounts()
    let inputs = Set(graph.inputs)
    for node in graph.nodes {
        let foldable = !node.inputs.isEmpty || node.op.isSource
        guard foldable, node.inputs.allSatisfy({ graph.initializers[$0] != nil }),
              !node.outputs.contains(where: outputs.contains) else {
            kept.append(node)
            continue
        }
        let operands = node.inputs.map { graph.initializers[$0]! }
        let inBytes = operands.reduce(0) { $0 + $1.byteCount }
        let outBytes = node.outputs.reduce(0) { $0 + graph.type(of: $1).dtype.byteSize * (graph.type(of: $1).shape.elementCount ?? 0) }
        if outBytes > inBytes && outBytes > budget.maxGrowthBytes {
            kept.append(node)
            continue
        }
        let results = try evaluate(node.op, operands)
        for (v, t) in zip(node.outputs, results) { graph.initializers[v] = t }
        for v in node.inputs {
            uses[v.index] -= 1
            if uses[v.index] == 0, !inputs.contains(v), !outputs.contains(v) { graph.initializers[v] = nil }
        }
        changed = true
    }
    graph.nodes = kept
    return changed
}

extension Op {
    /// Ops with no inputs (their values depend on attributes alone).
    var isSource: Bool {
        if case .movement(.range) = self { return true }
        return false
    }
}
