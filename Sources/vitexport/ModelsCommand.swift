import ArgumentParser
import ModelZoo
import VitModels

struct ModelsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "models",
        abstract: "List the embedded model configurations.")

    func run() throws {
        for name in ModelZoo.names {
            let config = try ModelConfig.load(name)
            let marker = name == ModelZoo.defaultModel ? " (default)" : ""
            print("\(name)\(marker): \(config.architecture.rawValue), \(config.imageSize.map(String.init).joined(separator: "x"))"
                  + (config.description.map { " — \($0)" } ?? ""))
        }
    }
}
