import Synchronization
import VitIR

// Fast path of MatMul(q, k) → Softmax(last axis) → MatMul(·, v), attention's scores,
// probabilities and weighted values (Kernels/MatMul.swift, Kernels/Normalization.swift): one
// batch element (a head) at a time, its m×n scores written into a reused buffer, normalized
// there in place and multiplied by v before the next head's. The two [batch…, m, n] tensors of
// the plain path (a ViT-B/16-512 block's are 48 MB each, streamed to memory and back twice)
// are never stored; a head's buffer (4 MB; one per worker) stays in the last-level cache. The
// interpreter's run plans it (`attentionPlan`): the first MatMul node computes the output, the
// Softmax node does nothing and the second MatMul node binds it.
//
// Applies when: every value (q, k, v, scores, probabilities, output) is float32, or every one
// float16 (the scores and probabilities are then rounded to float16 precision in the buffer, as
// the plain path stores them, and the output once), with a static
// shape of one rank ≥ 2 and equal batch axes (no broadcasting), every extent of m, n, k, d is
// positive, the Softmax normalizes the last axis, the scores' only use is the Softmax and the
// probabilities' only use is the second MatMul's left operand, neither is hooked or a graph
// output, v is defined before the first MatMul runs, the first MatMul reads q untransposed
// (k may be a planned transposed view, `transposedOperandPlan`) and the second reads v
// as stored (`Interpreter.Options.fuse`, on by default, turns it off, as does `checkFinite`).
// Tolerance class vs MatMul, Softmax, MatMul: bit-exact. Each head runs the GEMMs of the plain
// MatMuls' per-batch loops (same m, n, k and operands; on one thread or split by rows, which
// oneDNN sums in the same k order) and the same row kernel as `softmaxVectorExp`; only where
// the scores are stored differs. Pinned by FastPathTests.attentionPerHead, AttentionPlanTests
// and ThreadingTests.attentionPerHeadIsBitIdenticalAtOneAndTwoThreads.

/// One planned attention: its Softmax and second MatMul node indices and the v operand.
struct PlannedAttention {
    var softmax: Int, weighted: Int, values: ValueID
}

/// The planned attentions of a graph, by the index of their first MatMul node.
struct AttentionPlan {
    var byScores: [Int: PlannedAttention] = [:]
    /// Softmax nodes that do nothing (their attention's first MatMul computed everything).
    var softmaxes: Set<Int> = []
}

/// Finds every MatMul → Softmax → MatMul chain of `graph` that `attentionPerHead` computes,
/// leaving out chains touching `excluded` values (hooked values), first MatMuls whose q is a
/// transposed view (`transposed`) and second MatMuls `transposed` or `planned` take (fused
/// otherwise, as by `linearBiasPlan`).
func attentionPlan(_ graph: Graph, excluded: Set<ValueID>, transposed: TransposedOperandPlan,
                   planned: Set<Int> = []) -> AttentionPlan {
    let uses = graph.useCounts()  // graph outputs count as uses
    var definedAt: [Int: Int] = [:]  // value index → producing node index
    var scoresOf: [Int: Int] = [:]  // scores value index → first MatMul node index
    var softmaxOf: [Int: (node: Int, scores: Int)] = [:]  // probabilities value index → Softmax
    var plan = AttentionPlan()
    // The static dims of a float32 or float16 value of rank ≥ 2 with positive extents.
    func float32(_ v: ValueID) -> [Int]? {
        let t = graph.type(of: v)
        guard t.dtype == .float32 || t.dtype == .float16, let dims = t.shape.ints, dims.count >= 2,
              dims.allSatisfy({ $0 > 0 }) else { return nil }
        return dims
    }
    for (i, node) in graph.nodes.enumerated() {
        defer { for v in node.outputs { definedAt[v.index] = i } }
        guard node.outputs.count == 1 else { continue }
        let out = node.outputs[0]
        switch node.op {
        case .linearAlgebra(.matMul) where node.inputs.count == 2 && !planned.contains(i):
            if let (s, scores) = softmaxOf[node.inputs[0].index], let first = scoresOf[scores],
               transposed.operandsOfMatMul[i] == nil, float32(out) != nil {
                let q = graph.nodes[first].inputs[0], k = graph.nodes[first].inputs[1], v = node.inputs[1]
                let batch = [q, k, v, out].map { float32($0).map { Array($0.dropLast(2)) } }
                let dtypes = Set([q, k, v, out, node.inputs[0], graph.nodes[first].outputs[0]].map { graph.type(of: $0).dtype })
                guard batch.allSatisfy({ $0 != nil && $0 == batch[0] }), dtypes.count == 1,
                      (definedAt[v.index] ?? -1) < first else { continue }
                plan.byScores[first] = PlannedAttention(softmax: s, weighted: i, values: v)
                plan.softmaxes.insert(s)
            } else if transposed.operandsOfMatMul[i]?.transA != true, uses[out.index] == 1, !excluded.contains(out),
                      float32(out) != nil {
                scoresOf[out.index] = i
            }
        case .normalization(.softmax(let axis)) where node.inputs.count == 1:
            let rank = graph.type(of: out).rank
            guard scoresOf[node.inputs[0].index] != nil, axis == -1 || axis == rank - 1, float32(out) != nil,
                  uses[out.index] == 1, !excluded.contains(out) else { continue }
            softmaxOf[out.index] = (i, node.inputs[0].index)
        default:
            continue
        }
    }
    return plan
}

