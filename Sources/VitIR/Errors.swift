/// A shape rule's complaint, before it is located: what the op expected of its inputs.
public struct ShapeRuleError: Error, Equatable, Sendable {
    public var expected: String
    public init(_ expected: String) { self.expected = expected }
}

/// An op rejected at trace time, with everything needed to find and fix the call.
public struct TraceError: Error, CustomStringConvertible, Sendable {
    public var op: String
    public var scope: String
    public var location: SourceLocation
    public var inputTypes: [TensorType]
    public var message: String

    public init(op: String, scope: String, location: SourceLocation, inputTypes: [TensorType], message: String) {
        self.op = op; self.scope = scope; self.location = location; self.inputTypes = inputTypes; self.message = message
    }

    public var description: String {
        let where_ = scope.isEmpty ? "<root>" : scope
        let ins = inputTypes.map(\.description).joined(separator: ", ")
        return "\(op) at \(where_) (\(location)): inputs (\(ins)): \(message)"
    }
}

/// A broken graph invariant found by `verify(_:)`.
public struct VerificationError: Error, CustomStringConvertible, Sendable {
    public var problems: [String]
    public var description: String {
        "graph verification failed (\(problems.count) problem\(problems.count == 1 ? "" : "s")):\n"
            + problems.map { "  - " + $0 }.joined(separator: "\n")
    }
}
