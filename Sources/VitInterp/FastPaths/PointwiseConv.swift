import VitIR

// Fast path of Conv (Kernels/Conv.swift): a 1×1 ("pointwise") convolution is a matrix product
// of the weights with the image itself, so im2col's copy of the image is skipped.
//
// Applies when: every kernel extent is 1, every stride 1 and every pad 0 (any spatial rank,
// group, dilation, batch, bias).
// Tolerance class vs `convReference`: bit-exact. For such a kernel im2col's output equals the
// image element for element, so `cblas_sgemm` receives the same m, n, k and values (only the
// address of B differs; OpenBLAS packs B before computing, so the summation order does not
// depend on it), and the bias is added by the same `addChannelBias`.
// Pinned by FastPathTests.pointwiseConv.

/// Whether `pointwiseConv` computes `conv(_, c, _)`.
func pointwiseConvApplies(_ c: ConvAttributes) -> Bool {
    c.kernelShape.allSatisfy { $0 == 1 } && c.strides.allSatisfy { $0 == 1 } && c.pads.allSatisfy { $0 == 0 }
}

/// Conv with a 1×1 kernel, unit strides and no padding: per image and group, Y = W · X through
/// `cblas_sgemm`, plus the bias.
func pointwiseConv(_ inputs: [Tensor], _ c: ConvAttributes, _ out: TensorType) -> Tensor {
    let x = inputs[0], w = inputs[1]
    let outShape = out.shape.ints ?? []
    let batch = x.shape[0], channels = x.shape[1], outChannels = w.shape[0]
    let cg = channels / c.group, mg = outChannels / c.group
    let positions = x.shape[2...].reduce(1, *)
    return withFloats(x) { px in
        withFloats(w) { pw in
            // Each group's GEMM writes its output channels whole (beta 0) unless it sums nothing.
            makeFloats(out.dtype, outShape, writesAll: cg > 0) { py in
                for n in 0..<batch {
                    for g in 0..<c.group {
                        sgemm(m: mg, n: positions, k: cg, pw.baseAddress! + g * mg * cg,
                              px.baseAddress! + (n * channels + g * cg) * positions,
                              py.baseAddress! + (n * outChannels + g * mg) * positions)
                    }
                }
                if inputs.count == 3 { addChannelBias(inputs[2], py, batch: batch, channels: outChannels, spatial: positions) }
            }
        }
    }
}
