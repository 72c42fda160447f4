/// Overflow-checked arithmetic for every number that comes from a file, a flag or a
/// configuration (dims, sizes, offsets, attribute values, float scales). Each function returns
/// nil where the exact result is not an `Int`; callers turn nil into an error that names the
/// file, tensor or node and the value. Nothing here traps.
public enum Checked {
    public static func add(_ a: Int, _ b: Int) -> Int? {
        let (r, overflow) = a.addingReportingOverflow(b)
        return overflow ? nil : r
    }

    public static func subtract(_ a: Int, _ b: Int) -> Int? {
        let (r, overflow) = a.subtractingReportingOverflow(b)
        return overflow ? nil : r
    }

    public static func multiply(_ a: Int, _ b: Int) -> Int? {
        let (r, overflow) = a.multipliedReportingOverflow(by: b)
        return overflow ? nil : r
    }

    /// −a, or nil for `Int.min`.
    public static func negate(_ a: Int) -> Int? { subtract(0, a) }

    /// The product of `factors` (1 when empty).
    public static func product(_ factors: some Sequence<Int>) -> Int? {
        var p = 1
        for f in factors {
            guard let next = multiply(p, f) else { return nil }
            p = next
        }
        return p
    }

    /// The sum of `terms` (0 when empty).
    public static func sum(_ terms: some Sequence<Int>) -> Int? {
        var s = 0
        for t in terms {
            guard let next = add(s, t) else { return nil }
            s = next
        }
        return s
    }

    /// `d` as an `Int` when it is finite and within `Int`'s range (the fraction is dropped
    /// toward zero, as `Int(_:)` does); nil otherwise.
    public static func integer(_ d: Double) -> Int? {
        // 2^63 is exactly representable; every Double below it (and ≥ −2^63) converts.
        guard d.isFinite, d < 9_223_372_036_854_775_808.0, d >= -9_223_372_036_854_775_808.0 else { return nil }
        return Int(d)
    }

    /// Bytes of `count` elements of `dtype`, or nil on overflow.
    public static func byteCount(_ count: Int, _ dtype: DType) -> Int? { multiply(count, dtype.byteSize) }

    /// Bytes of a tensor of `dims` and `dtype` (nil for a negative extent or on overflow).
    public static func byteCount(dims: [Int], _ dtype: DType) -> Int? {
        guard dims.allSatisfy({ $0 >= 0 }), let n = product(dims) else { return nil }
        return byteCount(n, dtype)
    }
}

extension ShapeRuleError {
    /// An arithmetic overflow in a shape rule, naming what was computed from which values.
    static func overflow(_ what: String) -> ShapeRuleError { ShapeRuleError("\(what) to fit in a 64-bit integer (it overflows)") }
}

/// `value`, or a shape-rule error saying that `what` overflows.
func checked(_ value: Int?, _ what: @autoclosure () -> String) throws(ShapeRuleError) -> Int {
    guard let value else { throw .overflow(what()) }
    return value
}
