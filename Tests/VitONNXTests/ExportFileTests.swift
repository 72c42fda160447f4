import Foundation
import ONNXProto
import Testing
import VitIR
@testable import VitONNX

@Suite("ONNX export files")
struct ExportFileTests {
    @Test("the same graph exports to byte-identical files", arguments: [16, 17, 21])
    func deterministic(opset: Int) throws {
        let dir = try exportTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var graph = try exportOpZooGraph()
        graph.metadata = ["b": "2", "a": "1", "c": "3"]
        let options = ExportOptions(opset: opset, extraMetadata: ["z": "26", "y": "25"])
        let first = try writeModel(graph, to: dir + "/a.onnx", options: options)
        let second = try writeModel(try { var g = try exportOpZooGraph(); g.metadata = ["c": "3", "a": "1", "b": "2"]; return g }(),
                                    to: dir + "/b.onnx", options: options)
        let a = try Data(contentsOf: URL(fileURLWithPath: dir + "/a.onnx"))
        let b = try Data(contentsOf: URL(fileURLWithPath: dir + "/b.onnx"))
        #expect(a == b)
        #expect(first.modelBytes == a.count && second.modelBytes == b.count)
        #expect(first.nodeCount == (try Onnx_ModelProto(serializedBytes: a)).graph.node.count)
        #expect(first.opset == opset)
    }

    @Test("the streamed file equals swift-protobuf's serialization of the whole model", arguments: [16, 17, 21])
    func streamedEqualsSerialized(opset: Int) throws {
        let dir = try exportTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for (name, graph) in [("zoo", try exportOpZooGraph()), ("block", try exportBlockGraph(groupNorm: true)),
                              ("external", try exportExternalDataGraph())] {
            let options = ExportOptions(opset: opset)
            try writeModel(graph, to: dir + "/\(name).onnx", options: options)
            let written = try Data(contentsOf: URL(fileURLWithPath: dir + "/\(name).onnx"))
            let serialized: Data = try makeModel(graph, options: options).serializedBytes()
            #expect(written == serialized, "\(name) at opset \(opset): \(written.count) vs \(serialized.count) bytes")
        }
    }

    @Test func streamedLayoutPlacesRawDataWhereItsOffsetsSay() throws {
        let graph = try exportBlockGraph()
        let plan = try planModelFile(graph, path: "unused.onnx", options: ExportOptions(opset: 17))
        let streamed = try StreamedModel(model: plan.model, inline: plan.inline)
        var bytes: [UInt8] = []
        try streamed.write { bytes.append(contentsOf: $0) }
        #expect(bytes.count == streamed.byteCount)
        for (i, tensor) in plan.inline.enumerated() {
            guard let tensor, tensor.byteCount > 0 else { continue }
            let at = streamed.rawDataOffsets[i]
            #expect(Array(bytes[at..<(at + tensor.byteCount)]) == Array(tensor.rawBytes))
        }
    }

    @Test("the report carries the checker's verdict", arguments: 16...21)
    func checkerStatus(opset: Int) throws {
        let dir = try exportTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let report = try writeModel(try exportBlockGraph(groupNorm: true), to: dir + "/m.onnx", options: ExportOptions(opset: opset))
        if opset <= LibONNX.maxOpset {
            guard case .passed(let n) = report.checker else { Issue.record("checker: \(report.checker)"); return }
            #expect(n > 0)
        } else {
            guard case .skipped(let reason) = report.checker else { Issue.record("checker: \(report.checker)"); return }
            #expect(reason.hasPrefix("libonnx knows"))
        }
        #expect(report.irVersion == (try irVersion(forOpset: opset)))
        #expect(report.externalDataPath == nil && report.externalDataBytes == 0)
    }

