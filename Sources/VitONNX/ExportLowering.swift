import Foundation
import ONNXProto
import VitIR

/// Lowers IR nodes to ONNX nodes for one default-domain opset (16…21).
///
/// Contract:
/// - Every node's ONNX form computes the IR op's meaning (ONNX operator definitions) and
///   produces outputs under the IR value names with the IR types.
/// - Static IR attributes that ONNX takes as tensor inputs become int64 initializers named
///   `<node name>.<role>` (`blocks.0.attn.Reshape.shape`); Clip bounds, Pad's constant_value and
///   Range's scalars use the op's element type, Resize's `scales`/`roi` float32.
/// - An op with no native form at the opset is decomposed into ops that exist there; the
///   decomposition's nodes, values and constants are named `<node name>/decomposed/<step>` and
///   carry the original doc string.
/// - An op the opset cannot express at all throws `ExportError.needsOpset`, naming the op,
///   the node and the minimum opset.
/// - Every node output that is not a graph output gets a `value_info` (dtype and shape).
///
/// Opset-dependent forms (all other ops have one form across 16…21):
/// - layerNormalization: 16 decomposed (ReduceMean, Sub, Pow, ReduceMean, Add, Sqrt, Div, Mul,
///   Add); ≥ 17 LayerNormalization-17.
/// - groupNormalization: ≤ 20 decomposed (Reshape to [N, G, −1] with an explicit shape, the
///   normalization above, Reshape back, Mul/Add with scale/bias reshaped to [C, 1, …]);
///   21 GroupNormalization-21.
/// - gelu: ≤ 19 decomposed (Erf form, or Tanh form for approximate = "tanh"); ≥ 20 Gelu-20.
/// - reduceMean, reduceMax: ≤ 17 `axes` attribute; ≥ 18 `axes` input. reduceSum: input always.
/// - gridSample: ≤ 19 modes bilinear/nearest/bicubic; ≥ 20 linear/nearest/cubic.
/// - resize: antialias needs 18; coordinate_transformation_mode half_pixel_symmetric needs 19.
struct ExportLowering {
    let graph: Graph
    let opset: Int
    private(set) var nodes: [Onnx_NodeProto] = []
    /// Initializers created by lowering, in creation order.
    private(set) var constants: [(name: String, tensor: Tensor)] = []
    /// `value_info` of every node output that is not a graph output, in definition order.
    private(set) var valueInfos: [Onnx_ValueInfoProto] = []
    /// Value names in use (graph values, lowering initializers, decomposition intermediates).
    private var takenValueNames: Set<String>
    /// Node names in use.
    private var takenNodeNames: Set<String>
    private let graphOutputs: Set<ValueID>

    init(graph: Graph, opset: Int) {
        self.graph = graph
        self.opset = opset
        self.takenValueNames = Set(graph.values.map(\.name))
        self.takenNodeNames = Set(graph.nodes.map(\.name))
        self.graphOutputs = Set(graph.outputs)
    }

