import VitIR

// Fast path of a Transpose of the last two axes feeding a MatMul (Kernels/Shape.swift then
// Kernels/MatMul.swift), as in attention's q · Kᵀ: the GEMM reads the Transpose's input with
// its transposed flag (`sgemm(transA:transB:)`) instead of a transposed copy being written and
// read again. The interpreter's run plans it (`transposedOperandPlan`) and runs the Transpose
// as a view of its input with the declared shape, which only the fused MatMul reads.
//
// Applies when: the MatMul's operands are floating point (float16 and bfloat16 widened to
// Float and the product rounded to the output dtype, as the plain MatMul does), an operand is
// the output of a Transpose whose permutation swaps the last two axes and keeps the others in
// place, that output has exactly one use, is not a graph output and is not hooked, and the
// view keeps no storage live beyond `plannedMemory`'s count (`viewLifetimes`)
// (`Interpreter.Options.fuse`, on by default, turns it off, as does `checkFinite`).
// Tolerance class vs Transpose then MatMul: rounding, not bit-exact. Both compute each element
// as a Float dot product of length k, but the GEMM libraries pick their packing and micro-
// kernels by the operands' layout, so the k-order of a sum can differ; each is within
// k·2⁻²⁴·Σⱼ|aⱼ·bⱼ| of the exact dot product, so they differ by at most twice that (then one
// rounding to a narrower output dtype each, at most one ulp of it apart).
// Pinned by FastPathTests.transposedOperandMatMul and TransposedOperandFusionTests.

/// The planned pairs of a graph: MatMul node index → which operands it reads transposed, and
/// the Transpose node indices that pass their input on as a view.
struct TransposedOperandPlan {
    var operandsOfMatMul: [Int: (transA: Bool, transB: Bool)] = [:]
    var viewTransposes: Set<Int> = []
}

/// Finds every Transpose(last two axes) → MatMul operand pair of `graph` that
/// `transposedOperandMatMul` computes, leaving out Transposes whose output is in `excluded`
/// (hooked values) or is used elsewhere, and the MatMul nodes in `planned` (fused otherwise,
/// as by `linearBiasPlan`).
func transposedOperandPlan(_ graph: Graph, excluded: Set<ValueID>, planned: Set<Int> = []) -> TransposedOperandPlan {
    var plan = TransposedOperandPlan()
    let uses = graph.useCounts()  // graph outputs count as uses
    let keepsAlive = viewLifetimes(graph)
    var producer: [Int: Int] = [:]  // value index → Transpose node index
    for (i, node) in graph.nodes.enumerated() {
        if case .movement(.transpose(let perm)) = node.op, node.inputs.count == 1, node.outputs.count == 1,
           transposeLastTwoApplies(perm), uses[node.outputs[0].index] == 1, !excluded.contains(node.outputs[0]) {
            producer[node.outputs[0].index] = i
        }
        guard case .linearAlgebra(.matMul) = node.op, node.inputs.count == 2, node.outputs.count == 1,
              !planned.contains(i), node.inputs.allSatisfy({ graph.type(of: $0).dtype.isFloatingPoint }) else { continue }
        func fusable(_ v: ValueID) -> Int? {
            guard let t = producer[v.index], keepsAlive(graph.nodes[t].inputs[0], v, i) else { return nil }
            return t
        }
        let ta = fusable(node.inputs[0]), tb = fusable(node.inputs[1])
        guard ta != nil || tb != nil else { continue }
        plan.operandsOfMatMul[i] = (ta != nil, tb != nil)
        for t in [ta, tb] { if let t { plan.viewTransposes.insert(t) } }
    }
    return plan
}

/// Whether running a Transpose of `input` (to `output`) as a view read by node `reader` stays
/// within `plannedMemory`, which counts the Transpose as a copy: the view keeps the storage of
/// `input` (its root, `storageRoots`) live until `reader`, so either that storage is live then
/// anyway (another value on it is used at or after `reader`, or is a graph output), or it is no
/// larger than the copy the view saves.
func viewLifetimes(_ graph: Graph) -> (_ input: ValueID, _ output: ValueID, _ reader: Int) -> Bool {
    let roots = storageRoots(graph)
    var lastUse = [Int](repeating: -1, count: graph.values.count)  // root → last node reading it
    for (i, node) in graph.nodes.enumerated() {
        for v in node.inputs where roots[v.index] >= 0 { lastUse[roots[v.index]] = i }
    }
    for v in graph.outputs where roots[v.index] >= 0 { lastUse[roots[v.index]] = Int.max }
    return { input, output, reader in
        let r = roots[input.index]
        guard r >= 0, graph.initializers[input] == nil else { return true }  // initializers are resident
        let size = { (v: ValueID) in graph.type(of: v).shape.ints?.reduce(1, *) ?? Int.max }
        return lastUse[r] >= reader || size(ValueID(r)) <= size(output)
    }
}

/// The last two axes of `shape` swapped.
func swappingLastTwo(_ shape: [Int]) -> [Int] {
    var s = shape
    if s.count >= 2 { s.swapAt(s.count - 2, s.count - 1) }
    return s
}

/// MatMul(op(a), op(b)) where op transposes the last two axes when the flag is set: `a` holds
/// [batch…, k, m] under `transA` (else [batch…, m, k]), `b` holds [batch…, n, k] under
/// `transB` (else [batch…, k, n]); a 1-d untransposed operand is promoted as in MatMul. Batch
/// axes broadcast; one GEMM per batch element, or one over stacked rows when `b` has no batch
/// and `a` is not transposed (as `sharedRightMatMul`). Floating-point operands only.
func transposedOperandMatMul(_ a: Tensor, transA: Bool, _ b: Tensor, transB: Bool, _ out: TensorType) -> Tensor {
    let aShape = a.shape.count == 1 ? [1] + a.shape : a.shape
    let bShape = b.shape.count == 1 ? b.shape + [1] : b.shape
    let (m, k) = transA ? (aShape[aShape.count - 1], aShape[aShape.count - 2]) : (aShape[aShape.count - 2], aShape[aShape.count - 1])
    let n = transB ? bShape[bShape.count - 2] : bShape[bShape.count - 1]
    let aBatch = Array(aShape.dropLast(2)), bBatch = Array(bShape.dropLast(2))
    let outShape = out.shape.ints ?? []
    if !transA, bBatch.allSatisfy({ $0 == 1 }) {
        let rows = aShape.dropLast().reduce(1, *)
        return withFloats(a) { pa in
            withFloats(b) { pb in
                makeFloats(out.dtype, outShape, writesAll: true) { pc in
                    sgemm(transB: transB, m: rows, n: n, k: k, pa.baseAddress!, pb.baseAddress!, pc.baseAddress!,
                          rowGroup: stackedRowGroup(aShape))
                }
            }
        }
    }
    let batch = (try? broadcast(aBatch, bBatch)) ?? []
    let aOffsets = batchOffsets(aBatch, batch).map { $0 * m * k }
    let bOffsets = batchOffsets(bBatch, batch).map { $0 * k * n }
    return withFloats(a) { pa in
        withFloats(b) { pb in
            makeFloats(out.dtype, outShape, writesAll: true) { pc in
                let A = pa.baseAddress!, B = pb.baseAddress!, C = pc.baseAddress!
                for i in aOffsets.indices {
                    sgemm(transA: transA, transB: transB, m: m, n: n, k: k, A + aOffsets[i], B + bOffsets[i], C + i * m * n)
                }
            }
        }
    }
}
