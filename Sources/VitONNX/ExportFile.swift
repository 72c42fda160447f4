#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import ONNXProto
import VitIR

/// libonnx's verdict on an exported model.
public enum CheckerStatus: Sendable, Equatable, CustomStringConvertible {
    /// check_model passed and strict shape inference agreed on `valuesCompared` typed values.
    case passed(valuesCompared: Int)
    /// Not run: `ExportOptions.runChecker` is off or libonnx does not know the IR/opset.
    case skipped(reason: String)

    public var description: String {
        switch self {
        case .passed(let n): "passed (\(n) value types agree with onnx shape inference)"
        case .skipped(let reason): "skipped (\(reason))"
        }
    }
}

/// What `writeModel` wrote.
public struct ExportReport: Sendable {
    public var path: String
    /// The sidecar with external tensor data, when any tensor moved there.
    public var externalDataPath: String?
    /// ONNX nodes in the graph (decompositions count each node).
    public var nodeCount: Int
    public var modelBytes: Int
    public var externalDataBytes: Int
    public var opset: Int
    public var irVersion: Int
    public var checker: CheckerStatus

    /// Bytes on disk, model plus sidecar.
    public var bytes: Int { modelBytes + externalDataBytes }
}

/// Failure injection for tests: `failAfterBytes` makes the write fail once that many bytes
/// (model and sidecar together) have been written.
struct ExportWriteHooks: Sendable {
    var failAfterBytes: Int?
}

/// Protobuf's message limit; initializers above it must be external.
let protobufMessageLimit = 2 << 30
/// Tensors at least this large move to the sidecar when data goes external.
let externalTensorThreshold = 1024
/// Sidecar offsets are multiples of this (page size; lets runtimes map tensors in place).
let externalDataAlignment = 4096

/// Exports `graph` to `path` (ONNX protobuf), atomically.
///
/// - The model is lowered as `makeModel` does; with `options.runChecker`, libonnx checks it
///   and its inferred shapes must agree with the export's before the model file is written
///   (a rejection leaves no file).
/// - External data (`ExternalDataPolicy`): tensors of ≥ 1 KiB go to `<file name>.data` next
///   to the model, at 4096-aligned offsets in initializer order, referenced by
///   `data_location = EXTERNAL` with `location`, `offset`, `length` entries.
/// - Files are written to temporary names in the destination directory and renamed into
///   place; on any failure the temporary files are removed and no destination file is
///   created or changed.
/// - Equal graphs and options give byte-identical files.
@discardableResult
public func writeModel(_ graph: Graph, to path: String, options: ExportOptions = ExportOptions()) throws -> ExportReport {
    try writeModel(graph, to: path, options: options, hooks: ExportWriteHooks())
}

@discardableResult
func writeModel(_ graph: Graph, to path: String, options: ExportOptions, hooks: ExportWriteHooks) throws -> ExportReport {
    let plan = try planModelFile(graph, path: path, options: options)
    let (checker, modelBytes) = try commitModelFile(plan, options: options, hooks: hooks)
    return ExportReport(path: path, externalDataPath: plan.sidecar.isEmpty ? nil : plan.sidecarPath,
                        nodeCount: plan.model.graph.node.count, modelBytes: modelBytes,
                        externalDataBytes: plan.sidecar.isEmpty ? 0 : plan.sidecarLength, opset: options.opset,
                        irVersion: Int(plan.model.irVersion), checker: checker)
}

/// What `writeModel` writes: the model with every initializer either inline (`raw_data`) or
/// referring to its place in the sidecar, and the sidecar's layout.
struct ModelFilePlan {
    var path: String
    var model: Onnx_ModelProto
    var sidecarName: String
    var sidecarPath: String
    /// Tensors in the sidecar at their (4096-aligned, increasing) offsets; empty: no sidecar.
    var sidecar: [(offset: Int, tensor: Tensor)] = []
    /// Sidecar bytes: the end of its last tensor.
    var sidecarLength = 0
    /// Per initializer (in `model.graph.initializer` order): the tensor whose bytes are its
    /// inline `raw_data`, written by `StreamedModel` from tensor memory; nil when external.
    var inline: [Tensor?] = []
}

