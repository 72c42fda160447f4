import Foundation
import Testing
import VitIR
import VitModels

/// A fresh path in the temporary directory.
private func temporaryPath(_ name: String) -> String {
    FileManager.default.temporaryDirectory.appendingPathComponent("vitexport-st-\(getpid())-\(UInt32.random(in: 0...UInt32.max))-\(name)").path
}

/// Writes `header` (JSON text) and `data` as a safetensors file; `declaredLength` overrides the
/// 8-byte header length.
private func rawSafetensors(_ header: String, data: [UInt8] = [], declaredLength: UInt64? = nil) throws -> String {
    let path = temporaryPath("raw.safetensors")
    var bytes: [UInt8] = []
    let json = Array(header.utf8)
    withUnsafeBytes(of: (declaredLength ?? UInt64(json.count)).littleEndian) { bytes += $0 }
    bytes += json + data
    try Data(bytes).write(to: URL(fileURLWithPath: path))
    return path
}

/// The problems a file's parsing reports (empty when it parses).
private func problems(_ path: String) -> [String] {
    do {
        _ = try SafetensorsFile(path: path)
        return []
    } catch let e as SafetensorsError {
        return e.problems
    } catch {
        return ["unexpected \(error)"]
    }
}

@Test func safetensorsRoundTripKeepsNamesShapesValuesAndMetadata() throws {
    let path = temporaryPath("rt.safetensors")
    defer { try? FileManager.default.removeItem(atPath: path) }
    let a = Tensor([1, -2, 3.5, 4, 5, 6], shape: [2, 3])
    let b = Tensor([7, 8, 9] as [Int64], shape: [3])
    let scalar = Tensor.scalar(Float(0.25))
    try writeSafetensors(["w.a": a, "b": b, "s": scalar], metadata: ["format": "pt"], to: path)
    let file = try SafetensorsFile(path: path)
    #expect(file.names == ["b", "s", "w.a"])
    #expect(file.metadata == ["format": "pt"])
    #expect(try file.tensor(named: "w.a").bitwiseEqual(a))
    #expect(try file.tensor(named: "b").bitwiseEqual(b))
    #expect(try file.float32Tensor(named: "s").floats == [0.25])
    #expect(try file.tensor(named: "w.a").storage === file.tensor(named: "b").storage, "views share the mapping")
    #expect(throws: SafetensorsError.self) { try file.float32Tensor(named: "b") }
    #expect(throws: SafetensorsError.self) { try file.tensor(named: "nope") }
}

@Test func halfPrecisionWeightsWidenExactlyToFloat32() throws {
    let values: [Float] = [1, -0.5, 65504, 0.000061035156, -3.140625]
    let half = Tensor(dtype: .float16, shape: [5]) { raw in
        for (i, v) in values.enumerated() { raw.storeBytes(of: floatToFloat16(v), toByteOffset: 2 * i, as: UInt16.self) }
    }
    let brain = Tensor(dtype: .bfloat16, shape: [5]) { raw in
        for (i, v) in values.enumerated() { raw.storeBytes(of: floatToBFloat16(v), toByteOffset: 2 * i, as: UInt16.self) }
    }
    let path = temporaryPath("half.safetensors")
    defer { try? FileManager.default.removeItem(atPath: path) }
    try writeSafetensors(["h": half, "b": brain], to: path)
    let file = try SafetensorsFile(path: path)
    #expect(file.entries["h"]?.dtype == "F16")
    #expect(file.entries["b"]?.dtype == "BF16")
    let h = try file.float32Tensor(named: "h"), b = try file.float32Tensor(named: "b")
    #expect(h.dtype == .float32 && b.dtype == .float32)
    #expect(h.floats == values, "every value is representable in float16")
    #expect(b.floats == values.map { bfloat16ToFloat(floatToBFloat16($0)) })
}

