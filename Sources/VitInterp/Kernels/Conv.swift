import CBLAS
import VitIR

/// Geometry of an N-d convolution window: input extents, output extents, kernel, strides,
/// begin pads, dilations. Input coordinate of output `o`, kernel tap `t` on axis `i` is
/// `o·stride − padBegin + t·dilation`.
struct WindowGeometry {
    var input: [Int], output: [Int], kernel: [Int], strides: [Int], padBegin: [Int], dilations: [Int]

    func inputCoordinate(axis i: Int, output o: Int, tap t: Int) -> Int {
        o * strides[i] - padBegin[i] + t * dilations[i]
    }
}

/// Fills `cols` ((C·K) × P, K = kernel size, P = output positions) with the receptive fields of
/// one image `x` (C × input positions), zeros where a tap falls in the padding.
func im2col(_ x: UnsafePointer<Float>, channels: Int, _ g: WindowGeometry, _ cols: UnsafeMutablePointer<Float>) {
    let kernelSize = g.kernel.reduce(1, *), outCount = g.output.reduce(1, *), inCount = g.input.reduce(1, *)
    let inStrides = rowMajorStrides(g.input)
    let s = g.input.count
    let outerOut = Array(g.output.dropLast()), lastOut = g.output[s - 1]
    parallelChunks(channels * kernelSize, grain: Swift.max(1, 4096 / Swift.max(outCount, 1))) { rows in
        for row in rows {
            let c = row / kernelSize
            var taps = Array(repeating: 0, count: s)
            var rest = row % kernelSize
            for i in stride(from: s - 1, through: 0, by: -1) { taps[i] = rest % g.kernel[i]; rest /= g.kernel[i] }
            let src = x + c * inCount
            var dst = cols + row * outCount
            // Along the last axis, the row's tap at output j reads p = j·step + shift: inside the input
            // for j in `valid`, padding (0) on either side of it.
            let step = g.strides[s - 1], shift = g.inputCoordinate(axis: s - 1, output: 0, tap: taps[s - 1])
            let valid = Swift.min(lastOut, ceilDiv(-shift, step))..<Swift.min(lastOut, ceilDiv(g.input[s - 1] - shift, step))
            forEachIndex(outerOut) { o in
                var base = 0, inside = true
                for i in 0..<(s - 1) {
                    let p = g.inputCoordinate(axis: i, output: o[i], tap: taps[i])
                    if p < 0 || p >= g.input[i] { inside = false; break }
                    base += p * inStrides[i]
                }
                guard inside, !valid.isEmpty else {
                    dst.update(repeating: 0, count: lastOut)
                    dst += lastOut
                    return
                }
                dst.update(repeating: 0, count: valid.lowerBound)
                let from = src + base + shift
                if step == 1 {
                    (dst + valid.lowerBound).update(from: from + valid.lowerBound, count: valid.count)
                } else {
                    for j in valid { dst[j] = from[j * step] }
                }
                (dst + valid.upperBound).update(repeating: 0, count: lastOut - valid.upperBound)
                dst += lastOut
            }
        }
    }
}

/// ⌈a / b⌉ for b > 0, clamped below at 0.
private func ceilDiv(_ a: Int, _ b: Int) -> Int {
    a <= 0 ? 0 : (a - 1) / b + 1
}

/// Adds `cols` ((C·K) × P over the input positions) into image `y` (C × output positions) at
/// the output coordinates each tap maps to: the adjoint of `im2col`, where `g.input` is the
/// extent being scattered into (ConvTranspose's output) and `g.output` the positions of `cols`.
func col2im(_ cols: UnsafePointer<Float>, channels: Int, _ g: WindowGeometry, _ y: UnsafeMutablePointer<Float>) {
    let kernelSize = g.kernel.reduce(1, *), colCount = g.output.reduce(1, *), imageCount = g.input.reduce(1, *)
    let imageStrides = rowMajorStrides(g.input)
    let s = g.input.count
    let outer = Array(g.output.dropLast()), last = g.output[s - 1]
    // Channels are independent images, so they split across cores without write conflicts. Each
    // element receives its taps in tap order, as a scatter over (tap, position) would add them.
    parallelChunks(channels, grain: 1) { channelRange in
        var taps = Array(repeating: 0, count: s)
        for c in channelRange {
            let dst = y + c * imageCount
            for tap in 0..<kernelSize {
                var rest = tap
                for i in stride(from: s - 1, through: 0, by: -1) { taps[i] = rest % g.kernel[i]; rest /= g.kernel[i] }
                var src = cols + (c * kernelSize + tap) * colCount
                // Along the last axis, position j lands on p = j·step + shift: inside the image for j
                // in `valid`; the taps outside it fall in the cropped padding.
                let step = g.strides[s - 1], shift = g.inputCoordinate(axis: s - 1, output: 0, tap: taps[s - 1])
                let valid = Swift.min(last, ceilDiv(-shift, step))..<Swift.min(last, ceilDiv(g.input[s - 1] - shift, step))
                forEachIndex(outer) { o in
                    defer { src += last }
                    var base = 0
                    for i in 0..<(s - 1) {
                        let p = g.inputCoordinate(axis: i, output: o[i], tap: taps[i])
                        if p < 0 || p >= g.input[i] { return }
                        base += p * imageStrides[i]
                    }
                    let at = base + shift
                    if step == 1 {
                        for j in valid { dst[at + j] += src[j] }
                    } else {
                        for j in valid { dst[at + j * step] += src[j] }
                    }
                }
            }
        }
    }
}

