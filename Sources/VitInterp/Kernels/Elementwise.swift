import Foundation
import VitIR

// Elementwise ops with numpy broadcasting. Float dtypes compute in Float32 (float16/bfloat16
// widen exactly and round back), integer dtypes in Int64 wrapped back to their width.

/// Applies `f` to every element of a float tensor, keeping its dtype. Tolerance class: that of `f`.
func mapFloats(_ x: Tensor, _ f: (Float) -> Float) -> Tensor {
    withFloats(x) { src in
        makeFloats(x.dtype, x.shape) { dst in
            parallelChunks(src.count) { r in for i in r { dst[i] = f(src[i]) } }
        }
    }
}

/// Applies `f` to every element of an integer tensor (Int64 arithmetic, wrapped to the dtype).
func mapInts(_ x: Tensor, _ f: (Int64) -> Int64) -> Tensor {
    withInts(x) { src in
        makeInts(x.dtype, x.shape) { dst in
            for i in 0..<src.count { dst[i] = f(src[i]) }
        }
    }
}

/// Unary ops on a float tensor (Neg/Abs/Relu also accept integers, see `unarySigned`).
/// Tolerance class: exact for Neg/Abs/Relu/Sqrt/Reciprocal/Floor/Ceil (correctly rounded),
/// rounding (libm) for Exp/Log/Erf/Sin/Cos/Tanh/Sigmoid.
func unaryFloat(_ op: ElementwiseOp, _ x: Tensor) -> Tensor {
    withFloats(x) { src in
        makeFloats(x.dtype, x.shape) { dst in
            parallelChunks(src.count) { r in
                let s = src.baseAddress! + r.lowerBound, d = dst.baseAddress! + r.lowerBound
                // One literal loop per op so each body inlines.
                switch op {
                case .sqrt: for i in 0..<r.count { d[i] = s[i].squareRoot() }
                case .reciprocal: for i in 0..<r.count { d[i] = 1 / s[i] }
                case .exp: for i in 0..<r.count { d[i] = Foundation.exp(s[i]) }
                case .log: for i in 0..<r.count { d[i] = Foundation.log(s[i]) }
                case .erf: for i in 0..<r.count { d[i] = Foundation.erf(s[i]) }
                case .sin: for i in 0..<r.count { d[i] = Foundation.sin(s[i]) }
                case .cos: for i in 0..<r.count { d[i] = Foundation.cos(s[i]) }
                case .tanh: for i in 0..<r.count { d[i] = Foundation.tanh(s[i]) }
                case .sigmoid: for i in 0..<r.count { d[i] = 1 / (1 + Foundation.exp(-s[i])) }
                case .floor: for i in 0..<r.count { d[i] = s[i].rounded(.down) }
                case .ceil: for i in 0..<r.count { d[i] = s[i].rounded(.up) }
                case .neg: for i in 0..<r.count { d[i] = -s[i] }
                case .abs: for i in 0..<r.count { d[i] = Swift.abs(s[i]) }
                default: for i in 0..<r.count { d[i] = s[i] < 0 ? 0 : s[i] }  // Relu; NaN stays NaN
                }
            }
        }
    }
}

/// Neg, Abs, Relu on floats or integers. Exact; integer Neg/Abs wrap (Abs(Int32.min) = Int32.min
/// as numpy).
func unarySigned(_ op: ElementwiseOp, _ x: Tensor) -> Tensor {
    if x.dtype.isFloatingPoint { return unaryFloat(op, x) }
    switch op {
    case .neg: return mapInts(x) { 0 &- $0 }
    case .abs: return mapInts(x) { $0 < 0 ? 0 &- $0 : $0 }
    default: return mapInts(x) { Swift.max($0, 0) }
    }
}

