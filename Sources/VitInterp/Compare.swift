import VitIR

/// The largest elementwise |a − b| over two tensors compared as Float32 values (any dtypes).
/// Infinite when the shapes differ or exactly one side is NaN at some position; positions
/// where both are NaN, or both are the same infinity, count as equal.
public func maxAbsDiff(_ a: Tensor, _ b: Tensor) -> Float {
    guard a.shape == b.shape else { return .infinity }
    let x = a.floats, y = b.floats
    var worst: Float = 0
    for i in x.indices {
        let p = x[i], q = y[i]
        if p == q || (p.isNaN && q.isNaN) { continue }
        if p.isNaN || q.isNaN { return .infinity }
        worst = Swift.max(worst, Swift.abs(p - q))
    }
    return worst
}
