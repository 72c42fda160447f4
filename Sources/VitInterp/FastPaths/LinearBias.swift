import VitIR

// Fast path of a linear layer's two nodes, MatMul then Add of a bias (Kernels/MatMul.swift and
// Kernels/Elementwise.swift): the GEMM writes into rows pre-filled with the bias (beta 1), so
// the [rows, n] product is not read and written a second time by the Add. The interpreter's
// run plans it (`linearBiasPlan`) and runs the Add as a pass-through of the MatMul's value.
//
// Applies when: the MatMul's operands are float32 (or both float16) with a rank-2 B (an
// initializer), its output has exactly one use, that use is an Add whose other operand is an
// initializer of the same dtype holding n values in its last axis (shape [n] or [1, …, 1, n]),
// the Add's output type is the MatMul's, and neither value is hooked or a graph output
// (`Interpreter.Options.fuse`, on by default, turns it off).
// Tolerance class vs MatMul then Add: float32, rounding, not bit-exact. The fused GEMM adds the
// bias into its accumulation (at the start or after a k block, the library's choice) instead of
// to the rounded product; each is within (k + 1)·2⁻²⁴·(Σⱼ|aⱼ·bⱼ| + |bias|) of the exact value.
// float16, bit-exact: the GEMM's rows are rounded to float16 precision and the bias added in
// Float32 as the plain Add does, one pass over rows still in cache instead of a float16 product
// stored, widened and narrowed again.
//
// Epilogue: the nodes after the bias Add that read only the layer's rows and
// vectors or values already computed — Relu, Gelu, a Mul by an [n] initializer (LayerScale) and
// an Add of a value of the output's own shape defined before the MatMul (a residual), each
// intermediate value used once — run in place on each GEMM block's rows right after the block,
// while they are in cache, instead of as passes over new tensors (float16: on the rows of the
// bias pass, a block of rows at a time). Bit-exact vs those nodes' own kernels on the fused
// product: each element is computed by the same Float operation (Relu's comparison,
// `geluVectorExp`, one product, one sum); in float16 from values rounded to float16 precision
// wherever a plain node stores one.
// Pinned by FastPathTests.linearWithBias, FastPathTests.linearEpilogue and
// LinearBiasFusionTests (plan and fused-vs-plain run).

/// One step of a fused linear layer after its bias, over an operand `Operand` (a value in the
/// plan, a tensor when it runs).
enum LinearEpilogue<Operand> {
    case relu
    case gelu(GeluApproximation)
    /// Mul by an [n] (or [1, …, 1, n]) initializer of the layer's dtype: LayerScale.
    case scale(Operand)
    /// Add of a value of the output's own type: a residual.
    case residual(Operand)

    func map<T, E: Error>(_ operand: (Operand) throws(E) -> T) throws(E) -> LinearEpilogue<T> {
        switch self {
        case .relu: .relu
        case .gelu(let a): .gelu(a)
        case .scale(let v): .scale(try operand(v))
        case .residual(let v): .residual(try operand(v))
        }
    }
}

/// The fused chains of a graph: MatMul node index → its bias initializer and the steps after
/// it, and the nodes of each chain after its MatMul (the bias Add, the epilogue's nodes), which
/// pass on the chain's value: node index → the input position that carries it.
struct LinearBiasPlan {
    var biasOfMatMul: [Int: ValueID] = [:]
    var epilogueOfMatMul: [Int: [LinearEpilogue<ValueID>]] = [:]
    var passThrough: [Int: Int] = [:]
}

/// Finds every MatMul → Add(bias) pair of `graph` that `linearWithBias` computes, and the
/// epilogue steps after it, leaving out chains through `excluded` values (hooked values)
/// and epilogue nodes among `claimed` (nodes another fusion computes).
func linearBiasPlan(_ graph: Graph, excluded: Set<ValueID>, claimed: Set<Int> = []) -> LinearBiasPlan {
    var plan = LinearBiasPlan()
    let uses = graph.useCounts()
    var producer: [Int: Int] = [:]  // value index → MatMul node index
    for (i, node) in graph.nodes.enumerated() {
        let dtype = graph.type(of: node.inputs.first ?? node.outputs[0]).dtype
        if case .linearAlgebra(.matMul) = node.op, node.outputs.count == 1, node.inputs.count == 2,
           dtype == .float32 || dtype == .float16, graph.initializers[node.inputs[1]] != nil,
           graph.type(of: node.inputs[1]).dtype == dtype, graph.type(of: node.inputs[1]).rank == 2,
           uses[node.outputs[0].index] == 1, !excluded.contains(node.outputs[0]) {
            producer[node.outputs[0].index] = i
        }
        guard case .elementwise(.add) = node.op, node.inputs.count == 2, node.outputs.count == 1,
              !excluded.contains(node.outputs[0]) else { continue }
        for (position, (x, bias)) in [(node.inputs[0], node.inputs[1]), (node.inputs[1], node.inputs[0])].enumerated() {
            guard let m = producer[x.index], graph.initializers[bias] != nil else { continue }
            let t = graph.type(of: x), b = graph.type(of: bias)
            guard let n = t.shape.ints?.last, let bDims = b.shape.ints, b.dtype == t.dtype,
                  bDims.last == n, bDims.dropLast().allSatisfy({ $0 == 1 }), bDims.count <= t.rank,
                  graph.type(of: node.outputs[0]) == t else { continue }
            plan.biasOfMatMul[m] = bias
            plan.passThrough[i] = position
            producer[x.index] = nil
            break
        }
    }
    extendEpilogues(graph, excluded: excluded, claimed: claimed, uses: uses, &plan)
    return plan
}

