import Testing
@testable import VitIR

/// Conv, ConvTranspose and MaxPool: explicit pads as [begin..., end...], strides, dilations, groups.
@Suite struct ConvPoolShapeTests {
    // MARK: Conv

    struct ConvCase: Sendable, CustomTestStringConvertible {
        var x: [Int], w: [Int], attrs: ConvAttributes, expected: [Int]
        var testDescription: String { "X\(x) W\(w) → \(expected)" }
    }

    @Test("Conv output extents: floor((in + pads − dilated kernel) / stride) + 1",
          arguments: [
              // 3×3, pad 1: same size.
              ConvCase(x: [1, 3, 32, 32], w: [8, 3, 3, 3], attrs: ConvAttributes(kernelShape: [3, 3], pads: [1, 1, 1, 1]),
                       expected: [1, 8, 32, 32]),
              // ViT patch embedding: 16×16 kernel, stride 16.
              ConvCase(x: [2, 3, 224, 224], w: [768, 3, 16, 16], attrs: ConvAttributes(kernelShape: [16, 16], strides: [16, 16]),
                       expected: [2, 768, 14, 14]),
              // ResNet stem: 7×7 stride 2 pad 3 (floor of 111.5 + 1).
              ConvCase(x: [1, 3, 224, 224], w: [64, 3, 7, 7],
                       attrs: ConvAttributes(kernelShape: [7, 7], strides: [2, 2], pads: [3, 3, 3, 3]), expected: [1, 64, 112, 112]),
              // Stride 2 on an odd extent floors: (9 − 3) / 2 + 1 = 4.
              ConvCase(x: [1, 1, 9, 9], w: [1, 1, 3, 3], attrs: ConvAttributes(kernelShape: [3, 3], strides: [2, 2]),
                       expected: [1, 1, 4, 4]),
              // Dilation 2: a 3-tap kernel spans 5.
              ConvCase(x: [1, 4, 10, 10], w: [4, 4, 3, 3], attrs: ConvAttributes(kernelShape: [3, 3], dilations: [2, 2]),
                       expected: [1, 4, 6, 6]),
              // Asymmetric pads [h_begin, w_begin, h_end, w_end] = [0, 1, 2, 0].
              ConvCase(x: [1, 1, 5, 5], w: [1, 1, 3, 3], attrs: ConvAttributes(kernelShape: [3, 3], pads: [0, 1, 2, 0]),
                       expected: [1, 1, 5, 4]),
              // Per-axis strides and a non-square kernel.
              ConvCase(x: [1, 2, 12, 20], w: [6, 2, 3, 5], attrs: ConvAttributes(kernelShape: [3, 5], strides: [1, 3]),
                       expected: [1, 6, 10, 6]),
              // Depthwise: group = channels, W [C, 1, k, k].
              ConvCase(x: [1, 32, 16, 16], w: [32, 1, 3, 3], attrs: ConvAttributes(kernelShape: [3, 3], pads: [1, 1, 1, 1], group: 32),
                       expected: [1, 32, 16, 16]),
              // Two groups: 4 input channels → 2 per group, 6 output channels.
              ConvCase(x: [1, 4, 8, 8], w: [6, 2, 3, 3], attrs: ConvAttributes(kernelShape: [3, 3], group: 2),
                       expected: [1, 6, 6, 6]),
              // 1-d and 3-d convolutions.
              ConvCase(x: [2, 4, 10], w: [8, 4, 3], attrs: ConvAttributes(kernelShape: [3]), expected: [2, 8, 8]),
              ConvCase(x: [1, 2, 4, 6, 8], w: [3, 2, 2, 2, 2], attrs: ConvAttributes(kernelShape: [2, 2, 2], strides: [2, 2, 2]),
                       expected: [1, 3, 2, 3, 4]),
          ])
    func convValid(_ c: ConvCase) {
        expectType(.conv(c.attrs), [ty(.float32, c.x), ty(.float32, c.w)], ty(.float32, c.expected))
    }

    @Test("Conv bias must have one entry per output channel")
    func convBias() {
        let op = Op.conv(ConvAttributes(kernelShape: [3, 3], pads: [1, 1, 1, 1]))
        expectType(op, [f32(1, 3, 8, 8), f32(8, 3, 3, 3), f32(8)], f32(1, 8, 8, 8))
        expectRejected(op, [f32(1, 3, 8, 8), f32(8, 3, 3, 3), f32(3)], mentioning: ["[8]", "[3]"])
        expectRejected(op, [f32(1, 3, 8, 8), f32(8, 3, 3, 3), f32(1, 8)])
        expectRejected(op, [f32(1, 3, 8, 8), f32(8, 3, 3, 3), f16(8)], mentioning: ["float16"])
    }

