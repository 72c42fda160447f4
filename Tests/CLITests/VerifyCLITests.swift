import Foundation
import ONNXProto
import SwiftProtobuf
import Testing
import VitIR
import VitInterp
import VitVerify

// `vitexport verify` on files: unmodified exports pass stage by stage, a forced near-tie swap
// of the proposals is teacher-forced, a swap no near-tie explains fails with one line.

@Test func verifyPassesOnAnExportedDetectorFile() throws {
    // Issue 15's example: this file used to fail by position-wise output comparison.
    let dir = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let file = dir.appendingPathComponent("tiny.onnx").path
    #expect(try vitexport(["onnx", "-m", "dino-tiny", "-o", file]).status == 0)
    let r = try vitexport(["verify", "-m", "dino-tiny", "--onnx", file])
    #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
    #expect(r.stdout.contains("mode: stage by stage (stages from the file's vitexport.stages metadata)"))
    #expect(r.stdout.contains("stage                max rel. error  tolerance  verdict"))
    #expect(r.stdout.contains("detections: matched 100/100"))
}

/// Positions of the adjacent selected proposals of seeded dino-tiny whose scores are closest,
/// their gap, and the smallest and largest selected scores' positions.
private func proposalPairs() throws -> (closest: Int, gap: Float, spread: Float) {
    let model = try loadModel(ModelRequest(model: "dino-tiny"))
    let stages = try #require(recordedStages(model.graph))
    let indices = try #require(stages.first { $0.stage == "topk_indices" }).value
    let scores = try #require(stages.first { $0.stage == "proposal_scores" }).value
    let feeds = try GraphInputs(seed: 0).feeds(for: model.graph)
    let run = try Interpreter(model.graph).run(feeds: feeds, hooks: Interpreter.Hooks(observe: [indices, scores]))
    let selected = try #require(run.observed[indices]).int64s.map { Int($0) }, s = try #require(run.observed[scores]).floats
    let gaps = (1..<selected.count).map { ($0, abs(s[selected[$0 - 1]] - s[selected[$0]])) }
    let closest = try #require(gaps.min { $0.1 < $1.1 })
    return (closest.0, closest.1, s[selected[0]] - s[selected[selected.count - 1]])
}

/// Exports seeded dino-tiny at opset 21 (no decomposition reorders arithmetic, so the only
/// swap is the forced one) with proposal positions `first` and `second` swapped.
private func permutedExport(_ dir: URL, first: Int, second: Int) throws -> String {
    let file = dir.appendingPathComponent("tiny.onnx").path
    let export = try vitexport(["onnx", "-m", "dino-tiny", "--opset", "21", "-o", file])
    try #require(export.status == 0, "\(export.stderr)")
    let model = try Onnx_ModelProto(serializedBytes: try Data(contentsOf: URL(fileURLWithPath: file)))
    let indices = try #require(model.metadataProps.first { $0.key == stageMetadataKey }.flatMap { entry in
        entry.value.split(separator: ",").first { $0.hasPrefix("topk_indices=") }.map { String($0.dropFirst("topk_indices=".count)) }
    })
    let permuted = try mutated(model, .permute(value: indices, first: first, second: second))
    let out = dir.appendingPathComponent("permuted.onnx").path
    try permuted.serializedData().write(to: URL(fileURLWithPath: out))
    return out
}

@Test func verifyTeacherForcesAForcedNearTieSwap() throws {
    let (closest, gap, _) = try proposalPairs()
    try #require(gap <= 1e-4, "no near-tied proposals (smallest gap \(gap))")
    let dir = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let file = try permutedExport(dir, first: closest - 1, second: closest)
    let r = try vitexport(["verify", "-m", "dino-tiny", "--onnx", file])
    #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
    #expect(r.stdout.contains("near-tie: 2 position(s) differ, all within 0.0001; teacher-forced"))
    #expect(r.stdout.contains("ok (teacher-forced)"))
    #expect(r.stdout.contains("verified (decoder teacher-forced with the traced model's proposals)"))
}

@Test func verifyFailsOnASwapNoNearTieExplains() throws {
    let (_, _, spread) = try proposalPairs()
    try #require(spread > 1e-2)
    let dir = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let file = try permutedExport(dir, first: 0, second: 99)
    let r = try vitexport(["verify", "-m", "dino-tiny", "--onnx", file])
    #expect(r.status == 1)
    #expect(r.stdout.contains("MISMATCH: 2 position(s) differ"))
    #expect(r.stderr == "Error: verification failed: first difference at topk_indices\n")
}

@Test func verifyConfigurationErrorsAreOneLineWithoutUsage() throws {
    let r = try vitexport(["verify", "-m", "no-such-model"])
    #expect(r.status != 0)
    #expect(r.stderr.split(separator: "\n").count == 1, "\(r.stderr)")
    #expect(r.stderr.contains("no embedded model by that name"))
    #expect(!r.stderr.contains("USAGE"))
    let missing = try vitexport(["verify", "-m", "dino-tiny", "--onnx", "/nonexistent/x.onnx"])
    #expect(missing.status != 0)
    #expect(missing.stderr.split(separator: "\n").count == 1, "\(missing.stderr)")
    #expect(missing.stderr.hasPrefix("Error: /nonexistent/x.onnx: "))
}
