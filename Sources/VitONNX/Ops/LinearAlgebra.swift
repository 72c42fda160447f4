import Foundation
import ONNXProto
import VitIR

/// Linear algebra ↔ ONNX: MatMul and Gemm one node each; PseudoInverse has no ONNX form and must have folded.
extension LinearAlgebraOp: ONNXMapping {
    func lower(_ node: Node, _ l: inout ExportLowering) throws(ExportError) {
        let ins = l.inputNames(node), outs = l.outputNames(node)
        switch self {
        case .matMul:
            l.emit("MatMul", ins, outs, node: node)
        case .gemm(let g):
            l.emit("Gemm", ins, outs, [exportAttribute("alpha", g.alpha), exportAttribute("beta", g.beta),
                                     exportAttribute("transA", g.transA ? 1 : 0), exportAttribute("transB", g.transB ? 1 : 0)], node: node)
        case .pseudoInverse:
            throw .unsupported("PseudoInverse (no ONNX operator; it must fold to a constant, so its input must be constant)", node)
        }
    }

    static var importers: [String: ONNXImporter] { [
        "MatMul": { try $0.emitFinal(.matMul, [$0.input(0), $0.input(1)]) },
        "Gemm": { try $0.gemm() },
    ] }
}

extension NodeImport {
    /// Gemm: alpha = beta = 1, transA = transB = 0; C optional from Gemm-11. Gemm-6's
    /// `broadcast` only restricts valid inputs, so it is read and ignored.
    fileprivate mutating func gemm() throws(ImportError) {
        let g = GemmAttributes(alpha: try float("alpha", default: 1), beta: try float("beta", default: 1),
                               transA: try bool("transA", default: false), transB: try bool("transB", default: false))
        _ = try int("broadcast")
        var ins = [try input(0), try input(1)]
        if hasInput(2) { ins.append(try input(2)) }
        try emitFinal(.gemm(g), ins)
    }
}