    @Test("Conv rejects channel mismatches and groups that do not divide")
    func convChannels() {
        let k3 = ConvAttributes(kernelShape: [3, 3])
        expectRejected(.conv(k3), [f32(1, 3, 8, 8), f32(8, 4, 3, 3)], mentioning: ["(4)", "(3)"])
        // group 2: W's input channels must be C / 2 = 2.
        var g2 = k3; g2.group = 2
        expectRejected(.conv(g2), [f32(1, 4, 8, 8), f32(6, 4, 3, 3)])
        // group 4 divides C = 4 but not M = 6.
        var g4 = k3; g4.group = 4
        expectRejected(.conv(g4), [f32(1, 4, 8, 8), f32(6, 1, 3, 3)])
        // group 3 does not divide C = 4.
        var g3 = k3; g3.group = 3
        expectRejected(.conv(g3), [f32(1, 4, 8, 8), f32(6, 1, 3, 3)])
        var g0 = k3; g0.group = 0
        expectRejected(.conv(g0), [f32(1, 4, 8, 8), f32(6, 4, 3, 3)])
    }

    @Test("Conv rejects a kernel_shape that disagrees with W")
    func convKernelShape() {
        expectRejected(.conv(ConvAttributes(kernelShape: [5, 5])), [f32(1, 3, 8, 8), f32(8, 3, 3, 3)],
                       mentioning: ["[3, 3]", "[5, 5]"])
        // A 1-d kernel against 2-d tensors: rank mismatch.
        expectRejected(.conv(ConvAttributes(kernelShape: [3])), [f32(1, 3, 8, 8), f32(8, 3, 3, 3)], mentioning: ["rank 3"])
    }

    @Test("Conv rejects bad strides, dilations, pads and too-small inputs")
    func convAttributes() {
        let x = f32(1, 3, 8, 8), w = f32(8, 3, 3, 3)
        expectRejected(.conv(ConvAttributes(kernelShape: [3, 3], strides: [0, 1])), [x, w], mentioning: ["strides"])
        expectRejected(.conv(ConvAttributes(kernelShape: [3, 3], strides: [1])), [x, w], mentioning: ["strides"])
        expectRejected(.conv(ConvAttributes(kernelShape: [3, 3], dilations: [1, 0])), [x, w], mentioning: ["dilations"])
        expectRejected(.conv(ConvAttributes(kernelShape: [3, 3], pads: [1, 1])), [x, w], mentioning: ["4 non-negative pads"])
        expectRejected(.conv(ConvAttributes(kernelShape: [3, 3], pads: [-1, 0, 0, 0])), [x, w], mentioning: ["pads"])
        // 2 + 0 padding < 3-tap kernel; with dilation 4 a 3-tap kernel spans 9 > 8.
        expectRejected(.conv(ConvAttributes(kernelShape: [3, 3])), [f32(1, 3, 2, 8), w], mentioning: ["2", "3"])
        expectRejected(.conv(ConvAttributes(kernelShape: [3, 3], dilations: [4, 4])), [x, w], mentioning: ["8", "9"])
        expectRejected(.conv(ConvAttributes(kernelShape: [3, 3])), [i64(1, 3, 8, 8), ty(.int64, [8, 3, 3, 3])],
                       mentioning: ["int64"])
        expectRejected(.conv(ConvAttributes(kernelShape: [3, 3])), [x], mentioning: ["2…3 inputs, got 1"])
    }

    // MARK: ConvTranspose

    @Test("ConvTranspose: k2 s2 doubles the spatial extent; channels come from W[1] × group")
    func convTransposeDoubling() {
        expectType(.convTranspose(ConvTransposeAttributes(kernelShape: [2, 2], strides: [2, 2])),
                   [f32(1, 256, 16, 16), f32(256, 128, 2, 2)], f32(1, 128, 32, 32))
        expectType(.convTranspose(ConvTransposeAttributes(kernelShape: [2, 2], strides: [2, 2])),
                   [f32(2, 8, 7, 5), f32(8, 8, 2, 2), f32(8)], f32(2, 8, 14, 10))
    }