    /// Appends the ONNX form of `node`.
    mutating func lower(_ node: Node) throws(ExportError) {
        let ins = node.inputs.map(graph.name(of:))
        let outs = node.outputs.map(graph.name(of:))
        switch node.op {
        case .add, .sub, .mul, .div, .pow, .max, .min,
             .equal, .less, .lessOrEqual, .greater, .greaterOrEqual, .and, .or,
             .neg, .abs, .sqrt, .reciprocal, .exp, .log, .erf, .sin, .cos, .tanh, .sigmoid, .relu, .floor, .ceil, .not,
             .where, .identity, .matMul:
            emit(node.op.name, ins, outs, node: node)

        case .gelu(let approximate):
            if opset >= 20 {
                emit("Gelu", ins, outs, [exportAttribute("approximate", approximate.rawValue)], node: node)
            } else {
                lowerGeluDecomposed(node, approximate: approximate)
            }

        case .clip(let lo, let hi):
            // Clip-13: min and max are optional scalar inputs of the input's type.
            let dtype = inputType(node, 0).dtype
            var inputs = [ins[0]]
            inputs.append(lo.map { constant(exportFilledTensor(Double($0), dtype), node, "min") } ?? "")
            inputs.append(hi.map { constant(exportFilledTensor(Double($0), dtype), node, "max") } ?? "")
            while inputs.last == "" { inputs.removeLast() }
            emit("Clip", inputs, outs, node: node)

        case .cast(let to):
            emit("Cast", ins, outs, [exportAttribute("to", to.exportDataType.rawValue)], node: node)

        case .gemm(let g):
            emit("Gemm", ins, outs, [exportAttribute("alpha", g.alpha), exportAttribute("beta", g.beta),
                                     exportAttribute("transA", g.transA ? 1 : 0), exportAttribute("transB", g.transB ? 1 : 0)], node: node)

        case .conv(let c):
            emit("Conv", ins, outs, [exportAttribute("dilations", ints: c.dilations), exportAttribute("group", c.group),
                                     exportAttribute("kernel_shape", ints: c.kernelShape), exportAttribute("pads", ints: c.pads),
                                     exportAttribute("strides", ints: c.strides)], node: node)

        case .convTranspose(let c):
            emit("ConvTranspose", ins, outs,
                 [exportAttribute("dilations", ints: c.dilations), exportAttribute("group", c.group),
                  exportAttribute("kernel_shape", ints: c.kernelShape), exportAttribute("output_padding", ints: c.outputPadding),
                  exportAttribute("pads", ints: c.pads), exportAttribute("strides", ints: c.strides)], node: node)

        case .maxPool(let p):
            emit("MaxPool", ins, outs, [exportAttribute("ceil_mode", p.ceilMode ? 1 : 0), exportAttribute("dilations", ints: p.dilations),
                                        exportAttribute("kernel_shape", ints: p.kernelShape), exportAttribute("pads", ints: p.pads),
                                        exportAttribute("strides", ints: p.strides)], node: node)

        case .softmax(let axis):
            emit("Softmax", ins, outs, [exportAttribute("axis", axis)], node: node)

        case .layerNormalization(let axis, let epsilon):
            if opset >= 17 {
                emit("LayerNormalization", ins, outs, [exportAttribute("axis", axis), exportAttribute("epsilon", epsilon)], node: node)
            } else {
                lowerLayerNormalizationDecomposed(node, axis: axis, epsilon: epsilon)
            }

        case .groupNormalization(let groups, let epsilon):
            // GroupNormalization-18 takes per-group scale and bias; the IR's per-channel
            // meaning is GroupNormalization-21's, so earlier opsets get the decomposition.
            if opset >= 21 {
                emit("GroupNormalization", ins, outs, [exportAttribute("epsilon", epsilon), exportAttribute("num_groups", groups)], node: node)
            } else {
                lowerGroupNormalizationDecomposed(node, groups: groups, epsilon: epsilon)
            }

        case .reduceMean(let r):
            emitReduce("ReduceMean", ins[0], outs[0], axes: r.axes, keepDims: r.keepDims, axesAsInput: opset >= 18, node: node)
        case .reduceSum(let r):
            emitReduce("ReduceSum", ins[0], outs[0], axes: r.axes, keepDims: r.keepDims, axesAsInput: true, node: node)
        case .reduceMax(let r):
            emitReduce("ReduceMax", ins[0], outs[0], axes: r.axes, keepDims: r.keepDims, axesAsInput: opset >= 18, node: node)

        case .topK(let t):
            let k = constant(exportInt64Vector([t.k]), node, "k")
            emit("TopK", [ins[0], k], outs, [exportAttribute("axis", t.axis), exportAttribute("largest", t.largest ? 1 : 0),
                                             exportAttribute("sorted", t.sorted ? 1 : 0)], node: node)

        case .gather(let axis):
            emit("Gather", ins, outs, [exportAttribute("axis", axis)], node: node)
        case .gatherElements(let axis):
            emit("GatherElements", ins, outs, [exportAttribute("axis", axis)], node: node)

        case .reshape(let shape):
            // Reshape-14: a 0 extent means "copy the input's" unless allowzero = 1.
            let s = constant(exportInt64Vector(shape), node, "shape")
            emit("Reshape", [ins[0], s], outs, shape.contains(0) ? [exportAttribute("allowzero", 1)] : [], node: node)

        case .transpose(let perm):
            emit("Transpose", ins, outs, [exportAttribute("perm", ints: perm)], node: node)

        case .concat(let axis):
            emit("Concat", ins, outs, [exportAttribute("axis", axis)], node: node)

        case .split(let axis, let sizes):
            let s = constant(exportInt64Vector(sizes), node, "split")
            emit("Split", [ins[0], s], outs, [exportAttribute("axis", axis)], node: node)

        case .slice(let s):
            let inputs = [ins[0],
                          constant(exportInt64Vector(s.starts), node, "starts"),
                          constant(exportInt64Vector(s.ends), node, "ends"),
                          constant(exportInt64Vector(s.axes), node, "axes"),
                          constant(exportInt64Vector(s.steps), node, "steps")]
            emit("Slice", inputs, outs, node: node)

        case .squeeze(let axes):
            emit("Squeeze", [ins[0], constant(exportInt64Vector(axes), node, "axes")], outs, node: node)
        case .unsqueeze(let axes):
            emit("Unsqueeze", [ins[0], constant(exportInt64Vector(axes), node, "axes")], outs, node: node)

        case .expand(let shape):
            emit("Expand", [ins[0], constant(exportInt64Vector(shape), node, "shape")], outs, node: node)

        case .tile(let repeats):
            emit("Tile", [ins[0], constant(exportInt64Vector(repeats), node, "repeats")], outs, node: node)

        case .pad(let p):
            var inputs = [ins[0], constant(exportInt64Vector(p.pads), node, "pads")]
            if p.mode == .constant {
                inputs.append(constant(exportFilledTensor(Double(p.value), inputType(node, 0).dtype), node, "constant_value"))
            }
            emit("Pad", inputs, outs, [exportAttribute("mode", p.mode.rawValue)], node: node)

        case .resize(let r):
            try lowerResize(node, r, input: ins[0], output: outs[0])

        case .gridSample(let g):
            // GridSample-16 spells the modes bilinear/nearest/bicubic; GridSample-20 linear/nearest/cubic.
            let mode: String
            switch g.mode {
            case .bilinear: mode = opset >= 20 ? "linear" : "bilinear"
            case .nearest: mode = "nearest"
            case .bicubic: mode = opset >= 20 ? "cubic" : "bicubic"
            }
            emit("GridSample", ins, outs, [exportAttribute("align_corners", g.alignCorners ? 1 : 0), exportAttribute("mode", mode),
                                           exportAttribute("padding_mode", g.paddingMode.rawValue)], node: node)

        case .pseudoInverse:
            throw .unsupported("PseudoInverse (no ONNX operator; it must fold to a constant, so its input must be constant)", node)

        case .range(let start, let limit, let delta, let dtype):
            // Range-11: T is float, double, int16, int32 or int64.
            guard dtype == .float32 || dtype == .int32 || dtype == .int64 else {
                throw .unsupported("Range of \(dtype.rawValue) (ONNX Range takes float, double, int16, int32 or int64)", node)
            }
            let inputs = [constant(exportFilledTensor(start, dtype), node, "start"),
                          constant(exportFilledTensor(limit, dtype), node, "limit"),
                          constant(exportFilledTensor(delta, dtype), node, "delta")]
            emit("Range", inputs, outs, node: node)
        }
        for v in node.outputs where !graphOutputs.contains(v) {
            valueInfos.append(exportValueInfo(graph.name(of: v), graph.type(of: v)))
        }
    }

