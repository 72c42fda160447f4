import Foundation
import Testing

/// The bad-input catalogue: every untrusted file, flag and path a user can hand a command,
/// each asserting a non-zero exit, one line naming the problem (no usage text, no backtrace,
/// no framework error dump) and that no output or temporary file is left behind.
struct BadInput: Sendable, CustomTestStringConvertible {
    var name: String
    var arguments: [String]
    /// Text the one-line message must contain.
    var expected: String
    var testDescription: String { name }
}

/// Files the cases refer to, made fresh in each case's directory (`$DIR` in arguments).
private func makeFiles(in dir: URL) throws {
    func write(_ name: String, _ bytes: [UInt8]) throws { try Data(bytes).write(to: dir.appendingPathComponent(name)) }
    let repo = repoRoot
    let weights = try Data(contentsOf: repo.appendingPathComponent("Tests/Fixtures/detector/dino-tiny.weights.safetensors"))
    let config = try Data(contentsOf: repo.appendingPathComponent("Models/configs/tiny-convattn.json"))
    try write("empty", [])
    try FileManager.default.createDirectory(at: dir.appendingPathComponent("adir"), withIntermediateDirectories: false)
    for cut in [7, 100, 5000] { try write("weights-cut\(cut).safetensors", Array(weights.prefix(cut))) }
    try write("config-cut.json", Array(config.prefix(60)))
    var dup = String(decoding: config, as: UTF8.self)
    dup = dup.replacingOccurrences(of: "\"seed\": 0,", with: "\"seed\": 0, \"seed\": 1,")
    try write("config-dup.json", Array(dup.utf8))
    let huge = String(decoding: config, as: UTF8.self).replacingOccurrences(of: "\"embed_dim\": 32", with: "\"embed_dim\": 1099511627776")
    try write("config-huge.json", Array(huge.utf8))
    try write("not.onnx", Array("{\"not\": \"onnx\"}".utf8))
    try write("bad.npy", Array("\u{93}NUMPY".utf8) + [1, 0, 4, 0] + Array("{}\n ".utf8))
}

