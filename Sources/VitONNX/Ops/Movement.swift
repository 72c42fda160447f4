import Foundation
import ONNXProto
import VitIR

/// Data movement ↔ ONNX; the IR’s static shape attributes become int64 initializers on export and must be constants on import.
extension MovementOp: ONNXMapping {
    func lower(_ node: Node, _ l: inout ExportLowering) throws(ExportError) {
        let ins = l.inputNames(node), outs = l.outputNames(node)
        switch self {
        case .gather(let axis):
            l.emit("Gather", ins, outs, [exportAttribute("axis", axis)], node: node)
        case .gatherElements(let axis):
            l.emit("GatherElements", ins, outs, [exportAttribute("axis", axis)], node: node)
        case .reshape(let shape):
            // Reshape-14: a 0 extent means "copy the input's" unless allowzero = 1.
            let s = l.constant(exportInt64Vector(shape), node, "shape")
            l.emit("Reshape", [ins[0], s], outs, shape.contains(0) ? [exportAttribute("allowzero", 1)] : [], node: node)
        case .transpose(let perm):
            l.emit("Transpose", ins, outs, [exportAttribute("perm", ints: perm)], node: node)
        case .concat(let axis):
            l.emit("Concat", ins, outs, [exportAttribute("axis", axis)], node: node)
        case .split(let axis, let sizes):
            let s = l.constant(exportInt64Vector(sizes), node, "split")
            l.emit("Split", [ins[0], s], outs, [exportAttribute("axis", axis)], node: node)
        case .slice(let s):
            let inputs = [ins[0],
                          l.constant(exportInt64Vector(s.starts), node, "starts"),
                          l.constant(exportInt64Vector(s.ends), node, "ends"),
                          l.constant(exportInt64Vector(s.axes), node, "axes"),
                          l.constant(exportInt64Vector(s.steps), node, "steps")]
            l.emit("Slice", inputs, outs, node: node)
        case .squeeze(let axes):
            l.emit("Squeeze", [ins[0], l.constant(exportInt64Vector(axes), node, "axes")], outs, node: node)
        case .unsqueeze(let axes):
            l.emit("Unsqueeze", [ins[0], l.constant(exportInt64Vector(axes), node, "axes")], outs, node: node)
        case .expand(let shape):
            l.emit("Expand", [ins[0], l.constant(exportInt64Vector(shape), node, "shape")], outs, node: node)
        case .tile(let repeats):
            l.emit("Tile", [ins[0], l.constant(exportInt64Vector(repeats), node, "repeats")], outs, node: node)
        case .pad(let p):
            var inputs = [ins[0], l.constant(exportInt64Vector(p.pads), node, "pads")]
            if p.mode == .constant {
                inputs.append(l.constant(exportFilledTensor(Double(p.value), l.inputType(node, 0).dtype), node, "constant_value"))
            }
            l.emit("Pad", inputs, outs, [exportAttribute("mode", p.mode.rawValue)], node: node)
        case .range(let start, let limit, let delta, let dtype):
            // Range-11: T is float, double, int16, int32 or int64.
            guard dtype == .float32 || dtype == .int32 || dtype == .int64 else {
                throw .unsupported("Range of \(dtype.rawValue) (ONNX Range takes float, double, int16, int32 or int64)", node)
            }
            let inputs = [l.constant(exportFilledTensor(start, dtype), node, "start"),
                          l.constant(exportFilledTensor(limit, dtype), node, "limit"),
                          l.constant(exportFilledTensor(delta, dtype), node, "delta")]
            l.emit("Range", inputs, outs, node: node)
        }
    }

