import Foundation
import ONNXProto
import VitIR

/// Normalizations ↔ ONNX Softmax, LayerNormalization (decomposed at opset 16), GroupNormalization (decomposed below 21).
extension NormalizationOp: ONNXMapping {
    func lower(_ node: Node, _ l: inout ExportLowering) throws(ExportError) {
        let ins = l.inputNames(node), outs = l.outputNames(node)
        switch self {
        case .softmax(let axis):
            l.emit("Softmax", ins, outs, [exportAttribute("axis", axis)], node: node)
        case .layerNormalization(let axis, let epsilon):
            if l.opset >= 17 {
                l.emit("LayerNormalization", ins, outs, [exportAttribute("axis", axis), exportAttribute("epsilon", epsilon)], node: node)
            } else {
                l.lowerLayerNormalizationDecomposed(node, axis: axis, epsilon: epsilon)
            }
        case .groupNormalization(let groups, let epsilon):
            // GroupNormalization-18 takes per-group scale and bias; the IR's per-channel
            // meaning is GroupNormalization-21's, so earlier opsets get the decomposition.
            if l.opset >= 21 {
                l.emit("GroupNormalization", ins, outs, [exportAttribute("epsilon", epsilon), exportAttribute("num_groups", groups)], node: node)
            } else {
                l.lowerGroupNormalizationDecomposed(node, groups: groups, epsilon: epsilon)
            }
        }
    }

    static var importers: [String: ONNXImporter] { [
        "Softmax": { try $0.softmax() },
        "LayerNormalization": { try $0.layerNormalization() },
        "GroupNormalization": { try $0.groupNormalization() },
    ] }
}

extension ExportLowering {
    /// LayerNormalization-17 for opset 16: (x − mean) / √(var + ε) · scale + bias over axes
    /// `axis..<rank`, the statistics in float32 (`emitNormalize`), as LayerNormalization-17's
    /// stash_type = 1.
    mutating func lowerLayerNormalizationDecomposed(_ node: Node, axis: Int, epsilon: Float) {
        let x = graph.name(of: node.inputs[0]), y = graph.name(of: node.outputs[0])
        let type = inputType(node, 0)
        let rank = type.rank
        let first = axis < 0 ? axis + rank : axis
        let axes = Array(first..<rank)
        var reducedShape = type.shape.dims
        for a in axes { reducedShape[a] = .fixed(1) }
        let reduced = TensorType(type.dtype, Shape(reducedShape))

        let normalized = emitNormalize(node, x, axes: axes, reduced: reduced, full: type, epsilon: epsilon)
        let hasBias = node.inputs.count > 2
        let scaled = hasBias ? temp(node, "mul_scale", type) : y
        emit("Mul", [normalized, graph.name(of: node.inputs[1])], [scaled], node: node, step: "mul_scale")
        if hasBias {
            emit("Add", [scaled, graph.name(of: node.inputs[2])], [y], node: node, step: "add_bias")
        }
    }

    /// GroupNormalization-21 for earlier opsets: X [N, C, …] reshaped to [N, G, C/G·…],
    /// normalized over the last axis, reshaped back, then scaled and shifted per channel with
    /// scale and bias reshaped to [C, 1, …].
    mutating func lowerGroupNormalizationDecomposed(_ node: Node, groups: Int, epsilon: Float) {
        let x = graph.name(of: node.inputs[0]), y = graph.name(of: node.outputs[0])
        let type = inputType(node, 0)
        let dims = type.shape.ints ?? []
        let (n, channels) = (dims[0], dims[1])
        let spatial = dims.dropFirst(2).reduce(1, *)
        let groupedShape = [n, groups, channels / groups * spatial]
        let grouped = TensorType(type.dtype, Shape(groupedShape))
        let reduced = TensorType(type.dtype, Shape([n, groups, 1]))

        let xg = temp(node, "reshape_groups", grouped)
        emit("Reshape", [x, decomposedConstant(exportInt64Vector(groupedShape), node, "groups_shape")], [xg],
             node: node, step: "reshape_groups")
        let normalized = emitNormalize(node, xg, axes: [2], reduced: reduced, full: grouped, epsilon: epsilon)
        let restored = temp(node, "reshape_back", type)
        emit("Reshape", [normalized, decomposedConstant(exportInt64Vector(dims), node, "input_shape")], [restored],
             node: node, step: "reshape_back")

        var scale = graph.name(of: node.inputs[1]), bias = graph.name(of: node.inputs[2])
        if dims.count > 2 {
            let perChannel = [channels] + Array(repeating: 1, count: dims.count - 2)
            let perChannelType = TensorType(type.dtype, Shape(perChannel))
            let shape = decomposedConstant(exportInt64Vector(perChannel), node, "channel_shape")
            let s = temp(node, "reshape_scale", perChannelType)
            emit("Reshape", [scale, shape], [s], node: node, step: "reshape_scale")
            let b = temp(node, "reshape_bias", perChannelType)
            emit("Reshape", [bias, shape], [b], node: node, step: "reshape_bias")
            (scale, bias) = (s, b)
        }
        let scaled = temp(node, "mul_scale", type)
        emit("Mul", [restored, scale], [scaled], node: node, step: "mul_scale")
        emit("Add", [scaled, bias], [y], node: node, step: "add_bias")
    }

