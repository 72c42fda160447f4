import VitIR

/// Per-op conversion of ONNX nodes to IR ops. Attribute defaults follow the ONNX operator
/// schemas (onnx/defs); opset-dependent forms are keyed off the model's default-domain opset.
extension NodeImport {
    mutating func convert() throws(ImportError) {
        switch opType {
        // Elementwise binary with numpy broadcasting (Add-7+, …). Opset < 7's legacy
        // `broadcast`/`axis` attributes are left unread and so rejected.
        case "Add": try binary(.add)
        case "Sub": try binary(.sub)
        case "Mul": try binary(.mul)
        case "Div": try binary(.div)
        case "Pow": try binary(.pow)
        case "Equal": try binary(.equal)
        case "Less": try binary(.less)
        case "LessOrEqual": try binary(.lessOrEqual)
        case "Greater": try binary(.greater)
        case "GreaterOrEqual": try binary(.greaterOrEqual)
        case "And": try binary(.and)
        case "Or": try binary(.or)
        case "Max": try variadic(.max)
        case "Min": try variadic(.min)

        case "Neg": try unary(.neg)
        case "Abs": try unary(.abs)
        case "Sqrt": try unary(.sqrt)
        case "Reciprocal": try unary(.reciprocal)
        case "Exp": try unary(.exp)
        case "Log": try unary(.log)
        case "Erf": try unary(.erf)
        case "Sin": try unary(.sin)
        case "Cos": try unary(.cos)
        case "Tanh": try unary(.tanh)
        case "Sigmoid": try unary(.sigmoid)
        case "Relu": try unary(.relu)
        case "Floor": try unary(.floor)
        case "Ceil": try unary(.ceil)
        case "Not": try unary(.not)
        case "Identity": try unary(.identity)
        case "Gelu":
            // Gelu-20: approximate = "none" | "tanh".
            let a = try string("approximate", default: "none")
            guard let approx = GeluApproximation(rawValue: a) else { throw fail("approximate='\(a)' unsupported") }
            try unary(.gelu(approximate: approx))
        case "Cast": try cast()
        case "CastLike":
            // CastLike-15: Cast to input 1's dtype (`saturate` only affects float8 targets).
            _ = try int("saturate")
            try emitFinal(.cast(to: type(1).dtype), [input(0)])
        case "Clip": try clip()
        case "Where": try emitFinal(.where, [input(0), input(1), input(2)])

        case "MatMul": try emitFinal(.matMul, [input(0), input(1)])
        case "Gemm": try gemm()
        case "Conv": try conv()
        case "ConvTranspose": try convTranspose()
        case "MaxPool": try maxPool()

        case "Softmax": try softmax()
        case "LayerNormalization": try layerNormalization()
        case "GroupNormalization": try groupNormalization()
        case "ReduceMean": try reduce(axesFromInputSince: 18) { .reduceMean($0) }
        case "ReduceMax": try reduce(axesFromInputSince: 18) { .reduceMax($0) }
        case "ReduceSum": try reduce(axesFromInputSince: 13) { .reduceSum($0) }
        case "TopK": try topK()

        case "Gather": try emitFinal(.gather(axis: int("axis", default: 0)), [input(0), input(1)])
        case "GatherElements": try emitFinal(.gatherElements(axis: int("axis", default: 0)), [input(0), input(1)])
        case "Reshape": try reshape()
        case "Transpose":
            let rank = try dims(0).count
            let perm = try ints("perm") ?? Array((0..<rank).reversed())
            try emitFinal(.transpose(perm: perm), [input(0)])
        case "Concat":
            guard let axis = try int("axis") else { throw fail("missing required attribute 'axis'") }
            var ins: [ValueID] = []
            for i in 0..<inputCount { ins.append(try input(i)) }
            try emitFinal(.concat(axis: axis), ins)
        case "Split": try split()
        case "Slice": try slice()
        case "Squeeze": try squeeze()
        case "Unsqueeze": try unsqueeze()
        case "Expand":
            guard let shape = try constantInts(1, "shape") else { throw fail("missing required input 1 (shape)") }
            try emitFinal(.expand(shape: shape), [input(0)])
        case "Tile":
            guard let repeats = try constantInts(1, "repeats") else { throw fail("missing required input 1 (repeats)") }
            try emitFinal(.tile(repeats: repeats), [input(0)])
        case "Pad": try pad()
        case "Resize": try resize()
        case "GridSample": try gridSample()
        case "Range": try range()
        case "Constant": try constantNode()
        default:
            throw fail("op \(opType) is not in the IR's op set")
        }
    }

