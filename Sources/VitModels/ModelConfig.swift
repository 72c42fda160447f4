import ConfigSchemas
import Foundation
import ModelZoo
import VitIR

/// A model configuration file (`Models/configs/*.json`), validated against
/// `Schemas/model-config.schema.json` before it is decoded.
public struct ModelConfig: Sendable, Equatable {
    public enum Architecture: String, Sendable, Decodable {
        case convAttention = "conv-attention"
        case dinov2 = "dinov2"
        case detector = "dino-detector"
    }

    public var name: String
    public var description: String?
    public var architecture: Architecture
    /// [height, width] of the input image.
    public var imageSize: [Int]
    /// Seed for random parameters when no checkpoint is given.
    public var seed: UInt64
    public var convAttention: ConvAttentionConfig?
    public var dinov2: DINOv2Config?
    public var detector: DetectorConfig?
    /// FNV-1a fingerprint (hex) of the configuration file bytes, recorded in exports.
    public var fingerprint: String = ""
    /// Where the configuration came from (file path or `embedded:<name>`).
    public var source: String = ""
}

/// The small convolution + attention model used to exercise the toolchain end to end.
public struct ConvAttentionConfig: Sendable, Equatable, Decodable {
    public var inChannels: Int
    public var stemChannels: Int
    public var patchSize: Int
    public var embedDim: Int
    public var depth: Int
    public var numHeads: Int
    public var mlpRatio: Double
    public var layerNormEps: Float
    public var neckGroups: Int
    public var numClasses: Int
}

extension ModelConfig: Decodable {
    enum CodingKeys: String, CodingKey {
        case name, description, architecture, imageSize, seed, convAttention, dinov2, detector
    }
}

/// A configuration file that cannot be used, with every problem found.
public struct ConfigError: ProblemListing {
    public var source: String
    public var problems: [String]
    public func description(limit: Int?) -> String {
        problems.count == 1 ? "\(source): \(problems[0])"
            : "\(source): \(problems.count) problems:\n"
                + ProblemList.abbreviated(problems.map { "  - " + $0 }, limit: limit).joined(separator: "\n")
    }
}

extension ModelConfig {
    /// Loads an embedded configuration by name, or a file when `nameOrPath` names one
    /// (contains a `/` or ends in `.json`).
    public static func load(_ nameOrPath: String) throws -> ModelConfig {
        if nameOrPath.contains("/") || nameOrPath.hasSuffix(".json") {
            let storage: TensorStorage
            do { storage = try TensorStorage.map(path: nameOrPath) } catch {
                throw ConfigError(source: nameOrPath, problems: [error.reason])
            }
            guard storage.byteCount <= InputLimits.configBytes else {
                throw ConfigError(source: nameOrPath, problems: ["the file has \(storage.byteCount) bytes; a configuration has at most \(InputLimits.configBytes)"])
            }
            guard storage.byteCount > 0 else { throw ConfigError(source: nameOrPath, problems: ["the file is empty"]) }
            return try parse(Data(bytes: storage.base, count: storage.byteCount), source: nameOrPath)
        }
        guard let data = ModelZoo.data(named: nameOrPath) else {
            let known = ModelZoo.names.joined(separator: ", ")
            throw ConfigError(source: nameOrPath, problems: ["no embedded model by that name (embedded: \(known)); pass a path to a .json file for others"])
        }
        return try parse(data, source: "embedded:\(nameOrPath)")
    }

    /// Validates `data` against the model-config schema, decodes it and checks the
    /// relations the schema cannot express (divisibility of sizes).
    public static func parse(_ data: Data, source: String) throws -> ModelConfig {
        let json: JSONValue
        do { json = try JSONValue.parse(data) } catch {
            throw ConfigError(source: source, problems: ["not valid JSON: \(error)"])
        }
        let problems = try schemaValidator().validate(json)
        if !problems.isEmpty { throw ConfigError(source: source, problems: problems) }
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        var config: ModelConfig
        do { config = try decoder.decode(ModelConfig.self, from: data) } catch {
            throw ConfigError(source: source, problems: ["cannot decode: \(error)"])
        }
        config.source = source
        config.fingerprint = String(FNV1a.hash(data), radix: 16)
        let relations = config.relationProblems()
        if !relations.isEmpty { throw ConfigError(source: source, problems: relations) }
        return config
    }

    static func schemaValidator() throws -> JSONSchemaValidator {
        JSONSchemaValidator(schema: try JSONValue.parse(ConfigSchemas.modelConfig))
    }

    /// Constraints between keys, each naming the key, the value and what would fix it.
    func relationProblems() -> [String] {
        var problems: [String] = []
        switch architecture {
        case .convAttention:
            guard let c = convAttention else { return ["conv_attention: required for architecture \"conv-attention\""] }
            for (axis, extent) in zip(["height", "width"], imageSize) where extent % c.patchSize != 0 {
                problems.append("image_size: \(axis) \(extent) is not divisible by conv_attention.patch_size \(c.patchSize)")
            }
            if c.embedDim % c.numHeads != 0 {
                problems.append("conv_attention.num_heads: \(c.numHeads) does not divide embed_dim \(c.embedDim)")
            }
            if c.embedDim % 2 != 0 || (c.embedDim / 2) % c.neckGroups != 0 {
                problems.append("conv_attention.neck_groups: \(c.neckGroups) does not divide the neck's \(c.embedDim / 2) channels (embed_dim / 2)")
            }
            if imageSize.contains(where: { ($0 / c.patchSize) % 2 != 0 }) {
                problems.append("image_size: \(imageSize) / patch_size \(c.patchSize) must be even for the neck's 2× pooling")
            }
        case .dinov2:
            guard let c = dinov2 else { return ["dinov2: required for architecture \"dinov2\""] }
            problems += c.problems(imageSize: imageSize)
        case .detector:
            guard let d = detector else { return ["detector: required for architecture \"dino-detector\""] }
            problems += d.problems(imageSize: imageSize)
        }
        return problems
    }
}