/// ONNX Gelu (opset 20): `none` is 0.5·x·(1 + erf(x/√2)), `tanh` is
/// 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))). Evaluated in Float, eight lanes at a time, in
/// forms without cancellation for x < 0:
/// - `none`: 0.5·x·erfc(−x/√2), erfc(z) = t·exp(−z² + P(t)), t = 1/(1 + |z|/2) (Numerical
///   Recipes' erfcc, fractional error < 1.2e-7 everywhere), erfc(−z) = 2 − erfc(z);
/// - `tanh`: x / (1 + exp(−2u)), u = √(2/π)·(x + 0.044715·x³).
/// Tolerance class: ≤ 1e-6 relative for x ≥ −3; below, where |result| < 0.004, the rounding of
/// the Float argument is amplified by the steep tail to ≤ 2e-7·x² relative (results under
/// ~1e-38 flush to ±0). ±∞ and NaN give what the formulas give in IEEE arithmetic (+∞ → +∞,
/// −∞ → NaN, as numpy's 0.5·x·(1 + erf(x/√2))).
func gelu(_ x: Tensor, _ approximate: GeluApproximation) -> Tensor {
    withFloats(x) { src in
        makeFloats(x.dtype, x.shape) { dst in
            let s = src.baseAddress!, d = dst.baseAddress!
            let count = src.count
            parallelChunks((count + 7) / 8, grain: 1 << 12) { blocks in
                let lower = blocks.lowerBound * 8, upper = Swift.min(blocks.upperBound * 8, count)
                var j = lower
                while j + 8 <= upper {
                    store8(gelu8(load8(s + j), approximate), d + j)
                    j += 8
                }
                if j < upper {
                    storePartial8(gelu8(loadPartial8(s + j, upper - j, fill: 0), approximate), d + j, upper - j)
                }
            }
        }
    }
}

@inline(__always)
private func gelu8(_ x: Float8, _ approximate: GeluApproximation) -> Float8 {
    switch approximate {
    case .none:
        // z = |x|/√2 ≥ 0; e = erfc(z).
        let z = Float8(repeating: 0).replacing(with: x, where: x .> 0).replacing(with: -x, where: x .< 0)
            * 0.707106781186547524
        let t = 1 / (1 + 0.5 * z)
        var p = 0.17087277 * t - 0.82215223
        p = p * t + 1.48851587
        p = p * t - 1.13520398
        p = p * t + 0.27886807
        p = p * t - 0.18628806
        p = p * t + 0.09678418
        p = p * t + 0.37409196
        p = p * t + 1.00002368
        p = p * t - 1.26551223
        let e = t * exp8(p - z * z)
        // erfc(−x/√2) is e for x < 0 and 2 − e for x ≥ 0 (NaN stays NaN through e).
        let c = e.replacing(with: 2 - e, where: x .>= 0)
        return 0.5 * x * c
    case .tanh:
        let u = 0.797884560802865355 * (x + 0.044715 * x * x * x)
        return x / (1 + exp8(-2 * u))
    }
}

/// ONNX Clip with static bounds (absent bound = unbounded). NaN passes through. For integer
/// inputs the bounds are first cast to the input's dtype (truncation toward zero), as ONNX
/// takes them as tensors of the input type. Exact.
func clip(_ x: Tensor, min lo: Float?, max hi: Float?) -> Tensor {
    if x.dtype.isFloatingPoint {
        let l = lo ?? -.infinity, h = hi ?? .infinity
        return mapFloats(x) { v in
            var y = v
            if y < l { y = l }
            if y > h { y = h }
            return y
        }
    }
    let l = lo.map(truncateToInt64) ?? Int64.min, h = hi.map(truncateToInt64) ?? Int64.max
    return mapInts(x) { Swift.min(Swift.max($0, l), h) }
}