    // MARK: Elementwise

    private mutating func binary(_ op: Op) throws(ImportError) {
        guard inputCount == 2 else { throw fail("expected 2 inputs, got \(inputCount)") }
        try emitFinal(op, [input(0), input(1)])
    }

    /// Max-8/Min-8 take 1…N inputs: a chain of binary ops (Identity for one input).
    private mutating func variadic(_ op: Op) throws(ImportError) {
        guard inputCount >= 1 else { throw fail("expected at least one input") }
        if inputCount == 1 { try emitFinal(.identity, [input(0)]); return }
        var acc = try input(0)
        for i in 1..<inputCount {
            let names: [String?] = i == inputCount - 1 ? proto.output.map { $0 } : [nil]
            acc = try emit(op, [acc, input(i)], names: names)[0]
        }
    }

    private mutating func unary(_ op: Op) throws(ImportError) {
        guard inputCount == 1 else { throw fail("expected 1 input, got \(inputCount)") }
        try emitFinal(op, [input(0)])
    }

    /// Cast-6+: `to` must name an IR dtype; `saturate` (Cast-19) only affects float8 targets.
    private mutating func cast() throws(ImportError) {
        guard let to = try int("to") else { throw fail("missing required attribute 'to'") }
        guard let dt = importDType(Int32(truncatingIfNeeded: to)) else {
            throw fail("cast to \(importTypeName(Int32(truncatingIfNeeded: to))) unsupported (not an IR dtype)")
        }
        _ = try int("saturate")
        if let mode = try string("round_mode"), mode != "up" { throw fail("round_mode='\(mode)' unsupported") }
        try emitFinal(.cast(to: dt), [input(0)])
    }

    /// Clip-6: `min`/`max` attributes (defaults ∓3.402823e+38). Clip-11+: optional constant
    /// inputs. When min > max every element becomes max (Clip-11+), i.e. clip(max, max).
    private mutating func clip() throws(ImportError) {
        var lo: Float?, hi: Float?
        if opset < 11 {
            lo = try float("min", default: -3.402823e+38)
            hi = try float("max", default: 3.402823e+38)
        } else {
            let x = try type(0).dtype
            func bound(_ i: Int, _ what: String) throws(ImportError) -> Float? {
                guard let c = try constantScalar(i, what) else { return nil }
                let (v, dt) = (c.value, c.dtype)
                guard dt == x else { throw fail("\(what) has dtype \(dt.rawValue), input is \(x.rawValue)") }
                let f = Float(v)
                guard Double(f) == v || v.isNaN || dt.isFloatingPoint else {
                    throw fail("\(what) \(v) is not exactly representable as the IR's Float bound")
                }
                return f
            }
            lo = try bound(1, "min")
            hi = try bound(2, "max")
        }
        if let l = lo, let h = hi, l > h { lo = h }
        try emitFinal(.clip(min: lo, max: hi), [input(0)])
    }

    // MARK: Linear algebra and convolution

    /// Gemm: alpha = beta = 1, transA = transB = 0; C optional from Gemm-11. Gemm-6's
    /// `broadcast` only restricts valid inputs, so it is read and ignored.
    private mutating func gemm() throws(ImportError) {
        let g = GemmAttributes(alpha: try float("alpha", default: 1), beta: try float("beta", default: 1),
                               transA: try bool("transA", default: false), transB: try bool("transB", default: false))
        _ = try int("broadcast")
        var ins = [try input(0), try input(1)]
        if hasInput(2) { ins.append(try input(2)) }
        try emitFinal(.gemm(g), ins)
    }