/// ONNX Conv (explicit pads, groups, strides, dilations, optional bias) for any spatial rank.
/// Takes the fast path `pointwiseConv` (FastPaths/, bit-exact) for a 1×1 kernel with unit
/// strides and no padding, else `convReference`. Tolerance class: rounding.
func conv(_ inputs: [Tensor], _ c: ConvAttributes, _ out: TensorType) -> Tensor {
    if pointwiseConvApplies(c) { return pointwiseConv(inputs, c, out) }
    return convReference(inputs, c, out)
}

/// `conv` for every configuration: per image and group, Y = W · im2col(X) through
/// `cblas_sgemm`. Tolerance class: rounding.
func convReference(_ inputs: [Tensor], _ c: ConvAttributes, _ out: TensorType) -> Tensor {
    let x = inputs[0], w = inputs[1]
    let outShape = out.shape.ints ?? []
    let s = c.kernelShape.count
    let batch = x.shape[0], channels = x.shape[1], outChannels = w.shape[0]
    let cg = channels / c.group, mg = outChannels / c.group
    let geometry = WindowGeometry(input: Array(x.shape[2...]), output: Array(outShape[2...]), kernel: c.kernelShape,
                                  strides: c.strides, padBegin: Array(c.pads[..<s]), dilations: c.dilations)
    let kernelSize = c.kernelShape.reduce(1, *)
    let inCount = geometry.input.reduce(1, *), outCount = geometry.output.reduce(1, *)
    return withFloats(x) { px in
        withFloats(w) { pw in
            // Each group's GEMM writes its output channels whole (beta 0) unless it sums nothing.
            makeFloats(out.dtype, outShape, writesAll: cg * kernelSize > 0) { py in
                // im2col writes every element of its rows, so the buffer is not zeroed first.
                let colBuffer = UnsafeMutableBufferPointer<Float>.allocate(capacity: Swift.max(1, cg * kernelSize * outCount))
                defer { colBuffer.deallocate() }
                for n in 0..<batch {
                    for g in 0..<c.group {
                        im2col(px.baseAddress! + (n * channels + g * cg) * inCount, channels: cg, geometry,
                               colBuffer.baseAddress!)
                        sgemm(m: mg, n: outCount, k: cg * kernelSize, pw.baseAddress! + g * mg * cg * kernelSize,
                              colBuffer.baseAddress!, py.baseAddress! + (n * outChannels + g * mg) * outCount)
                    }
                }
                if inputs.count == 3 { addChannelBias(inputs[2], py, batch: batch, channels: outChannels, spatial: outCount) }
            }
        }
    }
}

/// ONNX ConvTranspose (explicit pads, output_padding, groups, strides, dilations, optional bias):
/// per image and group, cols = W_gᵀ · X_g through `cblas_sgemm`, then `col2im` scatters the taps
/// to `i·stride − padBegin + t·dilation`. Positions added by output_padding receive only the
/// taps that reach them (and the bias). Tolerance class: rounding.
func convTranspose(_ inputs: [Tensor], _ c: ConvTransposeAttributes, _ out: TensorType) -> Tensor {
    let x = inputs[0], w = inputs[1]
    let outShape = out.shape.ints ?? []
    let s = c.kernelShape.count
    let batch = x.shape[0], channels = x.shape[1], outChannels = outShape[1]
    let cg = channels / c.group, mg = w.shape[1]
    // col2im's geometry: it scatters from the input positions (its "output") into the image.
    let geometry = WindowGeometry(input: Array(outShape[2...]), output: Array(x.shape[2...]), kernel: c.kernelShape,
                                  strides: c.strides, padBegin: Array(c.pads[..<s]), dilations: c.dilations)
    let kernelSize = c.kernelShape.reduce(1, *)
    let inCount = geometry.output.reduce(1, *), outCount = geometry.input.reduce(1, *)
    return withFloats(x) { px in
        withFloats(w) { pw in
            makeFloats(out.dtype, outShape) { py in
                var cols = [Float](repeating: 0, count: Swift.max(1, mg * kernelSize * inCount))
                cols.withUnsafeMutableBufferPointer { colBuffer in
                    for n in 0..<batch {
                        for g in 0..<c.group {
                            sgemm(transA: true, m: mg * kernelSize, n: inCount, k: cg,
                                  pw.baseAddress! + g * cg * mg * kernelSize,
                                  px.baseAddress! + (n * channels + g * cg) * inCount, colBuffer.baseAddress!)
                            col2im(colBuffer.baseAddress!, channels: mg, geometry,
                                   py.baseAddress! + (n * outChannels + g * mg) * outCount)
                        }
                    }
                }
                if inputs.count == 3 { addChannelBias(inputs[2], py, batch: batch, channels: outChannels, spatial: outCount) }
            }
        }
    }
}

/// y[n, c, …] += bias[c].
func addChannelBias(_ bias: Tensor, _ y: UnsafeMutableBufferPointer<Float>, batch: Int, channels: Int, spatial: Int) {
    withFloats(bias) { b in
        for n in 0..<batch {
            for c in 0..<channels {
                let base = (n * channels + c) * spatial
                for i in 0..<spatial { y[base + i] += b[c] }
            }
        }
    }
}

extension ConvolutionOp {
    /// Runs the op's kernel; `types` are the shape rule's output types.
    func evaluate(_ x: [Tensor], _ types: [TensorType]) -> [Tensor] {
        switch self {
        case .conv(let c): [VitInterp.conv(x, c, types[0])]
        case .convTranspose(let c): [VitInterp.convTranspose(x, c, types[0])]
        case .maxPool(let p): [VitInterp.maxPool(x[0], p, types[0])]
        }
    }
}
