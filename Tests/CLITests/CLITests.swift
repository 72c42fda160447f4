import Foundation
import Testing

/// Runs the built `vitexport` binary (it sits next to the test bundle) and captures its output.
struct Run {
    var status: Int32
    var stdout: String
    var stderr: String
}

/// Runs the built tool in `cwd`, with `environment` replacing the inherited one when given.
func vitexport(_ arguments: [String], cwd: URL? = nil, environment: [String: String]? = nil) throws -> Run {
    let bin = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    var dir = bin
    // swift test runs `<build>/debug/<pkg>PackageTests.xctest`; the tool is in `<build>/debug`.
    while !FileManager.default.isExecutableFile(atPath: dir.appendingPathComponent("vitexport").path), dir.path != "/" {
        dir.deleteLastPathComponent()
    }
    let process = Process()
    process.executableURL = dir.appendingPathComponent("vitexport")
    process.arguments = arguments
    if let cwd { process.currentDirectoryURL = cwd }
    if let environment { process.environment = environment }
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let o = out.fileHandleForReading.readDataToEndOfFile()
    let e = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return Run(status: process.terminationStatus, stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: e, as: UTF8.self))
}

/// The repository's root (fixtures are found from it).
let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

func temporaryDirectory() throws -> URL {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("vitexport-cli-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    return dir
}

@Test func helpListsOnlyWorkingCommands() throws {
    let r = try vitexport(["--help"])
    #expect(r.status == 0)
    for command in ["models", "dump", "onnx", "run", "verify"] { #expect(r.stdout.contains("  \(command) ")) }
    #expect(r.stdout.contains("OVERVIEW: Trace a vision model defined in Swift"))
}

@Test func dumpHelpDescribesFormatsAndStages() throws {
    let r = try vitexport(["dump", "--help"])
    #expect(r.status == 0)
    #expect(r.stdout.contains("--format <format>"))
    #expect(r.stdout.contains("(values: text, dot,"))
    #expect(r.stdout.contains("--stage <stage>"))
    #expect(r.stdout.contains("Graph stage: traced (as the model code emitted it),"))
    #expect(r.stdout.contains("(values: traced,"))
}

@Test func modelsListsTheDefault() throws {
    let r = try vitexport(["models"])
    #expect(r.status == 0)
    #expect(r.stdout.contains("dino-dinov2-b (default): dino-detector, 512x512"))
    #expect(r.stdout.contains("tiny-convattn: conv-attention, 32x32"))
}

@Test func dumpPrintsNodesWithScopesAndLines() throws {
    let r = try vitexport(["dump", "-m", "tiny-convattn"])
    #expect(r.status == 0)
    #expect(r.stdout.hasPrefix("graph tiny-convattn\ninputs:\n  %image: f32[1, 3, 32, 32]\n"))
    #expect(r.stdout.contains("# blocks.0.attn @ VitModels/Layers.swift:"))
    #expect(r.stdout.contains("summary:\n  nodes: "))
}

@Test func dumpFoldedIsSmallerThanTraced() throws {
    func nodeCount(_ text: String) -> Int? {
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix("  nodes: ") }) else { return nil }
        return Int(line.dropFirst(9).prefix { $0.isNumber })
    }
    let traced = try vitexport(["dump", "-m", "tiny-convattn", "--stage", "traced"])
    let folded = try vitexport(["dump", "-m", "tiny-convattn", "--stage", "folded"])
    #expect(traced.status == 0 && folded.status == 0)
    let t = try #require(nodeCount(traced.stdout)), f = try #require(nodeCount(folded.stdout))
    #expect(f < t)
}

@Test func dumpWritesDotAndJSONFiles() throws {
    let dir = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let dot = dir.appendingPathComponent("g.dot").path, json = dir.appendingPathComponent("g.json").path
    #expect(try vitexport(["dump", "-m", "tiny-convattn", "--format", "dot", "-o", dot]).status == 0)
    #expect(try vitexport(["dump", "-m", "tiny-convattn", "--format", "json", "--output", json]).status == 0)
    #expect(try String(contentsOfFile: dot, encoding: .utf8).hasPrefix("digraph \"tiny-convattn\""))
    let object = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: json))) as? [String: Any]
    #expect(object?["format"] as? String == "vitexport-graph")
}

