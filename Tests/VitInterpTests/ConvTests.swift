import Testing
import VitIR
import VitInterp

@Suite struct ConvTests {
    @Test func plainTwoByTwo() throws {
        let y = try eval1(.conv(ConvAttributes(kernelShape: [2, 2])), [f32(ramp(9), [1, 1, 3, 3]), f32([1, 1, 1, 1], [1, 1, 2, 2])])
        expectClose(y, [8, 12, 20, 24], shape: [1, 1, 2, 2])
    }

    @Test func groupsStridesDilationsAsymmetricPadsAndBias() throws {
        // Expected from the ONNX reference evaluator (x = arange/10, w = (arange % 7 − 3)/4).
        let x = f32(ramp(200, scale: 10), [2, 4, 5, 5])
        let w = f32((0..<108).map { Float($0 % 7 - 3) / 4 }, [6, 2, 3, 3])
        let b = f32([0.5, -1, 2, 0, 1, -0.5], [6])
        let attrs = ConvAttributes(kernelShape: [3, 3], strides: [2, 1], pads: [1, 0, 2, 1], dilations: [1, 2], group: 2)
        let y = try eval1(.conv(attrs), [x, w, b])
        expectClose(y, Fixtures.convGrouped, shape: [2, 6, 3, 2], tolerance: 2e-5)
    }

    @Test func oneByOneDirectPathWithGroups() throws {
        let x = f32(ramp(200, scale: 10), [2, 4, 5, 5])
        let w = f32((0..<12).map { (Float($0) - 5) / 3 }, [6, 2, 1, 1])
        let y = try eval1(.conv(ConvAttributes(kernelShape: [1, 1], group: 2)), [x, w])
        // Direct evaluation: y[n, m, p] = Σ_c w[m, c] · x[n, g(m)·2 + c, p].
        var expected: [Float] = []
        for n in 0..<2 {
            for m in 0..<6 {
                for p in 0..<25 {
                    let g = m / 3
                    var s: Float = 0
                    for c in 0..<2 { s += (Float(m * 2 + c) - 5) / 3 * Float(((n * 4 + g * 2 + c) * 25 + p)) / 10 }
                    expected.append(s)
                }
            }
        }
        expectClose(y, expected, shape: [2, 6, 5, 5], tolerance: 1e-4)
    }

    @Test func oneDimensionalWithPads() throws {
        let y = try eval1(.conv(ConvAttributes(kernelShape: [3], pads: [1, 1])), [f32([1, 2, 3, 4, 5], [1, 1, 5]), f32([1, 0, -1], [1, 1, 3])])
        expectClose(y, [-2, -2, -2, -2, 4], shape: [1, 1, 5])
    }

    @Test func channelMismatchIsAShapeError() {
        expectKernelError(.shapeRule, containing: "group") {
            _ = try eval1(.conv(ConvAttributes(kernelShape: [1, 1])), [f32(ramp(8), [1, 2, 2, 2]), f32(ramp(3), [1, 3, 1, 1])])
        }
    }
}

@Suite struct ConvTransposeTests {
    @Test func kernelTwoStrideTwoTilesTheKernel() throws {
        let y = try eval1(.convTranspose(ConvTransposeAttributes(kernelShape: [2, 2], strides: [2, 2])),
                          [f32([1, 2, 3, 4], [1, 1, 2, 2]), f32([1, 2, 3, 4], [1, 1, 2, 2])])
        expectClose(y, [1, 2, 2, 4, 3, 4, 6, 8, 3, 6, 4, 8, 9, 12, 12, 16], shape: [1, 1, 4, 4])
    }

    @Test func groupsPadsOutputPaddingDilationsAndBias() throws {
        // Expected from ONNX Runtime (and a direct scatter loop in numpy).
        let x = f32((0..<36).map { Float($0) / 5 - 1 }, [1, 4, 3, 3])
        let w = f32((0..<72).map { Float($0 % 5 - 2) / 3 }, [4, 3, 3, 2])
        let attrs = ConvTransposeAttributes(kernelShape: [3, 2], strides: [2, 3], pads: [1, 0, 0, 1],
                                            dilations: [2, 1], outputPadding: [1, 2], group: 2)
        let y = try eval1(.convTranspose(attrs), [x, w, f32([1, 2, 3, 4, 5, 6], [6])])
        expectClose(y, Fixtures.convTransposeGrouped, shape: [1, 6, 9, 9], tolerance: 2e-5)
    }
}

@Suite struct MaxPoolTests {
    static let negative: [Float] = [-5, -3, -8, -1, -2, -4, -9, -6, -7, -3, -2, -1, -5, -4, -6,
                                    -8, -3, -2, -9, -1, -7, -6, -4, -5, -3]

    @Test func twoByTwoStrideTwo() throws {
        let y = try eval1(.maxPool(PoolAttributes(kernelShape: [2, 2], strides: [2, 2])), [f32(ramp(16), [1, 1, 4, 4])])
        expectClose(y, [5, 7, 13, 15], shape: [1, 1, 2, 2])
    }

    @Test func ceilModeKeepsPartialWindows() throws {
        let y = try eval1(.maxPool(PoolAttributes(kernelShape: [2, 2], strides: [2, 2], ceilMode: true)), [f32(ramp(25), [1, 1, 5, 5])])
        expectClose(y, [6, 8, 9, 16, 18, 19, 21, 23, 24], shape: [1, 1, 3, 3])
    }

    @Test func ceilModeDropsWindowStartingInEndPadding() throws {
        let y = try eval1(.maxPool(PoolAttributes(kernelShape: [3, 3], strides: [2, 2], pads: [0, 0, 1, 1], ceilMode: true)),
                          [f32(ramp(36), [1, 1, 6, 6])])
        expectClose(y, [14, 16, 17, 26, 28, 29, 32, 34, 35], shape: [1, 1, 3, 3])
    }

    @Test func paddingIsNeverSelected() throws {
        // All inputs negative: a selected zero pad would show as 0 (expected from ONNX Runtime).
        let y = try eval1(.maxPool(PoolAttributes(kernelShape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], ceilMode: true)),
                          [f32(Self.negative, [1, 1, 5, 5])])
        expectClose(y, [-3, -1, -1, -1, -1, -1, -3, -2, -1], shape: [1, 1, 3, 3])
    }

    @Test func dilations() throws {
        let y = try eval1(.maxPool(PoolAttributes(kernelShape: [2, 2], dilations: [2, 2])), [f32(Self.negative, [1, 1, 5, 5])])
        expectClose(y, [-2, -1, -2, -2, -3, -1, -2, -1, -3], shape: [1, 1, 3, 3])
    }
}
