import Testing
import VitIR
@testable import VitModels

/// Long problem lists show ten lines and a count; `description(limit: nil)` shows all.
@Suite struct ProblemListTests {
    @Test func bindingErrorsShowTenProblemsUnlessAskedForAll() {
        let e = CheckpointBindingError(source: "w.safetensors", missing: (0..<25).map { "blocks.\($0).weight" },
                                       unexpected: ["extra"], misshaped: [])
        let short = e.description.split(separator: "\n")
        #expect(short.count == 1 + 10 + 1)
        #expect(short[0].contains("25 missing, 1 unexpected, 0 misshaped"))
        #expect(short.last?.contains("… and 16 more (--verbose lists all)") == true)
        let all = e.description(limit: nil).split(separator: "\n")
        #expect(all.count == 1 + 26)
        #expect(all.last?.contains("unexpected: extra") == true)
    }

    @Test func shortListsAreUnchanged() {
        #expect(ProblemList.abbreviated(["a", "b"], limit: 10) == ["a", "b"])
        #expect(ProblemList.abbreviated(Array(repeating: "x", count: 10), limit: 10).count == 10)
        #expect(ProblemList.abbreviated(Array(repeating: "x", count: 11), limit: 10).count == 11)
        let e = ConfigError(source: "c.json", problems: (0..<12).map { "problem \($0)" })
        #expect(e.description.contains("… and 2 more"))
        #expect(!e.description(limit: nil).contains("more"))
    }
}
