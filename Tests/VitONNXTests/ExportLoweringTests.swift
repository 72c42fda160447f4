import Foundation
import ONNXProto
import Testing
import VitIR
@testable import VitONNX

@Suite("ONNX export lowering")
struct ExportLoweringTests {
    @Test("IR version follows the opset; other opsets are rejected", arguments: [(16, 8), (17, 8), (18, 8), (19, 9), (20, 9), (21, 10)])
    func irVersions(opset: Int, ir: Int) throws {
        let model = try makeModel(try exportBlockGraph(), options: ExportOptions(opset: opset))
        #expect(model.irVersion == Int64(ir))
        #expect(model.opsetImport.map(\.version) == [Int64(opset)])
        #expect(model.opsetImport.map(\.domain) == [""])
    }

    @Test("opsets outside 16…21 are a clear error", arguments: [15, 22, 0])
    func unsupportedOpset(opset: Int) throws {
        let error = #expect(throws: ExportError.self) { try makeModel(try exportBlockGraph(), options: ExportOptions(opset: opset)) }
        #expect(error?.message.contains("opset \(opset) is not supported") == true)
        #expect(error?.message.contains("16…21") == true)
    }

    @Test("every op lowers at every opset and libonnx agrees where it can judge", arguments: 16...21)
    func opZoo(opset: Int) throws {
        let graph = try exportOpZooGraph()
        let model = try makeModel(graph, options: ExportOptions(opset: opset))
        if opset <= LibONNX.maxOpset {
            let inferred = try #require(try checkWithLibONNX(model))
            #expect(inferred.count >= model.graph.valueInfo.count)
        } else {
            #expect(try checkWithLibONNX(model) == nil)
            #expect(LibONNX.skipReason(for: model)?.hasPrefix("libonnx knows") == true)
        }
    }

    @Test("file layout: names, doc strings, value_info, metadata, raw data")
    func layout() throws {
        var graph = try exportBlockGraph()
        graph.metadata = ["zeta": "last", "alpha": "first"]
        let model = try makeModel(graph, options: ExportOptions(opset: 17, producerVersion: "9.9", extraMetadata: ["mid": "m"]))
        #expect(model.producerName == "vitexport")
        #expect(model.producerVersion == "9.9")
        #expect(model.metadataProps.map(\.key) == ["alpha", "mid", "vitexport.opset", "zeta"])
        #expect(model.metadataProps.first { $0.key == "vitexport.opset" }?.value == "17")

        let g = model.graph
        #expect(g.input.map(\.name) == ["x"])
        #expect(g.output.map(\.name) == ["y"])
        let names = Set(g.initializer.map(\.name))
        #expect(names.isSuperset(of: ["patch_embed.proj.weight", "ln.weight", "ln.bias"]))
        let weight = try #require(g.initializer.first { $0.name == "patch_embed.proj.weight" })
        #expect(weight.dims == [8, 3, 3, 3])
        #expect(weight.dataType == Int32(Onnx_TensorProto.DataType.float.rawValue))
        #expect(weight.rawData.count == 8 * 3 * 3 * 3 * 4)
        #expect(weight.rawData.prefix(4) == Data([0x00, 0x00, 0x80, 0xbe]))   // -0.25f little-endian

        // Static inputs are int64 initializers named <node>.<role>.
        let reshape = try #require(g.node.first { $0.opType == "Reshape" })
        #expect(reshape.input[1] == "\(reshape.name).shape")
        let shape = try #require(g.initializer.first { $0.name == reshape.input[1] })
        #expect(shape.dataType == Int32(Onnx_TensorProto.DataType.int64.rawValue))

        // Doc strings carry scope and Swift location.
        #expect(g.node.allSatisfy { $0.docString.hasPrefix("scope=") && $0.docString.contains("ExportTestSupport.swift:") })

        // Every node output that is not a graph output has a value_info.
        let outputs = Set(g.output.map(\.name))
        let produced = g.node.flatMap(\.output).filter { !outputs.contains($0) }
        #expect(g.valueInfo.map(\.name).sorted() == produced.sorted())
        #expect(g.valueInfo.allSatisfy { $0.type.tensorType.hasShape && $0.type.tensorType.elemType != 0 })
    }

