import VitIR

/// Runs one op on concrete inputs with ONNX semantics and returns its outputs.
///
/// The op's shape rule (`inferTypes`) runs first and fixes every output's dtype and shape; a
/// violation throws `KernelError` of kind `.shapeRule`. Values outside an op's domain (an
/// out-of-range Gather index, an integer division by zero) throw `.invalidInput`; the few
/// configurations not implemented throw `.unsupported`. Nothing reachable from inputs traps.
public func evaluate(_ op: Op, _ inputs: [Tensor]) throws -> [Tensor] {
    let types: [TensorType]
    do {
        types = try inferTypes(op, inputs.map(\.type))
    } catch {
        throw KernelError(.shapeRule, error.expected)
    }
    // Outputs without elements have nothing to compute. Kernels size their per-axis index
    // tables by the output's dims, so a dim of 2^40 beside a 0 (valid, and free to plan) would
    // otherwise allocate terabytes.
    let shapes = types.compactMap(\.shape.ints)
    if shapes.count == types.count, shapes.allSatisfy({ $0.contains(0) }) {
        return zip(types, shapes).map { Tensor.zeros($0.dtype, $1) }
    }
    let outputs = try run(op, inputs, types)
    for (k, (t, expected)) in zip(outputs, types).enumerated() where t.type != expected {
        throw KernelError(.invalidInput, "kernel produced \(t.type) for output \(k), shape rule gives \(expected)")
    }
    return outputs
}

/// The exhaustive dispatch: one kernel file per op family.
private func run(_ op: Op, _ x: [Tensor], _ types: [TensorType]) throws -> [Tensor] {
    switch op {
    case .elementwise(let o): try o.evaluate(x, types)
    case .linearAlgebra(let o): try o.evaluate(x, types)
    case .convolution(let o): o.evaluate(x, types)
    case .normalization(let o): try o.evaluate(x, types)
    case .reduction(let o): try o.evaluate(x, types)
    case .movement(let o): try o.evaluate(x, types)
    case .sampling(let o): try o.evaluate(x, types)
    case .quantization(let o): try o.evaluate(x, types)
    }
}