@Test func badConfigIsAClearError() throws {
    let dir = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let path = dir.appendingPathComponent("bad.json").path
    try #"{"name": "bad", "architecture": "conv-attention", "image_size": [32, 32], "seed": 0, "conv_attention": {"in_channels": 3}}"#
        .write(toFile: path, atomically: true, encoding: .utf8)
    let r = try vitexport(["dump", "--model", path])
    #expect(r.status != 0)
    #expect(r.stderr.contains("\(path):"))
    #expect(r.stderr.contains("conv_attention.embed_dim: required key is missing"))
    #expect(r.stdout.isEmpty)
}

@Test func unknownModelAndBadFormatAreRejected() throws {
    let r = try vitexport(["dump", "--model", "nope"])
    #expect(r.status != 0)
    #expect(r.stderr.contains("no embedded model by that name"))
    let f = try vitexport(["dump", "-m", "tiny-convattn", "--format", "png"])
    #expect(f.status != 0)
    #expect(f.stderr.contains("png"))
}

@Test func onnxExportIsDeterministicAndVerifies() throws {
    let dir = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let a = dir.appendingPathComponent("a.onnx").path, b = dir.appendingPathComponent("b.onnx").path
    let first = try vitexport(["onnx", "-m", "tiny-convattn", "-o", a])
    #expect(first.status == 0, "\(first.stderr)")
    #expect(first.stdout.contains("opset 17, IR 8; nodes: traced "))
    #expect(first.stdout.contains("libonnx checker: passed"))
    #expect(first.stdout.contains("weights: seeded random values (seed 0), not a trained model"))
    #expect(try vitexport(["onnx", "-m", "tiny-convattn", "-o", b]).status == 0)
    #expect(FileManager.default.contents(atPath: a) == FileManager.default.contents(atPath: b))
    let v = try vitexport(["verify", "-m", "tiny-convattn", "--onnx", a])
    #expect(v.status == 0, "\(v.stdout)\(v.stderr)")
    #expect(v.stdout.contains("mode: outputs by name"))
    #expect(v.stdout.contains("\nlogits "))
    #expect(v.stdout.hasSuffix("verified\n"))
}

@Test func opsetOutsideTheRangeIsRejectedBeforeWork() throws {
    let r = try vitexport(["onnx", "-m", "tiny-convattn", "--opset", "12", "-o", "/nonexistent/x.onnx"])
    #expect(r.status != 0)
    #expect(r.stderr.contains("--opset 12 is not supported; choose 16…21"))
}

@Test func runSavesInputsAndOutputsAsNPY() throws {
    let dir = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let r = try vitexport(["run", "-m", "tiny-convattn", "--save", dir.path, "--repeat", "2"])
    #expect(r.status == 0, "\(r.stderr)")
    #expect(r.stdout.contains("logits: f32[1, 10]"))
    #expect(r.stdout.contains("(median of 2:"))
    let files = try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted()
    #expect(files == ["input.image.npy", "output.features.npy", "output.logits.npy"])
    // Feeding the saved input back reproduces the saved output exactly.
    let again = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: again) }
    let r2 = try vitexport(["run", "-m", "tiny-convattn", "--input", "image=\(dir.path)/input.image.npy", "--seed", "99", "--save", again.path])
    #expect(r2.status == 0, "\(r2.stderr)")
    #expect(FileManager.default.contents(atPath: "\(dir.path)/output.logits.npy")
            == FileManager.default.contents(atPath: "\(again.path)/output.logits.npy"))
}

@Test func runRejectsAMalformedInputFile() throws {
    let dir = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let path = dir.appendingPathComponent("bad.npy").path
    try Data("not numpy".utf8).write(to: URL(fileURLWithPath: path))
    let r = try vitexport(["run", "-m", "tiny-convattn", "--input", "image=\(path)"])
    #expect(r.status != 0)
    #expect(r.stderr.contains("--input image: \(path): npy: not an .npy file"))
}

