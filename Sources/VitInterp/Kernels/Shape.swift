import Foundation
import VitIR

// Data movement: exact for every dtype (bytes are copied or viewed, never converted).
// Reshape, Squeeze, Unsqueeze and Identity return views sharing the input's storage.

/// ONNX Transpose. Takes the fast path `transposeLastTwo` (FastPaths/, bit-exact) when the
/// permutation swaps the last two axes, else `transposeMergedAxes` (FastPaths/, bit-exact)
/// when no extent is 0, else `transposeReference`.
func transpose(_ x: Tensor, perm: [Int]) -> Tensor {
    if transposeLastTwoApplies(perm) { return transposeLastTwo(x) }
    return x.shape.contains(0) ? transposeReference(x, perm: perm) : transposeMergedAxes(x, perm: perm)
}

/// ONNX Transpose with a general permutation: out axis k is input axis perm[k].
func transposeReference(_ x: Tensor, perm: [Int]) -> Tensor {
    let strides = rowMajorStrides(x.shape)
    let outShape = perm.map { x.shape[$0] }
    let tables = perm.indices.map { k in (0..<outShape[k]).map { $0 * strides[perm[k]] } }
    return gatherAxes(x, outShape: outShape, tables: tables)
}

/// ONNX Concat along one axis. Takes the fast path `concatBlockCopy` (FastPaths/, bit-exact)
/// for every output that is not empty, else `concatReference`.
func concat(_ inputs: [Tensor], axis: Int, _ out: TensorType) throws -> Tensor {
    if (out.shape.ints ?? []).reduce(1, *) > 0 {
        return concatBlockCopy(inputs, axis: try normalizeAxis(axis, rank: out.shape.count), out)
    }
    return try concatReference(inputs, axis: axis, out)
}

/// Concat by its definition, one element at a time: output row o (the axes before `axis`) is
/// input 0's row o, then input 1's, … .
func concatReference(_ inputs: [Tensor], axis: Int, _ out: TensorType) throws -> Tensor {
    let outShape = out.shape.ints ?? []
    let a = try normalizeAxis(axis, rank: outShape.count)
    let outer = outShape[..<a].reduce(1, *), inner = outShape[(a + 1)...].reduce(1, *)
    let size = out.dtype.byteSize
    return Tensor(dtype: out.dtype, shape: outShape) { raw in
        guard let dst = raw.baseAddress else { return }
        var k = 0
        for o in 0..<outer {
            for t in inputs {
                let row = t.shape[a] * inner
                for j in 0..<row {
                    (dst + k * size).copyMemory(from: t.rawPointer + (o * row + j) * size, byteCount: size)
                    k += 1
                }
            }
        }
    }
}

/// ONNX Split into consecutive pieces of `sizes` along an axis; a piece that is a contiguous
/// range of `x` is a view of it (FastPaths/ContiguousViews.swift) unless `copying`.
func split(_ x: Tensor, axis: Int, sizes: [Int], _ out: [TensorType], copying: Bool = false) throws -> [Tensor] {
    let a = try normalizeAxis(axis, rank: x.shape.count)
    let outer = x.shape[..<a].reduce(1, *)
    let inner = x.shape[(a + 1)...].reduce(1, *) * x.dtype.byteSize
    let rowBytes = x.shape[a] * inner
    var column = 0, along = 0
    return zip(sizes, out).map { size, type in
        let block = size * inner, start = column
        column += block
        let shape = type.shape.ints ?? []
        var first = Array(repeating: 0, count: x.shape.count)
        first[a] = along
        along += size
        if !copying, let offset = contiguousPartOffset(inShape: x.shape, start: first, outShape: shape, atLeastHalf: false),
           let view = partView(x, offset: offset, shape: shape) { return view }
        return Tensor(dtype: x.dtype, shape: shape) { raw in
            guard let dst = raw.baseAddress else { return }
            for o in 0..<outer {
                (dst + o * block).copyMemory(from: x.rawPointer + o * rowBytes + start, byteCount: block)
            }
        }
    }
}

/// ONNX Slice with static starts/ends/axes/steps: bounds clamp as `sliceBounds`, negative
/// steps walk backwards. A part that is a contiguous range of at least half of `x` is a view of
/// it (FastPaths/ContiguousViews.swift).
func slice(_ x: Tensor, _ s: SliceAttributes, _ out: TensorType) throws -> Tensor {
    let outShape = out.shape.ints ?? []
    if let start = sliceStart(inShape: x.shape, s, outShape: outShape),
       let offset = contiguousPartOffset(inShape: x.shape, start: start, outShape: outShape),
       let view = partView(x, offset: offset, shape: outShape) { return view }
    return try sliceCopy(x, s, out)
}

