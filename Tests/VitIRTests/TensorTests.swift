import Foundation
import Testing
@testable import VitIR

/// Half-precision conversions, hashing/equality and file-backed storage.
@Suite struct TensorTests {
    // MARK: float16

    @Test("float16 ↔ float32 on known values")
    func float16Known() {
        let cases: [(Float, UInt16)] = [
            (0, 0x0000), (-0.0, 0x8000), (1, 0x3C00), (-2, 0xC000), (0.5, 0x3800),
            (65504, 0x7BFF),                         // largest finite half
            (.infinity, 0x7C00), (-.infinity, 0xFC00),
            (Float(sign: .plus, exponent: -14, significand: 1), 0x0400),   // smallest normal
            (Float(sign: .plus, exponent: -24, significand: 1), 0x0001),   // smallest subnormal
            (Float(1023) * 0x1p-24, 0x03FF),                               // largest subnormal
        ]
        for (f, bits) in cases {
            #expect(floatToFloat16(f) == bits, "\(f)")
            #expect(float16ToFloat(bits).bitPattern == f.bitPattern, "\(bits)")
        }
    }

    @Test("float32 → float16 rounds to nearest, ties to even (normal and subnormal)")
    func float16Rounding() {
        // Normal range: the half ulp at 1.0 is 2^-11.
        #expect(floatToFloat16(1 + 0x1p-11) == 0x3C00)                 // tie → even (0x3C00)
        #expect(floatToFloat16(1 + 3 * 0x1p-11) == 0x3C02)             // tie → even (0x3C02)
        #expect(floatToFloat16(1 + 0x1p-11 + 0x1p-20) == 0x3C01)       // just above the tie
        #expect(floatToFloat16(1 + 0x1p-11 - 0x1p-20) == 0x3C00)       // just below
        // Subnormal range: ulp 2^-24.
        #expect(floatToFloat16(0x1p-25) == 0x0000)                     // tie between 0 and 1 → 0
        #expect(floatToFloat16(3 * 0x1p-25) == 0x0002)                 // tie between 1 and 2 → 2
        #expect(floatToFloat16(5 * 0x1p-25) == 0x0002)                 // tie between 2 and 3 → 2
        #expect(floatToFloat16(0x1p-25 + 0x1p-40) == 0x0001)
        #expect(floatToFloat16(-3 * 0x1p-25) == 0x8002)
        #expect(floatToFloat16(1e-10) == 0x0000)                       // underflow to zero
        // Rounding up out of the subnormals into the smallest normal, and out of range to inf.
        #expect(floatToFloat16(0x1p-14 - 0x1p-26) == 0x0400)
        #expect(floatToFloat16(65519) == 0x7BFF)
        #expect(floatToFloat16(65520) == 0x7C00)                       // tie at max → even = inf
        #expect(floatToFloat16(1e6) == 0x7C00)
        #expect(floatToFloat16(-1e6) == 0xFC00)
    }

    @Test("float16 NaN stays NaN both ways")
    func float16NaN() {
        #expect(float16ToFloat(0x7E00).isNaN)
        #expect(float16ToFloat(0x7C01).isNaN)
        let h = floatToFloat16(.nan)
        #expect(h & 0x7C00 == 0x7C00 && h & 0x03FF != 0)
        // A NaN whose payload sits only in the low float bits must not become infinity.
        let low = floatToFloat16(Float(bitPattern: 0x7F80_0001))
        #expect(float16ToFloat(low).isNaN)
    }

    @Test("every non-NaN float16 round-trips exactly through float32")
    func float16RoundTripAll() {
        for bits in UInt16.min...UInt16.max {
            let f = float16ToFloat(bits)
            if f.isNaN { continue }
            #expect(floatToFloat16(f) == bits, "0x\(String(bits, radix: 16))")
        }
    }

    #if !((os(macOS) || targetEnvironment(macCatalyst)) && arch(x86_64))
    @Test("conversions agree with Swift's Float16 on every half and on a float32 sweep")
    func float16MatchesStdlib() {
        for bits in UInt16.min...UInt16.max {
            let ours = float16ToFloat(bits), theirs = Float(Float16(bitPattern: bits))
            #expect(ours.isNaN ? theirs.isNaN : ours.bitPattern == theirs.bitPattern)
        }
        // Every float32 exponent, with mantissas that hit ties, near-ties and random bits.
        var rng = SystemRandomNumberGenerator()
        var mismatches = 0
        for exponent: UInt32 in 0..<255 {
            for mantissa: UInt32 in [0, 1, 0x1000, 0x0FFF, 0x1001, 0x2000, 0x3000, 0x7F_FFFF, 0x40_0000, 0x40_1000] {
                for sign: UInt32 in [0, 1] {
                    let f = Float(bitPattern: sign << 31 | exponent << 23 | mantissa)
                    if floatToFloat16(f) != Float16(f).bitPattern { mismatches += 1 }
                }
            }
            for _ in 0..<64 {
                let f = Float(bitPattern: exponent << 23 | UInt32.random(in: 0...0x7F_FFFF, using: &rng))
                if floatToFloat16(f) != Float16(f).bitPattern { mismatches += 1 }
            }
        }
        #expect(mismatches == 0)
    }
    #endif

