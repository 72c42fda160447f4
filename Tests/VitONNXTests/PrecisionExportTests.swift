import Foundation
import ONNXProto
import Testing
import VitIR
import VitInterp
import VitModels
import VitPasses
@testable import VitONNX

// fp16 and mixed exports of the tiny detector: valid at every opset, half the weights, read
// back to the graph that was converted; and free of what TensorRT's ONNX parser rejects.

private func detector(_ precision: Precision) throws -> Graph {
    var g = try traceModel(ModelConfig.load("dino-tiny"))
    _ = try optimize(&g)
    try convertPrecision(&g, to: precision)
    return g
}

private func seededImage(_ g: Graph) -> [String: Tensor] {
    var rng = SplitMix64(seed: 3)
    let input = g.inputs[0]
    return [g.name(of: input): Tensor.float32(g.type(of: input).shape.ints ?? []) { p in
        for i in p.indices { p[i] = rng.nextNormal() }
    }]
}

@Suite("fp16 and mixed exports")
struct PrecisionExportTests {
    @Test(arguments: [Precision.fp16, .mixed], 17...21)
    func exportsAndReadsBackAtEveryOpset(precision: Precision, opset: Int) throws {
        let g = try detector(precision)
        // libonnx's checker and strict shape inference run where it knows the opset (17).
        let model = try makeModel(g, options: ExportOptions(opset: opset, runChecker: true))
        #expect(model.graph.input.allSatisfy { $0.type.tensorType.elemType == Int32(Onnx_TensorProto.DataType.float.rawValue) })
        #expect(model.graph.output.allSatisfy { $0.type.tensorType.elemType != Int32(Onnx_TensorProto.DataType.float16.rawValue) })
        let halves = model.graph.initializer.filter { $0.dataType == Int32(Onnx_TensorProto.DataType.float16.rawValue) }
        #expect(!halves.isEmpty)
        // GroupNormalization below 21 decomposes with float32 statistics between two Casts.
        let stash = model.graph.node.filter { $0.opType == "Cast" && $0.name.hasSuffix("/decomposed/stash") }
        #expect(opset == 21 || precision == .mixed || !stash.isEmpty)
        // Read back, the file computes the converted graph's detections (run at 17, with the
        // decompositions, and 21, without: the interpreter runs are the slow part).
        let back = try importModel(model, baseDirectory: nil)
        guard opset == 17 || opset == 21 else { return }
        let feeds = seededImage(g)
        let want = try Interpreter(g).run(feeds: feeds).outputs, got = try Interpreter(back).run(feeds: feeds).outputs
        if opset == 21 {
            // Every op has its native form at 21: the file reads back to the same graph.
            for (name, t) in want { #expect(t.bitwiseEqual(got[name]!), "\(name)") }
        } else {
            // Decompositions (Gelu ≤ 19, GroupNormalization ≤ 20) round each step to float16;
            // the descending top-K scores move continuously (labels may swap at near-ties).
            #expect(maxAbsDiff(want["scores"]!, got["scores"]!) <= 1e-2)
        }
    }

    @Test func fp16FileHoldsHalfTheBytes() throws {
        let full = try makeModel(try detector(.fp32), options: ExportOptions(opset: 17, runChecker: false))
        let half = try makeModel(try detector(.fp16), options: ExportOptions(opset: 17, runChecker: false))
        let (a, b) = (try full.serializedBytes() as [UInt8], try half.serializedBytes() as [UInt8])
        #expect(Double(b.count) < 0.55 * Double(a.count), "fp16 \(b.count) bytes, fp32 \(a.count)")
        #expect(Double(b.count) > 0.45 * Double(a.count), "fp16 \(b.count) bytes, fp32 \(a.count)")
    }
}