    @Test("LayerNormalization: decomposed at 16, native from 17")
    func layerNormalizationForms() throws {
        let at16 = try makeModel(try exportBlockGraph(), options: ExportOptions(opset: 16))
        let at17 = try makeModel(try exportBlockGraph(), options: ExportOptions(opset: 17))
        #expect(!at16.opTypes.contains("LayerNormalization"))
        let decomposed = at16.graph.node.filter { $0.name.hasPrefix("ln/decomposed/") }.map(\.opType)
        #expect(decomposed == ["ReduceMean", "Sub", "Pow", "ReduceMean", "Add", "Sqrt", "Div", "Mul", "Add"])
        let original = try #require(at17.graph.node.first { $0.name == "ln" })
        #expect(original.opType == "LayerNormalization")
        #expect(at16.graph.node.filter { $0.name.hasPrefix("ln/") }.allSatisfy { $0.docString == original.docString })
        // ReduceMean takes axes as an attribute below 18.
        let mean = try #require(at16.graph.node.first { $0.name == "ln/decomposed/mean" })
        #expect(mean.attribute.first { $0.name == "axes" }?.ints == [2])
        #expect(mean.input.count == 1)
        #expect(try checkWithLibONNX(at16) != nil)
        #expect(try checkWithLibONNX(at17) != nil)
    }

