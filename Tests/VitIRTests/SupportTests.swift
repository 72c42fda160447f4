import Foundation
import Testing
@testable import VitIR

@Suite("shared utilities")
struct SupportTests {
    @Test("FNV-1a matches the published 64-bit test vectors and is incremental")
    func fnv1a() {
        #expect(FNV1a.hash("") == 0xcbf2_9ce4_8422_2325)
        #expect(FNV1a.hash("a") == 0xaf63_dc4c_8601_ec8c)
        #expect(FNV1a.hash("foobar") == 0x8594_4171_f739_67e8)
        var h = FNV1a()
        h.combine("foo".utf8)
        h.combine(Array("bar".utf8))
        #expect(h.value == FNV1a.hash("foobar"))
        var le = FNV1a()
        le.combine(littleEndian: 0x0102)
        #expect(le.value == FNV1a.hash([0x02, 0x01, 0, 0, 0, 0, 0, 0] as [UInt8]))
    }

    @Test("unique names: the base when free, else the first free base_k")
    func uniqueNames() {
        var taken: Set<String> = []
        #expect(uniqueName("x", in: &taken) == "x")
        #expect(uniqueName("x", in: &taken) == "x_1")
        #expect(uniqueName("x", in: &taken) == "x_2")
        #expect(taken == ["x", "x_1", "x_2"])
        // Only which names are taken matters: a gap is filled.
        var gap: Set<String> = ["y", "y_2"]
        #expect(uniqueName("y", in: &gap) == "y_1")
        #expect(uniqueName("y", in: &gap) == "y_3")
        #expect(uniqueName("z", isTaken: { $0 == "z" || $0 == "z_1" }) == "z_2")
    }

    @Test("JSON string literals escape quotes, backslashes and control characters")
    func jsonEscape() throws {
        #expect(jsonStringLiteral("plain é") == "\"plain é\"")
        #expect(jsonStringLiteral("a\"b\\c\nd\te\rf\u{1}") == #""a\"b\\c\nd\te\rf\u0001""#)
        #expect(jsonStringLiteral(#"l1\nl2\x"#, keepingBackslashN: true) == #""l1\nl2\\x""#)
        #expect(jsonStringLiteral(#"l1\nl2"#) == #""l1\\nl2""#)
        // Round trip through Foundation's parser.
        let s = "k\"\\\n\u{7}\u{1f}✓"
        let parsed = try JSONSerialization.jsonObject(with: Data(jsonStringLiteral(s).utf8), options: .fragmentsAllowed)
        #expect(parsed as? String == s)
    }

    @Test("an atomic write replaces the file whole and leaves no temporary file")
    func atomicWrite() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("vitir-atomic-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/out.bin"
        try writeFileAtomically([1, 2, 3], to: path)
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == Data([1, 2, 3]))
        try writeFileAtomically([4], to: path)
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == Data([4]))
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["out.bin"])

        // Discarded before commit: the previous file is untouched, the temporary file gone.
        let file = try AtomicFile(destination: path)
        try [9, 9].withUnsafeBytes { try file.write($0) }
        try file.writeZeros(3)
        #expect(file.temporaryPath.hasPrefix(dir + "/.out.bin.tmp-"))
        file.discard()
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == Data([4]))
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["out.bin"])

        let error = #expect(throws: FileWriteError.self) { try writeFileAtomically([1], to: dir + "/missing/x.bin") }
        #expect(error?.message.contains(dir + "/missing/x.bin") == true)
    }
}