    /// (x − ReduceMean(x)) / Sqrt(ReduceMean((x − mean)²) + ε) over `axes`; returns the name
    /// of the normalized value (type `full`). A float16 or bfloat16 input is normalized in
    /// float32 between two Casts, as LayerNormalization-17's and GroupNormalization-21's
    /// stash_type = 1 compute the statistics (and as the interpreter does); scale and bias
    /// then apply in the input's type.
    mutating func emitNormalize(_ node: Node, _ x: String, axes: [Int], reduced: TensorType, full: TensorType,
                                        epsilon: Float) -> String {
        guard full.dtype == .float32 else {
            let wide = TensorType(.float32, full.shape), wideReduced = TensorType(.float32, reduced.shape)
            let stashed = temp(node, "stash", wide)
            emit("Cast", [x], [stashed], [exportAttribute("to", Int(DType.float32.exportDataType.rawValue))], node: node, step: "stash")
            let normalized = emitNormalize(node, stashed, axes: axes, reduced: wideReduced, full: wide, epsilon: epsilon)
            let narrowed = temp(node, "unstash", full)
            emit("Cast", [normalized], [narrowed], [exportAttribute("to", Int(full.dtype.exportDataType.rawValue))], node: node, step: "unstash")
            return narrowed
        }
        func c(_ v: Double, _ role: String) -> String { decomposedConstant(exportFilledTensor(v, full.dtype), node, role) }
        let mean = temp(node, "mean", reduced)
        emitReduce("ReduceMean", x, mean, axes: axes, keepDims: true, axesAsInput: opset >= 18, node: node, step: "mean")
        let centered = temp(node, "sub_mean", full)
        emit("Sub", [x, mean], [centered], node: node, step: "sub_mean")
        let squared = temp(node, "pow", full)
        emit("Pow", [centered, c(2, "two")], [squared], node: node, step: "pow")
        let variance = temp(node, "variance", reduced)
        emitReduce("ReduceMean", squared, variance, axes: axes, keepDims: true, axesAsInput: opset >= 18, node: node, step: "variance")
        let shifted = temp(node, "add_epsilon", reduced)
        emit("Add", [variance, c(Double(epsilon), "epsilon")], [shifted], node: node, step: "add_epsilon")
        let deviation = temp(node, "sqrt", reduced)
        emit("Sqrt", [shifted], [deviation], node: node, step: "sqrt")
        let normalized = temp(node, "div", full)
        emit("Div", [centered, deviation], [normalized], node: node, step: "div")
        return normalized
    }
}

extension NodeImport {
    /// Softmax-13: axis default −1. Softmax-1/11: axis default 1 and the input is coerced to
    /// 2-D [∏ dims[..<axis], ∏ dims[axis...]]; that is Reshape → Softmax(−1) → Reshape, or a
    /// plain Softmax over `axis` when it is the last non-unit axis.
    fileprivate mutating func softmax() throws(ImportError) {
        let x = try dims(0)
        if opset >= 13 {
            try emitFinal(.softmax(axis: int("axis", default: -1)), [input(0)])
            return
        }
        let axis = try int("axis", default: 1)
        let a = axis < 0 ? axis + x.count : axis
        guard a >= 0, a <= x.count else { throw fail("axis \(axis) out of range for rank \(x.count)") }
        if a < x.count, x[(a + 1)...].allSatisfy({ $0 == 1 }) {
            try emitFinal(.softmax(axis: a), [input(0)])
            return
        }
        let flat = [x[..<a].reduce(1, *), x[a...].reduce(1, *)]
        let r = try emit(.reshape(shape: flat), [input(0)], names: [nil])[0]
        let sm = try emit(.softmax(axis: -1), [r], names: [nil])[0]
        try emit(.reshape(shape: x), [sm], names: proto.output.map { $0 })
    }

    /// LayerNormalization-17: axis −1, epsilon 1e-5, stash_type 1 (float32 statistics). The
    /// Mean and InvStdDev outputs are unsupported.
    fileprivate mutating func layerNormalization() throws(ImportError) {
        try requireOutputs(atMost: 1, "Mean/InvStdDev")
        try requireInt("stash_type", in: [1], reason: "statistics are computed in float32")
        let op = Op.layerNormalization(axis: try int("axis", default: -1), epsilon: try float("epsilon", default: 1e-5))
        var ins = [try input(0), try input(1)]
        if hasInput(2) { ins.append(try input(2)) }
        try emitFinal(op, ins)
    }

    /// GroupNormalization-21: scale and bias per channel. GroupNormalization-18 (deprecated):
    /// per group; each group's value is repeated over its C / num_groups channels, which needs
    /// constant scale and bias.
    fileprivate mutating func groupNormalization() throws(ImportError) {
        guard let groups = try int("num_groups") else { throw fail("missing required attribute 'num_groups'") }
        let eps = try float("epsilon", default: 1e-5)
        try requireInt("stash_type", in: [1], reason: "statistics are computed in float32")
        let x = try dims(0)
        guard x.count >= 2, groups >= 1, x[1] % groups == 0 else {
            throw fail("X \(x) must have channels divisible by num_groups \(groups)")
        }
        var scale = try input(1), bias = try input(2)
        if opset < 21 {
            let perGroup = x[1] / groups
            func expand(_ i: Int, _ what: String) throws(ImportError) -> Tensor {
                guard let t = try constant(i, what) else { throw fail("missing input \(i) (\(what))") }
                guard t.shape == [groups] else { throw fail("\(what) must have shape [\(groups)] at opset \(opset), got \(t.shape)") }
                let size = t.dtype.byteSize
                return Tensor(dtype: t.dtype, shape: [x[1]]) { dst in
                    for c in 0..<x[1] {
                        dst.baseAddress!.advanced(by: c * size)
                            .copyMemory(from: t.rawPointer.advanced(by: (c / perGroup) * size), byteCount: size)
                    }
                }
            }
            scale = addInitializer(try expand(1, "scale"), base: "\(name).scale_per_channel")
            bias = addInitializer(try expand(2, "bias"), base: "\(name).bias_per_channel")
        }
        try emitFinal(.groupNormalization(numGroups: groups, epsilon: eps), [input(0), scale, bias])
    }
}
