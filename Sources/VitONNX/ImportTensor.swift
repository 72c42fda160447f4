#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif
import ONNXProto
import VitIR

/// A model the importer cannot represent faithfully: names what (a node with its op type, an
/// initializer, a graph input) and why. Import never guesses; anything it cannot map exactly
/// is one of these.
public struct ImportError: Error, CustomStringConvertible, Sendable {
    /// What was being imported: `node 'conv1' (Conv)`, `initializer 'w'`, `graph input 'x'`, `model`.
    public var subject: String
    public var message: String

    public init(subject: String, message: String) { self.subject = subject; self.message = message }

    public var description: String { "\(subject): \(message)" }
}

/// The ONNX spelling of a data type code (`DOUBLE`, `STRING`, …) for error messages.
func importTypeName(_ code: Int32) -> String {
    guard let t = Onnx_TensorProto.DataType(rawValue: Int(code)) else { return "data type \(code)" }
    let names: [Onnx_TensorProto.DataType: String] = [
        .undefined: "UNDEFINED", .float: "FLOAT", .uint8: "UINT8", .int8: "INT8", .uint16: "UINT16",
        .int16: "INT16", .int32: "INT32", .int64: "INT64", .string: "STRING", .bool: "BOOL",
        .float16: "FLOAT16", .double: "DOUBLE", .uint32: "UINT32", .uint64: "UINT64",
        .complex64: "COMPLEX64", .complex128: "COMPLEX128", .bfloat16: "BFLOAT16",
    ]
    return names[t] ?? "\(t)".uppercased()
}

/// Maps external-data files once per import and hands out views into them.
final class ImportExternalFiles {
    let baseDirectory: String?
    private var mapped: [String: TensorStorage] = [:]

    init(baseDirectory: String?) { self.baseDirectory = baseDirectory }

    /// The mapping of `location`, a path relative to the model's directory that must stay inside
    /// it (ONNX's checker rejects absolute paths and `..` components the same way).
    func storage(location: String, subject: String) throws(ImportError) -> TensorStorage {
        guard let baseDirectory else {
            throw ImportError(subject: subject, message: "external data '\(location)' needs the model's directory (none given)")
        }
        let parts = location.split(separator: "/", omittingEmptySubsequences: true)
        guard !location.hasPrefix("/"), !parts.isEmpty, !parts.contains("..") else {
            throw ImportError(subject: subject, message: "external data location '\(location)' must be a relative path inside the model directory")
        }
        let directory = baseDirectory.isEmpty ? "." : baseDirectory
        let path = try confinedPath(directory + "/" + parts.joined(separator: "/"), inside: directory,
                                    location: location, subject: subject)
        if let s = mapped[path] { return s }
        do {
            let s = try TensorStorage.map(path: path)
            mapped[path] = s
            return s
        } catch {
            throw ImportError(subject: subject, message: "external data: \(error)")
        }
    }
}

/// The real path of `path` (every symlink resolved) when it lies inside the real path of
/// `directory`; otherwise an error. A symlink pointing outside the model's directory would
/// otherwise load a system file's bytes as weights.
private func confinedPath(_ path: String, inside directory: String, location: String,
                          subject: String) throws(ImportError) -> String {
    func real(_ p: String) -> String? {
        guard let r = realpath(p, nil) else { return nil }
        defer { free(r) }
        return String(cString: r)
    }
    guard let root = real(directory) else {
        throw ImportError(subject: subject, message: "model directory '\(directory)' cannot be resolved: \(String(cString: strerror(errno)))")
    }
    guard let resolved = real(path) else {
        throw ImportError(subject: subject, message: "external data '\(location)' cannot be opened: \(String(cString: strerror(errno)))")
    }
    let prefix = root.hasSuffix("/") ? root : root + "/"
    guard resolved.hasPrefix(prefix) else {
        throw ImportError(subject: subject, message: "external data '\(location)' resolves to '\(resolved)', outside the model directory '\(root)'")
    }
    return resolved
}

/// Converts one ONNX `TensorProto` to a tensor.
///
/// Data comes from `raw_data` (little-endian, as ONNX specifies), the typed fields
/// (`float_data`, `int64_data`, `int32_data` — which also carries float16/bfloat16 bits and
/// uint8/int8/bool values, one per entry), or external data (`location`/`offset`/`length` relative to
/// `baseDirectory`, bounds-checked, memory-mapped). Dtypes outside the IR's set (DOUBLE, STRING,
/// INT16, …) and `segment`ed tensors are errors naming the tensor.
public func importTensor(_ proto: Onnx_TensorProto, baseDirectory: String? = nil) throws(ImportError) -> Tensor {
    try importTensor(proto, subject: "tensor '\(proto.name)'", files: ImportExternalFiles(baseDirectory: baseDirectory))
}

