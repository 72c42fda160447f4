import Testing
@testable import VitIR

/// Numbers from files and flags reach shape rules unchecked by anything else: every overflow
/// must be a `ShapeRuleError` naming what overflowed, never a trap.
@Suite struct OverflowTests {
    @Test func checkedHelpersReportOverflow() {
        #expect(Checked.multiply(Int.max, 2) == nil)
        #expect(Checked.add(Int.max, 1) == nil)
        #expect(Checked.subtract(Int.min, 1) == nil)
        #expect(Checked.negate(Int.min) == nil)
        #expect(Checked.product([1 << 32, 1 << 31]) == nil)
        #expect(Checked.product([1 << 31, 1 << 31]) == 1 << 62)
        #expect(Checked.product([Int]()) == 1)
        #expect(Checked.sum([Int.max, 1]) == nil)
        #expect(Checked.integer(.infinity) == nil)
        #expect(Checked.integer(-.infinity) == nil)
        #expect(Checked.integer(.nan) == nil)
        #expect(Checked.integer(9.3e18) == nil)
        #expect(Checked.integer(-9_223_372_036_854_775_808.0) == Int.min)
        #expect(Checked.integer(2.9) == 2)
        #expect(Checked.byteCount(dims: [1 << 31, 1 << 31], .float32) == nil)
        #expect(Checked.byteCount(dims: [2, -1], .float32) == nil)
        #expect(Checked.byteCount(dims: [2, 3], .float32) == 24)
    }

    struct Case: Sendable, CustomTestStringConvertible {
        var name: String, op: Op, inputs: [[Int]], mentions: String
        var testDescription: String { name }
    }

    @Test("Overflowing shape arithmetic is a shape-rule error", arguments: [
        Case(name: "Conv dilation", op: .conv(ConvAttributes(kernelShape: [3], dilations: [Int.max])),
             inputs: [[1, 1, 8], [1, 1, 3]], mentions: "dilated kernel extent"),
        Case(name: "Conv pads", op: .conv(ConvAttributes(kernelShape: [3], pads: [Int.max, 1])),
             inputs: [[1, 1, 8], [1, 1, 3]], mentions: "padded extent"),
        Case(name: "MaxPool kernel", op: .maxPool(PoolAttributes(kernelShape: [Int.max], dilations: [2])),
             inputs: [[1, 1, 8]], mentions: "dilated kernel extent"),
        Case(name: "ConvTranspose stride", op: .convTranspose(ConvTransposeAttributes(kernelShape: [1], strides: [Int.max])),
             inputs: [[1, 1, 8], [1, 1, 1]], mentions: "output extent"),
        Case(name: "Reshape target", op: .reshape(shape: [1 << 32, 1 << 32, 0]), inputs: [[0]], mentions: "element count"),
        Case(name: "Tile repeats", op: .tile(repeats: [Int.max]), inputs: [[2]], mentions: "tiled extent"),
        Case(name: "Pad", op: .pad(PadAttributes(pads: [Int.max, 1])), inputs: [[2]], mentions: "padded extent"),
        Case(name: "Range of +inf elements", op: .range(start: 0, limit: .infinity, delta: 1, dtype: .float32),
             inputs: [], mentions: "element count of Range"),
        Case(name: "Range of 1e300 elements", op: .range(start: 0, limit: 1e300, delta: 1e-10, dtype: .float32),
             inputs: [], mentions: "element count of Range"),
        Case(name: "Range NaN", op: .range(start: 0, limit: .nan, delta: 1, dtype: .float32),
             inputs: [], mentions: "element count of Range"),
        Case(name: "Expand to an unaddressable size", op: .expand(shape: [1 << 31, 1 << 31, 4]), inputs: [[1]],
             mentions: "byte size that fits"),
        Case(name: "Split sizes", op: .split(axis: 0, sizes: [Int.max, Int.max, 4]), inputs: [[2]], mentions: "split sizes"),
        Case(name: "Resize infinite scale", op: .resize(ResizeAttributes(sizes: [4], scales: [.infinity], mode: .nearest)),
             inputs: [[2]], mentions: "finite scales"),
    ])
    func overflowIsAnError(_ c: Case) {
        let inputs = c.inputs.map { TensorType(.float32, Shape($0)) }
        #expect(throws: ShapeRuleError.self) { try inferTypes(c.op, inputs) }
        do {
            _ = try inferTypes(c.op, inputs)
        } catch {
            #expect(error.expected.contains(c.mentions), "\(error.expected)")
        }
    }

    @Test func sliceTakesAnyNonZeroStep() throws {
        let x = [TensorType(.float32, Shape([10]))]
        let minStep = try inferTypes(.slice(SliceAttributes(starts: [9], ends: [Int.min], steps: [Int.min])), x)
        #expect(minStep[0].shape.ints == [1])
        let maxStep = try inferTypes(.slice(SliceAttributes(starts: [0], ends: [Int.max], steps: [Int.max])), x)
        #expect(maxStep[0].shape.ints == [1])
        let plain = try inferTypes(.slice(SliceAttributes(starts: [1], ends: [10], steps: [3])), x)
        #expect(plain[0].shape.ints == [3])
        let back = try inferTypes(.slice(SliceAttributes(starts: [-1], ends: [Int.min], steps: [-4])), x)
        #expect(back[0].shape.ints == [3])
    }

    @Test func inputsWhoseSizeOverflowsAreRejected() {
        let huge = TensorType(.float32, Shape([1 << 31, 1 << 31, 2]))
        #expect(throws: ShapeRuleError.self) { try inferTypes(.relu, [huge]) }
    }

    @Test func npyWithAnOverflowingShapeIsAnError() {
        var bytes: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0]
        var header = "{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296), }"
        header += String(repeating: " ", count: 64 - (10 + header.utf8.count + 1) % 64) + "\n"
        bytes += [UInt8(header.utf8.count & 0xff), UInt8(header.utf8.count >> 8)] + Array(header.utf8)
        #expect(throws: NPYError.self) { try Tensor(npy: bytes) }
        do { _ = try Tensor(npy: bytes) } catch { #expect(error.message.contains("too large")) }
    }
}
