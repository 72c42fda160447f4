import Testing
@testable import VitIR

// Shared helpers for the shape-rule tests. `Testing.SourceLocation` is spelled out because
// VitIR has its own `SourceLocation`.

/// A tensor type from a dtype and concrete extents.
func ty(_ dtype: DType, _ dims: [Int]) -> TensorType { TensorType(dtype, Shape(dims)) }
func f32(_ dims: Int...) -> TensorType { ty(.float32, dims) }
func f16(_ dims: Int...) -> TensorType { ty(.float16, dims) }
func i64(_ dims: Int...) -> TensorType { ty(.int64, dims) }
func i32(_ dims: Int...) -> TensorType { ty(.int32, dims) }
func bool(_ dims: Int...) -> TensorType { ty(.bool, dims) }

/// Expects `op` to accept `inputs` and produce exactly `expected`.
func expectTypes(_ op: Op, _ inputs: [TensorType], _ expected: [TensorType],
                 sourceLocation: Testing.SourceLocation = #_sourceLocation) {
    do {
        let got = try inferTypes(op, inputs)
        #expect(got == expected, "\(op.name) on \(inputs)", sourceLocation: sourceLocation)
    } catch {
        Issue.record("\(op.name) on \(inputs) was rejected: expected \(error.expected)", sourceLocation: sourceLocation)
    }
}

/// Expects `op` to accept `inputs` and produce the single type `expected`.
func expectType(_ op: Op, _ inputs: [TensorType], _ expected: TensorType,
                sourceLocation: Testing.SourceLocation = #_sourceLocation) {
    expectTypes(op, inputs, [expected], sourceLocation: sourceLocation)
}

/// Expects `op` to reject `inputs` with a `ShapeRuleError` whose text contains every string
/// in `mentioning` (the offending numbers, names, …). Returns the error for further checks.
@discardableResult
func expectRejected(_ op: Op, _ inputs: [TensorType], mentioning: [String] = [],
                    sourceLocation: Testing.SourceLocation = #_sourceLocation) -> ShapeRuleError? {
    do {
        let got = try inferTypes(op, inputs)
        Issue.record("\(op.name) on \(inputs) was accepted (gave \(got)), expected a ShapeRuleError",
                     sourceLocation: sourceLocation)
        return nil
    } catch {
        for s in mentioning {
            #expect(error.expected.contains(s), "\(op.name): '\(error.expected)' should mention '\(s)'",
                    sourceLocation: sourceLocation)
        }
        return error
    }
}
