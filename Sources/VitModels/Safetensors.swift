import Foundation
import VitIR

// The safetensors format (huggingface/safetensors, "Format" section of its README):
//   bytes 0..<8        N, the header length, unsigned 64-bit little endian
//   bytes 8..<8+N      a UTF-8 JSON object: tensor name → {"dtype", "shape", "data_offsets":
//                      [begin, end]}, plus an optional "__metadata__" object of strings
//   bytes 8+N..<EOF    the data buffer; offsets are relative to its start, row-major,
//                      little endian
// Every entry is validated before any tensor is handed out, so a corrupt or truncated file is
// one clear `SafetensorsError`, never an out-of-bounds read.

/// One tensor's entry in a safetensors header.
public struct SafetensorsEntry: Sendable, Equatable {
    /// The dtype as the file spells it (`F32`, `BF16`, …).
    public var dtype: String
    public var shape: [Int]
    /// Byte range inside the data buffer.
    public var begin: Int
    public var end: Int
}

/// A safetensors file that cannot be read, with every problem found in its header.
public struct SafetensorsError: ProblemListing, Equatable {
    public var path: String
    public var problems: [String]
    public init(path: String, problems: [String]) { self.path = path; self.problems = problems }
    public func description(limit: Int?) -> String {
        problems.count == 1 ? "\(path): not a valid safetensors file: \(problems[0])"
            : "\(path): not a valid safetensors file (\(problems.count) problems):\n"
                + ProblemList.abbreviated(problems.map { "  - " + $0 }, limit: limit).joined(separator: "\n")
    }
}

/// A memory-mapped safetensors file. Tensors are views into the mapping (copied only when a
/// tensor's bytes are not aligned to its element size).
public struct SafetensorsFile: Sendable {
    public let path: String
    /// Entries by tensor name.
    public let entries: [String: SafetensorsEntry]
    /// The header's `__metadata__` strings.
    public let metadata: [String: String]
    let storage: TensorStorage
    /// Byte offset of the data buffer in the file.
    let dataStart: Int

    /// Largest header accepted, as the reference implementation (100 MB).
    static let maxHeaderBytes = InputLimits.safetensorsHeaderBytes

    /// Element sizes of the dtypes the format defines; only those mapping to a `DType` can be
    /// read as tensors, the rest are validated and reported when asked for.
    static let elementSizes: [String: Int] = [
        "BOOL": 1, "U8": 1, "I8": 1, "F8_E5M2": 1, "F8_E4M3": 1, "I16": 2, "U16": 2, "F16": 2, "BF16": 2,
        "I32": 4, "U32": 4, "F32": 4, "F64": 8, "I64": 8, "U64": 8,
    ]
    static let dtypes: [String: DType] = [
        "F32": .float32, "F16": .float16, "BF16": .bfloat16, "I64": .int64, "I32": .int32, "U8": .uint8, "BOOL": .bool,
    ]

    /// Maps and validates the file at `path`.
    public init(path: String) throws {
        let storage: TensorStorage
        do { storage = try TensorStorage.map(path: path) } catch {
            throw SafetensorsError(path: path, problems: [error.reason])
        }
        try self.init(storage: storage, path: path)
    }

    init(storage: TensorStorage, path: String) throws {
        self.path = path
        self.storage = storage
        let size = storage.byteCount
        guard size >= 8 else {
            throw SafetensorsError(path: path, problems: ["file is \(size) bytes; it must start with an 8-byte header length"])
        }
        var n: UInt64 = 0
        for k in 0..<8 { n |= UInt64(storage.base.load(fromByteOffset: k, as: UInt8.self)) << (8 * UInt64(k)) }
        guard n <= UInt64(Self.maxHeaderBytes) else {
            throw SafetensorsError(path: path, problems: ["header length \(n) exceeds the format's limit of \(Self.maxHeaderBytes) bytes"])
        }
        guard Int(n) <= size - 8 else {
            throw SafetensorsError(path: path, problems: ["header length \(n) runs past the end of the \(size)-byte file (truncated?)"])
        }
        let headerBytes = Data(bytes: storage.base + 8, count: Int(n))
        dataStart = 8 + Int(n)
        let (entries, metadata) = try Self.parseHeader(headerBytes, dataBytes: size - dataStart, path: path)
        self.entries = entries
        self.metadata = metadata
    }

