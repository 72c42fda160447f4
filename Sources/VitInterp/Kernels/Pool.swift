import VitIR

/// ONNX MaxPool (explicit pads, strides, dilations, ceil_mode) for any spatial rank. Taps in the
/// padding are never selected; with ceil_mode a window overhanging the end reads only the taps
/// inside the input. NaN in a window propagates (numpy max). Takes the fast path `maxPool2D`
/// (FastPaths/, bit-exact) for two spatial axes, else `maxPoolReference`. Tolerance class: exact.
func maxPool(_ x: Tensor, _ p: PoolAttributes, _ out: TensorType) -> Tensor {
    if maxPool2DApplies(p) { return maxPool2D(x, p, out) }
    return maxPoolReference(x, p, out)
}

/// `maxPool` for any spatial rank, one output element at a time over its window's taps.
/// Tolerance class: exact.
func maxPoolReference(_ x: Tensor, _ p: PoolAttributes, _ out: TensorType) -> Tensor {
    let outShape = out.shape.ints ?? []
    let s = p.kernelShape.count
    let g = WindowGeometry(input: Array(x.shape[2...]), output: Array(outShape[2...]), kernel: p.kernelShape,
                           strides: p.strides, padBegin: Array(p.pads[..<s]), dilations: p.dilations)
    let planes = x.shape[0] * x.shape[1]
    let inCount = g.input.reduce(1, *), outCount = g.output.reduce(1, *)
    let inStrides = rowMajorStrides(g.input)
    return withFloats(x) { px in
        makeFloats(out.dtype, outShape) { py in
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
