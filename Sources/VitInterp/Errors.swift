import VitIR

/// A kernel's refusal: inputs that break the op's shape rule, values the op cannot accept
/// (an out-of-range index, an integer division by zero), or an attribute combination the
/// interpreter does not implement.
public struct KernelError: Error, CustomStringConvertible, Sendable {
    public enum Kind: Sendable, Equatable {
        /// `inferTypes` rejected the input types; the message says what was expected.
        case shapeRule
        /// The input values are outside the op's domain.
        case invalidInput
        /// A valid ONNX configuration this interpreter does not implement.
        case unsupported
    }

    public var kind: Kind
    public var message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String {
        switch kind {
        case .shapeRule: "shape rule expected \(message)"
        case .invalidInput: message
        case .unsupported: "unsupported: \(message)"
        }
    }
}

/// A failed interpreter run, located at the graph input or the node that failed. A node's
/// description reads `Gather at backbone.blocks.0 (Models/Tiny.swift:42) node 'x.Gather': …`.
public struct InterpreterError: Error, CustomStringConvertible, Sendable {
    public enum Site: Sendable {
        /// A graph input named in the feeds (or missing from them).
        case feed(name: String)
        /// A node: its unique name, ONNX op name, module scope and the Swift line that traced it.
        case node(name: String, op: String, scope: String, location: SourceLocation)
        /// The graph as a whole (an undefined output).
        case graph
    }

    public var site: Site
    public var message: String
    /// The kernel's own error when a node failed inside `evaluate`.
    public var underlying: KernelError?

    public init(site: Site, message: String, underlying: KernelError? = nil) {
        self.site = site
        self.message = message
        self.underlying = underlying
    }

    public var description: String {
        switch site {
        case .feed(let name):
            return "input '\(name)': \(message)"
        case .node(let name, let op, let scope, let location):
            return "\(op) at \(scope.isEmpty ? "<root>" : scope) (\(location)) node '\(name)': \(message)"
        case .graph:
            return "graph: \(message)"
        }
    }
}
