import VitIR

/// Where initializer bytes go when a model is written.
public enum ExternalDataPolicy: Sendable, Hashable {
    /// Inline, unless the initializers total more than 2 GiB (protobuf's message limit); then
    /// every tensor of at least 1 KiB moves to the sidecar file.
    case automatic
    /// Every tensor of at least 1 KiB moves to the sidecar file.
    case always
    /// Always inline; a model over 2 GiB is an error.
    case never
}

/// Settings of one export. The opset decides the IR version (`irVersion(forOpset:)`) and the
/// form each op lowers to (see `ExportLowering.swift`).
public struct ExportOptions: Sendable {
    /// The default-domain ("ai.onnx") opset to target, 16…21.
    public var opset: Int
    public var externalData: ExternalDataPolicy
    /// `ModelProto.producer_version`.
    public var producerVersion: String
    /// Added to `metadata_props` over `Graph.metadata` (same key: this wins). The key
    /// `vitexport.opset` is reserved for the exporter.
    public var extraMetadata: [String: String]
    /// Run libonnx's checker and strict shape inference before writing (when it knows the opset).
    public var runChecker: Bool
    /// Export with a symbolic batch dimension, judged against the same model traced at another
    /// batch size (`DynamicBatch`, `makeBatchSymbolic`); nil: every dimension static.
    public var dynamicBatch: DynamicBatch?

    public init(opset: Int = 17, externalData: ExternalDataPolicy = .automatic, producerVersion: String = "0.1.0",
                extraMetadata: [String: String] = [:], runChecker: Bool = true, dynamicBatch: DynamicBatch? = nil) {
        self.opset = opset; self.externalData = externalData; self.producerVersion = producerVersion
        self.extraMetadata = extraMetadata; self.runChecker = runChecker; self.dynamicBatch = dynamicBatch
    }
}

/// Opsets the exporter can target.
public let supportedOpsets: ClosedRange<Int> = 16...21

/// The ONNX IR version released with `opset` (onnx/docs/Versioning.md): 16–18 → 8,
/// 19–20 → 9, 21 → 10. Throws for opsets outside `supportedOpsets`.
public func irVersion(forOpset opset: Int) throws(ExportError) -> Int {
    switch opset {
    case 16, 17, 18: 8
    case 19, 20: 9
    case 21: 10
    default: throw ExportError("opset \(opset) is not supported; choose one of \(supportedOpsets.lowerBound)…\(supportedOpsets.upperBound)")
    }
}

/// A failed export: an opset that cannot express the graph, a graph the exporter cannot encode,
/// a libonnx checker rejection or an I/O failure. `description` is the whole message.
public struct ExportError: Error, CustomStringConvertible, Sendable, Equatable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }

    /// `<what> needs opset ≥ <minimum> (node <name> at scope <scope>, <file>:<line>)`.
    static func needsOpset(_ what: String, _ minimum: Int, _ node: Node) -> ExportError {
        ExportError("\(what) needs opset ≥ \(minimum) (\(node.exportLabel))")
    }

    /// `<what> cannot be exported (node <name> at scope <scope>, <file>:<line>)`.
    static func unsupported(_ what: String, _ node: Node) -> ExportError {
        ExportError("\(what) cannot be exported at any opset (\(node.exportLabel))")
    }
}

extension Node {
    /// `node <name> at scope <scope>, <file>:<line>` for error messages.
    var exportLabel: String {
        "node \(name) at scope \(scope.isEmpty ? "<root>" : scope), \(location)"
    }
}
