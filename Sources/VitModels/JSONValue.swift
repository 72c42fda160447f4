import Foundation

/// A parsed JSON document, kept as data so it can be validated before it is decoded.
public enum JSONValue: Equatable, Sendable, Decodable {
    case object([String: JSONValue])
    case array([JSONValue])
    case string(String)
    case number(Double)
    case bool(Bool)
    case null

    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let d = try? c.decode(Double.self) { self = .number(d) }
        else if let s = try? c.decode(String.self) { self = .string(s) }
        else if let a = try? c.decode([JSONValue].self) { self = .array(a) }
        else { self = .object(try c.decode([String: JSONValue].self)) }
    }

    public static func parse(_ data: Data) throws -> JSONValue { try JSONDecoder().decode(JSONValue.self, from: data) }

    public subscript(key: String) -> JSONValue? {
        if case .object(let o) = self { return o[key] }
        return nil
    }

    /// Short description for error messages (`integer 3`, `string "x"`, `array`).
    public var summary: String {
        switch self {
        case .object: "object"
        case .array: "array"
        case .string(let s): "string \"\(s)\""
        case .number(let d): d.rounded() == d && abs(d) < 1e15 ? "integer \(Int(d))" : "number \(d)"
        case .bool(let b): "boolean \(b)"
        case .null: "null"
        }
    }
}