    /// Explicit [begin…, end…] pads from `auto_pad` (ONNX Conv/MaxPool): NOTSET uses `pads`
    /// (default 0); VALID is 0; SAME_UPPER/SAME_LOWER pad to ceil(in / stride) outputs, the odd
    /// element at the end (UPPER) or the beginning (LOWER).
    private mutating func resolvePads(spatial x: [Int], kernel: [Int], strides: [Int], dilations: [Int]) throws(ImportError) -> [Int] {
        let s = kernel.count
        let autoPad = try string("auto_pad", default: "NOTSET")
        let explicit = try ints("pads")
        switch autoPad {
        case "NOTSET":
            let p = explicit ?? Array(repeating: 0, count: 2 * s)
            guard p.count == 2 * s else { throw fail("pads must have \(2 * s) entries, got \(p)") }
            return p
        case "VALID":
            return Array(repeating: 0, count: 2 * s)
        case "SAME_UPPER", "SAME_LOWER":
            var begin: [Int] = [], end: [Int] = []
            for i in 0..<s {
                let out = (x[i] + strides[i] - 1) / strides[i]
                let total = Swift.max(0, (out - 1) * strides[i] + (kernel[i] - 1) * dilations[i] + 1 - x[i])
                let small = total / 2
                if autoPad == "SAME_UPPER" { begin.append(small); end.append(total - small) }
                else { begin.append(total - small); end.append(small) }
            }
            return begin + end
        default:
            throw fail("auto_pad='\(autoPad)' unsupported")
        }
    }

    /// X's shape, the spatial rank and Conv/ConvTranspose's kernel_shape (default: W's spatial
    /// shape), strides and dilations (default 1), shared by both ops' schemas.
    private mutating func convolutionAttributes() throws(ImportError) -> (x: [Int], spatial: Int, kernel: [Int], strides: [Int], dilations: [Int]) {
        let x = try dims(0), w = try dims(1)
        guard w.count >= 3, x.count == w.count else { throw fail("X \(x) and W \(w) must have equal rank ≥ 3") }
        let s = w.count - 2
        return (x, s, try ints("kernel_shape") ?? Array(w[2...]), try ints("strides") ?? Array(repeating: 1, count: s),
                try ints("dilations") ?? Array(repeating: 1, count: s))
    }

    /// Conv-1/11/22: kernel_shape defaults to W's spatial shape, strides and dilations to 1.
    private mutating func conv() throws(ImportError) {
        let (x, s, kernel, strides, dilations) = try convolutionAttributes()
        guard kernel.count == s, strides.count == s, dilations.count == s, strides.allSatisfy({ $0 >= 1 }) else {
            throw fail("kernel_shape, strides and dilations must have \(s) entries with strides ≥ 1")
        }
        let pads = try resolvePads(spatial: Array(x[2...]), kernel: kernel, strides: strides, dilations: dilations)
        let a = ConvAttributes(kernelShape: kernel, strides: strides, pads: pads, dilations: dilations,
                               group: try int("group", default: 1))
        var ins = [try input(0), try input(1)]
        if hasInput(2) { ins.append(try input(2)) }
        try emitFinal(.conv(a), ins)
    }

