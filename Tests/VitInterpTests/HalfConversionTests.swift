import Testing
import VitIR
@testable import VitInterp

/// The float16 conversions the kernels use (`halfToFloat`, `floatToHalf`) against VitIR's
/// scalar `float16ToFloat` / `floatToFloat16`, bit for bit, on every implementation usable
/// here: the F16C path must redo NaN lanes as the scalar functions do and round every other
/// value the same way.
@Suite struct HalfConversionTests {
    /// Every one of the 65536 halves, in an order that puts each kind (zeros, subnormals,
    /// normals, infinities, quiet and signalling NaNs of both signs) in vector lanes and tails.
    @Test func everyHalfWidensAsTheScalarFunction() {
        let halves = (0..<65536).map { UInt16(truncatingIfNeeded: $0 &* 40503) }
        for path in HalfConversion.usable {
            for n in [halves.count, 65533, 13, 8, 7, 1, 0] {
                var out = [Float](repeating: 1, count: n)
                halves.withUnsafeBufferPointer { h in out.withUnsafeMutableBufferPointer { halfToFloat(h.baseAddress!, $0.baseAddress!, n, path) } }
                let mismatch = (0..<n).first { out[$0].bitPattern != float16ToFloat(halves[$0]).bitPattern }
                #expect(mismatch == nil, "\(path) n=\(n): half \(mismatch.map { String(halves[$0], radix: 16) } ?? "")")
            }
        }
    }

    /// Floats at and around every rounding decision: each half's value, the midpoints to its
    /// neighbours and one float ulp either side of them, the overflow and underflow thresholds,
    /// NaNs with payloads, and random bit patterns; lengths that leave tails and split over
    /// the workers at unaligned points.
    @Test func floatsNarrowAsTheScalarFunction() {
        var floats: [Float] = [0, -0.0, .infinity, -.infinity, 65504, 65519.996, 65520, 65536, -65520, 1e-8, 2.9802322e-8, 5.9604645e-8,
                               .leastNonzeroMagnitude, .leastNormalMagnitude, Float(bitPattern: 0x7fc0_0000), Float(bitPattern: 0xffa0_1234),
                               Float(bitPattern: 0x7f80_0001), Float(bitPattern: 0xff80_2000), Float(bitPattern: 0x7fff_ffff)]
        for h in 0..<0x7c00 {
            let value = float16ToFloat(UInt16(h)), next = float16ToFloat(UInt16(h + 1))
            let mid = value + (next - value) / 2
            for v in [value, mid, mid.nextUp, mid.nextDown] { floats += [v, -v] }
        }
        var rng = SplitMix(seed: 53)
        for _ in 0..<200_000 { floats.append(Float(bitPattern: UInt32(truncatingIfNeeded: rng.next()))) }
        for path in HalfConversion.usable {
            for n in [floats.count, floats.count - 5, 9, 1, 0] {
                var out = [UInt16](repeating: 1, count: n)
                floats.withUnsafeBufferPointer { f in out.withUnsafeMutableBufferPointer { floatToHalf(f.baseAddress!, $0.baseAddress!, n, path) } }
                let mismatch = (0..<n).first { out[$0] != floatToFloat16(floats[$0]) }
                #expect(mismatch == nil, "\(path) n=\(n): float bits \(mismatch.map { String(floats[$0].bitPattern, radix: 16) } ?? "")")
            }
            // In place, in chunks: what narrowing and widening again give.
            var rounded = floats
            rounded.withUnsafeMutableBufferPointer { roundThroughHalf($0.baseAddress!, $0.count, path) }
            let wrong = floats.indices.first { rounded[$0].bitPattern != float16ToFloat(floatToFloat16(floats[$0])).bitPattern }
            #expect(wrong == nil, "\(path) roundThroughHalf: float bits \(wrong.map { String(floats[$0].bitPattern, radix: 16) } ?? "")")
        }
    }

    /// The F16C path runs wherever the CPU has F16C (Linux's reading of CPUID says so), so the
    /// comparisons above are not silently reduced to the scalar path on such a machine.
    @Test func f16cDetectedWhereTheCPUHasIt() throws {
        guard let cpuinfo = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
              let flags = cpuinfo.split(separator: "\n").first(where: { $0.hasPrefix("flags") }) else { return }
        let names = flags.split(separator: " ")
        #expect((HalfConversion.best == .f16c) == (names.contains("f16c") && names.contains("avx")))
    }
}
