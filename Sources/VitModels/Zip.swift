import VitIR

// A read-only reader of the zip container `torch.save` writes (PyTorchStreamWriter): every
// entry stored (method 0), its data placed in the file so it can be read in place. Layout, as
// PKWARE's APPNOTE.TXT states it:
//   local file header  "PK\3\4" … name, extra, data            (per entry)
//   central directory  "PK\1\2" entries: sizes, local header offset, name, extra
//   [zip64 end of central directory record "PK\6\6" + locator "PK\6\7"]
//   end of central directory "PK\5\6", then a comment of at most 65535 bytes
// Sizes and offsets that do not fit 32 bits are 0xFFFFFFFF in the header and held in the
// zip64 extra field (tag 0x0001), in the order size, compressed size, offset. Every number
// read goes through `Checked` and is bounds-checked against the file before it is used.

/// One stored entry: its name and where its bytes are in the file.
public struct ZipEntry: Sendable, Equatable {
    public var name: String
    /// Byte offset of the entry's data in the file.
    public var dataOffset: Int
    public var size: Int
}

/// A zip or checkpoint file that cannot be read: one line naming the file, the entry or key
/// and the problem.
public struct CheckpointReadError: Error, CustomStringConvertible, Equatable {
    public var path: String
    public var message: String
    public init(path: String, _ message: String) { self.path = path; self.message = message }
    public var description: String { "\(path): \(message)" }
}

/// The stored entries of a zip file held in `storage` (a mapping of the whole file).
public struct ZipArchive: Sendable {
    public let path: String
    let storage: TensorStorage
    /// Entries in central-directory order.
    public let entries: [ZipEntry]
    /// Entries by name.
    public let byName: [String: ZipEntry]

    public init(storage: TensorStorage, path: String) throws(CheckpointReadError) {
        self.path = path
        self.storage = storage
        let reader = ByteReader(storage: storage, path: path)
        let directory = try Self.findDirectory(reader)
        var entries: [ZipEntry] = []
        var byName: [String: ZipEntry] = [:]
        var at = directory.offset
        for index in 0..<directory.count {
            let entry = try Self.readEntry(reader, at: &at, index: index)
            guard byName[entry.name] == nil else { throw reader.error("zip entry \"\(entry.name)\" appears twice") }
            entries.append(entry)
            byName[entry.name] = entry
        }
        self.entries = entries
        self.byName = byName
    }

