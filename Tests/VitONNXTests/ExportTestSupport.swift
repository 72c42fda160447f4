import Foundation
import ONNXProto
import VitIR
@testable import VitONNX

/// Deterministic float32 weights: small values cycling through a fixed pattern.
func exportTestWeights(_ shape: [Int], scale: Float = 0.05) -> Tensor {
    Tensor.float32(shape) { p in
        for i in p.indices { p[i] = Float(i % 11 - 5) * scale }
    }
}

/// A graph that applies every `Op` case at least once, with static shapes ONNX can infer.
func exportOpZooGraph() throws -> Graph {
    let t = Tracer(name: "op_zoo")
    let x = t.input("x", TensorType(.float32, [1, 4, 8, 8]))
    func op(_ op: Op, _ inputs: [SymbolicTensor], _ name: String? = nil) throws -> SymbolicTensor {
        try t.apply(op, inputs, name: name)[0]
    }
    return try t.scope("backbone") {
        let w = t.parameter("conv.weight", exportTestWeights([4, 4, 3, 3]))
        let b = t.parameter("conv.bias", exportTestWeights([4]))
        var y = try op(.conv(ConvAttributes(kernelShape: [3, 3], pads: [1, 1, 1, 1])), [x, w, b])
        let one = t.constant(Tensor.scalar(Float(1)), name: "backbone.one")
        let two = t.constant(Tensor.scalar(Float(2)), name: "backbone.two")
        for o in [Op.add, .sub, .mul, .max, .min] { y = try op(o, [y, one]) }
        y = try op(.div, [y, two])
        y = try op(.pow, [try op(.abs, [y]), two])
        for o in [Op.neg, .abs, .sqrt, .exp, .sigmoid, .relu, .floor, .ceil, .sin, .cos, .tanh, .erf] { y = try op(o, [y]) }
        y = try op(.reciprocal, [try op(.add, [y, two])])
        y = try op(.log, [try op(.add, [y, one])])
        y = try op(.gelu(approximate: .none), [y])
        y = try op(.gelu(approximate: .tanh), [y])
        y = try op(.clip(min: -1, max: 1), [y])
        y = try op(.clip(min: nil, max: 3), [y])

        let gt = try op(.greater, [y, one]), ge = try op(.greaterOrEqual, [y, one])
        let lt = try op(.less, [y, one]), le = try op(.lessOrEqual, [y, one]), eq = try op(.equal, [y, one])
        let cond = try op(.and, [try op(.or, [gt, lt]), try op(.not, [try op(.and, [ge, try op(.and, [le, eq])])])])
        y = try op(.where, [cond, y, x])
        y = try op(.cast(to: .float32), [try op(.cast(to: .float16), [y])])
        y = try op(.identity, [y])

        let gnScale = t.parameter("gn.weight", exportTestWeights([4]))
        let gnBias = t.parameter("gn.bias", exportTestWeights([4]))
        y = try op(.groupNormalization(numGroups: 2, epsilon: 1e-5), [y, gnScale, gnBias])
        y = try op(.maxPool(PoolAttributes(kernelShape: [2, 2], strides: [2, 2])), [y])                    // [1,4,4,4]
        let wt = t.parameter("up.weight", exportTestWeights([4, 2, 2, 2]))
        y = try op(.convTranspose(ConvTransposeAttributes(kernelShape: [2, 2], strides: [2, 2])), [y, wt]) // [1,2,8,8]
        y = try op(.pad(PadAttributes(pads: [0, 0, 1, 1, 0, 0, 1, 1], value: 0.5)), [y])                   // [1,2,10,10]
        y = try op(.pad(PadAttributes(pads: [0, 0, 1, 1, 0, 0, 1, 1], mode: .reflect)), [y])               // [1,2,12,12]
        y = try op(.slice(SliceAttributes(starts: [1, 1], ends: [11, 11], axes: [2, 3], steps: [1, 1])), [y]) // [1,2,10,10]
        y = try op(.resize(ResizeAttributes(sizes: [1, 2, 20, 20], mode: .linear)), [y])
        y = try op(.resize(ResizeAttributes(sizes: [1, 2, 10, 10], scales: [1, 1, 0.5, 0.5], mode: .nearest,
                                            coordinateTransformation: .asymmetric)), [y])
        let grid = t.parameter("grid", Tensor.float32([1, 5, 5, 2]) { p in for i in p.indices { p[i] = Float(i % 9) / 4 - 1 } })
        y = try op(.gridSample(GridSampleAttributes()), [y, grid])                                       // [1,2,5,5]
        y = try op(.tile(repeats: [1, 2, 1, 1]), [y])                                                     // [1,4,5,5]
        y = try op(.reshape(shape: [1, 4, 25]), [y])
        y = try op(.transpose(perm: [0, 2, 1]), [y])                                                      // [1,25,4]
        let lnScale = t.parameter("ln.weight", exportTestWeights([4]))
        let lnBias = t.parameter("ln.bias", exportTestWeights([4]))
        y = try op(.layerNormalization(axis: -1, epsilon: 1e-6), [y, lnScale, lnBias])
        // Quantization: a uint8 activation QDQ pair and an int8 weight dequantized per column.
        let qScale = t.constant(Tensor.scalar(Float(0.02)), name: "backbone.q.scale")
        let qZero = t.constant(Tensor([UInt8(128)], shape: []), name: "backbone.q.zero_point")
        let q = try op(.quantizeLinear(QuantizeAttributes(outputDType: .uint8)), [y, qScale, qZero])
        y = try op(.dequantizeLinear(), [q, qScale, qZero])
        let fcInt8 = t.constant(Tensor((0..<16).map { Int8($0 * 16 - 127) }, shape: [4, 4]), name: "backbone.fc.weight_quantized")
        let fcScale = t.constant(Tensor([0.001, 0.002, 0.003, 0.004], shape: [4]), name: "backbone.fc.weight_scale")
        let fc = try op(.dequantizeLinear(axis: 1), [fcInt8, fcScale])
        y = try op(.matMul, [y, fc])
        y = try op(.softmax(axis: -1), [y])
        let parts = try t.apply(.split(axis: 1, sizes: [20, 5]), [y])
        y = try op(.concat(axis: 1), [parts[1], parts[0]])                                                // [1,25,4]
        y = try op(.squeeze(axes: [0]), [y])                                                              // [25,4]
        let gw = t.parameter("gemm.weight", exportTestWeights([3, 4]))
        let gb = t.parameter("gemm.bias", exportTestWeights([3]))
        y = try op(.gemm(GemmAttributes(transB: true)), [y, gw, gb])                                      // [25,3]
        y = try op(.unsqueeze(axes: [0]), [y])                                                            // [1,25,3]
        y = try op(.expand(shape: [2, 25, 3]), [y])
        let mean = try op(.reduceMean(ReduceAttributes(axes: [1])), [y])                                  // [2,1,3]
        let sum = try op(.reduceSum(ReduceAttributes(axes: [2], keepDims: false)), [y])                   // [2,25]
        let maxAll = try op(.reduceMax(ReduceAttributes(axes: [])), [y])                                  // [1,1,1]
        let top = try t.apply(.topK(TopKAttributes(k: 5, axis: -1)), [sum])                               // [2,5] ×2
        let idx = try op(.range(start: 0, limit: 3, delta: 1, dtype: .int64), [])                         // [3]
        let gathered = try op(.gather(axis: 1), [y, idx])                                                 // [2,3,3]
        let elements = try op(.gatherElements(axis: 1), [gathered, try op(.cast(to: .int64), [try op(.floor, [try op(.mul, [try op(.sigmoid, [gathered]), two])])])])
        let scores = try op(.add, [try op(.add, [elements, mean]), maxAll])                               // [2,3,3]
        try t.output("scores", scores)
        try t.output("top_values", top[0])
        try t.output("top_indices", top[1])
        try t.output("range", try op(.range(start: 0.5, limit: 2.5, delta: 0.5, dtype: .float32), []))
        return try t.finish()
    }
}