    /// ConvTranspose-1/11/22. With `output_shape` (or SAME_* auto_pad, whose output shape is
    /// in × stride) the pads come from the total padding
    /// `stride·(in−1) + output_padding + (k−1)·d + 1 − out`, split as the schema says (the odd
    /// element at the beginning except for SAME_UPPER); a negative end pad is the same as that
    /// much extra `output_padding`, a negative begin pad is unrepresentable.
    private mutating func convTranspose() throws(ImportError) {
        let (x, s, kernel, strides, dilations) = try convolutionAttributes()
        var outputPadding = try ints("output_padding") ?? Array(repeating: 0, count: s)
        guard kernel.count == s, strides.count == s, dilations.count == s, outputPadding.count == s else {
            throw fail("kernel_shape, strides, dilations and output_padding must have \(s) entries")
        }
        let autoPad = try string("auto_pad", default: "NOTSET")
        let explicitPads = try ints("pads")
        var outputShape = try ints("output_shape")
        if let o = outputShape, o.count == s + 2 { outputShape = Array(o[2...]) }
        guard ["NOTSET", "VALID", "SAME_UPPER", "SAME_LOWER"].contains(autoPad) else { throw fail("auto_pad='\(autoPad)' unsupported") }
        if outputShape == nil, autoPad.hasPrefix("SAME") {
            outputShape = (0..<s).map { x[$0 + 2] * strides[$0] }
        }
        var pads: [Int]
        if let out = outputShape {
            guard out.count == s else { throw fail("output_shape must have \(s) spatial entries, got \(out)") }
            var begin: [Int] = [], end: [Int] = []
            for i in 0..<s {
                let total = strides[i] * (x[i + 2] - 1) + outputPadding[i] + (kernel[i] - 1) * dilations[i] + 1 - out[i]
                let half = Int((Double(total) / 2).rounded(.down))  // Python's total // 2
                var b: Int, e: Int
                if autoPad == "SAME_UPPER" { b = half; e = total - half } else { b = total - half; e = half }
                if e < 0 { outputPadding[i] -= e; e = 0 }
                guard b >= 0 else { throw fail("output_shape \(out) needs a negative begin pad on spatial axis \(i); unrepresentable") }
                begin.append(b); end.append(e)
            }
            pads = begin + end
        } else if autoPad == "VALID" {
            pads = Array(repeating: 0, count: 2 * s)
        } else {
            pads = explicitPads ?? Array(repeating: 0, count: 2 * s)
        }
        let a = ConvTransposeAttributes(kernelShape: kernel, strides: strides, pads: pads, dilations: dilations,
                                        outputPadding: outputPadding, group: try int("group", default: 1))
        var ins = [try input(0), try input(1)]
        if hasInput(2) { ins.append(try input(2)) }
        try emitFinal(.convTranspose(a), ins)
    }

    /// MaxPool-1…22: kernel_shape required; the Indices output and storage_order = 1 are
    /// unsupported.
    private mutating func maxPool() throws(ImportError) {
        try requireOutputs(atMost: 1, "Indices")
        let x = try dims(0)
        guard let kernel = try ints("kernel_shape") else { throw fail("missing required attribute 'kernel_shape'") }
        let s = kernel.count
        guard x.count == s + 2 else { throw fail("X \(x) must have rank \(s + 2) for kernel_shape \(kernel)") }
        let strides = try ints("strides") ?? Array(repeating: 1, count: s)
        let dilations = try ints("dilations") ?? Array(repeating: 1, count: s)
        guard strides.count == s, dilations.count == s, strides.allSatisfy({ $0 >= 1 }) else {
            throw fail("strides and dilations must have \(s) entries with strides ≥ 1")
        }
        try requireInt("storage_order", in: [0], reason: "column-major Indices")
        let ceilMode = try bool("ceil_mode", default: false)
        let pads = try resolvePads(spatial: Array(x[2...]), kernel: kernel, strides: strides, dilations: dilations)
        try emitFinal(.maxPool(PoolAttributes(kernelShape: kernel, strides: strides, pads: pads,
                                              dilations: dilations, ceilMode: ceilMode)), [input(0)])
    }

    // MARK: Normalization and reductions

