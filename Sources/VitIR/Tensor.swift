#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Immutable, contiguous bytes behind one or more tensors: owned heap memory or a region of a
/// memory-mapped file (so a 1 GB checkpoint is read in place, never copied).
public final class TensorStorage: @unchecked Sendable {
    public let base: UnsafeRawPointer
    public let byteCount: Int
    private let owned: UnsafeMutableRawPointer?
    private let mapping: (address: UnsafeMutableRawPointer, length: Int)?

    /// Takes ownership of `bytes` (allocated with `UnsafeMutableRawPointer.allocate`).
    init(adopting bytes: UnsafeMutableRawPointer, byteCount: Int) {
        self.base = UnsafeRawPointer(bytes)
        self.byteCount = byteCount
        self.owned = bytes
        self.mapping = nil
    }

    private init(mapped address: UnsafeMutableRawPointer, length: Int) {
        self.base = UnsafeRawPointer(address)
        self.byteCount = length
        self.owned = nil
        self.mapping = (address, length)
    }

    deinit {
        if let owned { owned.deallocate() }
        if let mapping { munmap(mapping.address, mapping.length) }
    }

    /// Maps a whole file read-only. Throws `StorageError` naming the path on failure.
    public static func map(path: String) throws(StorageError) -> TensorStorage {
        // O_NONBLOCK: opening a FIFO must not wait for a writer; it is refused below.
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { throw StorageError(path: path, reason: "cannot open: \(errnoText())") }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw StorageError(path: path, reason: "cannot stat: \(errnoText())") }
        guard (st.st_mode & S_IFMT) == S_IFREG else {
            throw StorageError(path: path, reason: "not a regular file (a directory, device, FIFO or socket)")
        }
        let length = Int(st.st_size)
        if length == 0 {
            return TensorStorage(adopting: .allocate(byteCount: 1, alignment: 64), byteCount: 0)
        }
        guard let address = mmap(nil, length, PROT_READ, MAP_PRIVATE, fd, 0), address != MAP_FAILED else {
            throw StorageError(path: path, reason: "cannot map: \(errnoText())")
        }
        return TensorStorage(mapped: address, length: length)
    }
}

public struct StorageError: Error, CustomStringConvertible {
    public var path: String
    public var reason: String
    public var description: String { "\(path): \(reason)" }
}

func errnoText() -> String { String(cString: strerror(errno)) }

/// A concrete tensor: element type, static shape and a view into storage (row-major).
public struct Tensor: Sendable, CustomStringConvertible {
    public let dtype: DType
    public let shape: [Int]
    public let storage: TensorStorage
    /// Byte offset of element 0 inside `storage`.
    public let offset: Int

