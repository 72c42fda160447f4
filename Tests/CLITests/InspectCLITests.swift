import Foundation
import ONNXProto
import SwiftProtobuf
import Testing
import VitIR
import VitVerify

// `inspect`, `onnx --json`, the seeded-weights notice and quiet progress off a terminal, and
// every command's --help.

private let repo = repoRoot
private func fixture(_ path: String) -> String { repo.appendingPathComponent("Tests/Fixtures/" + path).path }

@Test func everyCommandsHelpDescribesItsOptions() throws {
    let expected: [String: [String]] = [
        "models": ["OVERVIEW: List the embedded model configurations."],
        "inspect": ["OVERVIEW: Describe a checkpoint and the embedded configurations it binds to.", "<file>", "--weights-key <key>",
                    "--verbose", "--json", "dry run"],
        "dump": ["--format <format>", "--depth <depth>", "svg", "--stage <stage>"],
        "onnx": ["--json", "sha256", "--weights <file>", "--opset <opset>", "--external-data"],
        "run": ["--onnx <onnx>", "--input <name=file.npy>", "--repeat <repeat>", "--weights <file>"],
        "verify": ["--onnx <onnx>", "--tolerance <tolerance>", "--score-tolerance <score-tolerance>"],
    ]
    for (command, needles) in expected {
        let r = try vitexport([command, "--help"])
        #expect(r.status == 0, "\(command)")
        #expect(r.stdout.contains("USAGE: vitexport \(command)"), "\(command)")
        for needle in needles { #expect(r.stdout.contains(needle), "\(command) --help lacks \(needle)") }
    }
    let root = try vitexport(["--help"])
    for command in expected.keys { #expect(root.stdout.contains("  \(command) "), "\(command) listed") }
}

@Test func inspectReportsTheBindingConfigurationAndOpaqueGlobals() throws {
    let r = try vitexport(["inspect", fixture("pth/dino-tiny.pth")])
    #expect(r.status == 0, "\(r.stderr)")
    #expect(r.stdout.contains("PyTorch checkpoint, state dict: \"model\" of a detectron2/detrex training checkpoint\n"))
    #expect(r.stdout.contains("\nbinds to:\n  dino-tiny (dino-detector)\n"))
    #expect(r.stdout.contains("  scheduler.schedule: needs global __main__.Schedule, which this reader does not execute\n"))
    #expect(r.stdout.contains("  transformer.tgt_embed.weight"))
    let j = try vitexport(["inspect", fixture("pth/os_system.pth"), "--json"])
    #expect(j.status == 0, "\(j.stderr)")
    let object = try #require(try JSONSerialization.jsonObject(with: Data(j.stdout.utf8)) as? [String: Any])
    let opaque = try #require(object["opaque"] as? [[String: String]])
    #expect(opaque.map { $0["path"] } == ["model.hook", "callbacks[0]"])
    #expect(opaque.allSatisfy { $0["reason"]?.contains("os.system") == true })
    #expect((object["bindings"] as? [[String: Any]])?.contains { $0["binds"] as? Bool == true } == false)
}

@Test func inspectOfABadFileIsOneLine() throws {
    let dir = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let path = dir.appendingPathComponent("x.pth").path
    try Data("not a checkpoint at all".utf8).write(to: URL(fileURLWithPath: path))
    for (args, message) in [([path], "neither a PyTorch checkpoint"), ([dir.appendingPathComponent("none").path], "cannot open"),
                            ([fixture("pth/dino-tiny.pth"), "--weights-key", "nope"], "--weights-key \"nope\" is not a top-level key")] {
        let r = try vitexport(["inspect"] + args)
        #expect(r.status == 1)
        #expect(r.stderr.contains(message), "\(r.stderr)")
        #expect(r.stderr.split(separator: "\n").count == 1, "\(r.stderr)")
    }
}

/// SHA-256 of the file by coreutils' sha256sum when present (an outside judge), else VitIR's.
private func sha256(_ path: String) throws -> String {
    if FileManager.default.isExecutableFile(atPath: "/usr/bin/sha256sum") {
        let p = Process(), out = Pipe()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/sha256sum")
        p.arguments = [path]
        p.standardOutput = out
        try p.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        return String(text.prefix(64))
    }
    let data = try Data(contentsOf: URL(fileURLWithPath: path))
    return data.withUnsafeBytes { SHA256.hex($0) }
}

@Test func onnxJSONSummaryMatchesTheWrittenFile() throws {
    let dir = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let path = dir.appendingPathComponent("t.onnx").path
    let r = try vitexport(["onnx", "-m", "tiny-convattn", "--opset", "17", "-o", path, "--json"])
    #expect(r.status == 0, "\(r.stderr)")
    #expect(r.stderr.isEmpty, "progress stays quiet when stderr is not a terminal: \(r.stderr)")
    let o = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
    let file = try #require(o["file"] as? [String: Any])
    let bytes = try #require(try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int)
    #expect(file["path"] as? String == path)
    #expect(file["bytes"] as? Int == bytes)
    #expect(file["sha256"] as? String == (try sha256(path)))
    let model = try Onnx_ModelProto(serializedBytes: try Data(contentsOf: URL(fileURLWithPath: path)))
    let nodes = try #require(o["nodes"] as? [String: Int])
    #expect(nodes["exported"] == model.graph.node.count)
    #expect(nodes["traced"].map { $0 >= nodes["folded"]! } == true)
    #expect(o["opset"] as? Int == 17 && o["model"] as? String == "tiny-convattn")
    // Parameters: elements of the folded graph's initializers (the file adds lowering constants).
    let folded = try loadModel(ModelRequest(model: "tiny-convattn"), settings: TraceSettings(stages: .marked)).graph
    #expect(o["parameters"] as? Int == folded.parameterStats.count)
    #expect(nodes["folded"] == folded.nodes.count)
    #expect(o["checker"] as? String == "passed")
    let weights = try #require(o["weights"] as? [String: Any])
    #expect(weights["kind"] as? String == "seeded" && weights["seed"] as? Int == 0)
    let phases = try #require(o["phases"] as? [[String: Any]])
    #expect(phases.map { $0["name"] as? String } == ["tracing", "folding", "lowering, checking and writing", "hashing"])
    #expect(phases.allSatisfy { ($0["seconds"] as? Double).map { $0 >= 0 } == true })
}

@Test func runAndVerifySaySeededWeightsPlainly() throws {
    let notice = "weights: seeded random values (seed 0), not a trained model; bind a checkpoint with --weights"
    let run = try vitexport(["run", "-m", "tiny-convattn"])
    #expect(run.status == 0, "\(run.stderr)")
    #expect(run.stdout.hasPrefix(notice + "\n"))
    #expect(run.stderr.isEmpty)
    let verify = try vitexport(["verify", "-m", "tiny-convattn"])
    #expect(verify.status == 0, "\(verify.stderr)")
    #expect(verify.stdout.hasPrefix(notice + "\n"))
    // A file exported with seeded weights says so when run, from its metadata.
    let dir = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let path = dir.appendingPathComponent("t.onnx").path
    #expect(try vitexport(["onnx", "-m", "tiny-convattn", "-o", path]).status == 0)
    #expect(try vitexport(["run", "--onnx", path]).stdout.hasPrefix(notice + "\n"))
    // With a checkpoint: no notice.
    let bound = try vitexport(["run", "-m", "dino-tiny", "--weights", fixture("pth/dino-tiny.pth")])
    #expect(bound.status == 0, "\(bound.stderr)")
    #expect(!bound.stdout.contains("seeded"))
}


@Test func dumpSVGIsDrawnByGraphvizAndWrittenAtomically() throws {
    let dir = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let path = dir.appendingPathComponent("g.svg").path
    let pathVariable = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
    let hasDot = pathVariable.split(separator: ":").contains { FileManager.default.isExecutableFile(atPath: "\($0)/dot") }
    if hasDot {
        let r = try vitexport(["dump", "-m", "dino-tiny", "--format", "svg", "--depth", "1", "-o", path])
        #expect(r.status == 0, "\(r.stderr)")
        let svg = try String(contentsOfFile: path, encoding: .utf8)
        #expect(svg.contains("<svg") && svg.hasSuffix("</svg>\n"))
        #expect(svg.contains("backbone · "))
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["g.svg"], "no temporary file left")
    } else {
        print("skipped drawing an SVG: Graphviz's dot is not on PATH (\(pathVariable))")
    }
    // Without dot on PATH: one line, no file.
    try? FileManager.default.removeItem(atPath: path)
    let missing = try vitexport(["dump", "-m", "tiny-convattn", "--format", "svg", "-o", path], environment: ["PATH": dir.path])
    #expect(missing.status == 1)
    #expect(missing.stderr.contains("--format svg needs Graphviz's dot on PATH"), "\(missing.stderr)")
    #expect(missing.stderr.split(separator: "\n").count == 1)
    #expect(!FileManager.default.fileExists(atPath: path))
    for (args, message) in [(["--format", "dot", "--depth", "0"], "--depth 0: expected a number ≥ 1"),
                            (["--format", "text", "--depth", "2"], "--depth applies to --format dot and svg")] {
        let r = try vitexport(["dump", "-m", "tiny-convattn"] + args)
        #expect(r.status != 0)
        #expect(r.stderr.contains(message), "\(r.stderr)")
    }
}
