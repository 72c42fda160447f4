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
    let outputs = try run(op, inputs, types)
    for (k, (t, expected)) in zip(outputs, types).enumerated() where t.type != expected {
        throw KernelError(.invalidInput, "kernel produced \(t.type) for output \(k), shape rule gives \(expected)")
    }
    return outputs
}

/// The exhaustive dispatch: one kernel per op.
private func run(_ op: Op, _ x: [Tensor], _ types: [TensorType]) throws -> [Tensor] {
    let out = types[0]
    switch op {
    case .add, .sub, .mul, .div, .pow, .max, .min:
        return [try binaryArithmetic(op, x[0], x[1], out)]
    case .equal, .less, .lessOrEqual, .greater, .greaterOrEqual, .and, .or:
        return [comparison(op, x[0], x[1], out)]
    case .not:
        return [logicalNot(x[0])]
    case .neg, .abs, .relu:
        return [unarySigned(op, x[0])]
    case .sqrt, .reciprocal, .exp, .log, .erf, .sin, .cos, .tanh, .sigmoid, .floor, .ceil:
        return [unaryFloat(op, x[0])]
    case .gelu(let approximate):
        return [gelu(x[0], approximate)]
    case .clip(let lo, let hi):
        return [clip(x[0], min: lo, max: hi)]
    case .where:
        return [whereSelect(x[0], x[1], x[2], out)]
    case .cast(let to):
        return [cast(x[0], to: to)]
    case .identity:
        return [x[0]]

    case .matMul:
        return [matMul(x[0], x[1], out)]
    case .gemm(let g):
        return [try gemm(x, g, out)]
    case .conv(let c):
        return [conv(x, c, out)]
    case .convTranspose(let c):
        return [convTranspose(x, c, out)]
    case .maxPool(let p):
        return [maxPool(x[0], p, out)]

    case .softmax(let axis):
        return [try softmax(x[0], axis: axis)]
    case .layerNormalization(let axis, let epsilon):
        return [try layerNormalization(x, axis: axis, epsilon: epsilon)]
    case .groupNormalization(let groups, let epsilon):
        return [groupNormalization(x, groups: groups, epsilon: epsilon)]

    case .reduceMean(let r):
        return [try reduce(x[0], .mean, r, out)]
    case .reduceSum(let r):
        return [try reduce(x[0], .sum, r, out)]
    case .reduceMax(let r):
        return [try reduce(x[0], .max, r, out)]
    case .topK(let t):
        return try topK(x[0], t, types)

    case .gather(let axis):
        return [try gather(x[0], x[1], axis: axis, out)]
    case .gatherElements(let axis):
        return [try gatherElements(x[0], x[1], axis: axis)]
    case .reshape, .squeeze, .unsqueeze:
        return [try reshaped(x[0], out.shape.ints ?? [])]
    case .transpose(let perm):
        return [transpose(x[0], perm: perm)]
    case .concat(let axis):
        return [try concat(x, axis: axis, out)]
    case .split(let axis, let sizes):
        return try split(x[0], axis: axis, sizes: sizes, types)
    case .slice(let s):
        return [try slice(x[0], s, out)]
    case .expand:
        return [broadcasted(x[0], to: out.shape.ints ?? [])]
    case .tile:
        return [tile(x[0], out)]
    case .pad(let p):
        return [pad(x[0], p, out)]
    case .resize(let r):
        return [try resize(x[0], r)]
    case .gridSample(let g):
        return [gridSample(x[0], x[1], g, out)]
    case .pseudoInverse:
        return [try pseudoInverse(x[0])]
    case .range(let start, _, let delta, _):
        return [try range(start: start, delta: delta, out)]
    }
}