    /// Fail points inside the model file, inside the sidecar, and after the sidecar (in the model).
    @Test("a failed write leaves neither the file nor a temporary file", arguments: [0, 1, 100, 2000, 200_000, 364_100])
    func atomicWrite(failAfterBytes: Int) throws {
        let dir = try exportTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/model.onnx"
        let graph = try exportExternalDataGraph()
        for external in [ExternalDataPolicy.never, .always] {
            let options = ExportOptions(opset: 17, externalData: external)
            #expect(throws: ExportError.self) {
                try writeModel(graph, to: path, options: options, hooks: ExportWriteHooks(failAfterBytes: failAfterBytes))
            }
            #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == [])
        }
    }

    @Test("a failed write keeps the previous file intact")
    func atomicReplace() throws {
        let dir = try exportTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/model.onnx"
        try writeModel(try exportBlockGraph(), to: path, options: ExportOptions(opset: 17))
        let before = try Data(contentsOf: URL(fileURLWithPath: path))
        #expect(throws: ExportError.self) {
            try writeModel(try exportBlockGraph(groupNorm: true), to: path, options: ExportOptions(opset: 16),
                           hooks: ExportWriteHooks(failAfterBytes: 200))
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == before)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["model.onnx"])
    }

    @Test("a missing directory is an error, not a crash")
    func missingDirectory() throws {
        let error = #expect(throws: ExportError.self) {
            try writeModel(try exportBlockGraph(), to: "/nonexistent-vitonnx-dir/m.onnx", options: ExportOptions())
        }
        #expect(error?.message.contains("/nonexistent-vitonnx-dir/m.onnx") == true)
    }

    @Test("external data: large tensors go to the sidecar at 4096-aligned offsets")
    func externalData() throws {
        let dir = try exportTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let graph = try exportExternalDataGraph()
        let big = exportTestWeights([300, 300]), odd = exportTestWeights([300, 3]), small = exportTestWeights([3])

        let path = dir + "/ext.onnx"
        let report = try writeModel(graph, to: path, options: ExportOptions(opset: 17, externalData: .always))
        #expect(report.externalDataPath == dir + "/ext.onnx.data")
        guard case .passed = report.checker else { Issue.record("checker: \(report.checker)"); return }

        let model = try Onnx_ModelProto(serializedBytes: Data(contentsOf: URL(fileURLWithPath: path)))
        let sidecar = try Data(contentsOf: URL(fileURLWithPath: dir + "/ext.onnx.data"))
        #expect(sidecar.count == report.externalDataBytes)
        var external: [String] = []
        for tensor in model.graph.initializer {
            let source = [("big.weight", big), ("odd.weight", odd), ("small.bias", small)].first { $0.0 == tensor.name }?.1
            if tensor.dataLocation == .external {
                external.append(tensor.name)
                #expect(tensor.rawData.isEmpty)
                let entries = Dictionary(uniqueKeysWithValues: tensor.externalData.map { ($0.key, $0.value) })
                #expect(entries["location"] == "ext.onnx.data")
                let offset = try #require(Int(entries["offset"] ?? ""))
                let length = try #require(Int(entries["length"] ?? ""))
                #expect(offset % 4096 == 0)
                let expected = try #require(source)
                #expect(length == expected.byteCount)
                #expect(sidecar.subdata(in: offset..<(offset + length)) == Data(expected.rawBytes))
            } else {
                #expect(tensor.rawData.count < 1024)
            }
        }
        #expect(external == ["big.weight", "odd.weight"])
        #expect(model.graph.initializer.first { $0.name == "odd.weight" }?.externalData.first { $0.key == "offset" }?.value == "360448")

        // Deterministic with external data too.
        try writeModel(graph, to: dir + "/again.onnx", options: ExportOptions(opset: 17, externalData: .always))
        #expect(try Data(contentsOf: URL(fileURLWithPath: dir + "/again.onnx.data")) == sidecar)

        // Automatic keeps small models inline.
        let inline = try writeModel(graph, to: dir + "/inline.onnx", options: ExportOptions(opset: 17))
        #expect(inline.externalDataPath == nil)
        #expect(!FileManager.default.fileExists(atPath: dir + "/inline.onnx.data"))
    }
}