    // MARK: Resize

    /// Resize-13/18/19 with `sizes`, or `scales` when the IR carries the requested scale
    /// (coordinates then use that scale, as torch's `scale_factor` does). `roi` is only read by
    /// tf_crop_and_resize; the IR's meaning there is the whole input, roi = [0…, 1…].
    private mutating func lowerResize(_ node: Node, _ r: ResizeAttributes, input: String, output: String) throws(ExportError) {
        if r.antialias, opset < 18 { throw .needsOpset("Resize with antialias", 18, node) }
        if r.coordinateTransformation == .halfPixelSymmetric, opset < 19 {
            throw .needsOpset("Resize with coordinate_transformation_mode half_pixel_symmetric", 19, node)
        }
        let rank = r.sizes.count
        let roi = r.coordinateTransformation == .tfCropAndResize
            ? constant(exportFloatVector(Array(repeating: 0, count: rank) + Array(repeating: 1, count: rank)), node, "roi")
            : ""
        var inputs = [input, roi]
        if let scales = r.scales {
            // ONNX derives the output extent as floor(input extent × scale), in float.
            let inShape = inputType(node, 0).shape.ints ?? []
            for (i, (n, s)) in zip(inShape, scales).enumerated() where Int((Float(n) * s).rounded(.down)) != r.sizes[i] {
                throw ExportError("Resize scales \(scales) give extent \(Int((Float(n) * s).rounded(.down))) on axis \(i), the node declares \(r.sizes[i]) (\(node.exportLabel))")
            }
            inputs.append(constant(exportFloatVector(scales), node, "scales"))
        } else {
            inputs.append("")
            inputs.append(constant(exportInt64Vector(r.sizes), node, "sizes"))
        }
        var attributes = [exportAttribute("coordinate_transformation_mode", r.coordinateTransformation.rawValue),
                          exportAttribute("mode", r.mode.rawValue)]
        if r.mode == .cubic { attributes.append(exportAttribute("cubic_coeff_a", r.cubicCoeffA)) }
        if r.mode == .nearest { attributes.append(exportAttribute("nearest_mode", r.nearestMode.rawValue)) }
        if r.excludeOutside { attributes.append(exportAttribute("exclude_outside", 1)) }
        if r.antialias { attributes.append(exportAttribute("antialias", 1)) }
        emit("Resize", inputs, [output], attributes, node: node)
    }

