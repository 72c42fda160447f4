import Testing
import VitIR
import VitInterp

/// A float32 tensor.
func f32(_ values: [Float], _ shape: [Int]) -> Tensor { Tensor(values, shape: shape) }

/// An int64 tensor.
func i64(_ values: [Int64], _ shape: [Int]) -> Tensor { Tensor(values, shape: shape) }

/// The single output of `op`.
func eval1(_ op: Op, _ inputs: [Tensor]) throws -> Tensor { try evaluate(op, inputs)[0] }

/// `0, 1, …, n−1` as floats, divided by `scale`.
func ramp(_ n: Int, scale: Float = 1) -> [Float] { (0..<n).map { Float($0) / scale } }

/// Expects `t` to hold `expected` (as Float32 values) within `tolerance`, with `shape` if given.
func expectClose(_ t: Tensor, _ expected: [Float], shape: [Int]? = nil, tolerance: Float = 1e-5,
                 sourceLocation: Testing.SourceLocation = #_sourceLocation) {
    if let shape { #expect(t.shape == shape, sourceLocation: sourceLocation) }
    let diff = maxAbsDiff(t, Tensor(expected, shape: t.shape.reduce(1, *) == expected.count ? t.shape : [expected.count]))
    #expect(diff <= tolerance, "got \(t.floats), expected \(expected) (max diff \(diff))", sourceLocation: sourceLocation)
}

/// Expects `body` to throw a `KernelError` of `kind` whose description contains `text`.
func expectKernelError(_ kind: KernelError.Kind, containing text: String = "",
                       sourceLocation: Testing.SourceLocation = #_sourceLocation, _ body: () throws -> Void) {
    do {
        try body()
        Issue.record("expected a \(kind) error", sourceLocation: sourceLocation)
    } catch let error as KernelError {
        #expect(error.kind == kind, "\(error)", sourceLocation: sourceLocation)
        #expect(text.isEmpty || error.description.contains(text), "\(error)", sourceLocation: sourceLocation)
    } catch {
        Issue.record("unexpected error \(error)", sourceLocation: sourceLocation)
    }
}
