import Foundation

/// A validator for the subset of JSON Schema (draft 2020-12) that the committed schemas use:
/// `type`, `properties`, `required`, `additionalProperties` (boolean), `items`, `minItems`,
/// `maxItems`, `enum`, `const`, `minimum`, `maximum`, `exclusiveMinimum`, `allOf`, `if`/`then`,
/// and local `$ref` (`#/$defs/…`). Any other keyword in a schema is reported as a problem, so
/// a schema can never silently ask for more than is checked. CI also validates the configs
/// with Python's `jsonschema` as an outside judge.
public struct JSONSchemaValidator: Sendable {
    public let root: JSONValue

    static let supported: Set<String> = [
        "$schema", "$id", "$defs", "$ref", "$comment", "title", "description", "default", "examples",
        "type", "properties", "required", "additionalProperties", "items", "minItems", "maxItems",
        "enum", "const", "minimum", "maximum", "exclusiveMinimum", "allOf", "if", "then",
    ]

    public init(schema: JSONValue) { root = schema }

    /// Every violation as "key.path: message"; empty when `value` conforms.
    public func validate(_ value: JSONValue) -> [String] {
        var problems: [String] = []
        check(value, root, path: "", &problems)
        return problems
    }

    private func resolve(_ schema: JSONValue) -> JSONValue? {
        guard case .string(let ref)? = schema["$ref"] else { return schema }
        guard ref.hasPrefix("#/") else { return nil }
        var node = root
        for part in ref.dropFirst(2).split(separator: "/") {
            guard let next = node[String(part)] else { return nil }
            node = next
        }
        return node
    }

    private func check(_ value: JSONValue, _ rawSchema: JSONValue, path: String, _ problems: inout [String]) {
        let at = path.isEmpty ? "<root>" : path
        guard let schema = resolve(rawSchema), case .object(let s) = schema else {
            problems.append("\(at): schema reference \(rawSchema["$ref"]?.summary ?? "?") cannot be resolved")
            return
        }
        for key in s.keys.sorted() where !Self.supported.contains(key) {
            problems.append("\(at): schema keyword '\(key)' is not supported by this validator")
        }
        if case .string(let type)? = s["type"], !matches(value, type: type) {
            problems.append("\(at): expected \(type), got \(value.summary)")
            return
        }
        if case .array(let options)? = s["enum"], !options.contains(value) {
            problems.append("\(at): \(value.summary) is not one of \(options.map(\.summary).joined(separator: ", "))")
        }
        if let c = s["const"], c != value { problems.append("\(at): expected \(c.summary), got \(value.summary)") }
        if case .number(let n) = value {
            if case .number(let lo)? = s["minimum"], n < lo { problems.append("\(at): \(value.summary) is below the minimum \(plain(lo))") }
            if case .number(let hi)? = s["maximum"], n > hi { problems.append("\(at): \(value.summary) is above the maximum \(plain(hi))") }
            if case .number(let lo)? = s["exclusiveMinimum"], n <= lo { problems.append("\(at): \(value.summary) must be greater than \(plain(lo))") }
        }
        if case .object(let object) = value {
            var properties: [String: JSONValue] = [:]
            if case .object(let p)? = s["properties"] { properties = p }
            if case .array(let required)? = s["required"] {
                for case .string(let key) in required where object[key] == nil {
                    problems.append("\(path.isEmpty ? "" : path + ".")\(key): required key is missing")
                }
            }
            for key in object.keys.sorted() {
                let sub = path.isEmpty ? key : "\(path).\(key)"
                if let propertySchema = properties[key] {
                    check(object[key]!, propertySchema, path: sub, &problems)
                } else if s["additionalProperties"] == .bool(false) {
                    problems.append("\(sub): unknown key (allowed here: \(properties.keys.sorted().joined(separator: ", ")))")
                }
            }
        }
        if case .array(let array) = value {
            if case .number(let lo)? = s["minItems"], Double(array.count) < lo { problems.append("\(at): expected at least \(Int(lo)) items, got \(array.count)") }
            if case .number(let hi)? = s["maxItems"], Double(array.count) > hi { problems.append("\(at): expected at most \(Int(hi)) items, got \(array.count)") }
            if let items = s["items"] {
                for (i, element) in array.enumerated() { check(element, items, path: "\(path)[\(i)]", &problems) }
            }
        }
        if case .array(let all)? = s["allOf"] { for sub in all { check(value, sub, path: path, &problems) } }
        if let condition = s["if"], let then = s["then"] {
            var scratch: [String] = []
            check(value, condition, path: path, &scratch)
            if scratch.isEmpty { check(value, then, path: path, &problems) }
        }
    }

    private func matches(_ value: JSONValue, type: String) -> Bool {
        switch (type, value) {
        case ("object", .object), ("array", .array), ("string", .string), ("boolean", .bool), ("number", .number), ("null", .null): true
        case ("integer", .number(let d)): d.rounded() == d
        default: false
        }
    }
}

/// A schema bound as written in JSON (`1`, `0.5`).
private func plain(_ d: Double) -> String { d.rounded() == d && abs(d) < 1e15 ? String(Int(d)) : String(d) }
