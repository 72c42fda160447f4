import CVecKernels
import VitIR

// float16 ⇄ float32 for the kernels, which compute in Float32: the F16C instructions where
// the CPU has them, VitIR's scalar float16ToFloat / floatToFloat16 elsewhere. Both give the
// same bits for every input (NaNs included: the F16C path redoes NaN lanes as the scalar
// functions do); HalfConversionTests pins that on all 65536 halves and a sweep of floats.

/// How float16 values are widened and narrowed.
enum HalfConversion: Sendable, CaseIterable {
    case scalar, f16c

    /// The fastest one this CPU and OS support.
    static let best: HalfConversion = vk_f16c_usable() == 1 ? .f16c : .scalar

    /// Every implementation usable here.
    static var usable: [HalfConversion] { best == .f16c ? [.scalar, .f16c] : [.scalar] }
}

/// Widens `n` halves at `src` to floats at `dst` (exact), split over the workers when large.
func halfToFloat(_ src: UnsafePointer<UInt16>, _ dst: UnsafeMutablePointer<Float>, _ n: Int,
                 _ path: HalfConversion = .best) {
    parallelChunks(n, grain: 1 << 16) { r in widen(src + r.lowerBound, dst + r.lowerBound, r.count, path) }
}

/// Narrows `n` floats at `src` to halves at `dst` (nearest even), split over the workers when large.
func floatToHalf(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<UInt16>, _ n: Int,
                 _ path: HalfConversion = .best) {
    parallelChunks(n, grain: 1 << 16) { r in narrow(src + r.lowerBound, dst + r.lowerBound, r.count, path) }
}

/// `halfToFloat` on the calling thread.
func widen(_ s: UnsafePointer<UInt16>, _ d: UnsafeMutablePointer<Float>, _ n: Int, _ path: HalfConversion) {
    convert(s, d, n, path, f16c: vk_half_to_float_f16c, scalar: float16ToFloat)
}

/// `floatToHalf` on the calling thread.
private func narrow(_ s: UnsafePointer<Float>, _ d: UnsafeMutablePointer<UInt16>, _ n: Int, _ path: HalfConversion) {
    convert(s, d, n, path, f16c: vk_float_to_half_f16c, scalar: floatToFloat16)
}

/// `n` elements converted by the F16C kernel or the scalar function, as `path` says.
@inline(__always)
private func convert<S, D>(_ s: UnsafePointer<S>, _ d: UnsafeMutablePointer<D>, _ n: Int, _ path: HalfConversion,
                           f16c: (UnsafePointer<S>, UnsafeMutablePointer<D>, Int) -> Void, scalar: (S) -> D) {
    switch path {
    case .f16c: f16c(s, d, n)
    case .scalar: for i in 0..<n { d[i] = scalar(s[i]) }
    }
}

/// Rounds `n` floats at `p` to float16 precision in place, on the calling thread: what a
/// float16 value narrowed from them and widened again holds (±∞ beyond the half range).
func roundThroughHalf(_ p: UnsafeMutablePointer<Float>, _ n: Int, _ path: HalfConversion = .best) {
    withUnsafeTemporaryAllocation(of: UInt16.self, capacity: 1024) { halves in
        var j = 0
        while j < n {
            let count = Swift.min(1024, n - j)
            narrow(p + j, halves.baseAddress!, count, path)
            widen(halves.baseAddress!, p + j, count, path)
            j += count
        }
    }
}

/// The elements of a float16 tensor widened to Float32.
func widenedHalves(_ t: Tensor) -> [Float] {
    t.withElements(as: UInt16.self) { h in
        [Float](unsafeUninitializedCapacity: h.count) { buffer, initialized in
            if let s = h.baseAddress, let d = buffer.baseAddress { halfToFloat(s, d, h.count) }
            initialized = h.count
        }
    }
}

/// A float16 tensor of `shape` holding `values` (count = the shape's) rounded to nearest even.
func narrowedToHalves(_ values: UnsafeBufferPointer<Float>, shape: [Int]) -> Tensor {
    Tensor.overwriting(.float16, shape) { raw in
        let d = raw.bindMemory(to: UInt16.self)
        if let s = values.baseAddress, let p = d.baseAddress { floatToHalf(s, p, values.count) }
    }
}
