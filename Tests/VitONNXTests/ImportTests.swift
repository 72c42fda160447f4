import Foundation
import ONNXProto
import Testing
import VitIR
import VitInterp
@testable import VitONNX

// Small ModelProtos built in Swift (no Python) and imported.

fileprivate typealias DT = Onnx_TensorProto.DataType

fileprivate func tensor(_ name: String, _ type: DT, dims: [Int]) -> Onnx_TensorProto {
    var t = Onnx_TensorProto()
    t.name = name
    t.dataType = Int32(type.rawValue)
    t.dims = dims.map { Int64($0) }
    return t
}

fileprivate func rawFloats(_ name: String, _ values: [Float], dims: [Int]) -> Onnx_TensorProto {
    var t = tensor(name, .float, dims: dims)
    t.rawData = values.withUnsafeBufferPointer { Data(buffer: $0) }
    return t
}

fileprivate func int64s(_ name: String, _ values: [Int64], dims: [Int]? = nil) -> Onnx_TensorProto {
    var t = tensor(name, .int64, dims: dims ?? [values.count])
    t.int64Data = values
    return t
}

fileprivate func valueInfo(_ name: String, _ type: DT, _ dims: [Int?]) -> Onnx_ValueInfoProto {
    var vi = Onnx_ValueInfoProto()
    vi.name = name
    var tt = Onnx_TypeProto.Tensor()
    tt.elemType = Int32(type.rawValue)
    var shape = Onnx_TensorShapeProto()
    shape.dim = dims.map { d in
        var dim = Onnx_TensorShapeProto.Dimension()
        if let d { dim.dimValue = Int64(d) } else { dim.dimParam = "N" }
        return dim
    }
    tt.shape = shape
    var tp = Onnx_TypeProto()
    tp.tensorType = tt
    vi.type = tp
    return vi
}

fileprivate enum AttrValue {
    case int(Int), float(Float), ints([Int]), string(String), tensor(Onnx_TensorProto)
}

fileprivate func node(_ op: String, _ inputs: [String], _ outputs: [String], name: String = "",
                      _ attrs: [String: AttrValue] = [:]) -> Onnx_NodeProto {
    var n = Onnx_NodeProto()
    n.opType = op
    n.name = name
    n.input = inputs
    n.output = outputs
    n.attribute = attrs.sorted { $0.key < $1.key }.map { key, value in
        var a = Onnx_AttributeProto()
        a.name = key
        switch value {
        case .int(let v): a.type = .int; a.i = Int64(v)
        case .float(let v): a.type = .float; a.f = v
        case .ints(let v): a.type = .ints; a.ints = v.map { Int64($0) }
        case .string(let v): a.type = .string; a.s = Data(v.utf8)
        case .tensor(let v): a.type = .tensor; a.t = v
        }
        return a
    }
    return n
}

fileprivate func model(opset: Int = 17, nodes: [Onnx_NodeProto], inputs: [Onnx_ValueInfoProto],
                       outputs: [String], initializers: [Onnx_TensorProto] = []) -> Onnx_ModelProto {
    var g = Onnx_GraphProto()
    g.name = "test"
    g.node = nodes
    g.input = inputs
    g.initializer = initializers
    g.output = outputs.map { name in
        var vi = Onnx_ValueInfoProto()
        vi.name = name
        return vi
    }
    var m = Onnx_ModelProto()
    m.irVersion = 8
    var o = Onnx_OperatorSetIdProto()
    o.domain = ""
    o.version = Int64(opset)
    m.opsetImport = [o]
    m.graph = g
    return m
}

fileprivate func importError(_ m: Onnx_ModelProto, baseDirectory: String? = nil,
                             options: ImportOptions = ImportOptions()) -> String {
    do {
        _ = try importModel(m, baseDirectory: baseDirectory, options: options)
        return "no error"
    } catch {
        return error.description
    }
}

fileprivate func onlyOp(_ g: Graph) -> Op? { g.nodes.count == 1 ? g.nodes[0].op : nil }