    // MARK: bfloat16

    @Test("bfloat16 conversions: known values, ties to even, inf and NaN")
    func bfloat16() {
        #expect(floatToBFloat16(1) == 0x3F80)
        #expect(floatToBFloat16(-2) == 0xC000)
        #expect(bfloat16ToFloat(0x3F80) == 1)
        #expect(floatToBFloat16(Float(bitPattern: 0x3F80_8000)) == 0x3F80)   // tie → even
        #expect(floatToBFloat16(Float(bitPattern: 0x3F81_8000)) == 0x3F82)   // tie → even
        #expect(floatToBFloat16(Float(bitPattern: 0x3F80_8001)) == 0x3F81)   // above the tie
        #expect(floatToBFloat16(Float(bitPattern: 0x3F80_7FFF)) == 0x3F80)   // below the tie
        #expect(floatToBFloat16(.infinity) == 0x7F80)
        #expect(floatToBFloat16(-.infinity) == 0xFF80)
        #expect(floatToBFloat16(.greatestFiniteMagnitude) == 0x7F80)         // rounds up to inf
        #expect(floatToBFloat16(Float(bitPattern: 0x0000_8001)) == 0x0001)   // subnormal rounding
        #expect(floatToBFloat16(Float(bitPattern: 0x0000_8000)) == 0x0000)   // subnormal tie → even
        #expect(bfloat16ToFloat(floatToBFloat16(.nan)).isNaN)
        // NaN payload only in the dropped bits: truncation would give infinity.
        #expect(bfloat16ToFloat(floatToBFloat16(Float(bitPattern: 0x7F80_0001))).isNaN)
        #expect(bfloat16ToFloat(floatToBFloat16(Float(bitPattern: 0xFF80_0001))).isNaN)
    }

    @Test("every non-NaN bfloat16 round-trips exactly")
    func bfloat16RoundTripAll() {
        for bits in UInt16.min...UInt16.max {
            let f = bfloat16ToFloat(bits)
            if f.isNaN { continue }
            #expect(floatToBFloat16(f) == bits, "0x\(String(bits, radix: 16))")
        }
    }

    @Test("float16/bfloat16 tensors read back as floats")
    func halfTensors() {
        let values: [Float] = [1, -0.5, 65504, 0x1p-24]
        let h = Tensor(dtype: .float16, shape: [4]) { raw in
            for (i, v) in values.enumerated() { raw.storeBytes(of: floatToFloat16(v), toByteOffset: 2 * i, as: UInt16.self) }
        }
        #expect(h.floats == values)
        let b = Tensor(dtype: .bfloat16, shape: [2]) { raw in
            raw.storeBytes(of: floatToBFloat16(3), toByteOffset: 0, as: UInt16.self)
            raw.storeBytes(of: floatToBFloat16(-0.25), toByteOffset: 2, as: UInt16.self)
        }
        #expect(b.floats == [3, -0.25])
        #expect(b.byteCount == 4)
    }

    // MARK: Hashing and equality

    @Test("contentHash is equal for equal content and differs with bytes, shape or dtype")
    func contentHash() {
        let a = Tensor([1, 2, 3, 4, 5, 6] as [Float], shape: [2, 3])
        let b = Tensor([1, 2, 3, 4, 5, 6] as [Float], shape: [2, 3])
        #expect(a.storage !== b.storage)
        #expect(a.contentHash == b.contentHash)
        #expect(a.contentHash != Tensor([1, 2, 3, 4, 5, 7] as [Float], shape: [2, 3]).contentHash)
        #expect(a.contentHash != Tensor([1, 2, 3, 4, 5, 6] as [Float], shape: [3, 2]).contentHash)
        #expect(a.contentHash != Tensor([1, 2, 3, 4, 5, 6] as [Float], shape: [6]).contentHash)
        // Same bytes as int32 instead of float32.
        let asInt = Tensor(dtype: .int32, shape: [2, 3]) { raw in raw.copyMemory(from: a.rawBytes) }
        #expect(asInt.rawBytes.elementsEqual(a.rawBytes))
        #expect(a.contentHash != asInt.contentHash)
        // A view at an offset hashes like an equal standalone tensor.
        let view = try? Tensor(dtype: .float32, shape: [3], storage: a.storage, offset: 12)
        #expect(view?.contentHash == Tensor([4, 5, 6] as [Float], shape: [3]).contentHash)
    }