    // MARK: Decompositions

    /// Gelu-20 for earlier opsets. "none": 0.5·x·(1 + Erf(x / √2)); "tanh":
    /// 0.5·x·(1 + Tanh(√(2/π)·(x + 0.044715·x³))). Arithmetic is in the input's dtype.
    private mutating func lowerGeluDecomposed(_ node: Node, approximate: GeluApproximation) {
        let x = graph.name(of: node.inputs[0]), y = graph.name(of: node.outputs[0])
        let type = inputType(node, 0)
        func c(_ v: Double, _ role: String) -> String { decomposedConstant(exportFilledTensor(v, type.dtype), node, role) }
        let inner: String
        switch approximate {
        case .none:
            let scaled = temp(node, "div", type)
            emit("Div", [x, c(2.0.squareRoot(), "sqrt2")], [scaled], node: node, step: "div")
            inner = temp(node, "erf", type)
            emit("Erf", [scaled], [inner], node: node, step: "erf")
        case .tanh:
            let cube = temp(node, "pow", type)
            emit("Pow", [x, c(3, "three")], [cube], node: node, step: "pow")
            let cubeScaled = temp(node, "mul_cubic", type)
            emit("Mul", [cube, c(0.044715, "cubic_coefficient")], [cubeScaled], node: node, step: "mul_cubic")
            let sum = temp(node, "add_cubic", type)
            emit("Add", [x, cubeScaled], [sum], node: node, step: "add_cubic")
            let scaled = temp(node, "mul_sqrt_2_over_pi", type)
            emit("Mul", [sum, c((2.0 / Double.pi).squareRoot(), "sqrt_2_over_pi")], [scaled], node: node, step: "mul_sqrt_2_over_pi")
            inner = temp(node, "tanh", type)
            emit("Tanh", [scaled], [inner], node: node, step: "tanh")
        }
        let onePlus = temp(node, "add_one", type)
        emit("Add", [inner, c(1, "one")], [onePlus], node: node, step: "add_one")
        let product = temp(node, "mul_x", type)
        emit("Mul", [x, onePlus], [product], node: node, step: "mul_x")
        emit("Mul", [product, c(0.5, "half")], [y], node: node, step: "mul_half")
    }

