import Foundation
import ONNXProto
import Testing
import VitIR
@testable import VitONNX

@Suite("libonnx checker")
struct ExportCheckerTests {
    @Test("libonnx 1.12 judges opsets up to 17 and IR up to 8")
    func knownVersions() {
        #expect(LibONNX.maxIRVersion >= 8)
        #expect(LibONNX.maxOpset >= 17)
    }

    @Test("a declared shape that ONNX infers differently is an error naming the value")
    func disagreementNamesValue() throws {
        var model = try makeModel(try exportBlockGraph(), options: ExportOptions(opset: 17))
        let index = try #require(model.graph.valueInfo.firstIndex { $0.name == "ln" })
        model.graph.valueInfo[index].type.tensorType.shape.dim[1].dimValue = 63
        let error = #expect(throws: LibONNXError.self) { try checkWithLibONNX(model) }
        #expect(error?.message.contains("value 'ln': vitexport declares f32[1, 63, 8], libonnx infers f32[1, 64, 8]") == true)
    }

    @Test("a model libonnx rejects is an error, not a crash")
    func rejection() throws {
        var model = try makeModel(try exportBlockGraph(), options: ExportOptions(opset: 17))
        model.graph.node[0].opType = "NoSuchOp"
        let error = #expect(throws: LibONNXError.self) { try checkWithLibONNX(model) }
        #expect(error?.message.contains("NoSuchOp") == true)

        var unparsable = try makeModel(try exportBlockGraph(), options: ExportOptions(opset: 17))
        unparsable.graph.node[0].input = ["missing_value"]
        #expect(throws: LibONNXError.self) { try checkWithLibONNX(unparsable) }
    }

    @Test("opsets libonnx does not know are skipped with a reason", arguments: 18...21)
    func skipped(opset: Int) throws {
        let model = try makeModel(try exportBlockGraph(), options: ExportOptions(opset: opset))
        let ir = try irVersion(forOpset: opset)
        guard opset > LibONNX.maxOpset || ir > LibONNX.maxIRVersion else { return }
        #expect(try checkWithLibONNX(model) == nil)
        #expect(LibONNX.skipReason(for: model) != nil)
    }
}
