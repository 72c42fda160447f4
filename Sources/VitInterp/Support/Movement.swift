import Foundation
import VitIR

/// Marks an output position that reads no input element (it takes the fill value).
let outsideInput = Int.min

/// The general data-movement kernel behind Transpose, Slice, Expand, Tile, Pad and nearest
/// Resize: output index `o` along axis `k` reads input element offset `tables[k][o]`
/// (summed over axes), or the fill value when any axis's entry is `outsideInput`.
/// Exact for every dtype (bytes are copied).
func gatherAxes(_ src: Tensor, outShape: [Int], tables: [[Int]], fill: UInt64 = 0) -> Tensor {
    Tensor.overwriting(src.dtype, outShape) { raw in
        guard let dst = raw.baseAddress else { return }
        switch src.dtype.byteSize {
        case 1: gatherAxes(UInt8.self, src.rawPointer, dst, outShape, tables, UInt8(truncatingIfNeeded: fill))
        case 2: gatherAxes(UInt16.self, src.rawPointer, dst, outShape, tables, UInt16(truncatingIfNeeded: fill))
        case 4: gatherAxes(UInt32.self, src.rawPointer, dst, outShape, tables, UInt32(truncatingIfNeeded: fill))
        default: gatherAxes(UInt64.self, src.rawPointer, dst, outShape, tables, fill)
        }
    }
}

private func gatherAxes<T>(_: T.Type, _ srcRaw: UnsafeRawPointer, _ dstRaw: UnsafeMutableRawPointer,
                           _ outShape: [Int], _ tables: [[Int]], _ fill: T) {
    let src = srcRaw.assumingMemoryBound(to: T.self)
    let dst = dstRaw.assumingMemoryBound(to: T.self)
    let total = outShape.reduce(1, *)
    guard total > 0 else { return }
    guard let last = tables.last else { dst[0] = src[0]; return }
    let inner = outShape[outShape.count - 1]
    let rows = total / inner
    let contiguous = last.first != outsideInput && last.indices.allSatisfy { last[$0] == last[0] + $0 }
    let outerShape = Array(outShape.dropLast())
    last.withUnsafeBufferPointer { lastTable in
        parallelChunks(rows, grain: Swift.max(1, (1 << 15) / inner)) { rowRange in
            var index = Array(repeating: 0, count: outerShape.count)
            var rest = rowRange.lowerBound
            for axis in stride(from: outerShape.count - 1, through: 0, by: -1) {
                index[axis] = rest % outerShape[axis]
                rest /= outerShape[axis]
            }
            for row in rowRange {
                var base = 0
                var inside = true
                for axis in 0..<outerShape.count {
                    let t = tables[axis][index[axis]]
                    if t == outsideInput { inside = false; break }
                    base += t
                }
                let out = dst + row * inner
                if !inside {
                    out.update(repeating: fill, count: inner)
                } else if contiguous {
                    out.update(from: src + base + lastTable[0], count: inner)
                } else {
                    for j in 0..<inner {
                        let t = lastTable[j]
                        out[j] = t == outsideInput ? fill : src[base + t]
                    }
                }
                var axis = outerShape.count - 1
                while axis >= 0 {
                    index[axis] += 1
                    if index[axis] < outerShape[axis] { break }
                    index[axis] = 0
                    axis -= 1
                }
            }
        }
    }
}

/// A same-dtype tensor viewing `t`'s storage with another shape of equal element count.
func reshaped(_ t: Tensor, _ shape: [Int]) throws -> Tensor {
    do {
        return try Tensor(dtype: t.dtype, shape: shape, storage: t.storage, offset: t.offset)
    } catch {
        throw KernelError(.invalidInput, "cannot view \(t.type) as \(Shape(shape)): \(error)")
    }
}

/// Copies `t` broadcast (numpy rules) to `shape`; returns `t` itself when shapes are equal.
func broadcasted(_ t: Tensor, to shape: [Int]) -> Tensor {
    if t.shape == shape { return t }
    let strides = broadcastStrides(t.shape, to: shape)
    let tables = shape.indices.map { k in (0..<shape[k]).map { $0 * strides[k] } }
    return gatherAxes(t, outShape: shape, tables: tables)
}
