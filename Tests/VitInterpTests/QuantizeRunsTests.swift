import Testing
import VitIR
@testable import VitInterp

extension FastPathTests {
    // MARK: QuantizeLinear / DequantizeLinear over runs of one scale

    /// Shapes and axes covering every run layout: per tensor, per axis with the axis innermost
    /// (a scale per element of a row) and with inner runs, long enough that the workers split
    /// runs at unaligned points, and short enough to be all tail.
    static let quantizeLayouts: [(shape: [Int], axis: Int, perAxis: Bool)] = [
        ([70_001], 0, false), ([3, 5], 1, true), ([300, 257], 1, true), ([257, 300], -1, true), ([33, 9, 3, 3], 0, true),
        ([2, 70_001], 0, true), ([5, 7, 11], 1, true), ([1], 0, false), ([0, 4], 1, true), ([9, 1030], 0, false),
    ]

    /// `quantize8Runs` against `quantizeLinearReference`, bytes equal, on every ISA, for int8
    /// and uint8 with and without zero points: halfway quotients, −0, NaN, ±∞, values far out
    /// of range, and scales that are tiny, negative or zero.
    @Test(arguments: [DType.int8, .uint8]) func quantizeRuns(output: DType) throws {
        var rng = SplitMix(seed: output == .int8 ? 61 : 67)
        for (shape, axis, perAxis) in Self.quantizeLayouts {
            let n = shape.reduce(1, *), channels = perAxis ? shape[axis < 0 ? axis + shape.count : axis] : 1
            var x = (0..<n).map { _ in rng.float(in: -300...300) }
            for special: Float in [.nan, .infinity, -.infinity, -0.0, 2.5, -2.5, 0.5, 1e30, -1e30, 127.5, -128.5] where n > 0 {
                x[rng.int(0...(n - 1))] = special
            }
            var scales = (0..<channels).map { _ in rng.float(in: 0.05...3) }
            if channels > 3 { (scales[0], scales[1], scales[2]) = (1, 1e-30, -0.5) }
            let zeros: [Int64] = (0..<channels).map { _ in output == .int8 ? Int64(rng.int(-20...20)) : Int64(rng.int(0...255)) }
            let attributes = QuantizeAttributes(axis: axis, outputDType: output)
            let scaleTensor = Tensor(scales, shape: perAxis ? [channels] : [])
            let zeroTensor = output == .int8 ? Tensor(zeros.map { Int8($0) }, shape: scaleTensor.shape)
                                             : Tensor(zeros.map { UInt8($0) }, shape: scaleTensor.shape)
            for inputs in [[Tensor(x, shape: shape), scaleTensor, zeroTensor], [Tensor(x, shape: shape), scaleTensor]] {
                let type = TensorType(output, Shape(shape))
                let reference = try quantizeLinearReference(inputs, attributes, type)
                for isa in VectorISA.usable {
                    let fast = try #require(try quantize8Runs(inputs, attributes, isa: isa))
                    #expect(fast.bitwiseEqual(reference), "\(isa) \(output) shape \(shape) axis \(axis) zero points \(inputs.count > 2)")
                }
            }
        }
    }

    /// `dequantize8Runs` against `dequantizeLinearReference`, bytes equal, on every ISA, every
    /// int8/uint8 value, with and without zero points.
    @Test(arguments: [DType.int8, .uint8]) func dequantizeRuns(input: DType) throws {
        var rng = SplitMix(seed: input == .int8 ? 71 : 73)
        for (shape, axis, perAxis) in Self.quantizeLayouts {
            let n = shape.reduce(1, *), channels = perAxis ? shape[axis < 0 ? axis + shape.count : axis] : 1
            let bytes = (0..<n).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            let x = input == .int8 ? Tensor(bytes.map { Int8(bitPattern: $0) }, shape: shape) : Tensor(bytes, shape: shape)
            let scales = (0..<channels).map { _ in rng.float(in: 1e-4...3) }
            let zeros = (0..<channels).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            let scaleTensor = Tensor(scales, shape: perAxis ? [channels] : [])
            let zeroTensor = input == .int8 ? Tensor(zeros.map { Int8(bitPattern: $0) }, shape: scaleTensor.shape) : Tensor(zeros, shape: scaleTensor.shape)
            for inputs in [[x, scaleTensor, zeroTensor], [x, scaleTensor]] {
                let type = TensorType(.float32, Shape(shape))
                let reference = try dequantizeLinearReference(inputs, axis: axis, type)
                for isa in VectorISA.usable {
                    let fast = try #require(try dequantize8Runs(inputs, axis: axis, type, isa: isa))
                    #expect(fast.bitwiseEqual(reference), "\(isa) \(input) shape \(shape) axis \(axis) zero points \(inputs.count > 2)")
                }
            }
        }
    }

    /// Where the fast paths do not apply they say so, and the op still runs on the reference.
    @Test func quantizeRunsDeclineOtherTypes() throws {
        let x16 = try eval1(.cast(to: .float16), [Tensor([Float(1), 2, 3], shape: [3])])
        #expect(try quantize8Runs([x16, Tensor([Float(0.5)], shape: [])], QuantizeAttributes(outputDType: .int8)) == nil)
        let i32 = Tensor([Int32(1), 2, 3], shape: [3])
        #expect(try dequantize8Runs([i32, Tensor([Float(0.5)], shape: [])], axis: 1, TensorType(.float32, Shape([3]))) == nil)
        let y = try eval1(.dequantizeLinear(axis: 0), [i32, Tensor([Float(0.5)], shape: [])])
        #expect(y.floats == [0.5, 1, 1.5])
        // Zero points that do not match the scales (the shape rule refuses them) throw here too,
        // instead of reading past them.
        let x = Tensor([UInt8](repeating: 1, count: 8), shape: [2, 4]), scale = Tensor([Float](repeating: 1, count: 4), shape: [4])
        #expect(throws: KernelError.self) { try dequantize8Runs([x, scale, Tensor([UInt8(0), 0, 0], shape: [3])], axis: 1, TensorType(.float32, Shape([2, 4]))) }
        #expect(throws: KernelError.self) {
            try quantize8Runs([Tensor([Float](repeating: 1, count: 8), shape: [2, 4]), scale, Tensor([UInt8(0)], shape: [1])],
                              QuantizeAttributes(axis: 1, outputDType: .uint8))
        }
    }
}
