/// Op methods on traced values. Each forwards the caller's `#fileID`/`#line` so the node
/// records the model code's line, not this file's.
public extension SymbolicTensor {
    private func unary(_ op: Op, _ file: String, _ line: Int) throws -> SymbolicTensor {
        try tracer.apply(op, [self], file: file, line: line)[0]
    }
    private func binary(_ op: Op, _ other: SymbolicTensor, _ file: String, _ line: Int) throws -> SymbolicTensor {
        try tracer.apply(op, [self, other], file: file, line: line)[0]
    }

    func add(_ o: SymbolicTensor, file: String = #fileID, line: Int = #line) throws -> SymbolicTensor { try binary(.add, o, file, line) }
    func sub(_ o: SymbolicTensor, file: String = #fileID, line: Int = #line) throws -> SymbolicTensor { try binary(.sub, o, file, line) }
    func mul(_ o: SymbolicTensor, file: String = #fileID, line: Int = #line) throws -> SymbolicTensor { try binary(.mul, o, file, line) }
    func div(_ o: SymbolicTensor, file: String = #fileID, line: Int = #line) throws -> SymbolicTensor { try binary(.div, o, file, line) }
    func pow(_ o: SymbolicTensor, file: String = #fileID, line: Int = #line) throws -> SymbolicTensor { try binary(.pow, o, file, line) }
    func maximum(_ o: SymbolicTensor, file: String = #fileID, line: Int = #line) throws -> SymbolicTensor { try binary(.max, o, file, line) }
    func minimum(_ o: SymbolicTensor, file: String = #fileID, line: Int = #line) throws -> SymbolicTensor { try binary(.min, o, file, line) }
    func matmul(_ o: SymbolicTensor, file: String = #fileID, line: Int = #line) throws -> SymbolicTensor { try binary(.matMul, o, file, line) }
    func greater(_ o: SymbolicTensor, file: String = #fileID, line: Int = #line) throws -> SymbolicTensor { try binary(.greater, o, file, line) }
    func less(_ o: SymbolicTensor, file: String = #fileID, line: Int = #line) throws -> SymbolicTensor { try binary(.less, o, file, line) }
    func and(_ o: SymbolicTensor, file: String = #fileID, line: Int = #line) throws -> SymbolicTensor { try binary(.and, o, file, line) }

    /// Elementwise op with a scalar constant of this tensor's dtype.
    func add(_ c: Float, file: String = #fileID, line: Int = #line) throws -> SymbolicTensor { try binary(.add, scalar(c), file, line) }
    func sub(_ c: Float, file: String = #fileID, line: Int = #line) throws -> SymbolicTensor { try binary(.sub, scalar(c), file, line) }
    func mul(_ c: Float, file: String = #fileID, line: Int = #line) throws -> SymbolicTensor { try binary(.mul, scalar(c), file, line) }
    func div(_ c: Float, file: String = #fileID, line: Int = #line) throws -> SymbolicTensor { try binary(.div, scalar(c), file, line) }

    /// A scalar constant of this tensor's dtype, under the current scope.
    func scalar(_ c: Float) -> SymbolicTensor {
        switch dtype {
        case .int64: tracer.constant(Tensor.scalar(Int64(c)))
        default: tracer.constant(Tensor.scalar(c))
        }
    }

    func neg(file: String = #fileID, line: Int = #line) throws -> SymbolicTensor { try unary(.neg, file, line) }
    func sqrt(file: String = #fileID, line: Int = #line) throws -> SymbolicTensor { try unary(.sqrt, file, line) }
    func exp(file: String = #fileID, line: Int = #line) throws -> SymbolicTensor { try unary(.exp, file, line) }
    func log(file: String = #fileID, line: Int = #line) throws -> SymbolicTensor { try unary(.log, file, line) }
    func erf(file: String = #fileID, line: Int = #line) throws -> SymbolicTensor { try unary(.erf, file, line) }
    func sin(file: String = #fileID, line: Int = #line) throws -> SymbolicTensor { try unary(.sin, file, line) }
    func cos(file: String = #fileID, line: Int = #line) throws -> SymbolicTensor { try unary(.cos, file, line) }
    func sigmoid(file: String = #fileID, line: Int = #line) throws -> SymbolicTensor { try unary(.sigmoid, file, line) }
    func relu(file: String = #fileID, line: Int = #line) throws -> SymbolicTensor { try unary(.relu, file, line) }
    func gelu(_ approximate: GeluApproximation = .none, file: String = #fileID, line: Int = #line) throws -> SymbolicTensor {
        try unary(.gelu(approximate: approximate), file, line)
    }
    func clip(min: Float?, max: Float?, file: String = #fileID, line: Int = #line) throws -> SymbolicTensor {
        try unary(.clip(min: min, max: max), file, line)
    }
    func cast(_ to: DType, file: String = #fileID, line: Int = #line) throws -> SymbolicTensor { try unary(.cast(to: to), file, line) }
    func softmax(axis: Int = -1, file: String = #fileID, line: Int = #line) throws -> SymbolicTensor {
        try unary(.softmax(axis: axis), file, line)
    }

    /// Reshape; one extent may be -1 and is inferred, 0 copies the input extent (ONNX Reshape).
    func reshape(_ shape: [Int], file: String = #fileID, line: Int = #line) throws -> SymbolicTensor {
        try unary(.reshape(shape: resolveReshape(shape, file: file, line: line)), file, line)
    }
    func transpose(_ perm: [Int], file: String = #fileID, line: Int = #line) throws -> SymbolicTensor {
        try unary(.transpose(perm: perm), file, line)
    }
    func slice(axis: Int, start: Int, end: Int, step: Int = 1, file: String = #fileID, line: Int = #line) throws -> SymbolicTensor {
        try unary(.slice(SliceAttributes(starts: [start], ends: [end], axes: [axis], steps: [step])), file, line)
    }
    func squeeze(_ axes: [Int], file: String = #fileID, line: Int = #line) throws -> SymbolicTensor { try unary(.squeeze(axes: axes), file, line) }
    func unsqueeze(_ axes: [Int], file: String = #fileID, line: Int = #line) throws -> SymbolicTensor { try unary(.unsqueeze(axes: axes), file, line) }
    func expand(_ shape: [Int], file: String = #fileID, line: Int = #line) throws -> SymbolicTensor { try unary(.expand(shape: shape), file, line) }
    func reduceMean(_ axes: [Int], keepDims: Bool = true, file: String = #fileID, line: Int = #line) throws -> SymbolicTensor {
        try unary(.reduceMean(ReduceAttributes(axes: axes, keepDims: keepDims)), file, line)
    }
    func reduceSum(_ axes: [Int], keepDims: Bool = true, file: String = #fileID, line: Int = #line) throws -> SymbolicTensor {
        try unary(.reduceSum(ReduceAttributes(axes: axes, keepDims: keepDims)), file, line)
    }
    func reduceMax(_ axes: [Int], keepDims: Bool = true, file: String = #fileID, line: Int = #line) throws -> SymbolicTensor {
        try unary(.reduceMax(ReduceAttributes(axes: axes, keepDims: keepDims)), file, line)
    }
    func split(axis: Int, sizes: [Int], file: String = #fileID, line: Int = #line) throws -> [SymbolicTensor] {
        try tracer.apply(.split(axis: axis, sizes: sizes), [self], file: file, line: line)
    }
    func topK(_ k: Int, axis: Int = -1, file: String = #fileID, line: Int = #line) throws -> (values: SymbolicTensor, indices: SymbolicTensor) {
        let r = try tracer.apply(.topK(TopKAttributes(k: k, axis: axis)), [self], file: file, line: line)
        return (r[0], r[1])
    }
    func gather(_ indices: SymbolicTensor, axis: Int = 0, file: String = #fileID, line: Int = #line) throws -> SymbolicTensor {
        try binary(.gather(axis: axis), indices, file, line)
    }

    /// Resolves ONNX Reshape's 0 (copy) and -1 (infer) against this tensor's shape; a bad
    /// request is reported as a Reshape trace error at the caller's line.
    private func resolveReshape(_ shape: [Int], file: String, line: Int) throws -> [Int] {
        var out = shape
        for (i, d) in shape.enumerated() where d == 0 {
            guard i < dims.count else { break }
            out[i] = dims[i]
        }
        let unknown = out.indices.filter { out[$0] == -1 }
        if unknown.count == 1 {
            let known = out.filter { $0 != -1 }.reduce(1, *)
            let total = dims.reduce(1, *)
            guard known > 0, total % known == 0 else {
                throw TraceError(op: "Reshape", scope: tracer.scope, location: SourceLocation(file: file, line: line),
                                 inputTypes: [type], message: "target shape \(shape) to divide the input's \(total) elements")
            }
            out[unknown[0]] = total / known
        } else if unknown.count > 1 {
            throw TraceError(op: "Reshape", scope: tracer.scope, location: SourceLocation(file: file, line: line),
                             inputTypes: [type], message: "at most one -1 in target shape, got \(shape)")
        }
        return out
    }
}

/// Concatenates traced values along `axis`.
public func concat(_ xs: [SymbolicTensor], axis: Int, file: String = #fileID, line: Int = #line) throws -> SymbolicTensor {
    guard let first = xs.first else {
        throw TraceError(op: "Concat", scope: "", location: SourceLocation(file: file, line: line), inputTypes: [], message: "at least one input")
    }
    return try first.tracer.apply(.concat(axis: axis), xs, file: file, line: line)[0]
}