@Suite struct ImportTests {
    @Test func initializersFromRawAndTypedFields() throws {
        var f16 = tensor("h", .float16, dims: [2])
        f16.int32Data = [Int32(floatToFloat16(1.5)), Int32(floatToFloat16(-2))]
        var flags = tensor("b", .bool, dims: [3])
        flags.int32Data = [1, 0, 1]
        var typed = tensor("w_typed", .float, dims: [2])
        typed.floatData = [3, 4]
        var bytes = tensor("u", .uint8, dims: [2])
        bytes.int32Data = [7, 255]
        let m = model(nodes: [node("Add", ["x", "w_raw"], ["s"], name: "add0"), node("Add", ["s", "w_typed"], ["y"])],
                      inputs: [valueInfo("x", .float, [2]), valueInfo("w_raw", .float, [2])],
                      outputs: ["y"],
                      initializers: [rawFloats("w_raw", [1, 2], dims: [2]), typed, f16, flags, bytes,
                                     int64s("i", [5, -6])])
        let g = try importModel(m, baseDirectory: nil)
        func value(_ name: String) throws -> Tensor {
            let id = try #require(g.values.firstIndex { $0.name == name })
            return try #require(g.initializers[ValueID(id)])
        }
        #expect(try value("w_raw").floats == [1, 2])
        #expect(try value("w_typed").floats == [3, 4])
        #expect(try value("h").dtype == .float16)
        #expect(try value("h").floats == [1.5, -2])
        #expect(try value("b").dtype == .bool)
        #expect(try value("b").int64s == [1, 0, 1])
        #expect(try value("u").int64s == [7, 255])
        #expect(try value("i").int64s == [5, -6])
        // A graph input that is also an initializer is not a graph input.
        #expect(g.inputs.map { g.name(of: $0) } == ["x"])
        #expect(g.outputs.map { g.name(of: $0) } == ["y"])
        #expect(g.nodes.map(\.name) == ["add0", "Add_1"])
        #expect(g.nodes.map(\.op) == [.add, .add])
    }

    @Test func constantNodesBecomeInitializers() throws {
        let m = model(nodes: [
            node("Constant", [], ["shape"], ["value": .tensor(int64s("", [3, 2]))]),
            node("Constant", [], ["k"], ["value_float": .float(2)]),
            node("Constant", [], ["axes"], ["value_ints": .ints([0])]),
            node("Reshape", ["x", "shape"], ["r"]),
            node("Mul", ["r", "k"], ["m"]),
            node("Unsqueeze", ["m", "axes"], ["y"]),
        ], inputs: [valueInfo("x", .float, [2, 3])], outputs: ["y"])
        let g = try importModel(m, baseDirectory: nil)
        #expect(g.nodes.map(\.op) == [.reshape(shape: [3, 2]), .mul, .unsqueeze(axes: [0])])
        #expect(g.initializers.count == 3)
        let k = try #require(g.values.firstIndex { $0.name == "k" })
        #expect(g.initializers[ValueID(k)]?.floats == [2])
        #expect(g.type(of: g.outputs[0]) == TensorType(.float32, [1, 3, 2]))
    }

    @Test func reshapeResolvesZeroAndMinusOne() throws {
        let m = model(nodes: [node("Reshape", ["x", "s"], ["y"], name: "r")],
                      inputs: [valueInfo("x", .float, [2, 3, 4])], outputs: ["y"],
                      initializers: [int64s("s", [0, -1])])
        let g = try importModel(m, baseDirectory: nil)
        #expect(onlyOp(g) == .reshape(shape: [2, 12]))

        // allowzero = 1 (Reshape-14): 0 is a literal extent.
        let z = model(opset: 14, nodes: [node("Reshape", ["x", "s"], ["y"], ["allowzero": .int(1)])],
                      inputs: [valueInfo("x", .float, [0, 3])], outputs: ["y"],
                      initializers: [int64s("s", [3, 0])])
        #expect(onlyOp(try importModel(z, baseDirectory: nil)) == .reshape(shape: [3, 0]))
    }

