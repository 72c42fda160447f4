import Testing
import VitIR
import VitInterp
import VitModels
@testable import VitPasses

// convertPrecision: types per side, Casts only at boundaries, constants converted directly,
// integer tensors untouched, the mixed policy's regions in float32.

/// x [2, 8] → LayerNorm(scale, bias) → MatMul(w) → ·scale → MatMul(w) → Softmax → Gather(idx) → TopK(2),
/// outputs the top values and indices: every kind of input the pass distinguishes (a graph
/// input, float constants used on one or both sides, an int64 constant, an int64 output).
private func attentionLike() throws -> Graph {
    let t = Tracer(name: "g")
    let x = t.input("x", TensorType(.float32, [2, 8]))
    let scale = t.constant(Tensor((0..<8).map { 1 + Float($0) / 8 }, shape: [8]), name: "scale")
    let bias = t.constant(Tensor((0..<8).map { Float($0) / 16 - 0.25 }, shape: [8]), name: "bias")
    // Small weights keep the softmax input of order 1, so float16 rounding (2⁻¹¹ relative)
    // moves the probabilities by about 1e-3 of their largest.
    let w = t.constant(Tensor((0..<64).map { (Float(($0 * 37) % 17) / 9 - 0.9) / 4 }, shape: [8, 8]), name: "w")
    let idx = t.constant(Tensor([7, 0, 3, 5, 1] as [Int64], shape: [5]), name: "idx")
    let normed = try t.apply(.layerNormalization(axis: -1, epsilon: 1e-5), [x, scale, bias])[0]
    let logits = try normed.matmul(w).mul(scale).matmul(w)
    let probabilities = try logits.softmax(axis: -1)
    let picked = try probabilities.gather(idx, axis: 1)
    let (values, indices) = try picked.topK(2, axis: 1)
    try t.output("values", values)
    try t.output("indices", indices)
    return try t.finish()
}

private func producer(_ g: Graph, _ v: ValueID) -> Node? { g.producers()[v].map { g.nodes[$0] } }

private func casts(_ g: Graph) -> [Node] { g.nodes.filter { if case .elementwise(.cast) = $0.op { true } else { false } } }

/// No Cast reads a Cast's output, and every Cast changes the float type.
private func expectCastsOnlyAtBoundaries(_ g: Graph, sourceLocation: Testing.SourceLocation = #_sourceLocation) {
    for c in casts(g) {
        let from = g.type(of: c.inputs[0]).dtype, to = g.type(of: c.outputs[0]).dtype
        #expect(from != to, "\(c.name) casts \(from) to itself", sourceLocation: sourceLocation)
        if let p = producer(g, c.inputs[0]) {
            let chained = if case .elementwise(.cast) = p.op { true } else { false }
            #expect(!chained, "\(c.name) reads the Cast \(p.name)", sourceLocation: sourceLocation)
        }
    }
}

/// Graph inputs and outputs keep their names and types; integer values keep theirs.
private func expectInterfaceAndIntegersKept(_ before: Graph, _ after: Graph, sourceLocation: Testing.SourceLocation = #_sourceLocation) {
    #expect(before.inputs.map { before.name(of: $0) } == after.inputs.map { after.name(of: $0) }, sourceLocation: sourceLocation)
    #expect(before.outputs.map { before.name(of: $0) } == after.outputs.map { after.name(of: $0) }, sourceLocation: sourceLocation)
    for (a, b) in zip(before.inputs + before.outputs, after.inputs + after.outputs) {
        #expect(before.type(of: a) == after.type(of: b), sourceLocation: sourceLocation)
    }
    let integers = { (g: Graph) in Set(g.values.filter { !$0.type.dtype.isFloatingPoint }.map { "\($0.name):\($0.type)" }) }
    #expect(integers(after).isSuperset(of: integers(before)), sourceLocation: sourceLocation)
    for (v, t) in before.initializers where !t.dtype.isFloatingPoint {
        let same = after.values.firstIndex { $0.name == before.name(of: v) }.flatMap { after.initializers[ValueID($0)] }
        #expect(same?.bitwiseEqual(t) == true, "integer constant \(before.name(of: v)) changed", sourceLocation: sourceLocation)
    }
}

