/// 64-bit FNV-1a (Fowler–Noll–Vo, offset basis 0xcbf29ce484222325, prime 0x100000001b3) over
/// bytes, fed in order.
///
/// Contract: the value depends only on the bytes combined, in order, and is the same on every
/// platform, run and Swift version (unlike `Hasher`, which is seeded per process), so it may be
/// stored: config and weights fingerprints in exported files, parameter seeds, constant
/// deduplication keys. Not cryptographic; collisions are possible and callers that need
/// equality must compare contents.
public struct FNV1a: Sendable {
    public static let offsetBasis: UInt64 = 0xcbf2_9ce4_8422_2325
    public static let prime: UInt64 = 0x100_0000_01b3

    @usableFromInline var state: UInt64 = FNV1a.offsetBasis

    /// The hash of every byte combined so far (`offsetBasis` for none).
    public var value: UInt64 { state }

    public init() {}

    @inlinable
    public mutating func combine(_ byte: UInt8) {
        state = (state ^ UInt64(byte)) &* FNV1a.prime
    }

    @inlinable
    public mutating func combine<Bytes: Sequence>(_ bytes: Bytes) where Bytes.Element == UInt8 {
        for b in bytes { combine(b) }
    }

    /// Combines the eight bytes of `x`, least significant first (the same on every host).
    @inlinable
    public mutating func combine(littleEndian x: Int) {
        for k in 0..<8 { combine(UInt8(truncatingIfNeeded: x >> (8 * k))) }
    }

    /// FNV-1a of `bytes`.
    @inlinable
    public static func hash<Bytes: Sequence>(_ bytes: Bytes) -> UInt64 where Bytes.Element == UInt8 {
        var h = FNV1a()
        h.combine(bytes)
        return h.value
    }

    /// FNV-1a of the UTF-8 encoding of `string`.
    @inlinable
    public static func hash(_ string: String) -> UInt64 { hash(string.utf8) }
}