    /// The bytes of `entry` (a view into the mapping).
    public func bytes(of entry: ZipEntry) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: storage.base + entry.dataOffset, count: entry.size)
    }

    /// Finds the end-of-central-directory record (and its zip64 form): directory offset and
    /// entry count.
    static func findDirectory(_ r: ByteReader) throws(CheckpointReadError) -> (offset: Int, count: Int) {
        let size = r.size
        guard size >= 22 else { throw r.error("\(size) bytes is too short for a zip file (truncated?)") }
        // The record is 22 bytes plus a comment of at most 65535 bytes, at the end of the file.
        var eocd = -1
        var p = size - 22
        let lowest = max(0, size - 22 - 65535)
        while p >= lowest {
            if r.u32(p) == 0x0605_4b50, Checked.add(p + 22, Int(r.u16(p + 20))) == size { eocd = p; break }
            p -= 1
        }
        guard eocd >= 0 else { throw r.error("no zip end-of-central-directory record (truncated or not a zip file)") }
        var count = Int(r.u16(eocd + 10))
        var offset = Int(r.u32(eocd + 16))
        var dirSize = Int(r.u32(eocd + 12))
        guard r.u16(eocd + 4) == 0, r.u16(eocd + 6) == 0 else { throw r.error("multi-disk zip archives are not supported") }
        if eocd >= 20, r.u32(eocd - 20) == 0x0706_4b50 {
            let record = try r.int64(eocd - 20 + 8, "zip64 end-of-central-directory offset")
            guard let end = Checked.add(record, 56), end <= eocd - 20, r.u32(record) == 0x0606_4b50 else {
                throw r.error("zip64 end-of-central-directory locator points to \(record), where no zip64 record is")
            }
            count = try r.int64(record + 32, "zip64 entry count")
            dirSize = try r.int64(record + 40, "zip64 central directory size")
            offset = try r.int64(record + 48, "zip64 central directory offset")
        }
        guard count <= InputLimits.maxZipEntries else {
            throw r.error("zip declares \(count) entries, over the limit of \(InputLimits.maxZipEntries)")
        }
        guard let end = Checked.add(offset, dirSize), end <= eocd else {
            throw r.error("zip central directory [\(offset), +\(dirSize)) runs past its end record at \(eocd) (truncated?)")
        }
        return (offset, count)
    }

    /// Reads the central-directory entry at `at` (advanced past it) and its local header.
    static func readEntry(_ r: ByteReader, at: inout Int, index: Int) throws(CheckpointReadError) -> ZipEntry {
        guard r.has(at, 46), r.u32(at) == 0x0201_4b50 else {
            throw r.error("zip central directory entry \(index) at offset \(at) is not a valid header (truncated?)")
        }
        let flags = r.u16(at + 8), method = r.u16(at + 10)
        var compressed = Int(r.u32(at + 20)), size = Int(r.u32(at + 24))
        let nameLength = Int(r.u16(at + 28)), extraLength = Int(r.u16(at + 30)), commentLength = Int(r.u16(at + 32))
        var local = Int(r.u32(at + 42))
        guard nameLength <= InputLimits.maxNameBytes else {
            throw r.error("zip entry \(index): name of \(nameLength) bytes, over the limit of \(InputLimits.maxNameBytes)")
        }
        guard r.has(at + 46, nameLength + extraLength) else { throw r.error("zip entry \(index): name runs past the end of the file") }
        let name = r.string(at + 46, nameLength)
        // zip64 extra field: the 64-bit values of whichever fields are 0xFFFFFFFF, in order.
        var e = at + 46 + nameLength
        let extraEnd = e + extraLength
        while e + 4 <= extraEnd {
            let tag = r.u16(e), length = Int(r.u16(e + 2))
            guard e + 4 + length <= extraEnd else { throw r.error("zip entry \"\(name)\": extra field runs past its header") }
            if tag == 0x0001 {
                var q = e + 4
                for field in [0, 1, 2] where [size, compressed, local][field] == 0xFFFF_FFFF {
                    guard q + 8 <= e + 4 + length else { throw r.error("zip entry \"\(name)\": zip64 extra field is too short") }
                    let v = try r.int64(q, "zip entry \"\(name)\" zip64 value")
                    if field == 0 { size = v } else if field == 1 { compressed = v } else { local = v }
                    q += 8
                }
            }
            e += 4 + length
        }
        at = extraEnd + commentLength
        guard flags & 1 == 0 else { throw r.error("zip entry \"\(name)\" is encrypted") }
        guard method == 0 else {
            throw r.error("zip entry \"\(name)\" is compressed (method \(method)); torch.save stores entries uncompressed — re-save the checkpoint with torch.save instead of re-zipping it")
        }
        guard compressed == size else {
            throw r.error("zip entry \"\(name)\" is stored but its sizes differ (\(compressed) vs \(size))")
        }
        guard r.has(local, 30), r.u32(local) == 0x0403_4b50 else {
            throw r.error("zip entry \"\(name)\": local header offset \(local) does not hold a local header (truncated?)")
        }
        guard let data = Checked.sum([local, 30, Int(r.u16(local + 26)), Int(r.u16(local + 28))]), r.has(data, size) else {
            throw r.error("zip entry \"\(name)\": \(size) bytes of data run past the end of the \(r.size)-byte file (truncated?)")
        }
        return ZipEntry(name: name, dataOffset: data, size: size)
    }
}

/// Bounds-checked little-endian reads from a mapping; callers check `has` before reading.
struct ByteReader {
    let storage: TensorStorage
    let path: String
    var size: Int { storage.byteCount }

    func error(_ message: String) -> CheckpointReadError { CheckpointReadError(path: path, message) }

    /// Whether `count` bytes at `offset` lie inside the file.
    func has(_ offset: Int, _ count: Int) -> Bool {
        guard offset >= 0, count >= 0, let end = Checked.add(offset, count) else { return false }
        return end <= size
    }

    func u8(_ p: Int) -> UInt8 { p >= 0 && p < size ? storage.base.load(fromByteOffset: p, as: UInt8.self) : 0 }
    func u16(_ p: Int) -> UInt16 { UInt16(u8(p)) | UInt16(u8(p + 1)) << 8 }
    func u32(_ p: Int) -> UInt32 { UInt32(u16(p)) | UInt32(u16(p + 2)) << 16 }
    func u64(_ p: Int) -> UInt64 { UInt64(u32(p)) | UInt64(u32(p + 4)) << 32 }

    /// An unsigned 64-bit value that must fit in `Int`.
    func int64(_ p: Int, _ what: String) throws(CheckpointReadError) -> Int {
        guard has(p, 8) else { throw error("\(what) at \(p) runs past the end of the file (truncated?)") }
        let v = u64(p)
        guard v <= UInt64(Int.max) else { throw error("\(what) \(v) is too large") }
        return Int(v)
    }

    func string(_ p: Int, _ count: Int) -> String {
        String(decoding: UnsafeRawBufferPointer(start: storage.base + p, count: count), as: UTF8.self)
    }
}
