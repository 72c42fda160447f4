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
    parallelChunks(n, grain: 1 << 16) { range in
        let s = src + range.lowerBound, d = dst + range.lowerBound
        switch path {
        case .f16c: vk_half_to_float_f16c(s, d, range.count)
        case .scalar: for i in 0..<range.count { d[i] = float16ToFloat(s[i]) }
        }
    }
}

/// Narrows `n` floats at `src` to halves at `dst` (nearest even), split over the workers when large.
func floatToHalf(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<UInt16>, _ n: Int,
                 _ path: HalfConversion = .best) {
    parallelChunks(n, grain: 1 << 16) { range in
        let s = src + range.lowerBound, d = dst + range.lowerBound
        switch path {
        case .f16c: vk_float_to_half_f16c(s, d, range.count)
        case .scalar: for i in 0..<range.count { d[i] = floatToFloat16(s[i]) }
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