    static func parseHeader(_ bytes: Data, dataBytes: Int, path: String) throws
        -> ([String: SafetensorsEntry], [String: String]) {
        let json: JSONValue
        do { json = try JSONValue.parse(bytes) } catch {
            throw SafetensorsError(path: path, problems: ["header is not valid JSON: \(error)"])
        }
        guard case .object(let object) = json else {
            throw SafetensorsError(path: path, problems: ["header is \(json.summary), expected a JSON object"])
        }
        var problems: [String] = []
        var entries: [String: SafetensorsEntry] = [:]
        var metadata: [String: String] = [:]
        for key in object.keys.sorted() {
            let value = object[key]!
            if key == "__metadata__" {
                guard case .object(let m) = value else { problems.append("__metadata__ is \(value.summary), expected an object of strings"); continue }
                for (k, v) in m {
                    if case .string(let s) = v { metadata[k] = s } else { problems.append("__metadata__.\(k) is \(v.summary), expected a string") }
                }
                continue
            }
            switch parseEntry(value, dataBytes: dataBytes) {
            case .success(let e): entries[key] = e
            case .failure(let message): problems.append("\(key): \(message.text)")
            }
        }
        // Entries must not overlap (the format stores each tensor once, back to back).
        let ordered = entries.sorted { ($0.value.begin, $0.key) < ($1.value.begin, $1.key) }
        for (a, b) in zip(ordered, ordered.dropFirst()) where b.value.begin < a.value.end {
            problems.append("\(b.key): data [\(b.value.begin), \(b.value.end)) overlaps \(a.key) [\(a.value.begin), \(a.value.end))")
        }
        if !problems.isEmpty { throw SafetensorsError(path: path, problems: problems) }
        return (entries, metadata)
    }

    struct Message: Error { var text: String }

    static func parseEntry(_ value: JSONValue, dataBytes: Int) -> Result<SafetensorsEntry, Message> {
        func int(_ v: JSONValue) -> Int? {
            guard case .number(let d) = v, d.rounded() == d, d >= 0, d < 9.0e15 else { return nil }
            return Int(d)
        }
        guard case .object(let o) = value else { return .failure(Message(text: "entry is \(value.summary), expected an object")) }
        guard case .string(let dtype)? = o["dtype"] else { return .failure(Message(text: "missing string \"dtype\"")) }
        guard let elementSize = elementSizes[dtype] else {
            return .failure(Message(text: "unknown dtype \"\(dtype)\" (known: \(elementSizes.keys.sorted().joined(separator: ", ")))"))
        }
        guard case .array(let dims)? = o["shape"] else { return .failure(Message(text: "missing array \"shape\"")) }
        let shape = dims.compactMap(int)
        guard shape.count == dims.count else { return .failure(Message(text: "shape must hold non-negative integers")) }
        guard case .array(let offs)? = o["data_offsets"], offs.count == 2, let begin = int(offs[0]), let end = int(offs[1]) else {
            return .failure(Message(text: "\"data_offsets\" must be [begin, end] of non-negative integers"))
        }
        guard begin <= end else { return .failure(Message(text: "data_offsets [\(begin), \(end)] has begin > end")) }
        guard end <= dataBytes else {
            return .failure(Message(text: "data_offsets end \(end) is past the data buffer of \(dataBytes) bytes (truncated?)"))
        }
        var bytes = elementSize
        for d in shape {
            let (p, overflow) = bytes.multipliedReportingOverflow(by: d)
            guard !overflow else { return .failure(Message(text: "shape \(shape) is too large")) }
            bytes = p
        }
        guard bytes == end - begin else {
            return .failure(Message(text: "shape \(shape) of \(dtype) needs \(bytes) bytes but data_offsets span \(end - begin)"))
        }
        return .success(SafetensorsEntry(dtype: dtype, shape: shape, begin: begin, end: end))
    }

