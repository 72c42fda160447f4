import ConfigSchemas
import Foundation
import ModelZoo
import Testing
@testable import VitModels

/// The repository root, for comparing the embedded bytes with the committed files.
private let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .appendingPathComponent("../..").standardized

@Test func embeddedConfigsAreTheCommittedFilesByteForByte() throws {
    let dir = repository.appendingPathComponent("Models/configs")
    let names = try FileManager.default.contentsOfDirectory(atPath: dir.path)
        .filter { $0.hasSuffix(".json") }.map { String($0.dropLast(5)) }.sorted()
    #expect(!names.isEmpty)
    #expect(ModelZoo.names == names, "embedded names differ from Models/configs; run Tools/gen-embedded.py")
    for name in names {
        let onDisk = try Data(contentsOf: dir.appendingPathComponent("\(name).json"))
        #expect(ModelZoo.data(named: name) == onDisk,
                "embedded \(name).json differs from the committed file; run Tools/gen-embedded.py")
    }
}

@Test func embeddedSchemaIsTheCommittedFileByteForByte() throws {
    let onDisk = try Data(contentsOf: repository.appendingPathComponent("Schemas/model-config.schema.json"))
    #expect(ConfigSchemas.modelConfig == onDisk,
            "embedded model-config schema differs from the committed file; run Tools/gen-embedded.py")
}

@Test func everyEmbeddedConfigParses() throws {
    #expect(ModelZoo.names.contains(ModelZoo.defaultModel))
    for name in ModelZoo.names {
        let config = try ModelConfig.load(name)
        #expect(config.name == name)
        #expect(config.source == "embedded:\(name)")
    }
}

@Test func noEmbeddedDataForAnUnknownName() {
    #expect(ModelZoo.data(named: "no-such-model") == nil)
    #expect(ModelZoo.data(named: "configs/tiny-convattn") == nil)
}
