/// Elementwise ops: numpy-broadcasting binary arithmetic, comparisons and logic, unary math,
/// and the per-element Gelu, Clip, Where, Cast and Identity (ONNX operators of the same names).
public enum ElementwiseOp: Hashable, Sendable {
    // Binary arithmetic with numpy broadcasting.
    case add, sub, mul, div, pow, max, min
    // Comparisons and logic (output bool).
    case equal, less, lessOrEqual, greater, greaterOrEqual, and, or, not
    // Unary.
    case neg, abs, sqrt, reciprocal, exp, log, erf, sin, cos, tanh, sigmoid, relu, floor, ceil
    /// ONNX Gelu (opset 20): `approximate` is "none" or "tanh".
    case gelu(approximate: GeluApproximation)
    /// ONNX Clip with static bounds.
    case clip(min: Float?, max: Float?)
    /// ONNX Where(condition, x, y).
    case `where`
    case cast(to: DType)
    case identity
}

public enum GeluApproximation: String, Hashable, Sendable { case none, tanh }

extension Op {
    public static let add = Op.elementwise(.add), sub = Op.elementwise(.sub), mul = Op.elementwise(.mul)
    public static let div = Op.elementwise(.div), pow = Op.elementwise(.pow)
    public static let max = Op.elementwise(.max), min = Op.elementwise(.min)
    public static let equal = Op.elementwise(.equal), less = Op.elementwise(.less)
    public static let lessOrEqual = Op.elementwise(.lessOrEqual), greater = Op.elementwise(.greater)
    public static let greaterOrEqual = Op.elementwise(.greaterOrEqual)
    public static let and = Op.elementwise(.and), or = Op.elementwise(.or), not = Op.elementwise(.not)
    public static let neg = Op.elementwise(.neg), abs = Op.elementwise(.abs), sqrt = Op.elementwise(.sqrt)
    public static let reciprocal = Op.elementwise(.reciprocal), exp = Op.elementwise(.exp), log = Op.elementwise(.log)
    public static let erf = Op.elementwise(.erf), sin = Op.elementwise(.sin), cos = Op.elementwise(.cos)
    public static let tanh = Op.elementwise(.tanh), sigmoid = Op.elementwise(.sigmoid), relu = Op.elementwise(.relu)
    public static let floor = Op.elementwise(.floor), ceil = Op.elementwise(.ceil)
    public static let `where` = Op.elementwise(.where), identity = Op.elementwise(.identity)
    public static func gelu(approximate: GeluApproximation) -> Op { .elementwise(.gelu(approximate: approximate)) }
    public static func clip(min: Float?, max: Float?) -> Op { .elementwise(.clip(min: min, max: max)) }
    public static func cast(to: DType) -> Op { .elementwise(.cast(to: to)) }
}

extension ElementwiseOp: OpDefinition {
    public var name: String {
        switch self {
        case .add: "Add"
        case .sub: "Sub"
        case .mul: "Mul"
        case .div: "Div"
        case .pow: "Pow"
        case .max: "Max"
        case .min: "Min"
        case .equal: "Equal"
        case .less: "Less"
        case .lessOrEqual: "LessOrEqual"
        case .greater: "Greater"
        case .greaterOrEqual: "GreaterOrEqual"
        case .and: "And"
        case .or: "Or"
        case .not: "Not"
        case .neg: "Neg"
        case .abs: "Abs"
        case .sqrt: "Sqrt"
        case .reciprocal: "Reciprocal"
        case .exp: "Exp"
        case .log: "Log"
        case .erf: "Erf"
        case .sin: "Sin"
        case .cos: "Cos"
        case .tanh: "Tanh"
        case .sigmoid: "Sigmoid"
        case .relu: "Relu"
        case .floor: "Floor"
        case .ceil: "Ceil"
        case .gelu: "Gelu"
        case .clip: "Clip"
        case .where: "Where"
        case .cast: "Cast"
        case .identity: "Identity"
        }
    }