    @Test("GroupNormalization: decomposed below 21, native at 21", arguments: 16...21)
    func groupNormalizationForms(opset: Int) throws {
        let model = try makeModel(try exportBlockGraph(groupNorm: true), options: ExportOptions(opset: opset))
        if opset == 21 {
            let node = try #require(model.graph.node.first { $0.name == "norm" })
            #expect(node.opType == "GroupNormalization")
            #expect(node.attribute.first { $0.name == "num_groups" }?.i == 4)
        } else {
            #expect(!model.opTypes.contains("GroupNormalization"))
            let steps = model.graph.node.filter { $0.name.hasPrefix("norm/decomposed/") }
            #expect(steps.first?.opType == "Reshape")
            let groupsShape = try #require(model.graph.initializer.first { $0.name == steps.first?.input[1] })
            #expect(groupsShape.rawData == Data([1, 4, 128].flatMap { (v: Int64) in withUnsafeBytes(of: v.littleEndian, Array.init) }))
            #expect(steps.map(\.opType).filter { $0 == "Reshape" }.count == 4)   // groups, back, scale, bias
            #expect(steps.suffix(2).map(\.opType) == ["Mul", "Add"])
            let mean = try #require(steps.first { $0.name == "norm/decomposed/mean" })
            if opset >= 18 {
                #expect(mean.input.count == 2)
                #expect(!mean.attribute.contains { $0.name == "axes" })
            } else {
                #expect(mean.attribute.first { $0.name == "axes" }?.ints == [2])
            }
            if opset <= LibONNX.maxOpset { #expect(try checkWithLibONNX(model) != nil) }
        }
    }

    @Test("Gelu: decomposed below 20, native from 20", arguments: 16...21)
    func geluForms(opset: Int) throws {
        let model = try makeModel(try exportBlockGraph(), options: ExportOptions(opset: opset))
        if opset >= 20 {
            let act = try #require(model.graph.node.first { $0.name == "act" })
            #expect(act.opType == "Gelu")
            #expect(act.attribute.first { $0.name == "approximate" }?.s == Data("none".utf8))
        } else {
            #expect(!model.opTypes.contains("Gelu"))
            let steps = model.graph.node.filter { $0.name.hasPrefix("act/decomposed/") }.map(\.opType)
            #expect(steps == ["Div", "Erf", "Add", "Mul", "Mul"])
            #expect(model.graph.node.last?.output == ["y"])
        }
    }

    @Test("GridSample mode names change at 20", arguments: [(16, "bilinear"), (19, "bilinear"), (20, "linear"), (21, "linear")])
    func gridSampleModes(opset: Int, mode: String) throws {
        let model = try makeModel(try exportOpZooGraph(), options: ExportOptions(opset: opset))
        let node = try #require(model.graph.node.first { $0.opType == "GridSample" })
        #expect(node.attribute.first { $0.name == "mode" }?.s == Data(mode.utf8))
    }

    @Test("Resize antialias below 18 names op, node, scope, location and minimum opset")
    func resizeAntialiasNeedsOpset18() throws {
        let graph = try exportBlockGraph(antialias: true)
        let error = #expect(throws: ExportError.self) { try makeModel(graph, options: ExportOptions(opset: 17)) }
        let node = try #require(graph.nodes.first { $0.name == "down" })
        #expect(error?.message == "Resize with antialias needs opset ≥ 18 (node down at scope <root>, \(node.location))")
        #expect(error?.message.contains("ExportTestSupport.swift:") == true)

        let model = try makeModel(graph, options: ExportOptions(opset: 18))
        let resize = try #require(model.graph.node.first { $0.name == "down" })
        #expect(resize.attribute.first { $0.name == "antialias" }?.i == 1)
        #expect(resize.input == ["\(graph.name(of: node.inputs[0]))", "", "", "down.sizes"])
    }

    @Test("reduce axes: ReduceSum input always, ReduceMean/ReduceMax attribute below 18", arguments: [17, 18])
    func reduceAxes(opset: Int) throws {
        let model = try makeModel(try exportOpZooGraph(), options: ExportOptions(opset: opset))
        let sum = try #require(model.graph.node.first { $0.opType == "ReduceSum" })
        #expect(sum.input.count == 2 && sum.input[1].hasSuffix(".axes"))
        let mean = try #require(model.graph.node.first { $0.opType == "ReduceMean" && $0.name.hasPrefix("backbone.ReduceMean") })
        #expect((mean.input.count == 2) == (opset >= 18))
        #expect(mean.attribute.contains { $0.name == "axes" } == (opset < 18))
        let maxAll = try #require(model.graph.node.first { $0.opType == "ReduceMax" })
        #expect(maxAll.input.count == 1 && !maxAll.attribute.contains { $0.name == "axes" })
    }

    @Test("Resize with scales keeps the scales; without, uses sizes")
    func resizeScalesAndSizes() throws {
        let model = try makeModel(try exportOpZooGraph(), options: ExportOptions(opset: 17))
        let resizes = model.graph.node.filter { $0.opType == "Resize" }
        #expect(resizes.count == 2)
        #expect(resizes[0].input.count == 4 && resizes[0].input[3].hasSuffix(".sizes"))
        #expect(resizes[1].input.count == 3 && resizes[1].input[2].hasSuffix(".scales"))
        let scales = try #require(model.graph.initializer.first { $0.name == resizes[1].input[2] })
        #expect(scales.dataType == Int32(Onnx_TensorProto.DataType.float.rawValue))
    }
}

@Test func pseudoInverseMustFoldBeforeExport() throws {
    let t = Tracer(name: "g")
    let x = t.input("x", TensorType(.float32, [2, 3]))
    let p = try t.apply(.pseudoInverse, [x], name: "pinv")[0]
    try t.output("y", p)
    let g = try t.finish()
    do {
        _ = try makeModel(g, options: ExportOptions(runChecker: false))
        Issue.record("expected an export error")
    } catch {
        #expect("\(error)".contains("PseudoInverse (no ONNX operator; it must fold to a constant"))
        #expect("\(error)".contains("node pinv"))
    }
}
