import Foundation
import ONNXProto
import Testing
import VitIR
import VitModels
import VitPasses
@testable import VitONNX

// "TensorRT on paper" (README): the exported detector, fp32, fp16 and mixed at opset 17 (the
// highest TensorRT 8.6's ONNX parser reads; TensorRT 10.0 reads 9…20), is free of the
// constructs onnx-tensorrt's operator support matrix (docs/operators.md, 8.6 and 10.0)
// rejects or restricts. Checked here, one problem string per violation.

private typealias DataType = Onnx_TensorProto.DataType

/// Op types the detector exports, each marked supported by onnx-tensorrt 8.6 and 10.0.
private let supportedOps: Set<String> = [
    "Add", "Clip", "Concat", "Conv", "ConvTranspose", "Cos", "Div", "Erf", "Expand", "Gather", "GatherElements",
    "GridSample", "LayerNormalization", "Log", "MatMul", "Max", "MaxPool", "Min", "Mul", "Pow", "ReduceMax",
    "ReduceMean", "ReduceSum", "Relu", "Reshape", "Sigmoid", "Sin", "Slice", "Softmax", "Split", "Sqrt",
    "Squeeze", "Sub", "TopK", "Transpose", "Unsqueeze", "Where", "Cast", "Identity", "Tanh", "Neg", "Abs", "Exp",
    "Reciprocal", "Resize", "Tile", "Pad", "Equal", "Less", "Greater", "Not", "And", "Or", "Floor", "Ceil",
]

/// Inputs (by position) TensorRT requires to be initializers: shapes, axes, K, pads, sizes.
private let constantInputs: [String: [Int]] = [
    "Reshape": [1], "Expand": [1], "Tile": [1], "Slice": [1, 2, 3, 4], "Squeeze": [1], "Unsqueeze": [1],
    "Split": [1], "Pad": [1, 2, 3], "ReduceMean": [1], "ReduceMax": [1], "ReduceSum": [1], "TopK": [1],
    "Resize": [1, 2, 3], "Conv": [1], "ConvTranspose": [1], "Clip": [1, 2],
]