    @Test("bitwiseEqual compares dtype, shape and bytes")
    func bitwiseEqual() {
        let a = Tensor([1, 2, 3] as [Float], shape: [3])
        #expect(a.bitwiseEqual(Tensor([1, 2, 3] as [Float], shape: [3])))
        #expect(!a.bitwiseEqual(Tensor([1, 2, 4] as [Float], shape: [3])))
        #expect(!a.bitwiseEqual(Tensor([1, 2, 3] as [Float], shape: [1, 3])))
        #expect(!Tensor([Float(0)], shape: [1]).bitwiseEqual(Tensor([Float(-0.0)], shape: [1])))     // 0 == -0 but bits differ
        #expect(Tensor([Float.nan], shape: [1]).bitwiseEqual(Tensor([Float.nan], shape: [1])))   // NaN ≠ NaN but bits match
        #expect(!Tensor([Int32(1)], shape: [1]).bitwiseEqual(Tensor([Float(bitPattern: 1)], shape: [1])))
        #expect(Tensor.zeros(.int64, [0]).bitwiseEqual(Tensor.zeros(.int64, [0])))
    }

    @Test("overwriting storage: what the body writes; NaN bytes before it in test builds")
    func overwriting() {
        let t = Tensor.overwriting(.float32, [2]) { raw in
            raw.storeBytes(of: 1.5, toByteOffset: 0, as: Float.self)
            raw.storeBytes(of: -2, toByteOffset: 4, as: Float.self)
        }
        #expect(t.floats == [1.5, -2])
        #if DEBUG
        // A kernel that leaves an element unwritten shows NaN (or -1) in the tests, not 0.
        let unwritten = Tensor.overwriting(.float32, [5]) { _ in }
        #expect(unwritten.rawBytes.allSatisfy { $0 == 0xFF } && unwritten.floats.allSatisfy(\.isNaN))
        #endif
        #expect(Tensor.overwriting(.int64, [0]) { _ in }.byteCount == 0)
    }

    @Test("typed constructors and element access")
    func constructors() {
        #expect(Tensor([Int64(3), -4], shape: [2]).int64s == [3, -4])
        #expect(Tensor([true, false, true], shape: [3]).int64s == [1, 0, 1])
        #expect(Tensor([Int32(7)], shape: [1, 1]).floats == [7])
        #expect(Tensor([Float(1.9), -1.9], shape: [2]).int64s == [1, -1])         // truncation toward zero
        #expect(Tensor.scalar(Float(2.5)).type == f32())
        #expect(Tensor.scalar(Int64(2)).type == i64())
        #expect(Tensor.zeros(.float16, [2, 3]).byteCount == 12)
    }

    // MARK: File-backed storage

    static func tempFile(_ bytes: [UInt8]) throws -> String {
        let path = FileManager.default.temporaryDirectory
            .appendingPathComponent("vitir-\(UUID().uuidString).bin").path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    @Test("TensorStorage.map maps a file read-only; tensors view it at offsets")
    func mapFile() throws {
        let floats: [Float] = [1.5, -2, 3.25, 4, 0, 8]
        let bytes = floats.withUnsafeBytes { Array($0) }
        let path = try Self.tempFile(bytes)
        defer { try? FileManager.default.removeItem(atPath: path) }

        let storage = try TensorStorage.map(path: path)
        #expect(storage.byteCount == 24)
        #expect(Array(UnsafeRawBufferPointer(start: storage.base, count: storage.byteCount)) == bytes)

        let whole = try Tensor(dtype: .float32, shape: [2, 3], storage: storage)
        #expect(whole.floats == floats)
        let tail = try Tensor(dtype: .float32, shape: [2], storage: storage, offset: 16)
        #expect(tail.floats == [0, 8])
        #expect(tail.storage === storage)
        #expect(whole.bitwiseEqual(Tensor(floats, shape: [2, 3])))

        // A view that runs past the end is refused.
        let error = #expect(throws: StorageError.self) {
            try Tensor(dtype: .float32, shape: [3], storage: storage, offset: 16)
        }
        #expect(error?.reason.contains("exceeds storage of 24 bytes") == true)
        #expect(throws: StorageError.self) { try Tensor(dtype: .float32, shape: [1], storage: storage, offset: -4) }
    }

    @Test("TensorStorage.map of an empty file has no bytes")
    func mapEmptyFile() throws {
        let path = try Self.tempFile([])
        defer { try? FileManager.default.removeItem(atPath: path) }
        let storage = try TensorStorage.map(path: path)
        #expect(storage.byteCount == 0)
        #expect(try Tensor(dtype: .float32, shape: [0], storage: storage).count == 0)
    }

    @Test("TensorStorage.map of a missing file names the path and the reason")
    func mapMissingFile() {
        let path = "/nonexistent-\(UUID().uuidString)/weights.bin"
        let error = #expect(throws: StorageError.self) { try TensorStorage.map(path: path) }
        #expect(error?.path == path)
        #expect(error?.reason.contains("cannot open") == true)
        #expect(error?.reason.contains("No such file") == true)
        #expect(error?.description.hasPrefix(path + ": ") == true)
    }
}