    @Test func reduceAxesAttributeVersusInput() throws {
        let old = model(opset: 17, nodes: [node("ReduceMean", ["x"], ["y"], ["axes": .ints([1]), "keepdims": .int(0)])],
                        inputs: [valueInfo("x", .float, [2, 3])], outputs: ["y"])
        let new = model(opset: 18, nodes: [node("ReduceMean", ["x", "axes"], ["y"], ["keepdims": .int(0)])],
                        inputs: [valueInfo("x", .float, [2, 3])], outputs: ["y"],
                        initializers: [int64s("axes", [1])])
        let expected = Op.reduceMean(ReduceAttributes(axes: [1], keepDims: false))
        #expect(onlyOp(try importModel(old, baseDirectory: nil)) == expected)
        #expect(onlyOp(try importModel(new, baseDirectory: nil)) == expected)
        // Opset 18 with an axes attribute: the attribute no longer exists.
        let wrong = model(opset: 18, nodes: [node("ReduceMean", ["x"], ["y"], ["axes": .ints([1])])],
                          inputs: [valueInfo("x", .float, [2, 3])], outputs: ["y"])
        #expect(importError(wrong).contains("attribute 'axes' unsupported"))
        // noop_with_empty_axes = 1 without axes is Identity.
        let noop = model(opset: 18, nodes: [node("ReduceMax", ["x"], ["y"], ["noop_with_empty_axes": .int(1)])],
                         inputs: [valueInfo("x", .float, [2, 3])], outputs: ["y"])
        #expect(onlyOp(try importModel(noop, baseDirectory: nil)) == .identity)
    }

    @Test func splitSizesAttributeInputAndNumOutputs() throws {
        let x = valueInfo("x", .float, [2, 7])
        let attr = model(opset: 11, nodes: [node("Split", ["x"], ["a", "b"], ["axis": .int(1), "split": .ints([3, 4])])],
                         inputs: [x], outputs: ["a", "b"])
        let input = model(opset: 13, nodes: [node("Split", ["x", "sizes"], ["a", "b"], ["axis": .int(1)])],
                          inputs: [x], outputs: ["a", "b"], initializers: [int64s("sizes", [3, 4])])
        let count = model(opset: 18, nodes: [node("Split", ["x"], ["a", "b", "c"], ["axis": .int(-1), "num_outputs": .int(3)])],
                          inputs: [x], outputs: ["a", "b", "c"])
        #expect(onlyOp(try importModel(attr, baseDirectory: nil)) == .split(axis: 1, sizes: [3, 4]))
        #expect(onlyOp(try importModel(input, baseDirectory: nil)) == .split(axis: 1, sizes: [3, 4]))
        #expect(onlyOp(try importModel(count, baseDirectory: nil)) == .split(axis: -1, sizes: [3, 3, 1]))
        let uneven = model(opset: 13, nodes: [node("Split", ["x"], ["a", "b"], ["axis": .int(1)])],
                           inputs: [x], outputs: ["a", "b"])
        #expect(importError(uneven).contains("does not split evenly"))
    }

    @Test func unsupportedOpNamesNodeAndOp() {
        let m = model(nodes: [node("NonMaxSuppression", ["x"], ["y"], name: "nms")],
                      inputs: [valueInfo("x", .float, [1, 4])], outputs: ["y"])
        let text = importError(m)
        #expect(text.contains("node 'nms' (NonMaxSuppression)"))
        #expect(text.contains("not in the IR's op set"))
    }