    public var attributeSummary: [(String, String)] {
        switch self {
        case .gelu(let a): [("approximate", a.rawValue)]
        case .clip(let lo, let hi): [("min", lo.map { "\($0)" } ?? "none"), ("max", hi.map { "\($0)" } ?? "none")]
        case .cast(let to): [("to", to.rawValue)]
        case .add, .sub, .mul, .div, .pow, .max, .min, .equal, .less, .lessOrEqual, .greater, .greaterOrEqual,
             .and, .or, .not, .neg, .abs, .sqrt, .reciprocal, .exp, .log, .erf, .sin, .cos, .tanh, .sigmoid,
             .relu, .floor, .ceil, .where, .identity: []
        }
    }

    public var outputCount: Int { 1 }

    public func inferTypes(_ x: ShapeRuleInputs) throws(ShapeRuleError) -> [TensorType] {
        let dims = x.dims
        switch self {
        case .add, .sub, .mul, .div, .pow, .max, .min:
            try x.arity(2...2)
            if self != .pow { try x.sameDType([0, 1]) }
            guard x[0].dtype != .bool, x[1].dtype != .bool else { throw ShapeRuleError("numeric inputs, got bool") }
            return x.out(try broadcast(dims[0], dims[1]))
        case .equal, .less, .lessOrEqual, .greater, .greaterOrEqual:
            try x.arity(2...2)
            try x.sameDType([0, 1])
            // ONNX: only Equal is defined on bool; Less/Greater(OrEqual) take numeric types.
            if self != .equal, x[0].dtype == .bool { throw ShapeRuleError("numeric inputs (only Equal compares bool), got bool") }
            return x.out(.bool, try broadcast(dims[0], dims[1]))
        case .and, .or:
            try x.arity(2...2)
            guard x[0].dtype == .bool, x[1].dtype == .bool else {
                throw ShapeRuleError("bool inputs, got \(x[0].dtype.rawValue) and \(x[1].dtype.rawValue)")
            }
            return x.out(.bool, try broadcast(dims[0], dims[1]))
        case .not:
            try x.arity(1...1)
            guard x[0].dtype == .bool else { throw ShapeRuleError("a bool input, got \(x[0].dtype.rawValue)") }
            return [x[0]]
        case .sqrt, .reciprocal, .exp, .log, .erf, .sin, .cos, .tanh, .sigmoid, .floor, .ceil, .gelu:
            try x.arity(1...1)
            try x.float(0)
            return [x[0]]
        case .neg, .abs, .relu:
            try x.arity(1...1)
            try x.numeric(0)
            // ONNX Neg and Relu are defined on signed types only (Abs also on unsigned).
            if self != .abs, x[0].dtype == .uint8 { throw ShapeRuleError("a signed input, got uint8") }
            return [x[0]]
        case .identity:
            try x.arity(1...1)
            return [x[0]]
        case .clip(let lo, let hi):
            try x.arity(1...1)
            if let lo, let hi, lo > hi { throw ShapeRuleError("min ≤ max, got min \(lo) > max \(hi)") }
            try x.numeric(0)
            return [x[0]]
        case .where:
            try x.arity(3...3)
            guard x[0].dtype == .bool else { throw ShapeRuleError("a bool condition, got \(x[0].dtype.rawValue)") }
            try x.sameDType([1, 2])
            return x.out(x[1].dtype, try broadcast(try broadcast(dims[0], dims[1]), dims[2]))
        case .cast(let to):
            try x.arity(1...1)
            return x.out(to, dims[0])
        }
    }

    public func estimatedFLOPs(_ s: CostShapes) -> Int {
        switch self {
        case .cast, .identity: 0
        case .add, .sub, .mul, .div, .pow, .max, .min, .equal, .less, .lessOrEqual, .greater, .greaterOrEqual,
             .and, .or, .not, .neg, .abs, .sqrt, .reciprocal, .exp, .log, .erf, .sin, .cos, .tanh, .sigmoid,
             .relu, .floor, .ceil, .gelu, .clip, .where: s.outputElements
        }
    }
}
