import CVecKernels
import VitIR

// Fast paths of QuantizeLinear and DequantizeLinear (Kernels/Quantize.swift).
//
// Applies when: 8-bit quantized values (int8, uint8), float32 x or output, float32 scale.
// Tolerance class vs the reference kernels: exact. Reason: the same IEEE operations per
// element (one division, round half to even, an exact add of the zero point, the clamp and
// NaN rule; or an exact integer difference, its exact conversion and one multiply), without
// the reference's Int64 copies and per-element channel division. Pinned by
// FastPathTests.quantizeRuns and FastPathTests.dequantizeRuns.

/// QuantizeLinear to int8/uint8 of float32 x with float32 scales, or nil where it does not apply.
func quantize8Runs(_ x: [Tensor], _ q: QuantizeAttributes, isa: VectorISA = .best) throws -> Tensor? {
    let signed = q.outputDType == .int8
    guard signed || q.outputDType == .uint8, x[0].dtype == .float32, x[1].dtype == .float32 else { return nil }
    let channels = try QuantizationChannels(x, axis: q.axis)
    let zeros = channels.zeroPoints.map(Float.init)
    let range = q.outputDType.quantizedRange
    let (lo, hi) = (Float(range.lowerBound), Float(range.upperBound))
    let scales = x[1].floats
    return x[0].withElements(as: Float.self) { src in
        Tensor.overwriting(q.outputDType, x[0].shape) { raw in
            let dst = raw.baseAddress!.assumingMemoryBound(to: UInt8.self)
            channels.forEachRun(scales: scales, zeros: zeros) { start, count, scale, zero, step in
                let s = src.baseAddress! + start, d = dst + start
                if isa == .avx2 { return vk_quantize8_avx2(s, count, scale, zero, step, lo, hi, signed ? 1 : 0, d) }
                for i in 0..<count {
                    let r = (s[i] / scale[i * step]).rounded(.toNearestOrEven) + zero[i * step]
                    let v = r.isNaN ? Int32(lo) : Int32(Swift.min(Swift.max(r, lo), hi))
                    d[i] = UInt8(truncatingIfNeeded: v)
                }
            }
        }
    }
}

/// DequantizeLinear of int8/uint8 x to float32 with float32 scales, or nil where it does not apply.
func dequantize8Runs(_ x: [Tensor], axis: Int, _ out: TensorType, isa: VectorISA = .best) throws -> Tensor? {
    let signed = x[0].dtype == .int8
    guard signed || x[0].dtype == .uint8, x[1].dtype == .float32, out.dtype == .float32 else { return nil }
    let channels = try QuantizationChannels(x, axis: axis)
    let zeros = channels.zeroPoints.map(Int32.init)
    let scales = x[1].floats
    return x[0].withElements(as: UInt8.self) { src in
        Tensor.overwriting(.float32, x[0].shape) { raw in
            let dst = raw.baseAddress!.assumingMemoryBound(to: Float.self)
            channels.forEachRun(scales: scales, zeros: zeros) { start, count, scale, zero, step in
                let s = src.baseAddress! + start, d = dst + start
                if isa == .avx2 { return vk_dequantize8_avx2(s, signed ? 1 : 0, count, scale, zero, step, d) }
                for i in 0..<count {
                    let v = signed ? Int32(Int8(bitPattern: s[i])) : Int32(s[i])
                    d[i] = Float(v - zero[i * step]) * scale[i * step]
                }
            }
        }
    }
}

/// How a quantized tensor's elements map to their scale: runs of consecutive elements that
/// use one scale (step 0) or consecutive scales (step 1, a per-axis scale along the last axis).
struct QuantizationChannels {
    let count: Int
    let inner: Int
    let extent: Int
    /// One zero point per scale (0 without the input).
    let zeroPoints: [Int64]

    init(_ x: [Tensor], axis: Int) throws {
        let granularity = try QuantizationGranularity.of(scale: x[1].shape, x: x[0].shape, axis: axis)
        let lanes = QuantizationLanes(granularity, shape: x[0].shape)
        (count, inner, extent) = (x[0].count, lanes.inner, lanes.extent)
        zeroPoints = x.count > 2 ? x[2].int64s : Array(repeating: 0, count: Swift.max(x[1].count, 1))
        // The shape rule guarantees both; the runs read extent scales and zero points unchecked.
        guard x[1].count == extent, zeroPoints.count == extent else {
            throw KernelError(.shapeRule, "\(x[1].count) scales and \(zeroPoints.count) zero points for \(extent) channels")
        }
    }

    /// `forEachRun` with each run's first scale and zero point as pointers into `scales` and
    /// `zeros` (one per channel): element start + i uses scale[i·step] and zero[i·step].
    func forEachRun<Z>(scales: [Float], zeros: [Z],
                       _ body: (Int, Int, UnsafePointer<Float>, UnsafePointer<Z>, Int) -> Void) {
        scales.withUnsafeBufferPointer { sp in
            zeros.withUnsafeBufferPointer { zp in
                forEachRun { start, count, channel, step in body(start, count, sp.baseAddress! + channel, zp.baseAddress! + channel, step) }
            }
        }
    }

    /// Calls `body(start, count, channel, step)` for runs covering every element once, split
    /// over the workers: element start + i uses scale channel + i·step.
    func forEachRun(_ body: (Int, Int, Int, Int) -> Void) {
        parallelChunks(count, grain: 1 << 15) { range in
            var i = range.lowerBound
            while i < range.upperBound {
                let end: Int, channel: Int, step: Int
                if extent == 1 {
                    (end, channel, step) = (range.upperBound, 0, 0)
                } else if inner == 1 {
                    (end, channel, step) = (Swift.min(range.upperBound, (i / extent + 1) * extent), i % extent, 1)
                } else {
                    (end, channel, step) = (Swift.min(range.upperBound, (i / inner + 1) * inner), (i / inner) % extent, 0)
                }
                body(i, end - i, channel, step)
                i = end
            }
        }
    }
}