    /// Tensor names, sorted.
    public var names: [String] { entries.keys.sorted() }

    /// The tensor `name` in its stored dtype: a view into the mapping when its bytes are aligned
    /// to the element size, a copy otherwise.
    public func tensor(named name: String) throws -> Tensor {
        guard let e = entries[name] else {
            throw SafetensorsError(path: path, problems: ["no tensor named \"\(name)\""])
        }
        guard let dtype = Self.dtypes[e.dtype] else {
            throw SafetensorsError(path: path, problems: ["\(name): dtype \(e.dtype) is not supported (supported: \(Self.dtypes.keys.sorted().joined(separator: ", ")))"])
        }
        let offset = dataStart + e.begin
        if offset % dtype.byteSize == 0 {
            do { return try Tensor(dtype: dtype, shape: e.shape, storage: storage, offset: offset) } catch {
                throw SafetensorsError(path: path, problems: ["\(name): \(error.reason)"])
            }
        }
        let source = storage.base + offset
        return Tensor(dtype: dtype, shape: e.shape) { raw in
            if raw.count > 0 { raw.baseAddress!.copyMemory(from: source, byteCount: raw.count) }
        }
    }

    /// The tensor `name` converted to float32 (float32 is returned as stored, float16 and
    /// bfloat16 are widened exactly). Other dtypes throw.
    public func float32Tensor(named name: String) throws -> Tensor {
        let t = try tensor(named: name)
        return try float32(t, name: name, path: path)
    }
}

/// `t` as float32: unchanged when it already is, widened exactly from float16/bfloat16.
func float32(_ t: Tensor, name: String, path: String) throws -> Tensor {
    switch t.dtype {
    case .float32: return t
    case .float16, .bfloat16: return Tensor(t.floats, shape: t.shape)
    default: throw SafetensorsError(path: path, problems: ["\(name): dtype \(t.dtype.rawValue) cannot be used as float32 weights"])
    }
}

/// Writes `tensors` as a safetensors file (names sorted, header padded with spaces to a
/// multiple of 8 so every tensor starts 8-byte aligned), replacing `path` atomically.
public func writeSafetensors(_ tensors: [String: Tensor], metadata: [String: String] = [:], to path: String) throws {
    let names = tensors.keys.sorted()
    var header: [String] = []
    if !metadata.isEmpty {
        let items = metadata.keys.sorted().map { "\(jsonStringLiteral($0)):\(jsonStringLiteral(metadata[$0]!))" }
        header.append("\"__metadata__\":{\(items.joined(separator: ","))}")
    }
    var offset = 0
    for name in names {
        let t = tensors[name]!
        let code = SafetensorsFile.dtypes.first { $0.value == t.dtype }!.key
        header.append("\(jsonStringLiteral(name)):{\"dtype\":\"\(code)\",\"shape\":[\(t.shape.map(String.init).joined(separator: ","))],\"data_offsets\":[\(offset),\(offset + t.byteCount)]}")
        offset += t.byteCount
    }
    var json = Array(("{" + header.joined(separator: ",") + "}").utf8)
    while json.count % 8 != 0 { json.append(0x20) }
    var data = Data(capacity: 8 + json.count + offset)
    var n = UInt64(json.count).littleEndian
    withUnsafeBytes(of: &n) { data.append(contentsOf: $0) }
    data.append(contentsOf: json)
    for name in names { data.append(contentsOf: tensors[name]!.rawBytes) }
    try data.withUnsafeBytes { try writeFileAtomically($0, to: path) }
}