    @Test("ConvTranspose: stride·(in−1) + output_padding + dilated kernel − pads")
    func convTransposeFormula() {
        // 2·4 + 0 + 3 − 2 = 9; output_padding adds one per axis.
        expectType(.convTranspose(ConvTransposeAttributes(kernelShape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1])),
                   [f32(1, 8, 5, 5), f32(8, 4, 3, 3)], f32(1, 4, 9, 9))
        expectType(.convTranspose(ConvTransposeAttributes(kernelShape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1],
                                                          outputPadding: [1, 0])),
                   [f32(1, 8, 5, 5), f32(8, 4, 3, 3)], f32(1, 4, 10, 9))
        // Dilation 2: the 3-tap kernel spans 5 → 1·(6−1) + 5 = 10.
        expectType(.convTranspose(ConvTransposeAttributes(kernelShape: [3], dilations: [2])),
                   [f32(1, 2, 6), f32(2, 3, 3)], f32(1, 3, 10))
    }

    @Test("ConvTranspose with groups (ONNX shape-inference case) and bias of M = W[1] × group")
    func convTransposeGroups() {
        let op = Op.convTranspose(ConvTransposeAttributes(kernelShape: [3, 3], strides: [2, 2], pads: [1, 1, 2, 2], group: 2))
        expectType(op, [f32(25, 48, 16, 16), f32(48, 32, 3, 3)], f32(25, 64, 30, 30))
        expectType(op, [f32(25, 48, 16, 16), f32(48, 32, 3, 3), f32(64)], f32(25, 64, 30, 30))
        expectRejected(op, [f32(25, 48, 16, 16), f32(48, 32, 3, 3), f32(32)], mentioning: ["[64]", "[32]"])
    }

    @Test("ConvTranspose rejects groups that do not divide the input channels")
    func convTransposeGroupDivisibility() {
        // W is (C × M/group × k × k): C = 3 cannot be split into 2 groups.
        expectRejected(.convTranspose(ConvTransposeAttributes(kernelShape: [2, 2], group: 2)),
                       [f32(1, 3, 4, 4), f32(3, 2, 2, 2)], mentioning: ["(3)", "group (2)"])
        expectRejected(.convTranspose(ConvTransposeAttributes(kernelShape: [2, 2], group: 0)),
                       [f32(1, 4, 4, 4), f32(4, 2, 2, 2)])
    }

    @Test("ConvTranspose rejects channel and kernel mismatches and bad output_padding")
    func convTransposeInvalid() {
        let k2s2 = ConvTransposeAttributes(kernelShape: [2, 2], strides: [2, 2])
        expectRejected(.convTranspose(k2s2), [f32(1, 256, 16, 16), f32(128, 128, 2, 2)], mentioning: ["(128)", "(256)"])
        expectRejected(.convTranspose(ConvTransposeAttributes(kernelShape: [3, 3], strides: [2, 2])),
                       [f32(1, 8, 4, 4), f32(8, 4, 2, 2)], mentioning: ["[2, 2]", "[3, 3]"])
        // output_padding must be smaller than the stride.
        expectRejected(.convTranspose(ConvTransposeAttributes(kernelShape: [2, 2], strides: [2, 2], outputPadding: [2, 0])),
                       [f32(1, 8, 4, 4), f32(8, 4, 2, 2)], mentioning: ["output_padding"])
        expectRejected(.convTranspose(ConvTransposeAttributes(kernelShape: [2, 2], outputPadding: [0])),
                       [f32(1, 8, 4, 4), f32(8, 4, 2, 2)], mentioning: ["output_padding"])
        // Pads larger than the full output: 1·0 + 1 − 2 ≤ 0.
        expectRejected(.convTranspose(ConvTransposeAttributes(kernelShape: [1], pads: [1, 1])),
                       [f32(1, 2, 1), f32(2, 2, 1)], mentioning: ["positive output extent"])
        expectRejected(.convTranspose(k2s2), [i64(1, 8, 4, 4), i64(8, 4, 2, 2)], mentioning: ["int64"])
    }

    // MARK: MaxPool

    struct PoolCase: Sendable, CustomTestStringConvertible {
        var x: [Int], attrs: PoolAttributes, expected: [Int]
        var testDescription: String { "X\(x) ceil=\(attrs.ceilMode) → \(expected)" }
    }

    @Test("MaxPool output extents with floor and ceil modes",
          arguments: [
              PoolCase(x: [1, 64, 56, 56], attrs: PoolAttributes(kernelShape: [2, 2], strides: [2, 2]), expected: [1, 64, 28, 28]),
              PoolCase(x: [1, 64, 112, 112], attrs: PoolAttributes(kernelShape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1]),
                       expected: [1, 64, 56, 56]),
              // k1 s2 on odd extents (FPN's extra level): every other element, including the last.
              PoolCase(x: [1, 3, 7, 7], attrs: PoolAttributes(kernelShape: [1, 1], strides: [2, 2]), expected: [1, 3, 4, 4]),
              PoolCase(x: [1, 3, 7, 7], attrs: PoolAttributes(kernelShape: [1, 1], strides: [2, 2], ceilMode: true),
                       expected: [1, 3, 4, 4]),
              PoolCase(x: [1, 3, 25, 13], attrs: PoolAttributes(kernelShape: [1, 1], strides: [2, 2]), expected: [1, 3, 13, 7]),
              // ceil_mode keeps a partial last window: 5 with k2 s2 → 2 (floor) vs 3 (ceil).
              PoolCase(x: [1, 1, 5, 5], attrs: PoolAttributes(kernelShape: [2, 2], strides: [2, 2]), expected: [1, 1, 2, 2]),
              PoolCase(x: [1, 1, 5, 5], attrs: PoolAttributes(kernelShape: [2, 2], strides: [2, 2], ceilMode: true),
                       expected: [1, 1, 3, 3]),
              // Exact fit: ceil_mode changes nothing.
              PoolCase(x: [1, 1, 6, 6], attrs: PoolAttributes(kernelShape: [2, 2], strides: [2, 2], ceilMode: true),
                       expected: [1, 1, 3, 3]),
              // ceil_mode: ceil((5 + 2 − 2) / 2) + 1 = 4, but the 4th window would start at 5, inside the
              // end padding, so ONNX drops it → 3.
              PoolCase(x: [1, 1, 5, 5], attrs: PoolAttributes(kernelShape: [2, 2], strides: [2, 2], pads: [1, 1, 1, 1], ceilMode: true),
                       expected: [1, 1, 3, 3]),
              // Same rule with a 3-wide kernel: ceil((4 + 4 − 3) / 3) + 1 = 3; window 3 starts at 6 − 2 = 4 = end of input → dropped.
              PoolCase(x: [1, 1, 4], attrs: PoolAttributes(kernelShape: [3], strides: [3], pads: [2, 2], ceilMode: true),
                       expected: [1, 1, 2]),
              // A last window that starts inside the input is kept: 6 + 2, k3 s2 → ceil(5 / 2) + 1 = 4 (starts −1, 1, 3, 5).
              PoolCase(x: [1, 1, 6], attrs: PoolAttributes(kernelShape: [3], strides: [2], pads: [1, 1], ceilMode: true),
                       expected: [1, 1, 4]),
              PoolCase(x: [1, 1, 6], attrs: PoolAttributes(kernelShape: [3], strides: [2], pads: [1, 1]), expected: [1, 1, 3]),
              // End padding alone: windows start at 0, 2, 4, all inside the input, so none is dropped.
              PoolCase(x: [1, 1, 5], attrs: PoolAttributes(kernelShape: [2], strides: [2], pads: [0, 1], ceilMode: true),
                       expected: [1, 1, 3]),
              // Dilation 2: a 3-tap window spans 5.
              PoolCase(x: [1, 1, 10, 10], attrs: PoolAttributes(kernelShape: [3, 3], dilations: [2, 2]), expected: [1, 1, 6, 6]),
              // 3-d pooling.
              PoolCase(x: [2, 4, 8, 8, 8], attrs: PoolAttributes(kernelShape: [2, 2, 2], strides: [2, 2, 2]),
                       expected: [2, 4, 4, 4, 4]),
          ])
    func maxPoolValid(_ c: PoolCase) {
        expectType(.maxPool(c.attrs), [ty(.float32, c.x)], ty(.float32, c.expected))
    }

    @Test("MaxPool keeps a half-precision dtype")
    func maxPoolHalf() {
        expectType(.maxPool(PoolAttributes(kernelShape: [2, 2], strides: [2, 2])), [f16(1, 2, 4, 4)], f16(1, 2, 2, 2))
    }

    @Test("MaxPool rejects rank mismatches, oversized kernels and pads, bad attributes and integers")
    func maxPoolInvalid() {
        expectRejected(.maxPool(PoolAttributes(kernelShape: [2, 2])), [f32(1, 8, 8)], mentioning: ["rank 4", "[1, 8, 8]"])
        expectRejected(.maxPool(PoolAttributes(kernelShape: [5, 5])), [f32(1, 1, 4, 4)], mentioning: ["4", "5"])
        expectRejected(.maxPool(PoolAttributes(kernelShape: [2, 2], pads: [2, 0, 0, 0])), [f32(1, 1, 8, 8)], mentioning: ["pads"])
        expectRejected(.maxPool(PoolAttributes(kernelShape: [0, 2])), [f32(1, 1, 8, 8)], mentioning: ["kernel_shape"])
        expectRejected(.maxPool(PoolAttributes(kernelShape: [2, 2], strides: [2])), [f32(1, 1, 8, 8)], mentioning: ["strides"])
        expectRejected(.maxPool(PoolAttributes(kernelShape: [2, 2])), [i64(1, 1, 8, 8)], mentioning: ["int64"])
        expectRejected(.maxPool(PoolAttributes(kernelShape: [2, 2])), [f32(1, 1, 8, 8), f32(1)], mentioning: ["1 input, got 2"])
    }
}
