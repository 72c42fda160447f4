/// One dimension of a shape. Every dimension traced today is `.fixed`; `.symbol` names a
/// dynamic dimension (a batch size chosen at run time) so it can be introduced without
/// changing how shapes are stored. Shape rules that need a concrete extent call
/// `Shape.concrete()` and fail clearly on symbols.
public enum Dim: Hashable, Sendable, CustomStringConvertible, ExpressibleByIntegerLiteral {
    case fixed(Int)
    case symbol(String)

    public init(integerLiteral value: Int) { self = .fixed(value) }

    public var value: Int? {
        if case .fixed(let v) = self { return v }
        return nil
    }

    public var description: String {
        switch self {
        case .fixed(let v): String(v)
        case .symbol(let s): s
        }
    }
}

/// An ordered list of dimensions. Rank 0 is a scalar.
public struct Shape: Hashable, Sendable, CustomStringConvertible, ExpressibleByArrayLiteral,
    RandomAccessCollection
{
    public var dims: [Dim]

    public init(_ dims: [Dim]) { self.dims = dims }
    public init(_ ints: [Int]) { self.dims = ints.map(Dim.fixed) }
    public init(arrayLiteral elements: Int...) { self.dims = elements.map(Dim.fixed) }

    public var rank: Int { dims.count }
    public var startIndex: Int { 0 }
    public var endIndex: Int { dims.count }
    public subscript(i: Int) -> Dim { dims[i] }

    /// The extents as integers, or nil if any dimension is symbolic.
    public var ints: [Int]? {
        var out: [Int] = []
        out.reserveCapacity(dims.count)
        for d in dims {
            guard let v = d.value else { return nil }
            out.append(v)
        }
        return out
    }

    /// Element count, or nil when a dimension is symbolic.
    public var elementCount: Int? { ints.map { $0.reduce(1, *) } }

    public var description: String { "[" + dims.map(\.description).joined(separator: ", ") + "]" }
}

/// The static type of a value: element type and shape.
public struct TensorType: Hashable, Sendable, CustomStringConvertible {
    public var dtype: DType
    public var shape: Shape

    public init(_ dtype: DType, _ shape: Shape) {
        self.dtype = dtype
        self.shape = shape
    }

    public var rank: Int { shape.rank }
    public var description: String { "\(dtype.shortName)\(shape)" }
}