/// Lowers `graph` and places its initializers: in the sidecar when the external-data policy
/// says so and the tensor has at least `externalTensorThreshold` bytes, else inline. Touches
/// no file.
func planModelFile(_ graph: Graph, path: String, options: ExportOptions) throws -> ModelFilePlan {
    let output: OutputPath
    do { output = try OutputPath(path) } catch { throw ExportError(error.description) }
    let lowered = try lowerModel(graph, options: options)
    let external = try usesExternalData(initializerBytes: lowered.initializerBytes, policy: options.externalData)
    let sidecarName = output.name + ".data"
    var plan = ModelFilePlan(path: path, model: lowered.model, sidecarName: sidecarName,
                             sidecarPath: output.sibling(sidecarName))
    for (name, tensor) in lowered.initializers {
        var proto = exportTensorHeader(name, tensor)
        if external, tensor.byteCount >= externalTensorThreshold {
            let offset = (plan.sidecarLength + externalDataAlignment - 1) / externalDataAlignment * externalDataAlignment
            proto.dataLocation = .external
            proto.externalData = [("location", sidecarName), ("offset", String(offset)), ("length", String(tensor.byteCount))]
                .map { key, value in
                    var entry = Onnx_StringStringEntryProto()
                    entry.key = key
                    entry.value = value
                    return entry
                }
            plan.sidecar.append((offset, tensor))
            plan.sidecarLength = offset + tensor.byteCount
            plan.inline.append(nil)
        } else {
            plan.inline.append(tensor)
        }
        plan.model.graph.initializer.append(proto)
    }
    return plan
}

/// Whether tensor data goes to a sidecar under `policy`, for initializers of `bytes` in total.
private func usesExternalData(initializerBytes total: Int, policy: ExternalDataPolicy) throws -> Bool {
    switch policy {
    case .always: return true
    case .automatic: return total > protobufMessageLimit
    case .never:
        guard total <= protobufMessageLimit else {
            throw ExportError("initializers total \(total) bytes, over protobuf's 2 GiB limit; export with external data")
        }
        return false
    }
}

/// Writes `plan` to temporary files (the model streamed, raw data straight from the
/// tensors), runs libonnx on the finished files, and renames the sidecar, then the model, into
/// place. Returns the checker's verdict and the model file's size. On any failure the
/// temporary files are removed and no destination is created or changed (a model rename that
/// fails after the sidecar's removes the new sidecar).
private func commitModelFile(_ plan: ModelFilePlan, options: ExportOptions,
                             hooks: ExportWriteHooks) throws -> (CheckerStatus, Int) {
    var budget = WriteBudget(remaining: hooks.failAfterBytes)
    var sidecarFile: AtomicFile?
    var modelFile: AtomicFile?
    do {
        if !plan.sidecar.isEmpty {
            let file = try AtomicFile(destination: plan.sidecarPath)
            sidecarFile = file
            try writeSidecar(plan.sidecar, to: file, budget: &budget)
        }
        let streamed = try StreamedModel(model: plan.model, inline: plan.inline)
        let file = try AtomicFile(destination: plan.path)
        modelFile = file
        try streamed.write { try budget.write($0, to: file) }
        try file.finish()
        let checker = try runLibONNX(on: checkerModel(plan, streamed, modelTemporaryPath: file.temporaryPath,
                                                      sidecarTemporaryPath: sidecarFile?.temporaryPath),
                                     options: options)
        if let sidecarFile { try sidecarFile.commit() }
        do {
            try file.commit()
        } catch {
            if sidecarFile != nil { unlink(plan.sidecarPath) }
            throw error
        }
        return (checker, streamed.byteCount)
    } catch {
        modelFile?.discard()
        sidecarFile?.discard()
        if let error = error as? FileWriteError { throw ExportError(error.message) }
        throw error
    }
}