private let cases: [BadInput] = [
    BadInput(name: "unknown model name", arguments: ["onnx", "-m", "no-such-model", "-o", "$DIR/m.onnx"], expected: "no-such-model"),
    BadInput(name: "missing config file", arguments: ["onnx", "-m", "$DIR/missing.json", "-o", "$DIR/m.onnx"], expected: "missing.json"),
    BadInput(name: "config is a directory", arguments: ["onnx", "-m", "$DIR/adir", "-o", "$DIR/m.onnx"], expected: "adir"),
    BadInput(name: "empty config", arguments: ["onnx", "-m", "$DIR/empty", "-o", "$DIR/m.onnx"], expected: "empty"),
    BadInput(name: "truncated config", arguments: ["onnx", "-m", "$DIR/config-cut.json", "-o", "$DIR/m.onnx"], expected: "not valid JSON"),
    BadInput(name: "duplicate config key", arguments: ["onnx", "-m", "$DIR/config-dup.json", "-o", "$DIR/m.onnx"], expected: "duplicate key \"seed\""),
    BadInput(name: "config over the memory budget", arguments: ["onnx", "-m", "$DIR/config-huge.json", "-o", "$DIR/m.onnx"], expected: "memory budget"),
    BadInput(name: "missing weights", arguments: ["onnx", "-m", "dino-tiny", "--weights", "$DIR/missing.safetensors", "-o", "$DIR/m.onnx"], expected: "missing.safetensors"),
    BadInput(name: "weights is a directory", arguments: ["onnx", "-m", "dino-tiny", "--weights", "$DIR/adir", "-o", "$DIR/m.onnx"], expected: "adir"),
    BadInput(name: "empty weights", arguments: ["onnx", "-m", "dino-tiny", "--weights", "$DIR/empty", "-o", "$DIR/m.onnx"], expected: "empty"),
    BadInput(name: "weights cut at 7 bytes", arguments: ["onnx", "-m", "dino-tiny", "--weights", "$DIR/weights-cut7.safetensors", "-o", "$DIR/m.onnx"], expected: "weights-cut7"),
    BadInput(name: "weights cut at 100 bytes", arguments: ["onnx", "-m", "dino-tiny", "--weights", "$DIR/weights-cut100.safetensors", "-o", "$DIR/m.onnx"], expected: "weights-cut100"),
    BadInput(name: "weights cut at 5000 bytes", arguments: ["onnx", "-m", "dino-tiny", "--weights", "$DIR/weights-cut5000.safetensors", "-o", "$DIR/m.onnx"], expected: "weights-cut5000"),
    BadInput(name: "weights in another format", arguments: ["onnx", "-m", "dino-tiny", "--weights", "$DIR/not.onnx", "-o", "$DIR/m.onnx"], expected: "not.onnx"),
    BadInput(name: "output is .", arguments: ["onnx", "-m", "tiny-convattn", "-o", "."], expected: "names a directory"),
    BadInput(name: "output is a directory", arguments: ["onnx", "-m", "tiny-convattn", "-o", "$DIR/adir"], expected: "is a directory"),
    BadInput(name: "output in a missing directory", arguments: ["onnx", "-m", "tiny-convattn", "-o", "$DIR/nope/m.onnx"], expected: "does not exist"),
    BadInput(name: "output under a literal ~", arguments: ["onnx", "-m", "tiny-convattn", "-o", "~/m.onnx"], expected: "literal '~'"),
    BadInput(name: "opset out of range", arguments: ["onnx", "-m", "tiny-convattn", "--opset", "99", "-o", "$DIR/m.onnx"], expected: "opset"),
    BadInput(name: "negative opset", arguments: ["onnx", "-m", "tiny-convattn", "--opset", "-1", "-o", "$DIR/m.onnx"], expected: "opset"),
    BadInput(name: "missing onnx file", arguments: ["run", "--onnx", "$DIR/missing.onnx"], expected: "missing.onnx"),
    BadInput(name: "empty onnx file", arguments: ["run", "--onnx", "$DIR/empty"], expected: "empty"),
    BadInput(name: "onnx file that is not ONNX", arguments: ["run", "--onnx", "$DIR/not.onnx"], expected: "not.onnx"),
    BadInput(name: "onnx path is a directory", arguments: ["run", "--onnx", "$DIR/adir"], expected: "adir"),
    BadInput(name: "weights ignored with --onnx", arguments: ["run", "--onnx", "$DIR/not.onnx", "--weights", "$DIR/empty"], expected: "--weights"),
    BadInput(name: "missing .npy input", arguments: ["run", "-m", "tiny-convattn", "--input", "image=$DIR/missing.npy"], expected: "missing.npy"),
    BadInput(name: "malformed .npy input", arguments: ["run", "-m", "tiny-convattn", "--input", "image=$DIR/bad.npy"], expected: "bad.npy"),
    BadInput(name: "negative repeat", arguments: ["run", "-m", "tiny-convattn", "--repeat", "-1"], expected: "--repeat"),
    BadInput(name: "negative seed", arguments: ["run", "-m", "tiny-convattn", "--seed", "-5"], expected: "--seed"),
    BadInput(name: "zero threads", arguments: ["run", "-m", "tiny-convattn", "--threads", "0"], expected: "--threads 0: expected a number from 1 to 1024"),
    BadInput(name: "negative threads", arguments: ["onnx", "-m", "tiny-convattn", "--threads", "-2", "-o", "$DIR/m.onnx"], expected: "--threads -2"),
    BadInput(name: "huge threads", arguments: ["verify", "-m", "tiny-convattn", "--threads", "1025"], expected: "--threads 1025"),
    BadInput(name: "threads beyond Int", arguments: ["run", "-m", "tiny-convattn", "--threads", "99999999999999999999"], expected: "--threads"),
    BadInput(name: "non-numeric threads", arguments: ["run", "-m", "tiny-convattn", "--threads", "two"], expected: "'two' is invalid for '--threads"),
    BadInput(name: "unknown GEMM library", arguments: ["run", "-m", "tiny-convattn", "--gemm", "mkl"], expected: "--gemm mkl: expected one of onednn, openblas"),
    BadInput(name: "save into a file", arguments: ["run", "-m", "tiny-convattn", "--save", "$DIR/empty"], expected: "empty"),
    BadInput(name: "NaN tolerance", arguments: ["verify", "-m", "tiny-convattn", "--tolerance", "nan"], expected: "--tolerance"),
    BadInput(name: "negative tolerance", arguments: ["verify", "-m", "tiny-convattn", "--tolerance", "-1"], expected: "--tolerance"),
    BadInput(name: "dump to a directory", arguments: ["dump", "-m", "tiny-convattn", "-o", "$DIR/adir"], expected: "adir"),
    BadInput(name: "unknown dump format", arguments: ["dump", "-m", "tiny-convattn", "--format", "yaml"], expected: "yaml"),
    BadInput(name: "int8 without calibration inputs", arguments: ["onnx", "-m", "tiny-convattn", "--precision", "int8", "-o", "$DIR/m.onnx"], expected: "--precision int8 needs calibration inputs"),
    BadInput(name: "calibration without int8", arguments: ["onnx", "-m", "tiny-convattn", "--calibrate-seeded", "2", "-o", "$DIR/m.onnx"], expected: "need --precision int8"),
    BadInput(name: "zero calibration samples", arguments: ["onnx", "-m", "tiny-convattn", "--precision", "int8", "--calibrate-seeded", "0", "-o", "$DIR/m.onnx"], expected: "--calibrate-seeded 0"),
    BadInput(name: "percentile out of range", arguments: ["onnx", "-m", "tiny-convattn", "--precision", "int8", "--calibrate-seeded", "1", "--calibrator", "percentile", "--percentile", "0", "-o", "$DIR/m.onnx"], expected: "--percentile 0"),
    BadInput(name: "unknown calibrator", arguments: ["onnx", "-m", "tiny-convattn", "--precision", "int8", "--calibrate-seeded", "1", "--calibrator", "kl", "-o", "$DIR/m.onnx"], expected: "kl"),
    BadInput(name: "unknown scope to exclude", arguments: ["onnx", "-m", "tiny-convattn", "--precision", "int8", "--calibrate-seeded", "1", "--exclude", "no.such.scope", "-o", "$DIR/m.onnx"], expected: "--exclude no.such.scope: no node has scope no.such.scope"),
    BadInput(name: "calibration input the model lacks", arguments: ["onnx", "-m", "tiny-convattn", "--precision", "int8", "--calibrate-input", "nope=$DIR/bad.npy", "-o", "$DIR/m.onnx"], expected: "no input nope"),
    BadInput(name: "malformed calibration npy", arguments: ["onnx", "-m", "tiny-convattn", "--precision", "int8", "--calibrate-input", "image=$DIR/bad.npy", "-o", "$DIR/m.onnx"], expected: "bad.npy"),
    BadInput(name: "calibration input given unevenly", arguments: ["onnx", "-m", "tiny-convattn", "--precision", "int8", "--calibrate-input", "image=$DIR/bad.npy", "--calibrate-input", "image=$DIR/bad.npy", "--calibrate-input", "x=$DIR/bad.npy", "-o", "$DIR/m.onnx"], expected: "same number of times"),
    BadInput(name: "batch of zero", arguments: ["onnx", "-m", "tiny-convattn", "--batch", "0", "-o", "$DIR/m.onnx"], expected: "--batch 0: expected a batch size in 1…1024"),
    BadInput(name: "negative batch", arguments: ["run", "-m", "tiny-convattn", "--batch", "-3"], expected: "--batch -3: expected a batch size in 1…1024"),
    BadInput(name: "batch over the limit", arguments: ["verify", "-m", "tiny-convattn", "--batch", "1025"], expected: "--batch 1025: expected a batch size in 1…1024"),
    BadInput(name: "batch past Int", arguments: ["onnx", "-m", "tiny-convattn", "--batch", "99999999999999999999", "-o", "$DIR/m.onnx"], expected: "--batch"),
    BadInput(name: "static and dynamic batch", arguments: ["onnx", "-m", "tiny-convattn", "--batch", "2", "--dynamic-batch", "-o", "$DIR/m.onnx"], expected: "--batch and --dynamic-batch exclude each other"),
    BadInput(name: "dynamic batch dump of the traced stage", arguments: ["dump", "-m", "tiny-convattn", "--dynamic-batch"], expected: "--dynamic-batch needs --stage exported"),
    BadInput(name: "drop-empty on a batch", arguments: ["run", "-m", "dino-tiny", "--batch", "2", "--drop-empty"], expected: "--drop-empty works on one image"),
]

@Test("Bad input: non-zero exit, one line, no file left", arguments: cases)
func badInput(_ c: BadInput) throws {
    let dir = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    try makeFiles(in: dir)
    let before = Set(try FileManager.default.subpathsOfDirectory(atPath: dir.path))
    let r = try vitexport(c.arguments.map { $0.replacingOccurrences(of: "$DIR", with: dir.path) }, cwd: dir)
    #expect(r.status != 0, "exit status 0")
    #expect(r.status < 128, "killed by a signal: \(r.status)")
    let lines = r.stderr.split(separator: "\n", omittingEmptySubsequences: true)
    #expect(lines.count == 1, "expected one line, got \(lines.count):\n\(r.stderr.prefix(600))")
    #expect(r.stderr.contains(c.expected), "\(r.stderr.prefix(600))")
    for noise in ["Usage:", "USAGE:", "Backtrac", "NSCocoaErrorDomain", "Code=", "Fatal error"] {
        #expect(!r.stderr.contains(noise), "\(noise) in: \(r.stderr.prefix(300))")
    }
    let after = Set(try FileManager.default.subpathsOfDirectory(atPath: dir.path))
    #expect(after == before, "files left behind: \(after.subtracting(before).sorted())")
}