@Test func runDropsEmptyDetectionsOnlyOnRequest() throws {
    let all = try vitexport(["run", "-m", "dino-tiny", "--detections", "3"])
    #expect(all.status == 0, "\(all.stderr)")
    #expect(all.stdout.contains("boxes: f32[1, 100, 4]"))
    #expect(all.stdout.contains("  #0   label "))
    let dropped = try vitexport(["run", "-m", "dino-tiny", "--drop-empty"])
    #expect(dropped.status == 0, "\(dropped.stderr)")
    let line = try #require(dropped.stdout.split(separator: "\n").first { $0.hasPrefix("dropped ") })
    let kept = Int(line.split(separator: " ").last!)!
    #expect(dropped.stdout.contains("boxes: f32[1, \(kept), 4]"))
    let notDetector = try vitexport(["run", "-m", "tiny-convattn", "--drop-empty"])
    #expect(notDetector.status != 0)
    #expect(notDetector.stderr.contains("--drop-empty needs detector outputs"))
}

@Test func exportWithACheckpointDoesNotClaimSeededWeights() throws {
    let dir = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let repo = repoRoot
    let pth = repo.appendingPathComponent("Tests/Fixtures/pth/dino-tiny.pth").path
    let r = try vitexport(["onnx", "-m", "dino-tiny", "--weights", pth, "-o", dir.appendingPathComponent("d.onnx").path])
    #expect(r.status == 0, "\(r.stderr)")
    #expect(!r.stdout.contains("seeded"))
}

@Test func batchFlagsAreInTheHelp() throws {
    for command in ["onnx", "run", "verify", "dump"] {
        let r = try vitexport([command, "--help"])
        #expect(r.status == 0)
        #expect(r.stdout.contains("--batch <n>"), "\(command)")
        #expect(r.stdout.contains("Images per run: the leading dimension of every graph"), "\(command)")
        #expect(r.stdout.contains("input and output, 1…1024 (default 1)."), "\(command)")
    }
    for command in ["onnx", "dump"] {
        let r = try vitexport([command, "--help"])
        #expect(r.stdout.contains("--dynamic-batch"), "\(command)")
    }
}

@Test func dynamicBatchFileRunsAtTheBatchItIsFedAndDumpsItsSymbol() throws {
    let dir = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let file = dir.appendingPathComponent("dyn.onnx").path
    let export = try vitexport(["onnx", "-m", "tiny-convattn", "--dynamic-batch", "-o", file])
    #expect(export.status == 0, "\(export.stderr)")
    #expect(export.stdout.contains("batch: symbolic 'batch' (traced at 2 and 3"))
    #expect(export.stdout.contains("libonnx checker: passed"))

    let unbound = try vitexport(["run", "--onnx", file])
    #expect(unbound.status != 0)
    #expect(unbound.stderr == "Error: \(file): graph input 'image' has the symbolic dimension 'batch' at axis 0; feed 'image' with --input or give --batch N\n")
    let three = try vitexport(["run", "--onnx", file, "--batch", "3", "--save", dir.appendingPathComponent("io3").path])
    #expect(three.status == 0, "\(three.stderr)")
    #expect(three.stdout.contains("logits: f32[3, 10]"))
    // The batch of a fed input binds the symbol (over --batch).
    let fed = try vitexport(["run", "--onnx", file, "--batch", "5", "--input", "image=\(dir.path)/io3/input.image.npy"])
    #expect(fed.status == 0, "\(fed.stderr)")
    #expect(fed.stdout.contains("logits: f32[3, 10]"))
    let verified = try vitexport(["verify", "-m", "tiny-convattn", "--batch", "3", "--onnx", file])
    #expect(verified.status == 0, "\(verified.stdout)\(verified.stderr)")

    let dump = try vitexport(["dump", "-m", "tiny-convattn", "--stage", "exported", "--dynamic-batch"])
    #expect(dump.status == 0, "\(dump.stderr)")
    #expect(dump.stdout.contains("%image: f32[batch, 3, 32, 32]") || dump.stdout.contains("image: f32[batch, 3, 32, 32]"), "\(dump.stdout.prefix(400))")
    #expect(dump.stdout.contains("f32[batch, 10]"))
    let plain = try vitexport(["dump", "-m", "tiny-convattn", "--stage", "exported"])
    #expect(!plain.stdout.contains("batch"))
}

