import Foundation
import Testing
@testable import VitModels

/// The committed tiny configuration as text, edited per test.
private let tinyConfig = """
    {
      "name": "t", "architecture": "conv-attention", "image_size": [32, 32], "seed": 0,
      "conv_attention": {"in_channels": 3, "stem_channels": 8, "patch_size": 4, "embed_dim": 32,
        "depth": 1, "num_heads": 2, "mlp_ratio": 2.0, "layer_norm_eps": 1e-6, "neck_groups": 4, "num_classes": 10}
    }
    """

private func parse(_ text: String) throws -> ModelConfig {
    try ModelConfig.parse(Data(text.utf8), source: "test.json")
}

private func problems(_ text: String) -> [String] {
    do {
        _ = try parse(text)
        return []
    } catch let e as ConfigError {
        return e.problems
    } catch {
        return ["unexpected \(error)"]
    }
}

@Test func embeddedDefaultLoads() throws {
    let c = try ModelConfig.load("tiny-convattn")
    #expect(c.name == "tiny-convattn")
    #expect(c.imageSize == [32, 32])
    #expect(c.convAttention?.embedDim == 32)
    #expect(c.source == "embedded:tiny-convattn")
    #expect(!c.fingerprint.isEmpty)
}

@Test func validConfigParses() throws {
    let c = try parse(tinyConfig)
    #expect(c.convAttention?.numHeads == 2)
    #expect(c.convAttention?.layerNormEps == 1e-6)
}

@Test func unknownKeyIsNamed() {
    let p = problems(tinyConfig.replacingOccurrences(of: "\"depth\": 1", with: "\"depth\": 1, \"dpeth\": 2"))
    #expect(p.count == 1)
    #expect(p.first?.hasPrefix("conv_attention.dpeth: unknown key") == true)
}

@Test func unknownTopLevelKeyIsNamed() {
    let p = problems(tinyConfig.replacingOccurrences(of: "\"seed\": 0", with: "\"seed\": 0, \"colour\": \"red\""))
    #expect(p.first?.hasPrefix("colour: unknown key") == true)
}

@Test func missingKeyIsNamed() {
    let p = problems(tinyConfig.replacingOccurrences(of: "\"num_heads\": 2, ", with: ""))
    #expect(p == ["conv_attention.num_heads: required key is missing"])
}

@Test func missingArchitectureSectionIsNamed() {
    let text = """
        {"name": "t", "architecture": "conv-attention", "image_size": [32, 32], "seed": 0}
        """
    #expect(problems(text) == ["conv_attention: required key is missing"])
}

@Test func wrongTypeIsNamed() {
    let p = problems(tinyConfig.replacingOccurrences(of: "\"embed_dim\": 32", with: "\"embed_dim\": \"32\""))
    #expect(p == ["conv_attention.embed_dim: expected integer, got string \"32\""])
}

@Test func fractionalIntegerIsRejected() {
    let p = problems(tinyConfig.replacingOccurrences(of: "\"depth\": 1", with: "\"depth\": 1.5"))
    #expect(p == ["conv_attention.depth: expected integer, got number 1.5"])
}

@Test func outOfRangeAndEnumAreNamed() {
    let p = problems(tinyConfig
        .replacingOccurrences(of: "\"patch_size\": 4", with: "\"patch_size\": 0")
        .replacingOccurrences(of: "\"conv-attention\"", with: "\"resnet\""))
    #expect(p.contains { $0.hasPrefix("architecture: string \"resnet\" is not one of string \"conv-attention\"") })
    #expect(p.contains("conv_attention.patch_size: integer 0 is below the minimum 1"))
}

@Test func imageSizeArity() {
    let p = problems(tinyConfig.replacingOccurrences(of: "[32, 32]", with: "[32]"))
    #expect(p == ["image_size: expected at least 2 items, got 1"])
}

@Test func relationsNameKeyValueAndFix() {
    let p = problems(tinyConfig
        .replacingOccurrences(of: "[32, 32]", with: "[30, 32]")
        .replacingOccurrences(of: "\"num_heads\": 2", with: "\"num_heads\": 3"))
    #expect(p.contains("image_size: height 30 is not divisible by conv_attention.patch_size 4"))
    #expect(p.contains("conv_attention.num_heads: 3 does not divide embed_dim 32"))
}

@Test func invalidJSONIsReported() {
    let p = problems("{\"name\": ")
    #expect(p.count == 1)
    #expect(p.first?.hasPrefix("not valid JSON") == true)
}

@Test func errorTextNamesTheFile() {
    do {
        _ = try ModelConfig.load("/nonexistent/dir/model.json")
        Issue.record("expected an error")
    } catch {
        #expect("\(error)" == "/nonexistent/dir/model.json: cannot open: No such file or directory")
    }
    do {
        _ = try ModelConfig.load("no-such-model")
        Issue.record("expected an error")
    } catch {
        #expect("\(error)".contains("no embedded model by that name"))
        #expect("\(error)".contains("tiny-convattn"))
    }
}

@Test func everyCommittedConfigValidates() throws {
    let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../Models/configs").standardized
    let files = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".json") }
    #expect(!files.isEmpty)
    for f in files {
        let c = try ModelConfig.load(dir.appendingPathComponent(f).path)
        #expect(c.name + ".json" == f, "config name must match its file name")
    }
}

@Test func schemaValidatorRejectsUnsupportedKeywords() {
    let schema = JSONValue.object(["type": .string("object"), "patternProperties": .object([:])])
    let p = JSONSchemaValidator(schema: schema).validate(.object([:]))
    #expect(p == ["<root>: schema keyword 'patternProperties' is not supported by this validator"])
}