    @Test func nonConstantReshapeShapeIsAnError() throws {
        let m = model(nodes: [node("Reshape", ["x", "s"], ["y"], name: "r")],
                      inputs: [valueInfo("x", .float, [2, 3]), valueInfo("s", .int64, [2])], outputs: ["y"])
        let text = importError(m)
        #expect(text.contains("node 'r' (Reshape)"))
        #expect(text.contains("must be a constant"))
        // The same model imports when the shape's value is known.
        let g = try importModel(m, baseDirectory: nil, options: ImportOptions(knownInputs: ["s": Tensor([Int64(3), 2], shape: [2])]))
        #expect(onlyOp(g) == .reshape(shape: [3, 2]))
        #expect(g.inputs.count == 2)
    }

    @Test func unsupportedDTypeIsAnError() {
        var d = tensor("weights", .double, dims: [1])
        d.doubleData = [1]
        let m = model(nodes: [node("Identity", ["weights"], ["y"])], inputs: [], outputs: ["y"], initializers: [d])
        let text = importError(m)
        #expect(text.contains("initializer 'weights'"))
        #expect(text.contains("DOUBLE"))
        let input = model(nodes: [node("Identity", ["x"], ["y"])], inputs: [valueInfo("x", .string, [1])], outputs: ["y"])
        #expect(importError(input).contains("graph input 'x': dtype STRING unsupported"))
    }

    @Test func externalDataIsMappedAndBoundsChecked() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("vitexport-import-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        var bytes = Data(repeating: 0xAB, count: 16)  // Offset 16: aligned for float32.
        bytes.append(contentsOf: [Float(1), 2, 3].withUnsafeBufferPointer { Data(buffer: $0) })
        try bytes.write(to: dir.appendingPathComponent("weights.bin"))

        func external(length: Int?, dims: [Int] = [3]) -> Onnx_TensorProto {
            var t = tensor("w", .float, dims: dims)
            t.dataLocation = .external
            var entries = [("location", "weights.bin"), ("offset", "16")]
            if let length { entries.append(("length", String(length))) }
            t.externalData = entries.map { k, v in
                var e = Onnx_StringStringEntryProto()
                e.key = k
                e.value = v
                return e
            }
            return t
        }
        func withWeight(_ w: Onnx_TensorProto) -> Onnx_ModelProto {
            model(nodes: [node("Add", ["x", "w"], ["y"])], inputs: [valueInfo("x", .float, [w.dims.map { Int($0) }.reduce(1, *)])],
                  outputs: ["y"], initializers: [w])
        }
        let g = try importModel(withWeight(external(length: 12)), baseDirectory: dir.path)
        let w = try #require(g.initializers.values.first)
        #expect(w.floats == [1, 2, 3])

        #expect(importError(withWeight(external(length: nil, dims: [4])), baseDirectory: dir.path).contains("truncated"))
        #expect(importError(withWeight(external(length: 16)), baseDirectory: dir.path).contains("length 16"))
        #expect(importError(withWeight(external(length: 12)), baseDirectory: nil).contains("model's directory"))
        var escape = external(length: 12)
        escape.externalData[0].value = "../weights.bin"
        #expect(importError(withWeight(escape), baseDirectory: dir.path).contains("inside the model directory"))

        // A symlink inside the directory that points outside it is refused, as are a FIFO and
        // a directory in the data's place (opening a FIFO must not block).
        let outside = FileManager.default.temporaryDirectory.appendingPathComponent("vitexport-outside-\(UUID().uuidString).bin")
        try bytes.write(to: outside)
        defer { try? FileManager.default.removeItem(at: outside) }
        try FileManager.default.createSymbolicLink(atPath: dir.appendingPathComponent("link.bin").path, withDestinationPath: outside.path)
        var linked = external(length: 12)
        linked.externalData[0].value = "link.bin"
        #expect(importError(withWeight(linked), baseDirectory: dir.path).contains("outside the model directory"))
        try FileManager.default.createSymbolicLink(atPath: dir.appendingPathComponent("inner.bin").path, withDestinationPath: "weights.bin")
        var inner = external(length: 12)
        inner.externalData[0].value = "inner.bin"
        #expect(try importModel(withWeight(inner), baseDirectory: dir.path).initializers.values.first?.floats == [1, 2, 3])
        #expect(mkfifo(dir.appendingPathComponent("fifo.bin").path, 0o600) == 0)
        var fifo = external(length: 12)
        fifo.externalData[0].value = "fifo.bin"
        #expect(importError(withWeight(fifo), baseDirectory: dir.path).contains("not a regular file"))
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("sub.bin"), withIntermediateDirectories: false)
        var directory = external(length: 12)
        directory.externalData[0].value = "sub.bin"
        #expect(importError(withWeight(directory), baseDirectory: dir.path).contains("not a regular file"))

