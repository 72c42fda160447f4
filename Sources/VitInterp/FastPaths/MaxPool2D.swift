import VitIR

// Fast path of MaxPool (Kernels/Pool.swift).
//
// Applies when: two spatial axes (any pads, strides, dilations, ceil_mode, values).
// Tolerance class vs `maxPoolReference`: bit-exact. Both visit the taps inside the input in
// the same row-major order with the same comparison (`v > best || v.isNaN`, NaN sticky), so
// they select the same element (of two equal zeros, the first) or the same canonical NaN.
// Pinned by FastPathTests.maxPool2D.

/// Whether `maxPool2D` computes `maxPool(_, p, _)`.
func maxPool2DApplies(_ p: PoolAttributes) -> Bool { p.kernelShape.count == 2 }

/// MaxPool over two spatial axes: planes split over cores, each a loop over output rows and
/// columns with the taps' coordinates computed directly instead of through index arrays.
func maxPool2D(_ x: Tensor, _ p: PoolAttributes, _ out: TensorType) -> Tensor {
    let outShape = out.shape.ints ?? []
    let g = WindowGeometry(input: Array(x.shape[2...]), output: Array(outShape[2...]), kernel: p.kernelShape,
                           strides: p.strides, padBegin: Array(p.pads[..<2]), dilations: p.dilations)
    let planes = x.shape[0] * x.shape[1]
    let inCount = g.input.reduce(1, *), outCount = g.output.reduce(1, *)
    return withFloats(x) { px in
        makeFloats(out.dtype, outShape) { py in
            parallelChunks(planes, grain: Swift.max(1, 4096 / Swift.max(outCount, 1))) { range in
                for plane in range {
                    maxPool2DPlane(px.baseAddress! + plane * inCount, py.baseAddress! + plane * outCount, g)
                }
            }
        }
    }
}

/// One plane of `maxPool2D`: the taps that fall inside the input, row by row.
private func maxPool2DPlane(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, _ g: WindowGeometry) {
    let inH = g.input[0], inW = g.input[1], outH = g.output[0], outW = g.output[1]
    let kH = g.kernel[0], kW = g.kernel[1], sH = g.strides[0], sW = g.strides[1]
    let pH = g.padBegin[0], pW = g.padBegin[1], dH = g.dilations[0], dW = g.dilations[1]
    for oy in 0..<outH {
        for ox in 0..<outW {
            var best = -Float.infinity
            for ty in 0..<kH {
                let y = oy * sH - pH + ty * dH
                guard y >= 0, y < inH else { continue }
                let row = src + y * inW
                for tx in 0..<kW {
                    let c = ox * sW - pW + tx * dW
                    guard c >= 0, c < inW else { continue }
                    let v = row[c]
                    if v > best || v.isNaN { best = v.isNaN || best.isNaN ? .nan : v }
                }
            }
            dst[oy * outW + ox] = best
        }
    }
}