    public var count: Int { shape.reduce(1, *) }
    public var byteCount: Int { count * dtype.byteSize }
    public var type: TensorType { TensorType(dtype, Shape(shape)) }
    public var rawPointer: UnsafeRawPointer { storage.base + offset }
    public var rawBytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: rawPointer, count: byteCount) }

    /// A view of `storage` starting at `offset`. Fails if the view does not fit.
    public init(dtype: DType, shape: [Int], storage: TensorStorage, offset: Int = 0) throws(StorageError) {
        let needed = shape.reduce(1, *) * dtype.byteSize
        guard shape.allSatisfy({ $0 >= 0 }), offset >= 0, offset + needed <= storage.byteCount else {
            throw StorageError(path: "<tensor>", reason: "view of \(needed) bytes at offset \(offset) exceeds storage of \(storage.byteCount) bytes")
        }
        self.dtype = dtype
        self.shape = shape
        self.storage = storage
        self.offset = offset
    }

    /// Allocates zeroed storage and lets `body` fill it.
    public init(dtype: DType, shape: [Int], initializingWith body: (UnsafeMutableRawBufferPointer) throws -> Void) rethrows {
        try self.init(dtype: dtype, shape: shape, zeroed: true, body)
    }

    /// Allocates storage that `body` must write in full, every byte: unlike
    /// `init(dtype:shape:initializingWith:)` it is not zeroed first, which saves a pass over
    /// memory as large as the tensor. Debug builds (the tests) fill it with 0xFF bytes first (a
    /// NaN in every float lane, −1 in every integer), so a kernel that leaves an element
    /// unwritten is caught by the tests comparing its results, not hidden by zeros.
    public static func overwriting(_ dtype: DType, _ shape: [Int],
                                   _ body: (UnsafeMutableRawBufferPointer) throws -> Void) rethrows -> Tensor {
        try Tensor(dtype: dtype, shape: shape, zeroed: false, body)
    }

    private init(dtype: DType, shape: [Int], zeroed: Bool, _ body: (UnsafeMutableRawBufferPointer) throws -> Void) rethrows {
        let n = shape.reduce(1, *) * dtype.byteSize
        let bytes = UnsafeMutableRawPointer.allocate(byteCount: max(n, 1), alignment: 64)
        if zeroed {
            bytes.initializeMemory(as: UInt8.self, repeating: 0, count: max(n, 1))
        } else {
            #if DEBUG
            bytes.initializeMemory(as: UInt8.self, repeating: 0xFF, count: max(n, 1))
            #endif
        }
        let storage = TensorStorage(adopting: bytes, byteCount: n)
        try body(UnsafeMutableRawBufferPointer(start: bytes, count: n))
        self.dtype = dtype
        self.shape = shape
        self.storage = storage
        self.offset = 0
    }

    public static func zeros(_ dtype: DType, _ shape: [Int]) -> Tensor {
        Tensor(dtype: dtype, shape: shape) { _ in }
    }

    /// A float32 tensor whose elements `body` writes.
    public static func float32(_ shape: [Int], _ body: (UnsafeMutableBufferPointer<Float>) throws -> Void) rethrows -> Tensor {
        try Tensor(dtype: .float32, shape: shape) { raw in try body(raw.bindMemory(to: Float.self)) }
    }

    public init(_ values: [Float], shape: [Int]) {
        precondition(values.count == shape.reduce(1, *), "element count does not match shape")
        self = Tensor.float32(shape) { p in _ = p.initialize(from: values) }
    }

    public init(_ values: [Int64], shape: [Int]) {
        precondition(values.count == shape.reduce(1, *), "element count does not match shape")
        self = Tensor(dtype: .int64, shape: shape) { raw in _ = raw.bindMemory(to: Int64.self).initialize(from: values) }
    }

    public init(_ values: [Int32], shape: [Int]) {
        precondition(values.count == shape.reduce(1, *), "element count does not match shape")
        self = Tensor(dtype: .int32, shape: shape) { raw in _ = raw.bindMemory(to: Int32.self).initialize(from: values) }
    }

    public init(_ values: [Int8], shape: [Int]) {
        precondition(values.count == shape.reduce(1, *), "element count does not match shape")
        self = Tensor(dtype: .int8, shape: shape) { raw in _ = raw.bindMemory(to: Int8.self).initialize(from: values) }
    }

    public init(_ values: [UInt8], shape: [Int]) {
        precondition(values.count == shape.reduce(1, *), "element count does not match shape")
        self = Tensor(dtype: .uint8, shape: shape) { raw in _ = raw.bindMemory(to: UInt8.self).initialize(from: values) }
    }

    public init(_ values: [Bool], shape: [Int]) {
        precondition(values.count == shape.reduce(1, *), "element count does not match shape")
        self = Tensor(dtype: .bool, shape: shape) { raw in
            let p = raw.bindMemory(to: UInt8.self)
            for i in values.indices { p[i] = values[i] ? 1 : 0 }
        }
    }

    public static func scalar(_ v: Float) -> Tensor { Tensor([v], shape: []) }
    public static func scalar(_ v: Int64) -> Tensor { Tensor([v], shape: []) }

    /// Typed read access; `T` must match `dtype`'s storage width.
    public func withElements<T, R>(as: T.Type, _ body: (UnsafeBufferPointer<T>) throws -> R) rethrows -> R {
        assert(MemoryLayout<T>.stride == dtype.byteSize, "element width mismatch")
        return try body(UnsafeBufferPointer(start: rawPointer.assumingMemoryBound(to: T.self), count: count))
    }

    /// Elements converted to Float (from any dtype).
    public var floats: [Float] {
        let n = count
        switch dtype {
        case .float32: return withElements(as: Float.self) { Array($0) }
        case .float16: return withElements(as: UInt16.self) { $0.map(float16ToFloat) }
        case .bfloat16: return withElements(as: UInt16.self) { $0.map(bfloat16ToFloat) }
        case .int64: return withElements(as: Int64.self) { $0.map(Float.init) }
        case .int32: return withElements(as: Int32.self) { $0.map(Float.init) }
        case .uint8, .bool: return withElements(as: UInt8.self) { Array($0.map(Float.init).prefix(n)) }
        case .int8: return withElements(as: Int8.self) { $0.map(Float.init) }
        }
    }

    /// Elements converted to Int64 (floats truncate toward zero).
    public var int64s: [Int64] {
        switch dtype {
        case .int64: return withElements(as: Int64.self) { Array($0) }
        case .int32: return withElements(as: Int32.self) { $0.map(Int64.init) }
        case .uint8, .bool: return withElements(as: UInt8.self) { $0.map(Int64.init) }
        case .int8: return withElements(as: Int8.self) { $0.map(Int64.init) }
        default: return floats.map { Int64($0) }
        }
    }

    /// True when dtype, shape and bytes are equal.
    public func bitwiseEqual(_ other: Tensor) -> Bool {
        dtype == other.dtype && shape == other.shape
            && memcmp(rawPointer, other.rawPointer, byteCount) == 0
    }

    /// FNV-1a over dtype, shape and bytes: a cheap key for deduplicating constants.
    public var contentHash: UInt64 {
        var h = FNV1a()
        h.combine(dtype.rawValue.utf8)
        for d in shape { h.combine(littleEndian: d) }
        h.combine(rawBytes)
        return h.value
    }

    /// FNV-1a over dtype, shape and at most the first and last 256 bytes: a bucket key for
    /// finding equal tensors (equal tensors have equal sample hashes; candidates in a bucket are
    /// then compared in full), at a cost independent of the tensor's size.
    public var sampleHash: UInt64 {
        var h = FNV1a()
        h.combine(dtype.rawValue.utf8)
        for d in shape { h.combine(littleEndian: d) }
        let bytes = rawBytes
        let edge = Swift.min(256, bytes.count)
        h.combine(UnsafeRawBufferPointer(rebasing: bytes[..<edge]))
        h.combine(UnsafeRawBufferPointer(rebasing: bytes[(bytes.count - edge)...]))
        return h.value
    }

    public var description: String {
        let preview = count <= 8 ? " \(dtype.isFloatingPoint ? floats.description : int64s.description)" : ""
        return "Tensor<\(dtype.shortName)>\(shape)\(preview)"
    }
}

