import Foundation
import VitIR

// Elementwise ops with numpy broadcasting. Float dtypes compute in Float32 (float16/bfloat16
// widen exactly and round back), integer dtypes in Int64 wrapped back to their width.

/// Applies `f` to every element of a float tensor, keeping its dtype. Tolerance class: that of `f`.
func mapFloats(_ x: Tensor, _ f: (Float) -> Float) -> Tensor {
    withFloats(x) { src in
        makeFloats(x.dtype, x.shape, writesAll: true) { dst in
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

/// The unary functions of `unaryFloat`/`unarySigned`, so their switches are exhaustive.
enum UnaryFunction { case neg, abs, relu, sqrt, reciprocal, exp, log, erf, sin, cos, tanh, sigmoid, floor, ceil }
/// The binary arithmetic of `binaryArithmetic`.
enum Arithmetic { case add, sub, mul, div, pow, max, min }
/// The comparisons and logic of `comparison`.
enum Comparison { case equal, less, lessOrEqual, greater, greaterOrEqual, and, or }

/// Unary ops on a float tensor (Neg/Abs/Relu also accept integers, see `unarySigned`).
/// Tolerance class: exact for Neg/Abs/Relu/Sqrt/Reciprocal/Floor/Ceil (correctly rounded),
/// rounding (libm) for Exp/Log/Erf/Sin/Cos/Tanh/Sigmoid.
func unaryFloat(_ op: UnaryFunction, _ x: Tensor) -> Tensor {
    withFloats(x) { src in
        makeFloats(x.dtype, x.shape, writesAll: true) { dst in
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
                case .relu: for i in 0..<r.count { d[i] = relu(s[i]) }
                }
            }
        }
    }
}

/// Relu of one float: NaN stays NaN, −0 stays −0 (a fused linear layer's epilogue computes it
/// by this function too, FastPaths/LinearBias.swift).
@inline(__always)
func relu(_ x: Float) -> Float { x < 0 ? 0 : x }

/// Neg, Abs, Relu on floats or integers. Exact; integer Neg/Abs wrap (Abs(Int32.min) = Int32.min
/// as numpy).
func unarySigned(_ op: UnaryFunction, _ x: Tensor) -> Tensor {
    if x.dtype.isFloatingPoint { return unaryFloat(op, x) }
    switch op {
    case .neg: return mapInts(x) { 0 &- $0 }
    case .abs: return mapInts(x) { $0 < 0 ? 0 &- $0 : $0 }
    case .relu: return mapInts(x) { Swift.max($0, 0) }
    case .sqrt, .reciprocal, .exp, .log, .erf, .sin, .cos, .tanh, .sigmoid, .floor, .ceil:
        return unaryFloat(op, x)  // The shape rule admits float inputs only.
    }
}

/// ONNX Gelu (opset 20): `none` is 0.5·x·(1 + erf(x/√2)), `tanh` is
/// 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))). Takes the fast path `geluVectorExp`
/// (FastPaths/; within (1.1e-6 + 2e-7·x²)·|ref| + 5e-38 of the reference) for every input.
func gelu(_ x: Tensor, _ approximate: GeluApproximation) -> Tensor {
    geluVectorExp(x, approximate)
}

/// Gelu by its definition, evaluated in Double and rounded once, in forms without cancellation
/// for x < 0: 1 + erf(y) = erfc(−y), and 0.5·(1 + tanh(u)) = 1 / (1 + e^(−2u)). ±∞ and NaN give
/// what the definition gives in IEEE arithmetic (+∞ → +∞, −∞ → NaN, as numpy).
/// Tolerance class: rounding (libm erfc/exp in Double, one Float rounding).
func geluReference(_ x: Tensor, _ approximate: GeluApproximation) -> Tensor {
    switch approximate {
    case .none:
        return mapFloats(x) { v in
            let d = Double(v)
            return Float(0.5 * d * Foundation.erfc(-d / 2.0.squareRoot()))
        }
    case .tanh:
        return mapFloats(x) { v in
            let d = Double(v)
            let u = (2 / Double.pi).squareRoot() * (d + 0.044715 * d * d * d)
            return Float(d / (1 + Foundation.exp(-2 * u)))
        }
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
func binaryArithmetic(_ op: Arithmetic, _ a: Tensor, _ b: Tensor, _ out: TensorType) throws -> Tensor {
    let shape = out.shape.ints ?? []
    let walk = BroadcastWalk(outShape: shape, operands: [a.shape, b.shape])
    if a.dtype.isFloatingPoint, let block = walk.shortRunBlock {
        return withFloats(a) { pa in
            withFloats(b) { pb in
                makeFloats(out.dtype, shape, writesAll: true) { po in
                    walk.forEachBlockParallel { o, ia, ib, _ in
                        let x = pa.baseAddress! + ia, y = pb.baseAddress! + ib, z = po.baseAddress! + o
                        switch op {
                        case .add: binaryBlock(x, y, z, block) { $0 + $1 }
                        case .sub: binaryBlock(x, y, z, block) { $0 - $1 }
                        case .mul: binaryBlock(x, y, z, block) { $0 * $1 }
                        case .div: binaryBlock(x, y, z, block) { $0 / $1 }
                        case .pow: binaryBlock(x, y, z, block) { Foundation.pow($0, $1) }
                        case .max: binaryBlock(x, y, z, block) { $0.isNaN || $1.isNaN ? .nan : Swift.max($0, $1) }
                        case .min: binaryBlock(x, y, z, block) { $0.isNaN || $1.isNaN ? .nan : Swift.min($0, $1) }
                        }
                    }
                }
            }
        }
    }
    if a.dtype.isFloatingPoint {
        return withFloats(a) { pa in
            withFloats(b) { pb in
                makeFloats(out.dtype, shape, writesAll: true) { po in
                    forEachBinaryRun(walk, pa.baseAddress!, pb.baseAddress!, po.baseAddress!) { x, sx, y, sy, o, n in
                        switch op {
                        case .add: binaryRun(x, sx, y, sy, o, n) { $0 + $1 }
                        case .sub: binaryRun(x, sx, y, sy, o, n) { $0 - $1 }
                        case .mul: binaryRun(x, sx, y, sy, o, n) { $0 * $1 }
                        case .div: binaryRun(x, sx, y, sy, o, n) { $0 / $1 }
                        case .pow: binaryRun(x, sx, y, sy, o, n) { Foundation.pow($0, $1) }
                        case .max: binaryRun(x, sx, y, sy, o, n) { $0.isNaN || $1.isNaN ? .nan : Swift.max($0, $1) }
                        case .min: binaryRun(x, sx, y, sy, o, n) { $0.isNaN || $1.isNaN ? .nan : Swift.min($0, $1) }
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
                    case .min: binaryRun(x, sx, y, sy, o, n) { Swift.min($0, $1) }
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
func comparison(_ op: Comparison, _ a: Tensor, _ b: Tensor, _ out: TensorType) -> Tensor {
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
                case .greaterOrEqual: binaryRun(x, sx, y, sy, o, n) { $0 >= $1 ? 1 : 0 }
                case .and, .or: break  // Bool operands take the branch below.
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
    case .equal, .less, .lessOrEqual, .greater, .greaterOrEqual:
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
        case .add: return [try binaryArithmetic(.add, x[0], x[1], out)]
        case .sub: return [try binaryArithmetic(.sub, x[0], x[1], out)]
        case .mul: return [try binaryArithmetic(.mul, x[0], x[1], out)]
        case .div: return [try binaryArithmetic(.div, x[0], x[1], out)]
        case .pow: return [try binaryArithmetic(.pow, x[0], x[1], out)]
        case .max: return [try binaryArithmetic(.max, x[0], x[1], out)]
        case .min: return [try binaryArithmetic(.min, x[0], x[1], out)]
        case .equal: return [comparison(.equal, x[0], x[1], out)]
        case .less: return [comparison(.less, x[0], x[1], out)]
        case .lessOrEqual: return [comparison(.lessOrEqual, x[0], x[1], out)]
        case .greater: return [comparison(.greater, x[0], x[1], out)]
        case .greaterOrEqual: return [comparison(.greaterOrEqual, x[0], x[1], out)]
        case .and: return [comparison(.and, x[0], x[1], out)]
        case .or: return [comparison(.or, x[0], x[1], out)]
        case .not: return [logicalNot(x[0])]
        case .neg: return [unarySigned(.neg, x[0])]
        case .abs: return [unarySigned(.abs, x[0])]
        case .relu: return [unarySigned(.relu, x[0])]
        case .sqrt: return [unaryFloat(.sqrt, x[0])]
        case .reciprocal: return [unaryFloat(.reciprocal, x[0])]
        case .exp: return [unaryFloat(.exp, x[0])]
        case .log: return [unaryFloat(.log, x[0])]
        case .erf: return [erfVectorExp(x[0])]
        case .sin: return [unaryFloat(.sin, x[0])]
        case .cos: return [unaryFloat(.cos, x[0])]
        case .tanh: return [unaryFloat(.tanh, x[0])]
        case .sigmoid: return [unaryFloat(.sigmoid, x[0])]
        case .floor: return [unaryFloat(.floor, x[0])]
        case .ceil: return [unaryFloat(.ceil, x[0])]
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