@Test func unalignedTensorIsCopiedNotMisread() throws {
    // One byte of u8 data first puts the float32 tensor at an odd offset.
    let header = #"{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"f":{"dtype":"F32","shape":[2],"data_offsets":[1,9]}}"#
    var data: [UInt8] = [42]
    withUnsafeBytes(of: Float(1.5).bitPattern.littleEndian) { data += $0 }
    withUnsafeBytes(of: Float(-2).bitPattern.littleEndian) { data += $0 }
    let path = try rawSafetensors(header, data: data)
    defer { try? FileManager.default.removeItem(atPath: path) }
    let file = try SafetensorsFile(path: path)
    #expect(try file.float32Tensor(named: "f").floats == [1.5, -2])
    #expect(try file.tensor(named: "a").int64s == [42])
}

@Test func corruptFilesFailWithAClearError() throws {
    let f32 = #"{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#
    let eight = [UInt8](repeating: 0, count: 8)
    let cases: [(String, String, String)] = [
        ("empty header", try rawSafetensors(""), "not valid JSON"),
        ("length past end", try rawSafetensors(f32, data: eight, declaredLength: 4096), "runs past the end"),
        ("absurd length", try rawSafetensors(f32, data: eight, declaredLength: UInt64.max), "exceeds the format's limit"),
        ("not JSON", try rawSafetensors("{not json", data: eight), "not valid JSON"),
        ("not an object", try rawSafetensors("[1, 2]", data: eight), "expected a JSON object"),
        ("unknown dtype", try rawSafetensors(#"{"w":{"dtype":"F33","shape":[2],"data_offsets":[0,8]}}"#, data: eight), "unknown dtype"),
        ("negative dim", try rawSafetensors(#"{"w":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}"#, data: eight), "non-negative integers"),
        ("offsets past data", try rawSafetensors(f32, data: [0, 0, 0, 0]), "past the data buffer"),
        ("size mismatch", try rawSafetensors(#"{"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#, data: eight), "needs 12 bytes"),
        ("begin after end", try rawSafetensors(#"{"w":{"dtype":"F32","shape":[0],"data_offsets":[8,0]}}"#, data: eight), "begin > end"),
        ("overlap", try rawSafetensors(#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#, data: eight), "overlaps"),
        ("huge shape", try rawSafetensors(#"{"w":{"dtype":"F64","shape":[4294967296,4294967296],"data_offsets":[0,8]}}"#, data: eight), "too large"),
        ("bad metadata", try rawSafetensors(#"{"__metadata__":{"k":1}}"#), "expected a string"),
    ]
    for (label, path, fragment) in cases {
        defer { try? FileManager.default.removeItem(atPath: path) }
        let found = problems(path)
        #expect(found.contains { $0.contains(fragment) }, "\(label): \(found)")
    }
    // Files shorter than the 8-byte length prefix, including an empty one.
    for bytes in [[], [1, 2, 3]] as [[UInt8]] {
        let short = temporaryPath("short.safetensors")
        try Data(bytes).write(to: URL(fileURLWithPath: short))
        defer { try? FileManager.default.removeItem(atPath: short) }
        #expect(problems(short).first?.contains("8-byte header length") == true)
    }
    #expect(problems(temporaryPath("missing.safetensors")).first?.contains("cannot open") == true)
}

/// A real fixture cut short anywhere fails cleanly (never a crash or an out-of-bounds read).
@Test func truncatedCheckpointFailsCleanly() throws {
    let data = try Data(contentsOf: URL(fileURLWithPath: dinov2Fixture("s14.safetensors")))
    for cut in [0, 5, 8, 100, data.count / 2, data.count - 1] {
        let path = temporaryPath("cut\(cut).safetensors")
        defer { try? FileManager.default.removeItem(atPath: path) }
        try data.prefix(cut).write(to: URL(fileURLWithPath: path))
        #expect(!problems(path).isEmpty, "cut at \(cut)")
    }
    #expect(problems(dinov2Fixture("s14.safetensors")).isEmpty)
}

/// Every problem in a header is reported, not only the first.
@Test func allHeaderProblemsAreListed() throws {
    let header = #"{"a":{"dtype":"F99","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[9],"data_offsets":[0,4]}}"#
    let path = try rawSafetensors(header, data: [0, 0, 0, 0])
    defer { try? FileManager.default.removeItem(atPath: path) }
    let found = problems(path)
    #expect(found.count == 2)
    #expect(found.contains { $0.hasPrefix("a:") } && found.contains { $0.hasPrefix("b:") })
}
