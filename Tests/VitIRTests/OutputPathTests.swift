import Foundation
import Testing
@testable import VitIR

/// Bad output paths are refused up front with one line naming the path and the problem.
@Suite struct OutputPathTests {
    @Test("Refused output paths", arguments: [
        ("", "is empty"), (".", "names a directory"), ("./", "names a directory"), ("..", "names a directory"),
        ("a/b/..", "names a directory"), ("/tmp", "is a directory"), ("/tmp/", "names a directory"),
        ("~", "literal '~'"), ("~/x.onnx", "literal '~'"), ("/nonexistent-dir-vitexport/x.onnx", "does not exist"),
        ("/etc/passwd/x.onnx", "is not a directory"),
    ])
    func refused(_ path: String, _ expected: String) {
        do {
            _ = try OutputPath(path)
            Issue.record("accepted '\(path)'")
        } catch {
            #expect(error.description.contains(expected), "\(error.description)")
        }
    }

    @Test func acceptedPathsSplitIntoDirectoryAndName() throws {
        let bare = try OutputPath("model.onnx")
        #expect(bare.directory == "." && bare.name == "model.onnx")
        #expect(bare.sibling("model.onnx.data") == "./model.onnx.data")
        let rooted = try OutputPath(FileManager.default.temporaryDirectory.path + "/m.onnx")
        #expect(rooted.name == "m.onnx")
        #expect(rooted.sibling("m.onnx.data").hasSuffix("/m.onnx.data"))
    }
}
