import Foundation
import ONNXProto
import VitIR

/// A lowered model whose initializer data is not placed yet: `model` has everything except
/// `graph.initializer`; `initializers` lists every tensor in file order (the graph's
/// initializers by value id, then lowering constants in creation order).
struct LoweredModel {
    var model: Onnx_ModelProto
    var initializers: [(name: String, tensor: Tensor)]

    var initializerBytes: Int { initializers.reduce(0) { $0 + $1.tensor.byteCount } }
}

/// Lowers a verified graph to an ONNX model for `options.opset` (see `ExportLowering`), with
/// its batch dimension symbolic when `options.dynamicBatch` is set (`makeBatchSymbolic`).
///
/// The model: IR version per `irVersion(forOpset:)`, one default-domain opset import,
/// producer `vitexport`, graph inputs and outputs with types, a `value_info` for every other
/// node output, node `doc_string` `scope=<scope> at <file>:<line>`, initializers named as
/// their values (checkpoint keys), `metadata_props` sorted by key. Equal graphs give equal
/// models.
func lowerModel(_ graph: Graph, options: ExportOptions) throws -> LoweredModel {
    let ir = try irVersion(forOpset: options.opset)
    try verify(graph)

    var lowering = ExportLowering(graph: graph, opset: options.opset)
    for node in graph.nodes { try lowering.lower(node) }

    var g = Onnx_GraphProto()
    g.name = graph.name
    g.node = lowering.nodes
    g.input = graph.inputs.map { exportValueInfo(graph.name(of: $0), graph.type(of: $0)) }
    g.output = graph.outputs.map { exportValueInfo(graph.name(of: $0), graph.type(of: $0)) }
    g.valueInfo = lowering.valueInfos

    var model = Onnx_ModelProto()
    model.irVersion = Int64(ir)
    var opsetImport = Onnx_OperatorSetIdProto()
    opsetImport.domain = ""
    opsetImport.version = Int64(options.opset)
    model.opsetImport = [opsetImport]
    model.producerName = "vitexport"
    model.producerVersion = options.producerVersion
    model.graph = g

    var metadata = graph.metadata.merging(options.extraMetadata) { _, extra in extra }
    metadata["vitexport.opset"] = String(options.opset)
    model.metadataProps = metadata.sorted { $0.key < $1.key }.map { key, value in
        var entry = Onnx_StringStringEntryProto()
        entry.key = key
        entry.value = value
        return entry
    }

    let graphInitializers = graph.initializers.sorted { $0.key < $1.key }.map { (graph.name(of: $0.key), $0.value) }
    var lowered = LoweredModel(model: model, initializers: graphInitializers + lowering.constants)
    if let dynamic = options.dynamicBatch {
        var plain = options
        plain.dynamicBatch = nil
        try makeBatchSymbolic(&lowered, twin: try lowerModel(dynamic.twin, options: plain), dynamic)
    }
    return lowered
}

/// The ONNX model of `graph` at `options.opset`, every initializer inline as little-endian
/// `raw_data`. Throws `ExportError` when the opset cannot express the graph (naming the op,
/// node and minimum opset) and `VerificationError` for a malformed graph. The result is not
/// serializable when the initializers exceed protobuf's 2 GiB limit; `writeModel` moves data
/// to an external file in that case.
public func makeModel(_ graph: Graph, options: ExportOptions = ExportOptions()) throws -> Onnx_ModelProto {
    let lowered = try lowerModel(graph, options: options)
    var model = lowered.model
    model.graph.initializer = lowered.initializers.map { name, tensor in
        var proto = exportTensorHeader(name, tensor)
        proto.rawData = exportRawData(tensor)
        return proto
    }
    return model
}