/// Softmax(q · op(k), last axis) · v: q [batch…, m, k], k [batch…, k, n] (stored [batch…, n, k]
/// under `transK`), v [batch…, n, d], all float32 or all float16 with equal batch axes and
/// positive extents (float16: computed in Float32, the scores, probabilities and output each
/// rounded to float16 as the plain MatMul, Softmax and MatMul store them).
/// Returns the [batch…, m, d] output and the bytes of the scores buffers it used: with oneDNN
/// and at least as many heads as threads, each worker takes whole heads through its own
/// buffer with single-threaded GEMMs (one parallel region per call instead of three per head);
/// otherwise the heads run in turn through one buffer, each step split over the workers.
/// Either way every head's GEMMs are computed in `oneDNNGemm`'s row blocks (in turn, or split
/// over the workers), the same calls, so the result is the same (pinned by ThreadingTests).
func attentionPerHead(_ q: Tensor, _ k: Tensor, transK: Bool, _ v: Tensor) -> (output: Tensor, scratchBytes: Int) {
    let r = q.shape.count
    let m = q.shape[r - 2], depth = q.shape[r - 1], n = v.shape[r - 2], d = v.shape[r - 1]
    let heads = q.shape.dropLast(2).reduce(1, *)
    let perWorker = GEMMBackend.current == .oneDNN && heads >= Threading.limit && Threading.limit > 1
    let buffers = Atomic<Int>(perWorker ? 0 : 1)  // as many as the workers that ran
    let half = q.dtype == .float16
    // The stored precision of scores and probabilities: float16's, row by row, for float16.
    func stored(_ p: UnsafeMutablePointer<Float>, rows: Int, split: Bool) {
        guard half else { return }
        if !split { return roundThroughHalf(p, rows * n) }
        parallelChunks(rows, grain: Swift.max(1, (1 << 14) / n)) { range in
            roundThroughHalf(p + range.lowerBound * n, range.count * n)
        }
    }
    let output = withFloats(q) { pq in
        withFloats(k) { pk in
            withFloats(v) { pv in
                makeFloats(q.dtype, Array(q.shape.dropLast()) + [d], writesAll: true) { po in
                    let Q = pq.baseAddress!, K = pk.baseAddress!, V = pv.baseAddress!, O = po.baseAddress!
                    guard perWorker else {
                        let scratch = scoresBuffer(m * n)
                        defer { scratch.deallocate() }
                        for h in 0..<heads {
                            sgemm(transB: transK, m: m, n: n, k: depth, Q + h * m * depth, K + h * depth * n, scratch)
                            stored(scratch, rows: m, split: true)
                            softmaxRows(scratch, scratch, rows: m, n: n)
                            stored(scratch, rows: m, split: true)
                            sgemm(m: m, n: d, k: n, scratch, V + h * n * d, O + h * m * d)
                        }
                        return
                    }
                    parallelChunks(heads, grain: 1) { range in
                        buffers.add(1, ordering: .relaxed)
                        let scratch = scoresBuffer(m * n)
                        defer { scratch.deallocate() }
                        for h in range {
                            oneDNNGemm(transA: false, transB: transK, m: m, n: n, k: depth, alpha: 1, Q + h * m * depth,
                                       K + h * depth * n, beta: 0, scratch, inTurn: true)
                            stored(scratch, rows: m, split: false)
                            for row in 0..<m { softmaxRow(scratch + row * n, scratch + row * n, n, .best) }
                            stored(scratch, rows: m, split: false)
                            oneDNNGemm(transA: false, transB: false, m: m, n: d, k: n, alpha: 1, scratch, V + h * n * d,
                                       beta: 0, O + h * m * d, inTurn: true)
                        }
                    }
                }
            }
        }
    }
    return (output, buffers.load(ordering: .relaxed) * m * n * MemoryLayout<Float>.stride)
}

/// A 64-byte aligned buffer of `count` floats, to be deallocated by the caller.
private func scoresBuffer(_ count: Int) -> UnsafeMutablePointer<Float> {
    UnsafeMutableRawPointer.allocate(byteCount: count * MemoryLayout<Float>.stride, alignment: 64)
        .bindMemory(to: Float.self, capacity: count)
}
