import Testing
import VitIR
import VitInterp

/// Zero-element inputs and outputs flow through every kernel family without trapping.
@Suite struct EmptyTensorTests {
    func half(_ t: Tensor) throws -> Tensor { try eval1(.cast(to: .float16), [t]) }

    @Test func elementwiseAndCast() throws {
        let e = try half(f32([], [0, 3]))
        #expect(try eval1(.add, [e, try half(f32([1, 2, 3], [3]))]).shape == [0, 3])
        #expect(try eval1(.exp, [e]).shape == [0, 3])
        #expect(try eval1(.cast(to: .int32), [e]).shape == [0, 3])
        #expect(try eval1(.less, [Tensor([Int32](), shape: [0]), Tensor([Int32(1)], shape: [1])]).shape == [0])
    }

    @Test func linearAlgebraWithEmptyInnerDimension() throws {
        let y = try eval1(.matMul, [try half(f32([], [2, 0])), try half(f32([], [0, 3]))])
        #expect(y.dtype == .float16 && y.floats == [0, 0, 0, 0, 0, 0])
        #expect(try eval1(.conv(ConvAttributes(kernelShape: [1, 1])), [f32([], [0, 2, 3, 3]), f32([1, 1], [1, 2, 1, 1])]).shape == [0, 1, 3, 3])
    }

    @Test func reductionsAndDataMovement() throws {
        let e = f32([], [2, 0])
        expectClose(try eval1(.reduceSum(ReduceAttributes(axes: [1], keepDims: false)), [e]), [0, 0], shape: [2])
        expectClose(try eval1(.concat(axis: 1), [e, f32([1, 2], [2, 1])]), [1, 2], shape: [2, 1])
        expectClose(try eval1(.pad(PadAttributes(pads: [0, 1, 0, 1], value: 5)), [e]), [5, 5, 5, 5], shape: [2, 2])
        #expect(try eval1(.gather(axis: 0), [f32([1, 2], [2]), i64([], [0])]).shape == [0])
        #expect(try evaluate(.topK(TopKAttributes(k: 0)), [f32([1, 2], [2])])[1].shape == [0])
    }

    /// Fuzz finding (ONNX target): Expand of a [1, 3] to [2^40, 0, 3] is empty and plans to 0
    /// bytes, yet the kernel built a 2^40-entry index table for the first axis (ASan: out of
    /// memory). Empty outputs must cost nothing, whatever their other dims.
    @Test func emptyOutputsWithHugeDimsAllocateNothing() throws {
        let huge = 1 << 40
        let x = f32([1, 2, 3], [1, 3])
        #expect(try eval1(.expand(shape: [huge, 0, 3]), [x]).shape == [huge, 0, 3])
        let e = f32([], [1, 0])
        #expect(try eval1(.tile(repeats: [huge, 1]), [e]).shape == [huge, 0])
        #expect(try eval1(.pad(PadAttributes(pads: [0, 0, huge, 0])), [e]).shape == [huge + 1, 0])
        #expect(try eval1(.transpose(perm: [1, 0]), [try eval1(.expand(shape: [huge, 0]), [e])]).shape == [0, huge])
    }
}