/// Adds to each chain of `plan` the steps its bias Add's value flows through (see the
/// file's comment), stopping at the first node that is not one (or is claimed, or already in a
/// chain), or at a value used twice or hooked.
private func extendEpilogues(_ graph: Graph, excluded: Set<ValueID>, claimed: Set<Int>, uses: [Int],
                             _ plan: inout LinearBiasPlan) {
    var consumer: [Int: Int] = [:], definedBy: [Int: Int] = [:]  // value index → node index
    for (i, node) in graph.nodes.enumerated() {
        for v in node.inputs { consumer[v.index] = i }
        for v in node.outputs { definedBy[v.index] = i }
    }
    for m in plan.biasOfMatMul.keys.sorted() {
        let product = graph.nodes[m].outputs[0], type = graph.type(of: product)
        guard type.dtype == .float32 || type.dtype == .float16, let n = type.shape.ints?.last,
              let add = consumer[product.index] else { continue }
        var steps: [LinearEpilogue<ValueID>] = []
        var current = graph.nodes[add].outputs[0]
        while uses[current.index] == 1, !excluded.contains(current), let c = consumer[current.index] {
            let node = graph.nodes[c]
            guard node.outputs.count == 1, graph.type(of: node.outputs[0]) == type, !claimed.contains(c),
                  plan.passThrough[c] == nil, let position = node.inputs.firstIndex(of: current) else { break }
            let other = node.inputs.count == 2 ? node.inputs[1 - position] : nil
            guard let step = epilogueStep(node, other: other, type: type, n: n, definedBefore: { (definedBy[$0.index] ?? -1) < m },
                                          graph) else { break }
            steps.append(step)
            plan.passThrough[c] = position
            current = node.outputs[0]
        }
        if !steps.isEmpty { plan.epilogueOfMatMul[m] = steps }
    }
}

/// The step `node` is when it reads a chain's value of `type` (last axis `n`) and
/// `other` (its other input, if any), or nil.
private func epilogueStep(_ node: Node, other: ValueID?, type: TensorType, n: Int,
                          definedBefore: (ValueID) -> Bool, _ graph: Graph) -> LinearEpilogue<ValueID>? {
    switch (node.op, other) {
    case (.elementwise(.relu), nil): return .relu
    case (.elementwise(.gelu(let approximate)), nil): return .gelu(approximate)
    case (.elementwise(.mul), let v?) where isRowVector(v, n: n, type, graph): return .scale(v)
    case (.elementwise(.add), let v?) where graph.type(of: v) == type && definedBefore(v): return .residual(v)
    default: return nil
    }
}

/// Whether `v` is an initializer of `type`'s dtype of shape [n] or [1, …, 1, n] of rank ≤ its rank.
private func isRowVector(_ v: ValueID, n: Int, _ type: TensorType, _ graph: Graph) -> Bool {
    let t = graph.type(of: v)
    guard graph.initializers[v] != nil, t.dtype == type.dtype, let dims = t.shape.ints else { return false }
    return dims.count <= type.rank && dims.last == n && dims.dropLast().allSatisfy { $0 == 1 }
}