/// The model libonnx checks: the plan's, with every initializer's data referred to where it
/// lies in the finished temporary files (inline raw data of at least 1 KiB in the model file at
/// its offset, sidecar tensors in the sidecar), so the checker and shape inference see the
/// structure and every shape without a copy of the weights.
private func checkerModel(_ plan: ModelFilePlan, _ streamed: StreamedModel, modelTemporaryPath: String,
                          sidecarTemporaryPath: String?) -> Onnx_ModelProto {
    func absolute(_ path: String) -> String {
        path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
    }
    var model = plan.model
    for i in model.graph.initializer.indices {
        if let tensor = plan.inline[i] {
            // Shape inference reads the data of shape-carrying inputs (Reshape's shape, Slice's
            // starts, Resize's scales, …): small tensors stay inline, as in the sidecar rule.
            guard tensor.byteCount >= externalTensorThreshold else {
                model.graph.initializer[i].rawData = exportRawData(tensor)
                continue
            }
            model.graph.initializer[i].dataLocation = .external
            model.graph.initializer[i].externalData = [
                ("location", absolute(modelTemporaryPath)), ("offset", String(streamed.rawDataOffsets[i])),
                ("length", String(tensor.byteCount)),
            ].map { key, value in
                var entry = Onnx_StringStringEntryProto()
                entry.key = key
                entry.value = value
                return entry
            }
        } else if let sidecar = sidecarTemporaryPath {
            for j in model.graph.initializer[i].externalData.indices where model.graph.initializer[i].externalData[j].key == "location" {
                model.graph.initializer[i].externalData[j].value = absolute(sidecar)
            }
        }
    }
    return model
}

/// Writes the sidecar's tensors at their offsets (zero padding between them), then finishes it.
private func writeSidecar(_ layout: [(offset: Int, tensor: Tensor)], to file: AtomicFile, budget: inout WriteBudget) throws {
    var position = 0
    for (offset, tensor) in layout {
        if offset > position {
            try budget.spend(offset - position)
            try file.writeZeros(offset - position)
        }
        #if _endian(big)
        let data = exportRawData(tensor)
        try data.withUnsafeBytes { try budget.write($0, to: file) }
        #else
        try budget.write(tensor.rawBytes, to: file)
        #endif
        position = offset + tensor.byteCount
    }
    try file.finish()
}

/// Runs libonnx's checker and strict shape inference on `model` (see `checkerModel`).
private func runLibONNX(on model: Onnx_ModelProto, options: ExportOptions) throws -> CheckerStatus {
    guard options.runChecker else { return .skipped(reason: "checker disabled") }
    if let reason = LibONNX.skipReason(for: model) { return .skipped(reason: reason) }
    do {
        guard try checkWithLibONNX(model) != nil else { return .skipped(reason: "libonnx does not know the model's IR/opset") }
        return .passed(valuesCompared: model.graph.valueInfo.count + model.graph.output.count)
    } catch let error as LibONNXError {
        throw ExportError("libonnx rejects the exported model: \(error.message)")
    }
}

/// Counts written bytes against an optional limit (test failure injection).
struct WriteBudget {
    var remaining: Int?

    mutating func spend(_ n: Int) throws(ExportError) {
        guard let r = remaining else { return }
        if n > r { throw ExportError("write failed: injected failure after \(r) more bytes") }
        remaining = r - n
    }

    /// Spends `bytes.count`, then appends `bytes` to `file`.
    mutating func write(_ bytes: UnsafeRawBufferPointer, to file: AtomicFile) throws {
        try spend(bytes.count)
        try file.write(bytes)
    }
}

extension ExportReport: CustomStringConvertible {
    /// One line: `<path>: opset N (IR N), N nodes, N bytes[ + N bytes external data], checker <status>`.
    public var description: String {
        let data = externalDataPath.map { " + \(externalDataBytes) bytes in \(($0 as NSString).lastPathComponent)" } ?? ""
        return "\(path): opset \(opset) (IR \(irVersion)), \(nodeCount) nodes, \(modelBytes) bytes\(data), checker \(checker)"
    }
}
