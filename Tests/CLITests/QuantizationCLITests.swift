import Foundation
import Testing

@Test func onnxHelpDescribesInt8Options() throws {
    let r = try vitexport(["onnx", "--help"])
    #expect(r.status == 0)
    #expect(r.stdout.contains("--precision <fp32|int8>"))
    #expect(r.stdout.contains("INT8 QUANTIZATION:"))
    for option in ["--calibrate-seeded <N>", "--calibrate-input <name=file.npy>", "--calibrator <calibrator>",
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
