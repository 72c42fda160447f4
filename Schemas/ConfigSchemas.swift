import Foundation

/// JSON Schemas committed under `Schemas/`, embedded in the binary.
public enum ConfigSchemas {
    /// The JSON Schema every model configuration is validated against.
    public static var modelConfig: URL? { Bundle.module.url(forResource: "model-config.schema", withExtension: "json") }
}
