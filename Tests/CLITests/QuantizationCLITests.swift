import Foundation
import Testing

@Test func onnxHelpDescribesInt8Options() throws {
    let r = try vitexport(["onnx", "--help"])
    #expect(r.status == 0)
    #expect(r.stdout.contains("--precision <fp32|fp16|mixed|int8>"))
    #expect(r.stdout.contains("INT8 QUANTIZATION:"))
    for option in ["--calibrate <photo>", "--calibrate-dir <dir>", "--calibrate-keep-aspect", "--calibrate-seeded <N>", "--calibrate-input <name=file.npy>", "--calibrator <calibrator>",
                   "--percentile <P>", "--activation-type <activation-type>", "--exclude <scope>"] {
        #expect(r.stdout.contains(option), "\(option) missing from onnx --help")
    }
    #expect(r.stdout.contains("(values: minmax, percentile, entropy"))
    #expect(r.stdout.contains("TensorRT"))
}

/// tiny-convattn exported at int8 from seeded and from .npy calibration inputs: the file holds
/// QDQ nodes and int8 weights, two exports are byte-identical, and the summary says what was
/// quantized.
@Test func int8ExportIsDeterministicAndQuantized() throws {
    let dir = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let args = ["onnx", "-m", "tiny-convattn", "--precision", "int8", "--calibrate-seeded", "2"]
    let a = try vitexport(args + ["-o", dir.appendingPathComponent("a.onnx").path])
    #expect(a.status == 0, "\(a.stderr)")
    #expect(a.stdout.contains("int8: quantized"), "\(a.stdout)")
    #expect(a.stdout.contains("libonnx checker: passed"), "\(a.stdout)")
    let b = try vitexport(args + ["-o", dir.appendingPathComponent("b.onnx").path])
    #expect(b.status == 0)
    let fileA = try Data(contentsOf: dir.appendingPathComponent("a.onnx"))
    #expect(fileA == (try Data(contentsOf: dir.appendingPathComponent("b.onnx"))))
    let text = String(decoding: fileA, as: UTF8.self)
    #expect(text.contains("QuantizeLinear") && text.contains("DequantizeLinear") && text.contains("_quantized"))

    let run = try vitexport(["run", "-m", "tiny-convattn", "--seed", "5", "--save", dir.appendingPathComponent("io").path])
    #expect(run.status == 0, "\(run.stderr)")
    let c = try vitexport(["onnx", "-m", "tiny-convattn", "--precision", "int8", "--calibrator", "entropy", "--activation-type", "int8",
                           "--calibrate-input", "image=" + dir.appendingPathComponent("io/input.image.npy").path,
                           "-o", dir.appendingPathComponent("c.onnx").path])
    #expect(c.status == 0, "\(c.stderr)")
    #expect(c.stdout.contains("activations int8 (entropy, 1 samples)"), "\(c.stdout)")
    let verify = try vitexport(["run", "--onnx", dir.appendingPathComponent("c.onnx").path])
    #expect(verify.status == 0, "\(verify.stderr)")
}

/// Photos calibrate as `detect` prepares them: --calibrate and --calibrate-dir holding the same
/// photos give the same file, which differs from a seeded calibration's; a directory without
/// photos is one error line and leaves no file.
@Test func int8CalibratesOnPhotos() throws {
    let dir = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let photos = dir.appendingPathComponent("photos")
    try FileManager.default.createDirectory(at: photos, withIntermediateDirectories: true)
    let fixtures = repoRoot.appendingPathComponent("Tests/Fixtures/images")
    for name in ["a.jpg": "plain.jpg", "b.png": "palette.png"].sorted(by: { $0.key < $1.key }) {
        try FileManager.default.copyItem(at: fixtures.appendingPathComponent(name.value), to: photos.appendingPathComponent(name.key))
    }
    try Data("not a photo".utf8).write(to: photos.appendingPathComponent("notes.txt"))
    let base = ["onnx", "-m", "dino-tiny", "--precision", "int8"]
    let listed = try vitexport(base + ["--calibrate", photos.appendingPathComponent("a.jpg").path, photos.appendingPathComponent("b.png").path,
                                       "-o", dir.appendingPathComponent("listed.onnx").path])
    #expect(listed.status == 0, "\(listed.stderr)")
    #expect(listed.stdout.contains("(minmax, 2 samples)"), "\(listed.stdout)")
    let fromDir = try vitexport(base + ["--calibrate-dir", photos.path, "-o", dir.appendingPathComponent("dir.onnx").path])
    #expect(fromDir.status == 0, "\(fromDir.stderr)")
    let seeded = try vitexport(base + ["--calibrate-seeded", "2", "-o", dir.appendingPathComponent("seeded.onnx").path])
    #expect(seeded.status == 0, "\(seeded.stderr)")
    let a = try Data(contentsOf: dir.appendingPathComponent("listed.onnx"))
    #expect(a == (try Data(contentsOf: dir.appendingPathComponent("dir.onnx"))))
    #expect(a != (try Data(contentsOf: dir.appendingPathComponent("seeded.onnx"))))

    let empty = dir.appendingPathComponent("empty")
    try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
    let out = dir.appendingPathComponent("none.onnx")
    for bad in [["--calibrate-dir", empty.path], ["--calibrate-dir", dir.appendingPathComponent("missing").path],
                ["--calibrate", photos.appendingPathComponent("notes.txt").path]] {
        let r = try vitexport(base + bad + ["-o", out.path])
        #expect(r.status != 0)
        #expect(r.stderr.split(separator: "\n").count == 1, "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: out.path))
    }
}

/// `verify --precision int8` judges the quantized detector against fp32 teacher-forced;
/// `--per-scope` ranks the scopes; the options are refused where they mean nothing.
@Test func verifyInt8ReportsAgreementAndRanksScopes() throws {
    let weights = repoRoot.appendingPathComponent("Tests/Fixtures/detector/dino-tiny.weights.safetensors").path
    let base = ["verify", "-m", "dino-tiny", "--weights", weights, "--precision", "int8", "--calibrate-seeded", "2"]
    let report = try vitexport(base)
    #expect(report.status == 0, "\(report.stderr)")
    #expect(report.stdout.contains("precision int8 against fp32, decoder teacher-forced"), "\(report.stdout)")
    #expect(report.stdout.contains("within the stated agreement"))

    let ranked = try vitexport(base + ["--per-scope"])
    #expect(ranked.status == 0, "\(ranked.stderr)")
    let rows = ranked.stdout.split(separator: "\n").filter { $0.hasPrefix("transformer.") || $0.hasPrefix("backbone") || $0.hasPrefix("neck") }
    #expect(rows.count >= 4, "\(ranked.stdout)")
    #expect(ranked.stdout.contains("ranked by what quantizing the scope alone costs"))

    for (arguments, message) in [(["verify", "-m", "dino-tiny", "--per-scope"], "--per-scope needs --precision int8"),
                                 (["verify", "-m", "dino-tiny", "--onnx", "x.onnx", "--precision", "int8", "--calibrate-seeded", "2"],
                                  "already reduced")] {
        let r = try vitexport(arguments)
        #expect(r.status != 0)
        #expect(r.stderr.contains(message), "\(r.stderr)")
    }
}