    /// Softmax-13: axis default −1. Softmax-1/11: axis default 1 and the input is coerced to
    /// 2-D [∏ dims[..<axis], ∏ dims[axis...]]; that is Reshape → Softmax(−1) → Reshape, or a
    /// plain Softmax over `axis` when it is the last non-unit axis.
    private mutating func softmax() throws(ImportError) {
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
    private mutating func layerNormalization() throws(ImportError) {
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
    private mutating func groupNormalization() throws(ImportError) {
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

    /// ReduceMean/ReduceMax (axes input from opset 18), ReduceSum (from 13): keepdims 1;
    /// noop_with_empty_axes = 1 with no axes is Identity; otherwise empty axes reduce all.
    private mutating func reduce(axesFromInputSince since: Int, _ make: (ReduceAttributes) -> Op) throws(ImportError) {
        let keep = try bool("keepdims", default: true)
        var axes: [Int]
        var noop = false
        if opset < since {
            axes = try ints("axes") ?? []
        } else {
            axes = try constantInts(1, "axes") ?? []
            noop = try bool("noop_with_empty_axes", default: false)
        }
        if axes.isEmpty && noop {
            try emitFinal(.identity, [input(0)])
            return
        }
        try emitFinal(make(ReduceAttributes(axes: axes, keepDims: keep)), [input(0)])
    }

    /// TopK-1: `k` attribute; TopK-10+: K as a one-element input. axis −1; largest and sorted
    /// (TopK-11) default 1.
    private mutating func topK() throws(ImportError) {
        let k: Int
        if opset < 10 {
            guard let v = try int("k") else { throw fail("missing required attribute 'k'") }
            k = v
        } else {
            guard let v = try constantInts(1, "K"), v.count == 1 else { throw fail("K must be a one-element constant") }
            k = v[0]
        }
        let t = TopKAttributes(k: k, axis: try int("axis", default: -1), largest: try bool("largest", default: true),
                               sorted: try bool("sorted", default: true))
        try emitFinal(.topK(t), [input(0)])
    }

    // MARK: Shape manipulation

    /// Reshape-5+: shape input (Reshape-1's attribute form is accepted too). 0 copies the input
    /// extent unless allowzero = 1 (Reshape-14); one −1 is inferred.
    private mutating func reshape() throws(ImportError) {
        let x = try dims(0)
        let requested: [Int]
        if opset < 5 {
            guard let s = try ints("shape") else { throw fail("missing required attribute 'shape'") }
            requested = s
        } else {
            guard let s = try constantInts(1, "shape") else { throw fail("missing required input 1 (shape)") }
            requested = s
        }
        let allowZero = try bool("allowzero", default: false)
        var shape = requested
        var inferred: Int?
        for (i, d) in requested.enumerated() {
            if d == 0 && !allowZero {
                guard i < x.count else { throw fail("shape \(requested) copies dimension \(i) (0) beyond the input's rank \(x.count)") }
                shape[i] = x[i]
            } else if d == -1 {
                guard inferred == nil else { throw fail("shape \(requested) has more than one -1") }
                inferred = i
            } else if d < -1 {
                throw fail("shape \(requested) has an invalid entry \(d)")
            }
        }
        if let i = inferred {
            let known = shape.enumerated().filter { $0.offset != i }.map(\.element).reduce(1, *)
            let total = x.reduce(1, *)
            guard known != 0, total % known == 0 else {
                throw fail("cannot infer -1 in shape \(requested) for input \(x)")
            }
            shape[i] = total / known
        }
        try emitFinal(.reshape(shape: shape), [input(0)])
    }

    /// Split-2/11: `split` attribute; Split-13: input; Split-18: input or `num_outputs`
    /// (uneven: every chunk ⌈n/k⌉ but the last). Without sizes the outputs split equally.
    private mutating func split() throws(ImportError) {
        let x = try dims(0)
        let axis = try int("axis", default: 0)
        let a = axis < 0 ? axis + x.count : axis
        guard a >= 0, a < x.count else { throw fail("axis \(axis) out of range for rank \(x.count)") }
        let n = x[a]
        let outputs = proto.output.count
        var sizes: [Int]?
        if opset < 13 { sizes = try ints("split") } else { sizes = try constantInts(1, "split") }
        if opset >= 18, let k = try int("num_outputs") {
            guard sizes == nil else { throw fail("both split and num_outputs given") }
            guard k == outputs, k >= 1 else { throw fail("num_outputs \(k) differs from the \(outputs) outputs") }
            let chunk = n % k == 0 ? n / k : n / k + 1
            sizes = Array(repeating: chunk, count: k)
            sizes![k - 1] = n - chunk * (k - 1)
            guard sizes![k - 1] >= 0 else { throw fail("cannot split extent \(n) into \(k) chunks") }
        }
        if sizes == nil {
            guard outputs >= 1, n % outputs == 0 else { throw fail("extent \(n) does not split evenly into \(outputs) outputs") }
            sizes = Array(repeating: n / outputs, count: outputs)
        }
        guard sizes!.count == outputs else { throw fail("\(sizes!.count) split sizes for \(outputs) outputs") }
        try emitFinal(.split(axis: axis, sizes: sizes!), [input(0)])
    }

    /// Slice-1: starts/ends/axes attributes; Slice-10+: inputs (axes, steps optional).
    private mutating func slice() throws(ImportError) {
        let s: SliceAttributes
        if opset < 10 {
            guard let starts = try ints("starts"), let ends = try ints("ends") else { throw fail("missing starts/ends") }
            s = SliceAttributes(starts: starts, ends: ends, axes: try ints("axes"))
        } else {
            guard let starts = try constantInts(1, "starts"), let ends = try constantInts(2, "ends") else {
                throw fail("missing starts/ends")
            }
            s = SliceAttributes(starts: starts, ends: ends, axes: try constantInts(3, "axes"), steps: try constantInts(4, "steps"))
        }
        try emitFinal(.slice(s), [input(0)])
    }

    /// Squeeze-1/11: axes attribute; Squeeze-13: optional input. No axes: every unit axis.
    private mutating func squeeze() throws(ImportError) {
        let x = try dims(0)
        let axes: [Int]?
        if opset < 13 { axes = try ints("axes") } else { axes = try constantInts(1, "axes") }
        let resolved = axes ?? x.indices.filter { x[$0] == 1 }
        try emitFinal(.squeeze(axes: resolved), [input(0)])
    }

    /// Unsqueeze-1/11: axes attribute; Unsqueeze-13: input (required).
    private mutating func unsqueeze() throws(ImportError) {
        let given: [Int]?
        if opset < 13 { given = try ints("axes") } else { given = try constantInts(1, "axes") }
        guard let axes = given else { throw fail("missing axes") }
        try emitFinal(.unsqueeze(axes: axes), [input(0)])
    }

    /// Pad-2: `pads`/`value` attributes; Pad-11: pads and constant_value inputs; Pad-18: axes
    /// input. Modes constant, reflect, edge (Pad-19's wrap is unsupported).
    private mutating func pad() throws(ImportError) {
        let x = try dims(0)
        let dt = try type(0).dtype
        let modeName = try string("mode", default: "constant")
        guard let mode = PadMode(rawValue: modeName) else { throw fail("mode='\(modeName)' unsupported") }
        var pads: [Int], value: Float = 0
        if opset < 11 {
            guard let p = try ints("pads") else { throw fail("missing required attribute 'pads'") }
            pads = p
            value = try float("value", default: 0)
        } else {
            guard let p = try constantInts(1, "pads") else { throw fail("missing required input 1 (pads)") }
            pads = p
            if let c = try constantScalar(2, "constant_value") {
                let (v, vt) = (c.value, c.dtype)
                guard vt == dt else { throw fail("constant_value has dtype \(vt.rawValue), input is \(dt.rawValue)") }
                value = Float(v)
                guard Double(value) == v || v.isNaN || vt.isFloatingPoint else {
                    throw fail("constant_value \(v) is not exactly representable as the IR's Float")
                }
            }
            if let axes = try constantInts(3, "axes") {
                guard pads.count == 2 * axes.count else { throw fail("pads \(pads) must have 2 × \(axes.count) entries for axes \(axes)") }
                var full = Array(repeating: 0, count: 2 * x.count)
                for (k, axis) in axes.enumerated() {
                    let a = axis < 0 ? axis + x.count : axis
                    guard a >= 0, a < x.count else { throw fail("axis \(axis) out of range for rank \(x.count)") }
                    full[a] = pads[k]
                    full[a + x.count] = pads[k + axes.count]
                }
                pads = full
            }
        }
        try emitFinal(.pad(PadAttributes(pads: pads, mode: mode, value: value)), [input(0)])
    }

    /// Resize-11/13/18/19 → static sizes. `scales` give sizes ⌊in × scale⌋ and are kept in
    /// `ResizeAttributes.scales`; `sizes` are used as given, or fitted per
    /// keep_aspect_ratio_policy (Resize-18: one scale for the listed axes, sizes rounded half
    /// up, that scale kept). `axes` (Resize-18) lists the axes scales/sizes refer to.
    /// tf_crop_and_resize (roi), and Resize-10, are unsupported.
    private mutating func resize() throws(ImportError) {
        guard opset >= 11 else { throw fail("Resize-10 semantics unsupported; use opset ≥ 11") }
        let x = try dims(0)
        let r = x.count
        let modeName = try string("mode", default: "nearest")
        guard let mode = ResizeMode(rawValue: modeName) else { throw fail("mode='\(modeName)' unsupported") }
        let ctmName = try string("coordinate_transformation_mode", default: "half_pixel")
        guard let ctm = CoordinateTransformation(rawValue: ctmName), ctm != .tfCropAndResize else {
            throw fail("coordinate_transformation_mode='\(ctmName)' unsupported")
        }
        if ctm == .halfPixelSymmetric && opset < 19 { throw fail("half_pixel_symmetric needs opset ≥ 19") }
        let nearestName = try string("nearest_mode", default: "round_prefer_floor")
        guard let nearest = NearestMode(rawValue: nearestName) else { throw fail("nearest_mode='\(nearestName)' unsupported") }
        let cubicA = try float("cubic_coeff_a", default: -0.75)
        let exclude = try bool("exclude_outside", default: false)
        _ = try float("extrapolation_value")  // Used by tf_crop_and_resize only.
        let antialias = opset >= 18 ? try bool("antialias", default: false) : false
        let policy = opset >= 18 ? try string("keep_aspect_ratio_policy", default: "stretch") : "stretch"
        let axesAttr = opset >= 18 ? try ints("axes") : nil
        var axes = Array(0..<r)
        if let axesAttr {
            axes = []
            for axis in axesAttr {
                let a = axis < 0 ? axis + r : axis
                guard a >= 0, a < r, !axes.contains(a) else { throw fail("invalid axes \(axesAttr) for rank \(r)") }
                axes.append(a)
            }
        }
        // Input 1 (roi) matters for tf_crop_and_resize only, which is rejected above.
        var scalesIn: [Float]?
        if let t = try constant(2, "scales"), t.count > 0 {
            guard t.dtype == .float32, t.shape.count == 1 else { throw fail("scales must be a 1-D float tensor") }
            scalesIn = t.floats
        }
        var sizesIn = try constantInts(3, "sizes")
        if sizesIn?.isEmpty == true { sizesIn = nil }
        var sizes = x
        var scales: [Float]? = nil
        switch (scalesIn, sizesIn) {
        case (let sc?, nil):
            guard sc.count == axes.count, sc.allSatisfy({ $0 > 0 }) else {
                throw fail("scales \(sc) must have \(axes.count) positive entries")
            }
            var full = Array(repeating: Float(1), count: r)
            for (k, a) in axes.enumerated() {
                full[a] = sc[k]
                sizes[a] = Int((Double(sc[k]) * Double(x[a])).rounded(.down))
            }
            scales = full
        case (nil, let sz?):
            guard sz.count == axes.count else { throw fail("sizes \(sz) must have \(axes.count) entries") }
            switch policy {
            case "stretch":
                for (k, a) in axes.enumerated() { sizes[a] = sz[k] }
            case "not_larger", "not_smaller":
                let ratios = axes.enumerated().map { Double(sz[$0.offset]) / Double(x[$0.element]) }
                let scale = policy == "not_larger" ? ratios.min()! : ratios.max()!
                var full = Array(repeating: Float(1), count: r)
                for a in axes {
                    sizes[a] = Int((scale * Double(x[a]) + 0.5).rounded(.down))
                    full[a] = Float(scale)
                }
                scales = full
            default:
                throw fail("keep_aspect_ratio_policy='\(policy)' unsupported")
            }
        case (nil, nil):
            throw fail("neither scales nor sizes given")
        case (.some, .some):
            throw fail("both scales and sizes given")
        }
        let a = ResizeAttributes(sizes: sizes, scales: scales, mode: mode, coordinateTransformation: ctm,
                                 cubicCoeffA: cubicA, nearestMode: nearest, excludeOutside: exclude, antialias: antialias)
        try emitFinal(.resize(a), [input(0)])
    }

    /// GridSample-16: mode bilinear | nearest | bicubic; GridSample-20: linear | nearest |
    /// cubic. padding_mode zeros, align_corners 0.
    private mutating func gridSample() throws(ImportError) {
        let modeName = try string("mode", default: opset >= 20 ? "linear" : "bilinear")
        let mode: GridSampleMode
        switch (modeName, opset >= 20) {
        case ("bilinear", false), ("linear", true): mode = .bilinear
        case ("bicubic", false), ("cubic", true): mode = .bicubic
        case ("nearest", _): mode = .nearest
        default: throw fail("mode='\(modeName)' unsupported at opset \(opset)")
        }
        let padName = try string("padding_mode", default: "zeros")
        guard let padding = GridSamplePadding(rawValue: padName) else { throw fail("padding_mode='\(padName)' unsupported") }
        let g = GridSampleAttributes(mode: mode, paddingMode: padding, alignCorners: try bool("align_corners", default: false))
        try emitFinal(.gridSample(g), [input(0), input(1)])
    }

    /// Range-11 with constant scalar start, limit and delta of one dtype.
    private mutating func range() throws(ImportError) {
        guard let start = try constantScalar(0, "start"), let limit = try constantScalar(1, "limit"),
              let delta = try constantScalar(2, "delta") else { throw fail("missing start/limit/delta") }
        guard start.dtype == limit.dtype, start.dtype == delta.dtype else { throw fail("start, limit and delta must share a dtype") }
        try emitFinal(.range(start: start.value, limit: limit.value, delta: delta.value, dtype: start.dtype), [])
    }

    /// Constant-1…21: value, value_float(s), value_int(s) → an initializer. Strings and
    /// sparse values are unsupported.
    private mutating func constantNode() throws(ImportError) {
        var found: [Tensor] = []
        if let t = try tensorAttribute("value") {
            found.append(try importTensor(t, subject: "node '\(name)' (Constant) value", files: importer.files))
        }
        if let f = try float("value_float") { found.append(Tensor([f], shape: [])) }
        if let fs = try floats("value_floats") { found.append(Tensor(fs, shape: [fs.count])) }
        if let i = try int("value_int") { found.append(Tensor([Int64(i)], shape: [])) }
        if let iv = try ints("value_ints") { found.append(Tensor(iv.map { Int64($0) }, shape: [iv.count])) }
        for key in ["value_string", "value_strings", "sparse_value"] where proto.attribute.contains(where: { $0.name == key }) {
            throw fail("attribute '\(key)' unsupported (no string or sparse tensors in the IR)")
        }
        guard found.count == 1 else { throw fail("exactly one value attribute required, got \(found.count)") }
        try defineConstant(found[0])
    }
}