        // importModel(path:) resolves external data next to the file.
        let path = dir.appendingPathComponent("model.onnx")
        try withWeight(external(length: 12)).serializedData().write(to: path)
        #expect(try importModel(path: path.path).initializers.count == 1)
    }

    @Test func convAutoPadSameUpperResolvesPads() throws {
        let w = rawFloats("w", Array(repeating: 1, count: 9), dims: [1, 1, 3, 3])
        let m = model(nodes: [node("Conv", ["x", "w"], ["y"], ["auto_pad": .string("SAME_UPPER"), "strides": .ints([2, 2])])],
                      inputs: [valueInfo("x", .float, [1, 1, 6, 6])], outputs: ["y"], initializers: [w])
        let g = try importModel(m, baseDirectory: nil)
        // out = ceil(6 / 2) = 3; total pad = (3 − 1)·2 + 3 − 6 = 1, the odd one at the end.
        #expect(onlyOp(g) == .conv(ConvAttributes(kernelShape: [3, 3], strides: [2, 2], pads: [0, 0, 1, 1])))
        #expect(g.type(of: g.outputs[0]).shape == [1, 1, 3, 3])
    }

    @Test func softmaxBeforeOpset13CoercesTo2D() throws {
        let m = model(opset: 11, nodes: [node("Softmax", ["x"], ["y"], name: "sm", ["axis": .int(1)])],
                      inputs: [valueInfo("x", .float, [2, 3, 4])], outputs: ["y"])
        let g = try importModel(m, baseDirectory: nil)
        #expect(g.nodes.map(\.op) == [.reshape(shape: [2, 12]), .softmax(axis: -1), .reshape(shape: [2, 3, 4])])
        #expect(g.outputs.map { g.name(of: $0) } == ["y"])
        let last = model(opset: 11, nodes: [node("Softmax", ["x"], ["y"], ["axis": .int(2)])],
                         inputs: [valueInfo("x", .float, [2, 3, 4])], outputs: ["y"])
        #expect(onlyOp(try importModel(last, baseDirectory: nil)) == .softmax(axis: 2))
    }

    @Test func groupNormalization18RepeatsPerGroupScale() throws {
        let m = model(opset: 18, nodes: [node("GroupNormalization", ["x", "s", "b"], ["y"], ["num_groups": .int(2)])],
                      inputs: [valueInfo("x", .float, [1, 4, 2])], outputs: ["y"],
                      initializers: [rawFloats("s", [1, 2], dims: [2]), rawFloats("b", [3, 4], dims: [2])])
        let g = try importModel(m, baseDirectory: nil)
        let node = try #require(g.nodes.first)
        #expect(node.op == .groupNormalization(numGroups: 2, epsilon: 1e-5))
        #expect(g.initializers[node.inputs[1]]?.floats == [1, 1, 2, 2])
        #expect(g.initializers[node.inputs[2]]?.floats == [3, 3, 4, 4])
    }

    @Test func unknownAttributesAndOptionalOutputsAreErrors() {
        let m = model(nodes: [node("Relu", ["x"], ["y"], name: "r", ["alpha": .float(0.1)])],
                      inputs: [valueInfo("x", .float, [2])], outputs: ["y"])
        #expect(importError(m).contains("node 'r' (Relu): attribute 'alpha' unsupported"))
        let pool = model(nodes: [node("MaxPool", ["x"], ["y", "idx"], ["kernel_shape": .ints([2])])],
                         inputs: [valueInfo("x", .float, [1, 1, 4])], outputs: ["y", "idx"])
        #expect(importError(pool).contains("Indices"))
    }

    @Test func symbolicInputNeedsAShape() throws {
        let m = model(nodes: [node("Relu", ["x"], ["y"])], inputs: [valueInfo("x", .float, [nil, 3])], outputs: ["y"])
        #expect(importError(m).contains("not static"))
        let g = try importModel(m, baseDirectory: nil, options: ImportOptions(inputShapes: ["x": [5, 3]]))
        #expect(g.type(of: g.inputs[0]) == TensorType(.float32, [5, 3]))
    }

    @Test func opsetOutsideTheKnownRangeIsAnError() {
        let m = model(opset: 99, nodes: [node("Relu", ["x"], ["y"])], inputs: [valueInfo("x", .float, [2])], outputs: ["y"])
        #expect(importError(m).contains("opset 99 unsupported"))
    }

    @Test func castLikeLowersToCast() throws {
        let m = model(opset: 15, nodes: [node("CastLike", ["x", "like"], ["y"])],
                      inputs: [valueInfo("x", .float, [2]), valueInfo("like", .float16, [1])], outputs: ["y"])
        #expect(onlyOp(try importModel(m, baseDirectory: nil)) == .cast(to: .float16))
    }

    @Test func convTransposeOutputShapeBecomesOutputPadding() throws {
        let w = rawFloats("w", Array(repeating: 1, count: 9), dims: [1, 1, 3, 3])
        let m = model(nodes: [node("ConvTranspose", ["x", "w"], ["y"], ["strides": .ints([3, 2]), "output_shape": .ints([10, 8])])],
                      inputs: [valueInfo("x", .float, [1, 1, 3, 3])], outputs: ["y"], initializers: [w])
        let g = try importModel(m, baseDirectory: nil)
        // Total padding 3·2 + 3 − 10 = −1 (H) and 2·2 + 3 − 8 = −1 (W): one extra output row and column at the end.
        #expect(onlyOp(g) == .convTranspose(ConvTransposeAttributes(kernelShape: [3, 3], strides: [3, 2], pads: [0, 0, 0, 0],
                                                                    outputPadding: [1, 1])))
        #expect(g.type(of: g.outputs[0]).shape == [1, 1, 10, 8])
    }

    @Test func resizeScalesBecomeStaticSizes() throws {
        var scales = tensor("scales", .float, dims: [4])
        scales.floatData = [1, 1, 2, 1.5]
        let m = model(opset: 19, nodes: [node("Resize", ["x", "", "scales"], ["y"], ["mode": .string("linear")])],
                      inputs: [valueInfo("x", .float, [1, 1, 3, 3])], outputs: ["y"], initializers: [scales])
        let g = try importModel(m, baseDirectory: nil)
        guard case .sampling(.resize(let r))? = onlyOp(g) else { Issue.record("expected Resize"); return }
        #expect(r.sizes == [1, 1, 6, 4])
        #expect(r.scales == [1, 1, 2, 1.5])
        #expect(r.mode == .linear)
        let crop = model(opset: 19, nodes: [node("Resize", ["x", "", "scales"], ["y"],
                                                 ["coordinate_transformation_mode": .string("tf_crop_and_resize")])],
                         inputs: [valueInfo("x", .float, [1, 1, 3, 3])], outputs: ["y"], initializers: [scales])
        #expect(importError(crop).contains("tf_crop_and_resize"))
    }
}