/// `slice` as a copy, whatever the part (the plain kernel beside FastPaths/ContiguousViews.swift).
func sliceCopy(_ x: Tensor, _ s: SliceAttributes, _ out: TensorType) throws -> Tensor {
    let axes = try normalizeAxes(s.axes, rank: x.shape.count)
    let strides = rowMajorStrides(x.shape)
    let outShape = out.shape.ints ?? []
    var tables = outShape.indices.map { k in (0..<outShape[k]).map { $0 * strides[k] } }
    for (j, a) in axes.enumerated() {
        let (start, _) = sliceBounds(extent: x.shape[a], start: s.starts[j], end: s.ends[j], step: s.steps[j])
        tables[a] = (0..<outShape[a]).map { (start + $0 * s.steps[j]) * strides[a] }
    }
    return gatherAxes(x, outShape: outShape, tables: tables)
}

/// ONNX Tile: out[i] = x[i mod shape] per axis.
func tile(_ x: Tensor, _ out: TensorType) -> Tensor {
    let strides = rowMajorStrides(x.shape)
    let outShape = out.shape.ints ?? []
    let tables = outShape.indices.map { k in (0..<outShape[k]).map { ($0 % x.shape[k]) * strides[k] } }
    return gatherAxes(x, outShape: outShape, tables: tables)
}

/// ONNX Pad (constant/reflect/edge) with [begin…, end…] pads over all axes; negative pads crop.
/// Reflect mirrors without repeating the edge (numpy "reflect"); edge repeats it. The constant
/// is converted to the dtype as Cast does.
func pad(_ x: Tensor, _ p: PadAttributes, _ out: TensorType) -> Tensor {
    let r = x.shape.count
    let strides = rowMajorStrides(x.shape)
    let outShape = out.shape.ints ?? []
    let tables = (0..<r).map { k in
        (0..<outShape[k]).map { o -> Int in
            let n = x.shape[k]
            var i = o - p.pads[k]
            if i < 0 || i >= n {
                switch p.mode {
                case .constant: return outsideInput
                case .edge: i = Swift.min(Swift.max(i, 0), n - 1)
                case .reflect:
                    let period = 2 * (n - 1)
                    if period == 0 { i = 0 } else {
                        i = ((i % period) + period) % period
                        if i >= n { i = period - i }
                    }
                }
            }
            return i * strides[k]
        }
    }
    return gatherAxes(x, outShape: outShape, tables: tables, fill: fillPattern(p.value, x.dtype))
}

/// ONNX Range with static bounds: element i is start + i·delta, computed in Double and
/// converted (integer dtypes use Int64 start and delta, exactly).
func range(start: Double, delta: Double, _ out: TensorType) throws -> Tensor {
    let shape = out.shape.ints ?? []
    let n = shape.first ?? 0
    if out.dtype.isFloatingPoint {
        return fromFloats((0..<n).map { Float(start + Double($0) * delta) }, dtype: out.dtype, shape: shape)
    }
    guard Swift.abs(start) < 9e18, Swift.abs(delta) < 9e18 else {
        throw KernelError(.invalidInput, "integer Range bounds out of the int64 range (start \(start), delta \(delta))")
    }
    let s = Int64(start.rounded(.towardZero)), d = Int64(delta.rounded(.towardZero))
    return fromInts((0..<n).map { s &+ Int64($0) &* d }, dtype: out.dtype, shape: shape)
}

extension MovementOp {
    /// Runs the op's kernel; `types` are the shape rule's output types.
    func evaluate(_ x: [Tensor], _ types: [TensorType]) throws -> [Tensor] {
        let out = types[0]
        switch self {
        case .gather(let axis): return [try VitInterp.gather(x[0], x[1], axis: axis, out)]
        case .gatherElements(let axis): return [try VitInterp.gatherElements(x[0], x[1], axis: axis)]
        case .reshape, .squeeze, .unsqueeze: return [try reshaped(x[0], out.shape.ints ?? [])]
        case .transpose(let perm): return [VitInterp.transpose(x[0], perm: perm)]
        case .concat(let axis): return [try VitInterp.concat(x, axis: axis, out)]
        case .split(let axis, let sizes): return try VitInterp.split(x[0], axis: axis, sizes: sizes, types)
        case .slice(let s): return [try VitInterp.slice(x[0], s, out)]
        case .expand: return [broadcasted(x[0], to: out.shape.ints ?? [])]
        case .tile: return [VitInterp.tile(x[0], out)]
        case .pad(let p): return [VitInterp.pad(x[0], p, out)]
        case .range(let start, _, let delta, _): return [try VitInterp.range(start: start, delta: delta, out)]
        }
    }
}
