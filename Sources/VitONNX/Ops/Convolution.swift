import Foundation
import ONNXProto
import VitIR

/// Convolution and pooling ↔ ONNX Conv, ConvTranspose, MaxPool (auto_pad resolved to explicit pads on import).
extension ConvolutionOp: ONNXMapping {
    func lower(_ node: Node, _ l: inout ExportLowering) throws(ExportError) {
        let ins = l.inputNames(node), outs = l.outputNames(node)
        switch self {
        case .conv(let c):
            l.emit("Conv", ins, outs, [exportAttribute("dilations", ints: c.dilations), exportAttribute("group", c.group),
                                     exportAttribute("kernel_shape", ints: c.kernelShape), exportAttribute("pads", ints: c.pads),
                                     exportAttribute("strides", ints: c.strides)], node: node)
        case .convTranspose(let c):
            l.emit("ConvTranspose", ins, outs,
                 [exportAttribute("dilations", ints: c.dilations), exportAttribute("group", c.group),
                  exportAttribute("kernel_shape", ints: c.kernelShape), exportAttribute("output_padding", ints: c.outputPadding),
                  exportAttribute("pads", ints: c.pads), exportAttribute("strides", ints: c.strides)], node: node)
        case .maxPool(let p):
            l.emit("MaxPool", ins, outs, [exportAttribute("ceil_mode", p.ceilMode ? 1 : 0), exportAttribute("dilations", ints: p.dilations),
                                        exportAttribute("kernel_shape", ints: p.kernelShape), exportAttribute("pads", ints: p.pads),
                                        exportAttribute("strides", ints: p.strides)], node: node)
        }
    }

    static var importers: [String: ONNXImporter] { [
        "Conv": { try $0.conv() },
        "ConvTranspose": { try $0.convTranspose() },
        "MaxPool": { try $0.maxPool() },
    ] }
}

extension NodeImport {
    /// Explicit [begin…, end…] pads from `auto_pad` (ONNX Conv/MaxPool): NOTSET uses `pads`
    /// (default 0); VALID is 0; SAME_UPPER/SAME_LOWER pad to ceil(in / stride) outputs, the odd
    /// element at the end (UPPER) or the beginning (LOWER).
    fileprivate mutating func resolvePads(spatial x: [Int], kernel: [Int], strides: [Int], dilations: [Int]) throws(ImportError) -> [Int] {
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
                let out = x[i] == 0 ? 0 : (x[i] - 1) / strides[i] + 1
                let needed = Checked.multiply(out - 1, strides[i])
                    .flatMap { a in Checked.subtract(kernel[i], 1).flatMap { Checked.multiply($0, dilations[i]) }.flatMap { Checked.add(a, $0) } }
                    .flatMap { Checked.add($0, 1) }.flatMap { Checked.subtract($0, x[i]) }
                guard let needed else { throw fail("auto_pad \(autoPad) padding on spatial axis \(i) overflows (kernel \(kernel), strides \(strides), dilations \(dilations))") }
                let total = Swift.max(0, needed)
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
    fileprivate mutating func convolutionAttributes() throws(ImportError) -> (x: [Int], spatial: Int, kernel: [Int], strides: [Int], dilations: [Int]) {
        let x = try dims(0), w = try dims(1)
        guard w.count >= 3, x.count == w.count else { throw fail("X \(x) and W \(w) must have equal rank ≥ 3") }
        let s = w.count - 2
        return (x, s, try ints("kernel_shape") ?? Array(w[2...]), try ints("strides") ?? Array(repeating: 1, count: s),
                try ints("dilations") ?? Array(repeating: 1, count: s))
    }

    /// Conv-1/11/22: kernel_shape defaults to W's spatial shape, strides and dilations to 1.
    fileprivate mutating func conv() throws(ImportError) {
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
    fileprivate mutating func convTranspose() throws(ImportError) {
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
            var shape: [Int] = []
            for i in 0..<s {
                guard let e = Checked.multiply(x[i + 2], strides[i]) else { throw fail("output extent \(x[i + 2]) × stride \(strides[i]) overflows") }
                shape.append(e)
            }
            outputShape = shape
        }
        var pads: [Int]
        if let out = outputShape {
            guard out.count == s else { throw fail("output_shape must have \(s) spatial entries, got \(out)") }
            var begin: [Int] = [], end: [Int] = []
            for i in 0..<s {
                let span = Checked.subtract(kernel[i], 1).flatMap { Checked.multiply($0, dilations[i]) }
                let stretched = Checked.multiply(strides[i], x[i + 2] - 1)
                guard let span, let stretched,
                      let total = Checked.sum([stretched, outputPadding[i], span, 1]).flatMap({ Checked.subtract($0, out[i]) }) else {
                    throw fail("the total padding on spatial axis \(i) overflows (output_shape \(out), kernel \(kernel), strides \(strides))")
                }
                let half = total >> 1  // Python's total // 2 (floor division)
                var b: Int, e: Int
                if autoPad == "SAME_UPPER" { b = half; e = total - half } else { b = total - half; e = half }
                if e < 0 {
                    guard let p = Checked.subtract(outputPadding[i], e) else { throw fail("output_padding on spatial axis \(i) overflows") }
                    outputPadding[i] = p
                    e = 0
                }
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
    fileprivate mutating func maxPool() throws(ImportError) {
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
}
