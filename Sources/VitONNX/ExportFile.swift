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
    let lowered = try lowerModel(graph, options: options)
    let total = lowered.initializerBytes
    let external: Bool
    switch options.externalData {
    case .always: external = true
    case .automatic: external = total > protobufMessageLimit
    case .never:
        guard total <= protobufMessageLimit else {
            throw ExportError("initializers total \(total) bytes, over protobuf's 2 GiB limit; export with external data")
        }
        external = false
    }

    let sidecarName = (path as NSString).lastPathComponent + ".data"
    let sidecarPath = ((path as NSString).deletingLastPathComponent as NSString).appendingPathComponent(sidecarName)
    var model = lowered.model
    var sidecarPlan: [(offset: Int, tensor: Tensor)] = []
    var sidecarLength = 0
    for (name, tensor) in lowered.initializers {
        var proto = exportTensorHeader(name, tensor)
        if external, tensor.byteCount >= externalTensorThreshold {
            let offset = (sidecarLength + externalDataAlignment - 1) / externalDataAlignment * externalDataAlignment
            proto.dataLocation = .external
            proto.externalData = [("location", sidecarName), ("offset", String(offset)), ("length", String(tensor.byteCount))]
                .map { key, value in
                    var entry = Onnx_StringStringEntryProto()
                    entry.key = key
                    entry.value = value
                    return entry
                }
            sidecarPlan.append((offset, tensor))
            sidecarLength = offset + tensor.byteCount
        } else {
            proto.rawData = exportRawData(tensor)
        }
        model.graph.initializer.append(proto)
    }

    var budget = WriteBudget(remaining: hooks.failAfterBytes)
    var sidecarFile: TemporaryFile?
    var modelFile: TemporaryFile?
    let checker: CheckerStatus
    let modelBytes: [UInt8]
    do {
        if !sidecarPlan.isEmpty {
            let file = try TemporaryFile(destination: sidecarPath)
            sidecarFile = file
            var position = 0
            for (offset, tensor) in sidecarPlan {
                if offset > position { try file.writeZeros(offset - position, budget: &budget) }
                #if _endian(big)
                let data = exportRawData(tensor)
                try data.withUnsafeBytes { try file.write($0, budget: &budget) }
                #else
                try file.write(tensor.rawBytes, budget: &budget)
                #endif
                position = offset + tensor.byteCount
            }
            try file.finish()
        }
        checker = try runLibONNX(on: model, sidecarTemporaryPath: sidecarFile?.temporaryPath, options: options)
        modelBytes = try model.serializedBytes()
        let file = try TemporaryFile(destination: path)
        modelFile = file
        try modelBytes.withUnsafeBytes { try file.write($0, budget: &budget) }
        try file.finish()
        if let sidecarFile { try sidecarFile.commit() }
        do {
            try file.commit()
        } catch {
            if sidecarFile != nil { unlink(sidecarPath) }
            throw error
        }
    } catch {
        modelFile?.discard()
        sidecarFile?.discard()
        throw error
    }

    return ExportReport(path: path, externalDataPath: sidecarPlan.isEmpty ? nil : sidecarPath,
                        nodeCount: model.graph.node.count, modelBytes: modelBytes.count,
                        externalDataBytes: sidecarPlan.isEmpty ? 0 : sidecarLength, opset: options.opset,
                        irVersion: Int(model.irVersion), checker: checker)
}