/// A [rows…, k] · B [k, n] + bias [n], then `epilogue` (its operands of the output's dtype, a
/// scale of n values, residuals of the output's shape): float32 as one GEMM into rows holding
/// the bias, the epilogue in place on each block of rows; float16 as one GEMM whose rounded
/// rows get the bias and the epilogue in one pass (`halfBiasAndEpilogue`).
func linearWithBias(_ a: Tensor, _ b: Tensor, _ bias: Tensor, _ out: TensorType,
                    epilogue: [LinearEpilogue<Tensor>] = []) -> Tensor {
    let k = b.shape[0], n = b.shape[1]
    let rows = a.shape.count == 1 ? 1 : a.shape.dropLast().reduce(1, *), group = stackedRowGroup(a.shape)
    return withFloats(a) { pa in
        withFloats(b) { pb in
            withFloats(bias) { pbias in
                makeFloats(out.dtype, out.shape.ints ?? [], writesAll: true) { pc in
                    let c = pc.baseAddress!, z = pbias.baseAddress!
                    guard out.dtype == .float16 else {
                        for r in 0..<rows { (c + r * n).update(from: z, count: n) }
                        return withExtendedLifetime(epilogue) {
                            let steps = epilogue.map { $0.map { $0.rawPointer.assumingMemoryBound(to: Float.self) } }
                            sgemm(m: rows, n: n, k: k, pa.baseAddress!, pb.baseAddress!, beta: 1, c, rowGroup: group,
                                  epilogue: steps.isEmpty ? nil : { applyEpilogue(steps, rows: $0, c, n: n) })
                        }
                    }
                    sgemm(m: rows, n: n, k: k, pa.baseAddress!, pb.baseAddress!, c, rowGroup: group)
                    let blockRows = Swift.max(1, (1 << 14) / Swift.max(n, 1))
                    let scales = epilogue.map { step -> [Float] in
                        if case .scale(let g) = step { return widenedHalves(g) } else { return [] }
                    }
                    parallelChunks(rows, grain: blockRows) { range in
                        for first in stride(from: range.lowerBound, to: range.upperBound, by: blockRows) {
                            halfBiasAndEpilogue(c, rows: first..<Swift.min(range.upperBound, first + blockRows), n: n, bias: z,
                                                epilogue, scales: scales)
                        }
                    }
                }
            }
        }
    }
}

/// The float16 layer's bias and `epilogue` on rows `rows` of its float product `c` ([rows, n]),
/// in place: each value rounded to float16 precision where the plain nodes store one (the
/// product, the bias Add's sum, each step's result but the last, which the output's narrowing
/// rounds), each step computed from the rounded values as `applyEpilogue` computes it, a
/// residual's rows widened from its halves, `scales` the widened scale of each `.scale` step.
private func halfBiasAndEpilogue(_ c: UnsafeMutablePointer<Float>, rows: Range<Int>, n: Int, bias z: UnsafePointer<Float>,
                                 _ epilogue: [LinearEpilogue<Tensor>], scales: [[Float]]) {
    let x = c + rows.lowerBound * n, count = rows.count * n
    roundThroughHalf(x, count)  // the float16 product the plain MatMul stores
    for r in 0..<rows.count {
        let row = x + r * n
        for j in 0..<n { row[j] += z[j] }
    }
    let local = 0..<rows.count
    for (i, step) in epilogue.enumerated() {
        roundThroughHalf(x, count)  // the float16 value the step's plain node reads
        switch step {
        case .relu: applyEpilogue([.relu], rows: local, x, n: n)
        case .gelu(let a): applyEpilogue([.gelu(a)], rows: local, x, n: n)
        case .scale: scales[i].withUnsafeBufferPointer { applyEpilogue([.scale($0.baseAddress!)], rows: local, x, n: n) }
        case .residual(let t):
            withUnsafeTemporaryAllocation(of: Float.self, capacity: count) { y in
                t.withElements(as: UInt16.self) { widen($0.baseAddress! + rows.lowerBound * n, y.baseAddress!, count, .best) }
                applyEpilogue([.residual(UnsafePointer(y.baseAddress!))], rows: local, x, n: n)
            }
        }
    }
}

/// `steps` in order on rows `rows` of `c` ([rows, n]), in place, each element as the step's
/// plain kernel computes it: `relu`, `geluVectorExp`, one Float product by the column's scale,
/// one Float sum with the residual's element.
private func applyEpilogue(_ steps: [LinearEpilogue<UnsafePointer<Float>>], rows: Range<Int>,
                           _ c: UnsafeMutablePointer<Float>, n: Int) {
    let first = rows.lowerBound * n, count = rows.count * n, x = c + first
    for step in steps {
        switch step {
        case .relu:
            for i in 0..<count { x[i] = relu(x[i]) }
        case .gelu(let approximate):
            geluVectorExp(x, x, count, approximate)
        case .scale(let g):
            for r in 0..<rows.count {
                let row = x + r * n
                for j in 0..<n { row[j] *= g[j] }
            }
        case .residual(let y):
            let y = y + first
            for i in 0..<count { x[i] += y[i] }
        }
    }
}