@Test func staticBatchRunsEveryImage() throws {
    let r = try vitexport(["run", "-m", "dino-tiny", "--batch", "2", "--detections", "1"])
    #expect(r.status == 0, "\(r.stderr)")
    #expect(r.stdout.contains("boxes: f32[2, 100, 4]"))
    #expect(r.stdout.contains("image 0:\n  #0   label ") && r.stdout.contains("image 1:\n  #0   label "), "\(r.stdout)")
}

@Test func runHelpListsThreadsAndGEMM() throws {
    let r = try vitexport(["run", "--help"])
    #expect(r.status == 0)
    #expect(r.stdout.contains("--threads <n>"))
    #expect(r.stdout.contains("Threads for every parallel loop of the interpreter"))
    #expect(r.stdout.contains("--gemm <library>"))
    #expect(r.stdout.contains("--no-fusion"))
}

/// With the default GEMM library (oneDNN, in row blocks fixed by the shape and the core count),
/// the same seeded run saves byte-identical outputs at one and two threads, on a detector and
/// a small model. (OpenBLAS splits by its own thread count and may round differently:
/// ThreadingTests.openBLASAtOneAndTwoThreadsAgreesWithinRounding.)
@Test(arguments: ["tiny-convattn", "dino-tiny"]) func threadCountDoesNotChangeOutputs(model: String) throws {
    let dir = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    var saved: [Data] = []
    for threads in ["1", "2"] {
        let out = dir.appendingPathComponent("threads-\(threads)")
        let r = try vitexport(["run", "-m", model, "--threads", threads, "--gemm", "onednn", "--save", out.path])
        #expect(r.status == 0, "\(r.stderr)")
        let files = try FileManager.default.contentsOfDirectory(atPath: out.path).filter { $0.hasPrefix("output.") }.sorted()
        #expect(!files.isEmpty)
        saved.append(Data(try files.flatMap { try Data(contentsOf: out.appendingPathComponent($0)) }))
    }
    #expect(saved[0] == saved[1], "\(model): outputs differ between 1 and 2 threads")
}

/// `run --profile` on a detector: seconds per op, the largest per op within a module (top-level
/// scope, the module's two innermost named components, op), then per top-level scope, the
/// section Tools/bench.py parses last.
@Test func runProfileShowsOpsModulesAndScopes() throws {
    let r = try vitexport(["run", "-m", "dino-tiny", "--profile"])
    #expect(r.status == 0, "\(r.stderr)")
    let sections = ["per op:", "per op within a module (the 15 largest):", "per top-level scope:"]
    let positions = sections.compactMap { r.stdout.range(of: $0)?.lowerBound }
    #expect(positions.count == 3 && positions == positions.sorted(), "\(r.stdout)")
    // Every op is listed per op, however short its time (GridSample's is ~0 in a run where the
    // weighted-sampling fusion computes the samples in its Mul).
    let ops = r.stdout.components(separatedBy: sections[0])[1].components(separatedBy: sections[1])[0]
    #expect(ops.contains("  GridSample ") && ops.contains("  MatMul "), "\(r.stdout)")
    // Module rows: top-level scope, the module's two innermost named components, op, seconds, share.
    let modules = r.stdout.components(separatedBy: sections[1])[1].components(separatedBy: sections[2])[0]
    let rows = modules.split(separator: "\n").filter { $0.hasSuffix("%") }
    #expect(rows.count == 15)
    let row = /^  (backbone|pyramid|neck|encoder|proposals|decoder|post-process|\(unscoped\)) \S+ [A-Za-z]+ +[0-9.]+ s +[0-9.]+%$/
    #expect(rows.allSatisfy { (try? row.wholeMatch(in: String($0))) != nil }, "\(modules)")
    for scope in ["backbone", "pyramid", "encoder", "decoder", "post-process"] {
        #expect(r.stdout.components(separatedBy: sections[2])[1].contains("  \(scope) "), "\(scope)")
    }
}
