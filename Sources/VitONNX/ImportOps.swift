import VitIR

/// Each family's importers (`ONNXMapping.importers`) plus Constant's. An ONNX op type is
/// registered by exactly one of them (`ImportRegistryTests` checks it).
let onnxImporterFamilies: [[String: ONNXImporter]] = [
    ElementwiseOp.importers, LinearAlgebraOp.importers, ConvolutionOp.importers, NormalizationOp.importers,
    ReductionOp.importers, MovementOp.importers, SamplingOp.importers, QuantizationOp.importers,
    ["Constant": { try $0.constantNode() }],
]

/// ONNX op type → conversion. Attribute defaults follow the ONNX operator schemas (onnx/defs);
/// opset-dependent forms are keyed off the model's default-domain opset.
let onnxImporters: [String: ONNXImporter] = onnxImporterFamilies.reduce(into: [:]) { table, family in
    table.merge(family) { first, _ in first }
}

extension NodeImport {
    mutating func convert() throws(ImportError) {
        guard let conversion = onnxImporters[opType] else { throw fail("op \(opType) is not in the IR's op set") }
        do {
            try conversion(&self)
        } catch let error as ImportError {
            throw error
        } catch {
            throw fail("\(error)")
        }
    }

    /// Constant-1…21: value, value_float(s), value_int(s) → an initializer. Strings and
    /// sparse values are unsupported.
    fileprivate mutating func constantNode() throws(ImportError) {
        var found: [Tensor] = []
        if let t = try tensorAttribute("value") {
            found.append(try importTensor(t, subject: "node '\(name)' (Constant) value", files: importer.files))
        }
        if let f = try float("value_float") { found.append(Tensor([f], shape: [])) }
        if let fs = try floats("value_floats") { found.append(Tensor(fs, shape: [fs.count])) }
        if let i = try int("value_int") { found.append(Tensor([Int64(i)], shape: [])) }
        if let iv = try ints("value_ints") { found.append(Tensor(iv.map { Int64($0) }, shape: [iv.count])) }
        for key in ["value_string", "value_strings", "sparse_value"] where proto.attribute.contains(where: { $0.name == key }) {
            throw fail("attribute '\(key)' unsupported (no string or sparse tensors in the IR)")
        }
        guard found.count == 1 else { throw fail("exactly one value attribute required, got \(found.count)") }
        try defineConstant(found[0])
    }
}