/// IEEE 754 half precision to single precision (exact).
public func float16ToFloat(_ bits: UInt16) -> Float {
    let sign = UInt32(bits & 0x8000) << 16
    var exp = Int32((bits >> 10) & 0x1f)
    var mant = UInt32(bits & 0x3ff)
    if exp == 0x1f { return Float(bitPattern: sign | 0x7f80_0000 | (mant << 13)) }
    if exp == 0 {
        if mant == 0 { return Float(bitPattern: sign) }
        while mant & 0x400 == 0 { mant <<= 1; exp -= 1 }
        exp += 1
        mant &= 0x3ff
    }
    return Float(bitPattern: sign | UInt32(exp + 112) << 23 | (mant << 13))
}

/// Single precision to IEEE half, round to nearest even (as numpy's astype).
public func floatToFloat16(_ f: Float) -> UInt16 {
    let x = f.bitPattern
    let sign = UInt16((x >> 16) & 0x8000)
    let exp = Int32((x >> 23) & 0xff)
    let mant = x & 0x7f_ffff
    if exp == 0xff { return sign | 0x7c00 | (mant != 0 ? 0x200 : 0) }
    let e = exp - 127 + 15
    if e >= 0x1f { return sign | 0x7c00 }
    if e <= 0 {
        if e < -10 { return sign }
        let m = mant | 0x80_0000
        let shift = UInt32(14 - e)
        var half = m >> shift
        let rem = m & ((1 << shift) - 1)
        let halfway = UInt32(1) << (shift - 1)
        if rem > halfway || (rem == halfway && half & 1 == 1) { half += 1 }
        return sign | UInt16(half)
    }
    var half = UInt32(e) << 10 | (mant >> 13)
    let rem = mant & 0x1fff
    if rem > 0x1000 || (rem == 0x1000 && half & 1 == 1) { half += 1 }
    return sign | UInt16(truncatingIfNeeded: half)
}

/// bfloat16 (upper half of a float32) to float32 (exact).
public func bfloat16ToFloat(_ bits: UInt16) -> Float { Float(bitPattern: UInt32(bits) << 16) }

/// float32 to bfloat16, round to nearest even; NaN stays NaN.
public func floatToBFloat16(_ f: Float) -> UInt16 {
    let x = f.bitPattern
    if f.isNaN { return UInt16(x >> 16) | 0x40 }
    let rounded = x &+ 0x7fff &+ ((x >> 16) & 1)
    return UInt16(rounded >> 16)
}