func importTensor(_ proto: Onnx_TensorProto, subject: String, files: ImportExternalFiles) throws(ImportError) -> Tensor {
    guard let dt = DType(onnxDataType: proto.dataType) else {
        throw ImportError(subject: subject, message: "dtype \(importTypeName(proto.dataType)) unsupported (the IR has float32, float16, bfloat16, int64, int32, uint8, int8, bool)")
    }
    guard !proto.hasSegment else { throw ImportError(subject: subject, message: "segmented tensors unsupported") }
    guard proto.dims.allSatisfy({ $0 >= 0 && $0 <= Int64(Int32.max) }) else {
        throw ImportError(subject: subject, message: "invalid dims \(proto.dims)")
    }
    let shape = proto.dims.map { Int($0) }
    guard let count = Checked.product(shape), let byteCount = Checked.byteCount(count, dt) else {
        throw ImportError(subject: subject, message: "the byte size of \(dt.rawValue)\(shape) overflows")
    }

    if proto.dataLocation == .external {
        return try externalTensor(proto, dtype: dt, shape: shape, byteCount: byteCount, subject: subject, files: files)
    }
    if proto.hasRawData {
        let raw = proto.rawData
        guard raw.count == byteCount else {
            throw ImportError(subject: subject, message: "raw_data holds \(raw.count) bytes, \(dt.rawValue)\(shape) needs \(byteCount)")
        }
        return Tensor(dtype: dt, shape: shape) { dst in raw.withUnsafeBytes { dst.copyMemory(from: $0) } }
    }

    func checkCount(_ n: Int, _ field: String) throws(ImportError) {
        guard n == count else {
            throw ImportError(subject: subject, message: "\(field) holds \(n) values, \(dt.rawValue)\(shape) needs \(count)")
        }
    }
    if !proto.doubleData.isEmpty || !proto.uint64Data.isEmpty || !proto.stringData.isEmpty {
        throw ImportError(subject: subject, message: "data in double_data/uint64_data/string_data does not fit dtype \(dt.rawValue)")
    }
    switch dt {
    case .float32:
        try checkCount(proto.floatData.count, "float_data")
        let v = proto.floatData
        return Tensor.float32(shape) { _ = $0.initialize(from: v) }
    case .int64:
        try checkCount(proto.int64Data.count, "int64_data")
        return Tensor(proto.int64Data, shape: shape)
    case .int32:
        try checkCount(proto.int32Data.count, "int32_data")
        return Tensor(proto.int32Data, shape: shape)
    case .float16, .bfloat16:
        try checkCount(proto.int32Data.count, "int32_data")
        let v = proto.int32Data
        return Tensor(dtype: dt, shape: shape) { raw in
            let p = raw.bindMemory(to: UInt16.self)
            for i in v.indices { p[i] = UInt16(truncatingIfNeeded: v[i]) }
        }
    case .uint8, .int8, .bool:
        try checkCount(proto.int32Data.count, "int32_data")
        let v = proto.int32Data
        let isBool = dt == .bool
        return Tensor(dtype: dt, shape: shape) { raw in
            for i in v.indices { raw[i] = isBool ? (v[i] != 0 ? 1 : 0) : UInt8(truncatingIfNeeded: v[i]) }
        }
    }
}

private func externalTensor(_ proto: Onnx_TensorProto, dtype dt: DType, shape: [Int], byteCount: Int,
                            subject: String, files: ImportExternalFiles) throws(ImportError) -> Tensor {
    var location: String?
    var offset = 0
    var length: Int?
    for entry in proto.externalData {
        switch entry.key {
        case "location": location = entry.value
        case "offset":
            guard let v = Int(entry.value), v >= 0 else { throw ImportError(subject: subject, message: "external data offset '\(entry.value)' is not a non-negative integer") }
            offset = v
        case "length":
            guard let v = Int(entry.value), v >= 0 else { throw ImportError(subject: subject, message: "external data length '\(entry.value)' is not a non-negative integer") }
            length = v
        case "checksum": break  // Optional SHA1 digest; not verified.
        default: throw ImportError(subject: subject, message: "unknown external data key '\(entry.key)'")
        }
    }
    guard let location else { throw ImportError(subject: subject, message: "external data without a location") }
    if let length, length != byteCount {
        throw ImportError(subject: subject, message: "external data length \(length) does not match \(dt.rawValue)\(shape) (\(byteCount) bytes)")
    }
    let storage = try files.storage(location: location, subject: subject)
    guard offset <= storage.byteCount, byteCount <= storage.byteCount - offset else {
        throw ImportError(subject: subject, message: "external data '\(location)' is truncated: needs \(byteCount) bytes at offset \(offset), file has \(storage.byteCount)")
    }
    // A view in place when aligned for the element type; a copy otherwise (typed loads need it).
    if offset % dt.byteSize == 0 {
        do { return try Tensor(dtype: dt, shape: shape, storage: storage, offset: offset) } catch {
            throw ImportError(subject: subject, message: "external data: \(error)")
        }
    }
    return Tensor(dtype: dt, shape: shape) { dst in
        dst.copyMemory(from: UnsafeRawBufferPointer(start: storage.base + offset, count: byteCount))
    }
}

/// Decodes a serialized `TensorProto` file (the `input_0.pb` of ONNX's test data sets).
public func importTensor(path: String) throws -> Tensor {
    let url = URL(fileURLWithPath: path)
    let data = try Data(contentsOf: url)
    let proto = try Onnx_TensorProto(serializedBytes: data)
    return try importTensor(proto, baseDirectory: url.deletingLastPathComponent().path)
}
