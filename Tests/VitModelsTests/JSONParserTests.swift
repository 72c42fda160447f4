import Foundation
import Testing
@testable import VitModels

/// The strict JSON parser that reads configurations and safetensors headers.
@Suite struct JSONParserTests {
    private func parse(_ text: String, maxDepth: Int = JSONParser.defaultMaxDepth) throws -> JSONValue {
        try JSONValue.parse(Data(text.utf8), maxDepth: maxDepth)
    }

    private func failure(_ text: String, maxDepth: Int = JSONParser.defaultMaxDepth) -> String {
        do {
            _ = try parse(text, maxDepth: maxDepth)
            return "no error"
        } catch {
            return "\(error)"
        }
    }

    @Test func parsesEveryKindOfValue() throws {
        let v = try parse(#" {"a": [1, -2.5e3, true, false, null], "b": {"c": "x\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00"}} "#)
        #expect(v["a"] == .array([.number(1), .number(-2500), .bool(true), .bool(false), .null]))
        #expect(v["b"]?["c"] == .string("x\"\\/\u{8}\u{c}\n\r\té😀"))
        #expect(try parse("[]") == .array([]))
        #expect(try parse("{}") == .object([:]))
        #expect(try parse("\u{FEFF}0") == .number(0))
    }

    @Test func duplicateKeysAreAnErrorNamingTheKeyAndPlace() {
        let message = failure("{\n  \"depth\": 1,\n  \"depth\": 2\n}")
        #expect(message == "duplicate key \"depth\" at line 3, column 3")
        #expect(failure(#"{"a": {"x": 1, "x": 1}}"#).contains("duplicate key \"x\""))
    }

    @Test("Malformed documents name the problem and its place", arguments: [
        ("", "unexpected end of input"),
        ("{\"a\": 1,}", "expected a string key"),
        ("[1 2]", "expected ',' or ']'"),
        ("01", "leading zero"),
        ("1e999", "out of range"),
        ("\"abc", "unterminated string"),
        ("\"a\u{01}\"", "control character"),
        ("\"\\ud800\"", "unpaired surrogate"),
        ("\"\\x\"", "invalid escape"),
        ("tru", "invalid literal"),
        ("{} {}", "unexpected text after the document"),
        ("NaN", "unexpected character"),
    ])
    func malformed(_ text: String, _ expected: String) {
        let message = failure(text)
        #expect(message.contains(expected), "\(message)")
        #expect(message.contains("line "), "\(message)")
    }

    @Test func nestingIsBounded() throws {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(failure(deep).contains("nesting deeper than 64 levels"))
        _ = try parse(String(repeating: "[", count: 64) + String(repeating: "]", count: 64))
        #expect(failure("[[[]]]", maxDepth: 2).contains("nesting deeper than 2"))
    }

    @Test func aConfigWithADuplicateKeyIsRefused() {
        let text = """
            {"name": "t", "name": "u", "architecture": "conv-attention", "image_size": [32, 32], "seed": 0,
             "conv_attention": {"in_channels": 3, "stem_channels": 8, "patch_size": 4, "embed_dim": 32,
               "depth": 1, "num_heads": 2, "mlp_ratio": 2.0, "layer_norm_eps": 1e-6, "neck_groups": 4, "num_classes": 10}}
            """
        do {
            _ = try ModelConfig.parse(Data(text.utf8), source: "dup.json")
            Issue.record("accepted a duplicate key")
        } catch {
            #expect("\(error)".contains("duplicate key \"name\""), "\(error)")
            #expect("\(error)".contains("dup.json"), "\(error)")
        }
    }
}