/// Add, Sub, Mul, Div, Pow, Max, Min with numpy broadcasting.
/// Floats: IEEE Float32 arithmetic (exact class: correctly rounded per element; Pow is libm
/// `powf`, rounding class); Max/Min propagate NaN as numpy's maximum/minimum.
/// Integers: Int64 arithmetic wrapped to the dtype; Div truncates toward zero (C/ONNX Runtime
/// semantics, not numpy's floor division) and throws on a zero divisor; Pow with an integer
/// base raises by repeated squaring (negative exponents truncate 1/xⁿ toward zero), with a
/// float exponent it evaluates `pow` in Double and truncates toward zero.
func binaryArithmetic(_ op: ElementwiseOp, _ a: Tensor, _ b: Tensor, _ out: TensorType) throws -> Tensor {
    let shape = out.shape.ints ?? []
    let walk = BroadcastWalk(outShape: shape, operands: [a.shape, b.shape])
    if a.dtype.isFloatingPoint {
        return withFloats(a) { pa in
            withFloats(b) { pb in
                makeFloats(out.dtype, shape) { po in
                    forEachBinaryRun(walk, pa.baseAddress!, pb.baseAddress!, po.baseAddress!) { x, sx, y, sy, o, n in
                        switch op {
                        case .add: binaryRun(x, sx, y, sy, o, n) { $0 + $1 }
                        case .sub: binaryRun(x, sx, y, sy, o, n) { $0 - $1 }
                        case .mul: binaryRun(x, sx, y, sy, o, n) { $0 * $1 }
                        case .div: binaryRun(x, sx, y, sy, o, n) { $0 / $1 }
                        case .pow: binaryRun(x, sx, y, sy, o, n) { Foundation.pow($0, $1) }
                        case .max: binaryRun(x, sx, y, sy, o, n) { $0.isNaN || $1.isNaN ? .nan : Swift.max($0, $1) }
                        default: binaryRun(x, sx, y, sy, o, n) { $0.isNaN || $1.isNaN ? .nan : Swift.min($0, $1) }
                        }
                    }
                }
            }
        }
    }
    if case .pow = op, b.dtype.isFloatingPoint {
        return withInts(a) { pa in
            withFloats(b) { pb in
                makeInts(out.dtype, shape) { po in
                    forEachBinaryRun(walk, pa.baseAddress!, pb.baseAddress!, po.baseAddress!) { x, sx, y, sy, o, n in
                        binaryRun(x, sx, y, sy, o, n) { x, y in
                            let v = Foundation.pow(Double(x), Double(y))
                            return v.isFinite ? Int64(Swift.min(Swift.max(v, -9.2e18), 9.2e18)) : Int64.min
                        }
                    }
                }
            }
        }
    }
    if case .div = op, withInts(b, { $0.contains(0) }) {
        throw KernelError(.invalidInput, "integer division by zero")
    }
    return withInts(a) { pa in
        withInts(b) { pb in
            makeInts(out.dtype, shape) { po in
                forEachBinaryRun(walk, pa.baseAddress!, pb.baseAddress!, po.baseAddress!) { x, sx, y, sy, o, n in
                    switch op {
                    case .add: binaryRun(x, sx, y, sy, o, n) { $0 &+ $1 }
                    case .sub: binaryRun(x, sx, y, sy, o, n) { $0 &- $1 }
                    case .mul: binaryRun(x, sx, y, sy, o, n) { $0 &* $1 }
                    case .div: binaryRun(x, sx, y, sy, o, n) { $1 == -1 ? 0 &- $0 : $0 / $1 }
                    case .pow: binaryRun(x, sx, y, sy, o, n, integerPower)
                    case .max: binaryRun(x, sx, y, sy, o, n) { Swift.max($0, $1) }
                    default: binaryRun(x, sx, y, sy, o, n) { Swift.min($0, $1) }
                    }
                }
            }
        }
    }
}

/// xⁿ in wrapping Int64 arithmetic; for n < 0 the truncated value of 1/x⁻ⁿ (0 unless |x| = 1;
/// 0⁻ⁿ gives 0 rather than a division error).
func integerPower(_ x: Int64, _ n: Int64) -> Int64 {
    if n < 0 {
        if x == 1 { return 1 }
        if x == -1 { return n % 2 == 0 ? 1 : -1 }
        return 0
    }
    var result: Int64 = 1, base = x, e = n
    while e > 0 {
        if e & 1 == 1 { result = result &* base }
        base = base &* base
        e >>= 1
    }
    return result
}