    /// LayerNormalization-17 for opset 16: (x − mean) / √(var + ε) · scale + bias over axes
    /// `axis..<rank`, computed in the input's dtype (LayerNormalization-17's stash_type = 1
    /// computes float16 inputs in float32; float32 graphs are unaffected).
    private mutating func lowerLayerNormalizationDecomposed(_ node: Node, axis: Int, epsilon: Float) {
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
    private mutating func lowerGroupNormalizationDecomposed(_ node: Node, groups: Int, epsilon: Float) {
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
    /// of the normalized value (type `full`).
    private mutating func emitNormalize(_ node: Node, _ x: String, axes: [Int], reduced: TensorType, full: TensorType,
                                        epsilon: Float) -> String {
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

    // MARK: Emission helpers

    /// A reduction with `axes` as an attribute (ReduceMean/ReduceMax < 18) or an int64 input
    /// (ReduceSum ≥ 13, ReduceMean/ReduceMax ≥ 18). Empty `axes` reduces every axis.
    private mutating func emitReduce(_ opType: String, _ input: String, _ output: String, axes: [Int], keepDims: Bool,
                                     axesAsInput: Bool, node: Node, step: String? = nil) {
        var inputs = [input]
        var attributes = [exportAttribute("keepdims", keepDims ? 1 : 0)]
        if !axes.isEmpty {
            if axesAsInput {
                let role = step.map { "\($0).axes" } ?? "axes"
                inputs.append(step == nil ? constant(exportInt64Vector(axes), node, role)
                                          : decomposedConstant(exportInt64Vector(axes), node, role))
            } else {
                attributes.insert(exportAttribute("axes", ints: axes), at: 0)
            }
        }
        emit(opType, inputs, [output], attributes, node: node, step: step)
    }

    private func inputType(_ node: Node, _ i: Int) -> TensorType { graph.type(of: node.inputs[i]) }

    /// `base`, or `base_1`, `base_2`, … when `base` is in `taken`; inserts the result.
    private static func unique(_ base: String, in taken: inout Set<String>) -> String {
        if taken.insert(base).inserted { return base }
        var k = 1
        while !taken.insert("\(base)_\(k)").inserted { k += 1 }
        return "\(base)_\(k)"
    }
    private mutating func unique(_ base: String) -> String { Self.unique(base, in: &takenValueNames) }

    /// An initializer for a static input, named `<node name>.<role>`.
    private mutating func constant(_ tensor: Tensor, _ node: Node, _ role: String) -> String {
        let name = unique("\(node.name).\(role)")
        constants.append((name, tensor))
        return name
    }

    /// A decomposition constant, named `<node name>/decomposed/<role>`.
    private mutating func decomposedConstant(_ tensor: Tensor, _ node: Node, _ role: String) -> String {
        let name = unique("\(node.name)/decomposed/\(role)")
        constants.append((name, tensor))
        return name
    }

    /// A decomposition intermediate value `<node name>/decomposed/<step>` with its value_info.
    private mutating func temp(_ node: Node, _ step: String, _ type: TensorType) -> String {
        let name = unique("\(node.name)/decomposed/\(step)")
        valueInfos.append(exportValueInfo(name, type))
        return name
    }

    /// Appends one ONNX node. `step` names a decomposition node `<node name>/decomposed/<step>`.
    private mutating func emit(_ opType: String, _ inputs: [String], _ outputs: [String],
                               _ attributes: [Onnx_AttributeProto] = [], node: Node, step: String? = nil) {
        var proto = Onnx_NodeProto()
        proto.name = step.map { Self.unique("\(node.name)/decomposed/\($0)", in: &takenNodeNames) } ?? node.name
        proto.opType = opType
        proto.input = inputs
        proto.output = outputs
        proto.attribute = attributes
        proto.docString = "scope=\(node.scope) at \(node.location)"
        nodes.append(proto)
    }
}

// MARK: Attributes (AttributeProto of type INT, FLOAT, STRING, INTS)

func exportAttribute(_ name: String, _ value: Int) -> Onnx_AttributeProto {
    var a = Onnx_AttributeProto()
    a.name = name
    a.type = .int
    a.i = Int64(value)
    return a
}

func exportAttribute(_ name: String, _ value: Float) -> Onnx_AttributeProto {
    var a = Onnx_AttributeProto()
    a.name = name
    a.type = .float
    a.f = value
    return a
}

func exportAttribute(_ name: String, _ value: String) -> Onnx_AttributeProto {
    var a = Onnx_AttributeProto()
    a.name = name
    a.type = .string
    a.s = Data(value.utf8)
    return a
}

func exportAttribute(_ name: String, ints: [Int]) -> Onnx_AttributeProto {
    var a = Onnx_AttributeProto()
    a.name = name
    a.type = .ints
    a.ints = ints.map(Int64.init)
    return a
}