/// Runs libonnx on the model about to be written. With external data, `location` entries
/// are pointed at the finished temporary sidecar (absolute path), so libonnx's checker finds
/// the file; tensor contents in the sidecar are not re-read.
private func runLibONNX(on model: Onnx_ModelProto, sidecarTemporaryPath: String?,
                        options: ExportOptions) throws -> CheckerStatus {
    guard options.runChecker else { return .skipped(reason: "checker disabled") }
    if let reason = LibONNX.skipReason(for: model) { return .skipped(reason: reason) }
    var checked = model
    if let temporary = sidecarTemporaryPath {
        let absolute = temporary.hasPrefix("/") ? temporary : FileManager.default.currentDirectoryPath + "/" + temporary
        for i in checked.graph.initializer.indices where checked.graph.initializer[i].dataLocation == .external {
            for j in checked.graph.initializer[i].externalData.indices
            where checked.graph.initializer[i].externalData[j].key == "location" {
                checked.graph.initializer[i].externalData[j].value = absolute
            }
        }
    }
    do {
        guard try checkWithLibONNX(checked) != nil else { return .skipped(reason: "libonnx does not know the model's IR/opset") }
        return .passed(valuesCompared: checked.graph.valueInfo.count + checked.graph.output.count)
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
}

/// A file created under a temporary name beside its destination (`.<name>.tmp-XXXXXX`) and
/// renamed onto it by `commit`.
final class TemporaryFile {
    let destination: String
    let temporaryPath: String
    private var descriptor: Int32

    init(destination: String) throws(ExportError) {
        let directory = (destination as NSString).deletingLastPathComponent
        let name = (destination as NSString).lastPathComponent
        let template = (directory.isEmpty ? "." : directory) + "/.\(name).tmp-XXXXXX"
        var buffer = Array(template.utf8CString)
        let fd = buffer.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else {
            throw ExportError("cannot create a temporary file for \(destination): \(String(cString: strerror(errno)))")
        }
        descriptor = fd
        temporaryPath = String(decoding: buffer.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
        self.destination = destination
        fchmod(fd, 0o644)
    }

    func write(_ bytes: UnsafeRawBufferPointer, budget: inout WriteBudget) throws(ExportError) {
        var offset = 0
        while offset < bytes.count {
            let chunk = min(bytes.count - offset, 1 << 24)
            try budget.spend(chunk)
            let n = posixWrite(descriptor, bytes.baseAddress! + offset, chunk)
            if n < 0 {
                if errno == EINTR { continue }
                throw ExportError("cannot write \(temporaryPath): \(String(cString: strerror(errno)))")
            }
            offset += n
        }
    }

    func writeZeros(_ count: Int, budget: inout WriteBudget) throws(ExportError) {
        let zeros = UnsafeMutableRawBufferPointer.allocate(byteCount: count, alignment: 1)
        defer { zeros.deallocate() }
        zeros.initializeMemory(as: UInt8.self, repeating: 0)
        try write(UnsafeRawBufferPointer(zeros), budget: &budget)
    }

    /// Flushes to disk and closes the descriptor.
    func finish() throws(ExportError) {
        guard descriptor >= 0 else { return }
        let synced = fsync(descriptor) == 0
        let syncError = errno
        let closed = close(descriptor) == 0
        descriptor = -1
        guard synced, closed else {
            throw ExportError("cannot finish \(temporaryPath): \(String(cString: strerror(synced ? errno : syncError)))")
        }
    }

    /// Renames the finished temporary file onto the destination.
    func commit() throws(ExportError) {
        guard rename(temporaryPath, destination) == 0 else {
            throw ExportError("cannot rename \(temporaryPath) to \(destination): \(String(cString: strerror(errno)))")
        }
    }

    /// Closes (if open) and removes the temporary file.
    func discard() {
        if descriptor >= 0 { close(descriptor); descriptor = -1 }
        unlink(temporaryPath)
    }
}

private func posixWrite(_ fd: Int32, _ bytes: UnsafeRawPointer, _ count: Int) -> Int {
    #if canImport(Glibc)
    Glibc.write(fd, bytes, count)
    #else
    Darwin.write(fd, bytes, count)
    #endif
}

extension ExportReport: CustomStringConvertible {
    /// One line: `<path>: opset N (IR N), N nodes, N bytes[ + N bytes external data], checker <status>`.
    public var description: String {
        let data = externalDataPath.map { " + \(externalDataBytes) bytes in \(($0 as NSString).lastPathComponent)" } ?? ""
        return "\(path): opset \(opset) (IR \(irVersion)), \(nodeCount) nodes, \(modelBytes) bytes\(data), checker \(checker)"
    }
}
