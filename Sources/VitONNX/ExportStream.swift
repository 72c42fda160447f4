import Foundation
import ONNXProto
import VitIR

/// A model file laid out for streaming: every byte but the inline initializers' `raw_data`
/// comes from swift-protobuf's serializer, and the raw data is written straight from tensor
/// memory, so exporting holds no second copy of the weights.
///
/// Protobuf serializes a message's fields in field-number order, and a message with a subset
/// of its fields set serializes to exactly those fields' encodings. So the model without its
/// graph splits at field 7 (`graph`), the graph without its initializers at field 5
/// (`initializer`), and each initializer is its header (dims 1, data_type 2, name 8, and for
/// external data 13/14) with `raw_data` (field 9) placed by field order. The file equals
/// `serializedBytes()` of the fully materialized model byte for byte (a test checks it).
struct StreamedModel {
    /// One initializer: its encoded bytes up to the raw data, the tensor whose bytes follow
    /// (nil: external, nothing follows), and its encoded bytes after the raw data.
    struct Entry {
        var prefix: [UInt8]
        var tensor: Tensor?
        var suffix: [UInt8]
    }

    var head: [UInt8] = []
    var entries: [Entry] = []
    var tail: [UInt8] = []
    /// Total file size.
    var byteCount = 0
    /// File offset of each inline initializer's raw data, by initializer index.
    var rawDataOffsets: [Int] = []

    /// `model` with `graph.initializer` holding headers only (inline ones without raw data,
    /// external ones complete); `inline[i]` is initializer i's tensor when its data is inline.
    init(model: Onnx_ModelProto, inline: [Tensor?]) throws {
        var bare = model
        bare.graph.initializer = []
        var shell = bare
        shell.clearGraph()
        let modelBytes: [UInt8] = try shell.serializedBytes()
        let modelSplit = try Wire.firstField(after: 7, in: modelBytes)
        let graphBytes: [UInt8] = try bare.graph.serializedBytes()
        let graphSplit = try Wire.firstField(after: 5, in: graphBytes)

        var graphLength = graphBytes.count
        for (proto, tensor) in zip(model.graph.initializer, inline) {
            var entry = Entry(prefix: [], tensor: tensor, suffix: [])
            let header: [UInt8] = try proto.serializedBytes()
            var body = header
            var rawLength = 0
            if let tensor {
                let rawSplit = try Wire.firstField(after: 9, in: header)
                entry.suffix = Array(header[rawSplit...])
                body = Array(header[..<rawSplit]) + Wire.tag(field: 9) + Wire.varint(UInt64(tensor.byteCount))
                rawLength = tensor.byteCount
            }
            let entryLength = body.count + rawLength + entry.suffix.count
            entry.prefix = Wire.tag(field: 5) + Wire.varint(UInt64(entryLength)) + body
            graphLength += entry.prefix.count + rawLength + entry.suffix.count
            entries.append(entry)
        }
        head = Array(modelBytes[..<modelSplit]) + Wire.tag(field: 7) + Wire.varint(UInt64(graphLength))
            + Array(graphBytes[..<graphSplit])
        tail = Array(graphBytes[graphSplit...]) + Array(modelBytes[modelSplit...])

        var position = head.count
        for entry in entries {
            position += entry.prefix.count
            rawDataOffsets.append(position)
            position += (entry.tensor?.byteCount ?? 0) + entry.suffix.count
        }
        byteCount = position + tail.count
    }

    /// Writes the file through `write`, raw data straight from each tensor.
    func write(_ write: (UnsafeRawBufferPointer) throws -> Void) throws {
        try head.withUnsafeBytes(write)
        for entry in entries {
            try entry.prefix.withUnsafeBytes(write)
            if let tensor = entry.tensor {
                #if _endian(big)
                try exportRawData(tensor).withUnsafeBytes(write)
                #else
                try write(tensor.rawBytes)
                #endif
            }
            try entry.suffix.withUnsafeBytes(write)
        }
        try tail.withUnsafeBytes(write)
    }
}

/// The few protobuf wire-format facts streaming needs.
enum Wire {
    /// A length-delimited field's tag (wire type 2).
    static func tag(field: Int) -> [UInt8] { varint(UInt64(field << 3 | 2)) }

    static func varint(_ value: UInt64) -> [UInt8] {
        var v = value, out: [UInt8] = []
        while v >= 0x80 { out.append(UInt8(v & 0x7f) | 0x80); v >>= 7 }
        out.append(UInt8(v))
        return out
    }

    /// The offset of the first top-level field numbered above `field` in a serialized message
    /// (its length when there is none). The bytes come from swift-protobuf, so they are
    /// well formed; a malformed one is still an error rather than a trap.
    static func firstField(after field: Int, in bytes: [UInt8]) throws -> Int {
        var i = 0
        func readVarint() throws -> UInt64 {
            var result: UInt64 = 0, shift: UInt64 = 0
            while i < bytes.count, shift < 64 {
                let b = bytes[i]
                i += 1
                result |= UInt64(b & 0x7f) << shift
                if b & 0x80 == 0 { return result }
                shift += 7
            }
            throw ExportError("internal: malformed protobuf varint while streaming the model")
        }
        while i < bytes.count {
            let start = i
            let key = try readVarint()
            if Int(key >> 3) > field { return start }
            let skip: UInt64
            switch key & 7 {
            case 0: _ = try readVarint(); skip = 0
            case 1: skip = 8
            case 2: skip = try readVarint()
            case 5: skip = 4
            default: throw ExportError("internal: unexpected protobuf wire type while streaming the model")
            }
            guard skip <= UInt64(bytes.count - i) else { throw ExportError("internal: truncated protobuf field while streaming the model") }
            i += Int(skip)
        }
        return bytes.count
    }
}