/// A small conv + layer-norm + gelu graph (the shape of a ViT block).
func exportBlockGraph(groupNorm: Bool = false, antialias: Bool = false) throws -> Graph {
    let t = Tracer(name: "block")
    let x = t.input("x", TensorType(.float32, [1, 3, 8, 8]))
    let w = t.parameter("patch_embed.proj.weight", exportTestWeights([8, 3, 3, 3]))
    var y = try t.apply(.conv(ConvAttributes(kernelShape: [3, 3], pads: [1, 1, 1, 1])), [x, w])[0]
    if groupNorm {
        let s = t.parameter("norm.weight", exportTestWeights([8])), b = t.parameter("norm.bias", exportTestWeights([8]))
        y = try t.apply(.groupNormalization(numGroups: 4, epsilon: 1e-5), [y, s, b], name: "norm")[0]
    }
    if antialias {
        y = try t.apply(.resize(ResizeAttributes(sizes: [1, 8, 4, 4], mode: .linear, antialias: true)), [y], name: "down")[0]
    }
    let side = antialias ? 4 : 8
    y = try y.reshape([1, 8, side * side]).transpose([0, 2, 1])
    let s = t.parameter("ln.weight", exportTestWeights([8])), b = t.parameter("ln.bias", exportTestWeights([8]))
    y = try t.apply(.layerNormalization(axis: -1, epsilon: 1e-6), [y, s, b], name: "ln")[0]
    y = try t.apply(.gelu(approximate: .none), [y], name: "act")[0]
    try t.output("y", y)
    return try t.finish()
}

/// Two matmuls and a bias: `big.weight` [300, 300] (360000 bytes), `odd.weight` [300, 3]
/// (3600 bytes) and `small.bias` [3] (12 bytes, below the external-data threshold).
func exportExternalDataGraph() throws -> Graph {
    let t = Tracer(name: "ext")
    let x = t.input("x", TensorType(.float32, [2, 300]))
    var y = try x.matmul(t.parameter("big.weight", exportTestWeights([300, 300])))
    y = try y.matmul(t.parameter("odd.weight", exportTestWeights([300, 3])))
    y = try y.add(t.parameter("small.bias", exportTestWeights([3])))
    try t.output("y", y)
    return try t.finish()
}

/// A fresh empty directory under the system temporary directory.
func exportTemporaryDirectory() throws -> String {
    let path = NSTemporaryDirectory() + "vitonnx-export-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

extension Onnx_ModelProto {
    /// ONNX op types of the graph's nodes, in order.
    var opTypes: [String] { graph.node.map(\.opType) }
}