/// Attribute and initializer values from a file that would overflow are import errors naming
/// the node, not traps.
@Suite struct ImportOverflowTests {
    @Test func initializerWhoseByteSizeOverflowsIsAnError() {
        var t = tensor("w", .float, dims: [Int(Int32.max), Int(Int32.max), Int(Int32.max)])
        t.rawData = Data([0, 0, 0, 0])
        let m = model(nodes: [node("Relu", ["w"], ["y"])], inputs: [], outputs: ["y"], initializers: [t])
        #expect(importError(m).contains("overflows"))
    }

    @Test func resizeWithAnInfiniteOrHugeScaleIsAnError() {
        for s: Float in [.infinity, 3e38] {
            var scales = tensor("scales", .float, dims: [1])
            scales.floatData = [s]
            let m = model(opset: 19, nodes: [node("Resize", ["x", "", "scales"], ["y"])],
                          inputs: [valueInfo("x", .float, [4])], outputs: ["y"], initializers: [scales])
            let message = importError(m)
            #expect(message.contains("Resize") && (message.contains("beyond 64 bits") || message.contains("overflow")), "\(message)")
        }
    }

    @Test func resizeSizesWithEmptyAxesIsAnError() {
        var sizes = int64s("sizes", [])
        sizes.dims = [0]
        let m = model(opset: 19, nodes: [node("Resize", ["x", "", "", "sizes"], ["y"],
                                             ["axes": .ints([]), "keep_aspect_ratio_policy": .string("not_larger")])],
                      inputs: [valueInfo("x", .float, [4])], outputs: ["y"], initializers: [sizes])
        #expect(importError(m) != "no error")
    }