    static var importers: [String: ONNXImporter] { [
        "Gather": { try $0.emitFinal(.gather(axis: $0.int("axis", default: 0)), [$0.input(0), $0.input(1)]) },
        "GatherElements": { try $0.emitFinal(.gatherElements(axis: $0.int("axis", default: 0)), [$0.input(0), $0.input(1)]) },
        "Reshape": { try $0.reshape() },
        "Transpose": { try $0.transpose() },
        "Concat": { try $0.concat() },
        "Split": { try $0.split() },
        "Slice": { try $0.slice() },
        "Squeeze": { try $0.squeeze() },
        "Unsqueeze": { try $0.unsqueeze() },
        "Expand": { try $0.expand() },
        "Tile": { try $0.tile() },
        "Pad": { try $0.pad() },
        "Range": { try $0.range() },
    ] }
}

extension NodeImport {
    /// Reshape-5+: shape input (Reshape-1's attribute form is accepted too). 0 copies the input
    /// extent unless allowzero = 1 (Reshape-14); one −1 is inferred.
    fileprivate mutating func reshape() throws(ImportError) {
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
            guard let known = Checked.product(shape.enumerated().filter { $0.offset != i }.map(\.element)) else {
                throw fail("shape \(requested) overflows")
            }
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
    fileprivate mutating func split() throws(ImportError) {
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
    fileprivate mutating func slice() throws(ImportError) {
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
    fileprivate mutating func squeeze() throws(ImportError) {
        let x = try dims(0)
        let axes: [Int]?
        if opset < 13 { axes = try ints("axes") } else { axes = try constantInts(1, "axes") }
        let resolved = axes ?? x.indices.filter { x[$0] == 1 }
        try emitFinal(.squeeze(axes: resolved), [input(0)])
    }

    /// Unsqueeze-1/11: axes attribute; Unsqueeze-13: input (required).
    fileprivate mutating func unsqueeze() throws(ImportError) {
        let given: [Int]?
        if opset < 13 { given = try ints("axes") } else { given = try constantInts(1, "axes") }
        guard let axes = given else { throw fail("missing axes") }
        try emitFinal(.unsqueeze(axes: axes), [input(0)])
    }

    /// Pad-2: `pads`/`value` attributes; Pad-11: pads and constant_value inputs; Pad-18: axes
    /// input. Modes constant, reflect, edge (Pad-19's wrap is unsupported).
    fileprivate mutating func pad() throws(ImportError) {
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

    /// Range-11 with constant scalar start, limit and delta of one dtype.
    fileprivate mutating func range() throws(ImportError) {
        guard let start = try constantScalar(0, "start"), let limit = try constantScalar(1, "limit"),
              let delta = try constantScalar(2, "delta") else { throw fail("missing start/limit/delta") }
        guard start.dtype == limit.dtype, start.dtype == delta.dtype else { throw fail("start, limit and delta must share a dtype") }
        try emitFinal(.range(start: start.value, limit: limit.value, delta: delta.value, dtype: start.dtype), [])
    }

    /// Transpose-1+: perm defaults to reversing the axes.
    fileprivate mutating func transpose() throws(ImportError) {
        let rank = try dims(0).count
        let perm = try ints("perm") ?? Array((0..<rank).reversed())
        try emitFinal(.transpose(perm: perm), [input(0)])
    }

    /// Concat-4+: axis required; 1…N inputs.
    fileprivate mutating func concat() throws(ImportError) {
        guard let axis = try int("axis") else { throw fail("missing required attribute 'axis'") }
        var ins: [ValueID] = []
        for i in 0..<inputCount { ins.append(try input(i)) }
        try emitFinal(.concat(axis: axis), ins)
    }

    /// Expand-8+: a constant target shape.
    fileprivate mutating func expand() throws(ImportError) {
        guard let shape = try constantInts(1, "shape") else { throw fail("missing required input 1 (shape)") }
        try emitFinal(.expand(shape: shape), [input(0)])
    }

    /// Tile-6+: constant repeats.
    fileprivate mutating func tile() throws(ImportError) {
        guard let repeats = try constantInts(1, "repeats") else { throw fail("missing required input 1 (repeats)") }
        try emitFinal(.tile(repeats: repeats), [input(0)])
    }
}