@Test func fp16MakesEveryInternalFloatHalfWithCastsAtTheInterface() throws {
    let g = try attentionLike()
    var h = g
    #expect(try convertPrecision(&h, to: .fp16))
    expectInterfaceAndIntegersKept(g, h)
    expectCastsOnlyAtBoundaries(h)
    // One Cast after the input, one before the float output; none elsewhere.
    #expect(casts(h).count == 2)
    for node in h.nodes {
        if case .elementwise(.cast) = node.op { continue }
        for v in node.inputs + node.outputs where h.type(of: v).dtype.isFloatingPoint {
            #expect(h.type(of: v).dtype == .float16, "\(node.name): \(h.name(of: v)) is \(h.type(of: v).dtype)")
        }
    }
    // Constants are converted directly (no Cast reads a constant), rounded to nearest even.
    for (v, t) in h.initializers where t.dtype.isFloatingPoint {
        #expect(t.dtype == .float16, "\(h.name(of: v))")
    }
    #expect(!casts(h).contains { h.initializers[$0.inputs[0]] != nil })
    let w = try #require(h.values.firstIndex { $0.name == "w" }.flatMap { h.initializers[ValueID($0)] })
    let original = try #require(g.values.firstIndex { $0.name == "w" }.flatMap { g.initializers[ValueID($0)] })
    #expect(w.bitwiseEqual(try evaluate(.cast(to: .float16), [original])[0]))
    // Same values within float16 rounding, same indices (the top two are far apart here).
    let want = try outputs(of: g), got = try outputs(of: h)
    #expect(maxAbsDiff(want["values"]!, got["values"]!) <= 2e-3 * (want["values"]!.floats.map(abs).max() ?? 1))
    #expect(want["indices"]!.bitwiseEqual(got["indices"]!))
}

@Test func mixedKeepsThePolicyRegionsFloat32() throws {
    let g = try attentionLike()
    var m = g
    #expect(try convertPrecision(&m, to: .mixed, policy: MixedPolicy(float32Regions: [.normalization, .softmax, .selection])))
    expectInterfaceAndIntegersKept(g, m)
    expectCastsOnlyAtBoundaries(m)
    func dtype(of op: String) -> DType? {
        m.nodes.first { $0.op.name == op }.map { m.type(of: $0.inputs[0]).dtype }
    }
    #expect(dtype(of: "LayerNormalization") == .float32)
    #expect(dtype(of: "Softmax") == .float32)
    #expect(dtype(of: "TopK") == .float32)
    #expect(dtype(of: "MatMul") == .float16)
    // LayerNormalization's scale and bias take X's type (ONNX LayerNormalization-17: one T).
    let ln = try #require(m.nodes.first { $0.op.name == "LayerNormalization" })
    #expect(ln.inputs.allSatisfy { m.type(of: $0).dtype == .float32 })
    // `scale` feeds the float32 LayerNorm and the float16 Mul: kept once per type.
    #expect(m.values.contains { $0.name == "scale" && $0.type.dtype == .float32 })
    #expect(m.values.contains { $0.name == "scale.float16" && $0.type.dtype == .float16 })
    // The Mul between the MatMuls runs float16; the Gather after the Softmax joins float32
    // (all its float inputs are float32): Casts after the LayerNorm and before the Softmax only.
    #expect(casts(m).count == 2)
    let want = try outputs(of: g), got = try outputs(of: m)
    #expect(maxAbsDiff(want["values"]!, got["values"]!) <= 2e-3 * (want["values"]!.floats.map(abs).max() ?? 1))
    #expect(want["indices"]!.bitwiseEqual(got["indices"]!))
}