/// Every construct on the README's list that `model` contains.
private func tensorRTProblems(_ model: Onnx_ModelProto) -> [String] {
    var problems: [String] = []
    let g = model.graph
    let initializers = Dictionary(g.initializer.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
    let opset = model.opsetImport.first { $0.domain.isEmpty }?.version ?? 0
    if opset > 17 { problems.append("opset \(opset) > 17 (TensorRT 8.6)") }
    // Static shapes everywhere: no symbolic or unknown dimension on any declared value.
    for info in g.input + g.output + g.valueInfo {
        let dims = info.type.tensorType.shape.dim
        if dims.isEmpty && !info.type.tensorType.hasShape { problems.append("\(info.name): no shape") }
        for d in dims where { if case .dimValue(let v)? = d.value { v <= 0 } else { true } }() { problems.append("\(info.name): dimension not static") }
    }
    // Types: no double, uint8 only at the interface, int64 constants within int32 (TensorRT
    // 8.x casts INT64 down to INT32, clamping).
    let interface = Set((g.input + g.output).map(\.name))
    for info in g.input + g.output + g.valueInfo {
        let t = info.type.tensorType.elemType
        if t == Int32(DataType.double.rawValue) { problems.append("\(info.name): double") }
        if t == Int32(DataType.uint8.rawValue) && !interface.contains(info.name) { problems.append("\(info.name): internal uint8") }
        if t == Int32(DataType.bfloat16.rawValue) { problems.append("\(info.name): bfloat16 (TensorRT 8.6 lacks it)") }
    }
    for t in g.initializer where t.dataType == Int32(DataType.int64.rawValue) {
        let values = (try? importTensor(t))?.int64s ?? []
        if values.contains(where: { $0 < Int64(Int32.min) || $0 > Int64(Int32.max) }) { problems.append("\(t.name): int64 beyond int32") }
    }
    for node in g.node { problems += nodeProblems(node, initializers) }
    return problems
}

private func nodeProblems(_ node: Onnx_NodeProto, _ initializers: [String: Onnx_TensorProto]) -> [String] {
    var problems: [String] = []
    let label = "\(node.opType) \(node.name)"
    if !supportedOps.contains(node.opType) { problems.append("\(label): not on the list of supported ops") }
    for i in constantInputs[node.opType] ?? [] where i < node.input.count && !node.input[i].isEmpty {
        if initializers[node.input[i]] == nil { problems.append("\(label): input \(i) is not an initializer") }
    }
    func attribute(_ name: String) -> Onnx_AttributeProto? { node.attribute.first { $0.name == name } }
    func text(_ name: String) -> String? { attribute(name).map { String(decoding: $0.s, as: UTF8.self) } }
    switch node.opType {
    case "TopK":
        if let sorted = attribute("sorted"), sorted.i != 1 { problems.append("\(label): sorted must be 1") }
        if let k = initializers[node.input[1]].flatMap({ try? importTensor($0) })?.int64s.first, k >= 3840 {
            problems.append("\(label): K \(k) ≥ 3840")
        }
    case "Resize":
        if let mode = text("mode"), !["nearest", "linear"].contains(mode) { problems.append("\(label): mode \(mode)") }
        let modes = ["half_pixel", "pytorch_half_pixel", "tf_half_pixel_for_nn", "asymmetric", "align_corners"]
        if let c = text("coordinate_transformation_mode"), !modes.contains(c) { problems.append("\(label): coordinates \(c)") }
        if let a = attribute("antialias"), a.i != 0 { problems.append("\(label): antialias") }
    case "MaxPool":
        if node.output.count > 1 { problems.append("\(label): Indices output") }
        if let d = attribute("dilations"), d.ints.contains(where: { $0 != 1 }) { problems.append("\(label): dilations") }
        if let k = attribute("kernel_shape"), !(2...3).contains(k.ints.count) { problems.append("\(label): not 2-D or 3-D") }
    case "LayerNormalization":
        if node.output.count > 1 { problems.append("\(label): Mean/InvStdDev outputs") }
    case "Cast":
        let allowed: Set<Int64> = [DataType.float, .float16, .int32, .int64, .bool, .uint8].map { Int64($0.rawValue) }.reduce(into: []) { $0.insert($1) }
        if let to = attribute("to"), !allowed.contains(to.i) { problems.append("\(label): to \(to.i)") }
    default: break
    }
    return problems
}

@Suite("TensorRT on paper")
struct TensorRTConstraintTests {
    @Test(arguments: [Precision.fp32, .fp16, .mixed])
    func detectorIsFreeOfRejectedConstructs(precision: Precision) throws {
        var g = try traceModel(ModelConfig.load("dino-tiny"))
        _ = try optimize(&g)
        try convertPrecision(&g, to: precision)
        let model = try makeModel(g, options: ExportOptions(opset: 17, runChecker: false))
        let problems = tensorRTProblems(model)
        #expect(problems.isEmpty, "\(problems.prefix(10))")
        // GridSample (TensorRT ≥ 8.5) on 4-D float32/float16 inputs only.
        for node in model.graph.node where node.opType == "GridSample" {
            let info = model.graph.valueInfo.first { $0.name == node.input[0] }
            #expect(info?.type.tensorType.shape.dim.count == 4)
        }
    }

    @Test func theCheckFindsEachConstruct() throws {
        var g = try traceModel(ModelConfig.load("dino-tiny"))
        _ = try optimize(&g)
        let clean = try makeModel(g, options: ExportOptions(opset: 17, runChecker: false))
        var dynamic = clean
        dynamic.graph.input[0].type.tensorType.shape.dim[0].dimParam = "batch"
        #expect(tensorRTProblems(dynamic).contains { $0.contains("not static") })
        var unsorted = clean
        let k = try #require(unsorted.graph.node.firstIndex { $0.opType == "TopK" })
        unsorted.graph.node[k].attribute = unsorted.graph.node[k].attribute.map { var a = $0; if a.name == "sorted" { a.i = 0 }; return a }
        #expect(tensorRTProblems(unsorted).contains { $0.contains("sorted") })
        var shapeOp = clean
        shapeOp.graph.node[0].opType = "NonZero"
        #expect(tensorRTProblems(shapeOp).contains { $0.contains("not on the list") })
        var runtimeShape = clean
        let r = try #require(runtimeShape.graph.node.firstIndex { $0.opType == "Reshape" })
        runtimeShape.graph.node[r].input[1] = runtimeShape.graph.node[r].input[0]
        #expect(tensorRTProblems(runtimeShape).contains { $0.contains("not an initializer") })
        #expect(tensorRTProblems(try makeModel(g, options: ExportOptions(opset: 18, runChecker: false))).contains { $0.contains("opset 18") })
    }
}
