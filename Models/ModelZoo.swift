import Foundation

/// The model configurations committed under `Models/configs`, embedded in the binary.
public enum ModelZoo {
    /// Name of the configuration used when none is given.
    public static let defaultModel = "dino-dinov2-b"

    /// Names of the embedded configurations (file names without `.json`), sorted.
    public static var names: [String] {
        guard let dir = Bundle.module.url(forResource: "configs", withExtension: nil),
              let files = try? FileManager.default.contentsOfDirectory(atPath: dir.path) else { return [] }
        return files.filter { $0.hasSuffix(".json") }.map { String($0.dropLast(5)) }.sorted()
    }

    /// URL of an embedded configuration, or nil when there is none by that name.
    public static func url(named name: String) -> URL? {
        Bundle.module.url(forResource: "configs/\(name)", withExtension: "json")
            ?? Bundle.module.url(forResource: "configs", withExtension: nil)?.appendingPathComponent("\(name).json")
                .validFile()
    }
}

private extension URL {
    func validFile() -> URL? { FileManager.default.fileExists(atPath: path) ? self : nil }
}
