import Foundation
import ONNXProto
import VitIR

/// Linear quantization ↔ ONNX QuantizeLinear and DequantizeLinear: one node each at every
/// opset 16…21. float16/bfloat16 operands need opset 19 (QuantizeLinear-13 and
/// DequantizeLinear-13 take float32 only). A QuantizeLinear to int8 without a zero point gets
/// `output_dtype` at opset 21 and an explicit zero zero point below it.
extension QuantizationOp: ONNXMapping {
    func lower(_ node: Node, _ l: inout ExportLowering) throws(ExportError) {
        var ins = l.inputNames(node)
        let outs = l.outputNames(node)
        let floatType = l.inputType(node, self.isQuantize ? 0 : 1).dtype
        if floatType != .float32, l.opset < 19 { throw .needsOpset("\(name) on \(floatType.rawValue)", 19, node) }
        switch self {
        case .quantizeLinear(let q):
            var attributes = [exportAttribute("axis", q.axis)]
            if ins.count == 2, q.outputDType != .uint8 {
                if l.opset >= 21 {
                    attributes.append(exportAttribute("output_dtype", Int(q.outputDType.exportDataType.rawValue)))
                } else {
                    let shape = l.inputType(node, 1).shape.ints ?? []
                    ins.append(l.constant(exportFilledTensor(0, q.outputDType, shape: shape), node, "zero_point"))
                }
            }
            l.emit("QuantizeLinear", ins, outs, attributes, node: node)
        case .dequantizeLinear(let axis):
            l.emit("DequantizeLinear", ins, outs, [exportAttribute("axis", axis)], node: node)
        }
    }

    private var isQuantize: Bool { if case .quantizeLinear = self { true } else { false } }

    static var importers: [String: ONNXImporter] { [
        "QuantizeLinear": { try $0.quantizeLinear() },
        "DequantizeLinear": { try $0.dequantizeLinear() },
    ] }
}

extension NodeImport {
    /// QuantizeLinear-10…21: axis = 1 (13+); `saturate` (19+) only concerns float8 and is read
    /// and ignored; `block_size` (21+) must be 0; `output_dtype` (21+) must agree with the
    /// zero point when both are given. Without either the output is uint8.
    fileprivate mutating func quantizeLinear() throws(ImportError) {
        let axis = try int("axis", default: 1)
        _ = try int("saturate")
        try requireInt("block_size", in: [0], reason: "blocked quantization is outside the IR")
        var ins = [try input(0), try input(1)]
        if hasInput(2) { ins.append(try input(2)) }
        var outputDType = ins.count == 3 ? try type(2).dtype : .uint8
        if let code = try int("output_dtype"), code != 0 {
            guard let dt = DType(onnxDataType: Int32(clamping: code)), dt.isQuantized else {
                throw fail("output_dtype=\(code) unsupported (the IR quantizes to int8 or uint8)")
            }
            guard ins.count == 2 || dt == outputDType else {
                throw fail("output_dtype \(dt.rawValue) differs from the zero point's \(outputDType.rawValue)")
            }
            outputDType = dt
        }
        try emitFinal(.quantizeLinear(QuantizeAttributes(axis: axis, outputDType: outputDType)), ins)
    }

    /// DequantizeLinear-10…21: axis = 1 (13+); `block_size` (21+) must be 0.
    fileprivate mutating func dequantizeLinear() throws(ImportError) {
        let axis = try int("axis", default: 1)
        try requireInt("block_size", in: [0], reason: "blocked quantization is outside the IR")
        var ins = [try input(0), try input(1)]
        if hasInput(2) { ins.append(try input(2)) }
        try emitFinal(.dequantizeLinear(axis: axis), ins)
    }
}