    @Test func convWithHugeDilationOrSameStrideIsAnError() {
        let w = rawFloats("w", [1, 1, 1], dims: [1, 1, 3])
        let dil = model(nodes: [node("Conv", ["x", "w"], ["y"], ["dilations": .ints([Int.max])])],
                        inputs: [valueInfo("x", .float, [1, 1, 8])], outputs: ["y"], initializers: [w])
        #expect(importError(dil).contains("overflow"))
        let same = model(nodes: [node("Conv", ["x", "w"], ["y"], ["auto_pad": .string("SAME_UPPER"), "dilations": .ints([Int.max / 2])])],
                         inputs: [valueInfo("x", .float, [1, 1, 8])], outputs: ["y"], initializers: [w])
        #expect(importError(same).contains("overflow"))
    }

    @Test func sliceWithTheMostNegativeStepImports() throws {
        let m = model(nodes: [node("Slice", ["x", "starts", "ends", "axes", "steps"], ["y"])],
                      inputs: [valueInfo("x", .float, [10])], outputs: ["y"],
                      initializers: [int64s("starts", [9]), int64s("ends", [Int64.min]), int64s("axes", [0]), int64s("steps", [Int64.min])])
        let g = try importModel(m, baseDirectory: nil)
        #expect(g.type(of: g.outputs[0]).shape.ints == [1])
    }
}

extension ImportTests {
    /// Fuzz finding (Tools/fuzz.sh onnx), reduced: Expand of a [1, 5] to [2^32 + 2, 0, 5] is
    /// an empty tensor that plans to 0 bytes, but the interpreter's Expand kernel first built
    /// a (2^32 + 2)-entry index table for the leading axis (32 GiB, ASan out-of-memory). The
    /// untrusted file must import, plan small and run to an empty output.
    @Test func expandToAnEmptyShapeWithAHugeDimRunsWithoutAllocating() throws {
        let m = model(nodes: [node("Pad", ["x", "p"], ["pp"], ["mode": .string("reflect")]),
                              node("Expand", ["pp", "sh"], ["y"])],
                      inputs: [valueInfo("x", .float, [1, 3])], outputs: ["y"],
                      initializers: [int64s("p", [0, 1, 0, 1]), int64s("sh", [(1 << 32) + 2, 0, 5])])
        let g = try importModel(m, baseDirectory: nil)
        #expect(g.type(of: g.outputs[0]) == TensorType(.float32, [(1 << 32) + 2, 0, 5]))
        #expect(try #require(plannedMemory(g)).peakBytes < 1024)
        let y = try Interpreter(g).run(feeds: ["x": Tensor([1, 2, 3] as [Float], shape: [1, 3])]).outputs["y"]
        #expect(y?.shape == [(1 << 32) + 2, 0, 5])
    }
}