/// Equal, Less, LessOrEqual, Greater, GreaterOrEqual (bool output), And, Or. Floats compare as
/// IEEE (NaN compares unequal and unordered); integers as Int64. Exact.
func comparison(_ op: ElementwiseOp, _ a: Tensor, _ b: Tensor, _ out: TensorType) -> Tensor {
    let shape = out.shape.ints ?? []
    let walk = BroadcastWalk(outShape: shape, operands: [a.shape, b.shape])
    func run<T: Comparable>(_ pa: UnsafeBufferPointer<T>, _ pb: UnsafeBufferPointer<T>) -> Tensor {
        makeBools(shape) { po in
            forEachBinaryRun(walk, pa.baseAddress!, pb.baseAddress!, po.baseAddress!) { x, sx, y, sy, o, n in
                switch op {
                case .equal: binaryRun(x, sx, y, sy, o, n) { $0 == $1 ? 1 : 0 }
                case .less: binaryRun(x, sx, y, sy, o, n) { $0 < $1 ? 1 : 0 }
                case .lessOrEqual: binaryRun(x, sx, y, sy, o, n) { $0 <= $1 ? 1 : 0 }
                case .greater: binaryRun(x, sx, y, sy, o, n) { $0 > $1 ? 1 : 0 }
                default: binaryRun(x, sx, y, sy, o, n) { $0 >= $1 ? 1 : 0 }
                }
            }
        }
    }
    switch op {
    case .and, .or:
        let isAnd: Bool = if case .and = op { true } else { false }
        return a.withElements(as: UInt8.self) { pa in
            b.withElements(as: UInt8.self) { pb in
                makeBools(shape) { po in
                    forEachBinaryRun(walk, pa.baseAddress!, pb.baseAddress!, po.baseAddress!) { x, sx, y, sy, o, n in
                        if isAnd {
                            binaryRun(x, sx, y, sy, o, n) { $0 != 0 && $1 != 0 ? 1 : 0 }
                        } else {
                            binaryRun(x, sx, y, sy, o, n) { $0 != 0 || $1 != 0 ? 1 : 0 }
                        }
                    }
                }
            }
        }
    default:
        if a.dtype.isFloatingPoint {
            return withFloats(a) { pa in withFloats(b) { pb in run(pa, pb) } }
        }
        return withInts(a) { pa in withInts(b) { pb in run(pa, pb) } }
    }
}

/// ONNX Not on bool. Exact.
func logicalNot(_ x: Tensor) -> Tensor {
    x.withElements(as: UInt8.self) { src in
        makeBools(x.shape) { dst in for i in 0..<src.count { dst[i] = src[i] == 0 ? 1 : 0 } }
    }
}

/// ONNX Where(condition, x, y) with three-way numpy broadcasting, any data dtype. Exact.
func whereSelect(_ c: Tensor, _ x: Tensor, _ y: Tensor, _ out: TensorType) -> Tensor {
    let shape = out.shape.ints ?? []
    let walk = BroadcastWalk(outShape: shape, operands: [c.shape, x.shape, y.shape])
    func run<T>(_: T.Type, _ dst: UnsafeMutableRawPointer) {
        let pc = c.rawPointer.assumingMemoryBound(to: UInt8.self)
        let px = x.rawPointer.assumingMemoryBound(to: T.self)
        let py = y.rawPointer.assumingMemoryBound(to: T.self)
        let po = dst.assumingMemoryBound(to: T.self)
        let sc = walk.innerStride(0), sx = walk.innerStride(1), sy = walk.innerStride(2)
        walk.forEachRunParallel { o, ic, ix, iy, n in
            for j in 0..<n {
                po[o + j] = pc[ic + j * sc] != 0 ? px[ix + j * sx] : py[iy + j * sy]
            }
        }
    }
    return Tensor(dtype: out.dtype, shape: shape) { raw in
        guard let dst = raw.baseAddress else { return }
        switch out.dtype.byteSize {
        case 1: run(UInt8.self, dst)
        case 2: run(UInt16.self, dst)
        case 4: run(UInt32.self, dst)
        default: run(UInt64.self, dst)
        }
    }
}

extension ElementwiseOp {
    /// Runs the op's kernel; `types` are the shape rule's output types.
    func evaluate(_ x: [Tensor], _ types: [TensorType]) throws -> [Tensor] {
        let out = types[0]
        switch self {
        case .add, .sub, .mul, .div, .pow, .max, .min:
            return [try binaryArithmetic(self, x[0], x[1], out)]
        case .equal, .less, .lessOrEqual, .greater, .greaterOrEqual, .and, .or:
            return [comparison(self, x[0], x[1], out)]
        case .not:
            return [logicalNot(x[0])]
        case .neg, .abs, .relu:
            return [unarySigned(self, x[0])]
        case .sqrt, .reciprocal, .exp, .log, .erf, .sin, .cos, .tanh, .sigmoid, .floor, .ceil:
            return [unaryFloat(self, x[0])]
        case .gelu(let approximate):
            return [VitInterp.gelu(x[0], approximate)]
        case .clip(let lo, let hi):
            return [VitInterp.clip(x[0], min: lo, max: hi)]
        case .where:
            return [whereSelect(x[0], x[1], x[2], out)]
        case .cast(let to):
            return [VitInterp.cast(x[0], to: to)]
        case .identity:
            return [x[0]]
        }
    }
}
