import VitIR

/// Row-major element strides of `shape`.
func rowMajorStrides(_ shape: [Int]) -> [Int] {
    var strides = Array(repeating: 1, count: shape.count)
    var acc = 1
    for i in stride(from: shape.count - 1, through: 0, by: -1) {
        strides[i] = acc
        acc *= shape[i]
    }
    return strides
}

/// Calls `body` with every multi-index of `shape` in row-major order (once for rank 0,
/// never when an extent is 0).
func forEachIndex(_ shape: [Int], _ body: ([Int]) throws -> Void) rethrows {
    guard !shape.contains(0) else { return }
    var index = Array(repeating: 0, count: shape.count)
    while true {
        try body(index)
        var axis = shape.count - 1
        while axis >= 0 {
            index[axis] += 1
            if index[axis] < shape[axis] { break }
            index[axis] = 0
            axis -= 1
        }
        if axis < 0 { return }
    }
}

/// Element strides of an operand of `shape` broadcast (numpy rules) to `outShape`: 0 on
/// broadcast axes and on leading axes the operand lacks.
func broadcastStrides(_ shape: [Int], to outShape: [Int]) -> [Int] {
    let own = rowMajorStrides(shape)
    var strides = Array(repeating: 0, count: outShape.count)
    let lead = outShape.count - shape.count
    for i in 0..<shape.count where shape[i] != 1 {
        strides[lead + i] = own[i]
    }
    return strides
}

/// Converts a float to an integer index, saturating far-out values and mapping NaN to
/// `Int.min`, so callers' bounds checks reject it without trapping.
func saturatingIndex(_ v: Double) -> Int {
    guard !v.isNaN else { return Int.min }
    let limit = Double(1 << 52)
    return Int(Swift.min(Swift.max(v, -limit), limit))
}
