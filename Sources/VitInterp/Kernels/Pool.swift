import VitIR

/// ONNX MaxPool (explicit pads, strides, dilations, ceil_mode) for any spatial rank. Taps in the
/// padding are never selected; with ceil_mode a window overhanging the end reads only the taps
/// inside the input. NaN in a window propagates (numpy max). Tolerance class: exact.
func maxPool(_ x: Tensor, _ p: PoolAttributes, _ out: TensorType) -> Tensor {
    let outShape = out.shape.ints ?? []
    let s = p.kernelShape.count
    let g = WindowGeometry(input: Array(x.shape[2...]), output: Array(outShape[2...]), kernel: p.kernelShape,
                           strides: p.strides, padBegin: Array(p.pads[..<s]), dilations: p.dilations)
    let planes = x.shape[0] * x.shape[1]
    let inCount = g.input.reduce(1, *), outCount = g.output.reduce(1, *)
    let inStrides = rowMajorStrides(g.input)
    return withFloats(x) { px in
        makeFloats(out.dtype, outShape) { py in
            if s == 2 {
                parallelChunks(planes, grain: Swift.max(1, 4096 / Swift.max(outCount, 1))) { range in
                    for plane in range {
                        maxPool2D(px.baseAddress! + plane * inCount, py.baseAddress! + plane * outCount, g)
                    }
                }
                return
            }
            parallelChunks(planes, grain: Swift.max(1, 4096 / Swift.max(outCount, 1))) { range in
                for plane in range {
                    let src = px.baseAddress! + plane * inCount
                    var k = plane * outCount
                    forEachIndex(g.output) { o in
                        var best = -Float.infinity
                        forEachIndex(p.kernelShape) { t in
                            var offset = 0
                            for i in 0..<s {
                                let c = g.inputCoordinate(axis: i, output: o[i], tap: t[i])
                                if c < 0 || c >= g.input[i] { return }
                                offset += c * inStrides[i]
                            }
                            let v = src[offset]
                            if v > best || v.isNaN { best = v.isNaN || best.isNaN ? .nan : v }
                        }
                        py[k] = best
                        k += 1
                    }
                }
            }
        }
    }
}

/// One plane of a 2-d MaxPool (same semantics as `maxPool`), with plain loops over the taps
/// that fall inside the input.
private func maxPool2D(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, _ g: WindowGeometry) {
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