@Test func aCastIsNeverChainedAfterTheModelsOwnCast() throws {
    // int64 → Cast(float32) is float16 under fp16; a float32 output of it is then cast from
    // the int64 source, not from the float16 Cast.
    let t = Tracer(name: "g")
    let x = t.input("x", TensorType(.float32, [4]))
    let n = t.constant(Tensor([1, 2, 3, 4] as [Int64], shape: [4]), name: "n")
    let asFloat = try n.cast(.float32)
    try t.output("y", try x.mul(asFloat))
    try t.output("n_float", asFloat)
    let g = try t.finish()
    var h = g
    try convertPrecision(&h, to: .fp16)
    expectCastsOnlyAtBoundaries(h)
    expectInterfaceAndIntegersKept(g, h)
    let want = try outputs(of: g), got = try outputs(of: h)
    #expect(want["n_float"]!.bitwiseEqual(got["n_float"]!))
}

@Test func fp32IsUnchangedAndInt8IsRefused() throws {
    var g = try attentionLike()
    let names = g.values.map(\.name)
    #expect(try convertPrecision(&g, to: .fp32) == false)
    #expect(g.values.map(\.name) == names)
    #expect(throws: PrecisionConversionError.self) { try convertPrecision(&g, to: .int8) }
}

@Test(arguments: [Precision.fp16, .mixed]) func detectorConvertsDeterministicallyWithinTheTypeRules(precision: Precision) throws {
    var g = try traceModel(ModelConfig.load("dino-tiny"))
    _ = try optimize(&g)
    var a = g, b = g
    try convertPrecision(&a, to: precision)   // verify() inside: every shape rule holds
    try convertPrecision(&b, to: precision)
    #expect(a.nodes.map(\.name) == b.nodes.map(\.name))
    #expect(a.values.map(\.name) == b.values.map(\.name))
    expectInterfaceAndIntegersKept(g, a)
    expectCastsOnlyAtBoundaries(a)
    let regions = MixedPolicy.standard.float32Regions
    for node in a.nodes {
        guard let x = node.inputs.first, a.type(of: x).dtype.isFloatingPoint else { continue }
        if case .elementwise(.cast) = node.op { continue }
        let side = a.type(of: x).dtype
        switch node.op {
        case .linearAlgebra(.matMul), .linearAlgebra(.gemm), .convolution(.conv), .convolution(.convTranspose):
            #expect(side == .float16, "\(node.name) runs \(side)")
        default:
            let region = PrecisionRegion.region(of: node)
            let kept = precision == .mixed && region.map(regions.contains) == true
            if kept { #expect(side == .float32, "\(node.name) runs \(side)") }
            if precision == .mixed, region != nil, !kept, !isCheapOp(node.op) { #expect(side == .float16, "\(node.name) runs \(side)") }
            if precision == .fp16 { #expect(side == .float16, "\(node.name) runs \(side)") }
        }
    }
}

private func isCheapOp(_ op: Op) -> Bool {
    switch op {
    case .elementwise, .movement: true
    default: false
    }
}

@Test func rangeStaysFloat32WithACastWhereFloat16UsesIt() throws {
    // ONNX Range-11 has no float16: the Range keeps float32 and a Cast feeds the float16 Mul.
    let t = Tracer(name: "g")
    let x = t.input("x", TensorType(.float32, [5]))
    let r = try t.apply(.range(start: 0, limit: 5, delta: 1, dtype: .float32), [])[0]
    try t.output("y", try x.mul(r))
    let g = try t.finish()
    var h = g
    try convertPrecision(&h, to: .fp16)
    let range = try #require(h.nodes.first { if case .movement(.range) = $0.op { true } else { false } })
    #expect(h.type(of: range.outputs[0]).dtype == .float32)
    let mul = try #require(h.nodes.first { $0.op == .mul })
    #expect(mul.inputs.allSatisfy { h.type(of: $0).dtype == .float16 })
    expectCastsOnlyAtBoundaries(h)
    // x and x·r each round once to float16: within 2⁻¹⁰ of each element.
    let want = try outputs(of: g)["y"]!, got = try outputs(of: h)["y"]!
    #expect(maxAbsDiff(want, got) <= 1e-3 * (want.floats.map(abs).max() ?? 1))
}
