import Foundation
import Testing
import VitIR
import VitInterp
@testable import VitModels

// PyTorch checkpoints written by real torch (`Tools/gen_pth_fixtures.py`, versions in
// Tests/Fixtures/pth/VERSIONS.txt), each compared with the values torch itself wrote to
// `<name>.expected.safetensors`.

private let pthFixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("Fixtures/pth")

private func fixture(_ name: String) -> String { pthFixtures.appendingPathComponent(name).path }

private func torchCheckpoint(_ name: String, weightsKey: String? = nil) throws -> TorchCheckpoint {
    try #require(try openCheckpoint(path: fixture(name), weightsKey: weightsKey) as? TorchCheckpoint)
}

/// The one-line error `body` throws (recorded as an issue when it does not throw).
private func readError(_ body: () throws -> Void) -> String {
    do {
        try body()
        Issue.record("expected an error")
        return ""
    } catch {
        let text = "\(error)"
        #expect(!text.contains("\n"), "one line: \(text)")
        return text
    }
}

/// Every tensor of `checkpoint` equals the stored expectation: same names, dtype, shape, bytes.
private func expectExactValues(_ checkpoint: TorchCheckpoint, _ expectedName: String) throws {
    let expected = try SafetensorsFile(path: fixture(expectedName))
    #expect(checkpoint.names == expected.names)
    for name in expected.names {
        let (t, e) = (try checkpoint.tensor(named: name), try expected.tensor(named: name))
        #expect(t.dtype == e.dtype && t.shape == e.shape, "\(name): \(t.dtype) \(t.shape) vs \(e.dtype) \(e.shape)")
        #expect(Array(t.rawBytes) == Array(e.rawBytes), "\(name) differs")
    }
}

@Test func plainStateDictReadsEveryDTypeViewAndSharedStorageExactly() throws {
    let checkpoint = try torchCheckpoint("plain.pth")
    #expect(checkpoint.layout == "plain state dict")
    #expect(!checkpoint.bigEndian)
    try expectExactValues(checkpoint, "plain.expected.safetensors")
    #expect(try checkpoint.tensor(named: "f16").dtype == .float16, "half precision stays as stored until bound")
    #expect(try checkpoint.tensor(named: "f64").dtype == .float32, "float64 narrows to float32")
    #expect(try checkpoint.tensor(named: "shared.slice").floats == [1.5, 2, 2.5, 3])
    #expect(try checkpoint.tensor(named: "shared.strided").floats == [0.5, 2, 3.5])
    #expect(try checkpoint.tensor(named: "1.num_batches_tracked").int64s == [0])
    // Contiguous tensors are views of the mapped file; strided ones are copies.
    let fileSize = try #require(try FileManager.default.attributesOfItem(atPath: fixture("plain.pth"))[.size] as? Int)
    #expect(try checkpoint.tensor(named: "f32").storage.byteCount == fileSize)
    #expect(try checkpoint.tensor(named: "shared.slice").storage.byteCount == fileSize)
    #expect(try checkpoint.tensor(named: "transposed").storage.byteCount == 4 * 3 * 4)
}

/// torch.save(…, pickle_protocol=4 or 5): FRAME, MEMOIZE, STACK_GLOBAL, SHORT_BINUNICODE.
@Test func pickleProtocols4And5ReadTheSameValues() throws {
    for name in ["protocol4.pth", "protocol5.pth"] {
        try expectExactValues(try torchCheckpoint(name), "plain.expected.safetensors")
    }
}

/// A state dict saved from a GPU names its storages' location "cuda:0"; the bytes are the same.
@Test func storageLocationDoesNotMatter() throws {
    let checkpoint = try torchCheckpoint("cuda_location.pth")
    let w = try checkpoint.tensor(named: "w")
    #expect(w.shape == [2, 3] && w.floats == [0, 1, 2, 3, 4, 5])
}

@Test func bigEndianStoragesAreByteSwapped() throws {
    let checkpoint = try torchCheckpoint("bigendian.pth")
    #expect(checkpoint.bigEndian)
    try expectExactValues(checkpoint, "plain.expected.safetensors")
}

@Test func layoutsAreDetected() throws {
    let cases = [("detectron2.pth", "\"model\" of a detectron2/detrex training checkpoint"),
                 ("state_dict.pth", "\"state_dict\" of a checkpoint"),
                 ("teacher.pth", "\"teacher\" of a DINOv2 training checkpoint"),
                 ("parameter.pth", "plain state dict")]
    for (name, layout) in cases {
        let checkpoint = try torchCheckpoint(name)
        #expect(checkpoint.layout == layout, "\(name)")
        try expectExactValues(checkpoint, name.replacingOccurrences(of: ".pth", with: ".expected.safetensors"))
    }
    #expect(try torchCheckpoint("detectron2.pth").topLevelKeys == ["model", "optimizer", "scheduler", "iteration"])
}

@Test func weightsKeyOverridesDetection() throws {
    let student = try torchCheckpoint("teacher.pth", weightsKey: "student")
    #expect(student.names == ["x"])
    #expect(student.layout == "\"student\" (--weights-key)")
    let missing = readError { _ = try openCheckpoint(path: fixture("teacher.pth"), weightsKey: "ema") }
    #expect(missing.contains("teacher.pth") && missing.contains("\"ema\" is not a top-level key") && missing.contains("\"teacher\""))
    let notDict = readError { _ = try openCheckpoint(path: fixture("detectron2.pth"), weightsKey: "iteration") }
    #expect(notDict.contains("\"iteration\" holds the integer 5, not a state dict"))
    let safetensors = readError { _ = try openCheckpoint(path: fixture("plain.expected.safetensors"), weightsKey: "model") }
    #expect(safetensors.contains("safetensors file"))
}

@Test func formatIsRecognisedByContentNotExtension() throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("pth-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    let torchAsSafetensors = dir.appendingPathComponent("weights.safetensors").path
    let safetensorsAsPth = dir.appendingPathComponent("weights.pth").path
    try FileManager.default.copyItem(atPath: fixture("plain.pth"), toPath: torchAsSafetensors)
    try FileManager.default.copyItem(atPath: fixture("plain.expected.safetensors"), toPath: safetensorsAsPth)
    #expect(try openCheckpoint(path: torchAsSafetensors) is TorchCheckpoint)
    #expect(try openCheckpoint(path: safetensorsAsPth) is SafetensorsFile)
}

@Test func opaqueGlobalsAreToleratedOutsideBoundTensors() throws {
    // detectron2.pth's optimizer and scheduler hold a __main__.Schedule instance.
    _ = try torchCheckpoint("detectron2.pth")
    let checkpoint = try torchCheckpoint("opaque_value.pth")
    #expect(checkpoint.names == ["bias", "i8", "u16", "weight"])
    let i8 = readError { _ = try checkpoint.tensor(named: "i8") }
    #expect(i8.contains("i8: calls torch._utils._rebuild_tensor_v2 on a value that has a storage of type torch.CharStorage, which this reader does not support"), "\(i8)")
    let u16 = readError { _ = try checkpoint.tensor(named: "u16") }
    #expect(u16.contains("u16: needs global torch._utils._rebuild_tensor_v3, which torch uses for dtypes this reader does not support"), "\(u16)")
    #expect(try checkpoint.tensor(named: "weight").floats == [1, 1])
    let error = readError { _ = try checkpoint.tensor(named: "bias") }
    #expect(error.contains("opaque_value.pth: bias: needs global __main__.Schedule"), "\(error)")
    let binding = readError { _ = try CheckpointParameters(file: checkpoint) }
    #expect(binding.contains("bias: needs global __main__.Schedule"))
}

@Test func wholeModuleIsRefusedWithHowToSaveAStateDict() {
    let error = readError { _ = try openCheckpoint(path: fixture("module.pth")) }
    #expect(error.contains("holds a value that needs global torch.nn.modules.linear.Linear, which this reader does not execute, not a dict of tensors"), "\(error)")
    #expect(error.contains("torch.save(model.state_dict(), path)"))
}

@Test func legacyFormatIsRefusedWithHowToResave() {
    let error = readError { _ = try openCheckpoint(path: fixture("legacy.pth")) }
    #expect(error.contains("legacy (pre-1.6, non-zip) torch.save file"))
    #expect(error.contains("torch.save(torch.load(old, weights_only=True), new)"))
}

@Test func compressedEntryIsRefusedByName() {
    let error = readError { _ = try openCheckpoint(path: fixture("compressed.pth")) }
    #expect(error.contains("compressed.pth: zip entry \"plain/data.pkl\" is compressed (method 8)"), "\(error)")
}

@Test func malformedTensorsAndPicklesGiveOneClearError() throws {
    let tensorCases = [
        ("bad_stride.pth", "size [2, 3] with stride [3, 2] at storage offset 0 reaches past the 6 elements of archive/data/0"),
        ("bad_offset.pth", "size [2] with stride [1] at storage offset 5 reaches past the 6 elements"),
        ("bad_dims.pth", "is negative or too large"),
        ("bad_negative_stride.pth", "is negative or too large"),
        ("bad_numel.pth", "storage archive/data/0 declares 600 float32 elements but holds 24 bytes"),
        ("bad_storage_key.pth", "its storage archive/data/7 is not in the archive"),
        ("bad_huge.pth", "w needs 8.0 TiB, over the memory budget of 1.0 MiB"),
    ]
    for (name, message) in tensorCases {
        let checkpoint = try #require(try openCheckpoint(path: fixture(name), budget: MemoryBudget(bytes: 1 << 20)) as? TorchCheckpoint)
        let error = readError { _ = try checkpoint.tensor(named: "w") }
        #expect(error.hasPrefix(fixture(name) + ": w") && error.contains(message), "\(name): \(error)")
    }
    let pickleCases = [
        ("bad_opcode.pth", "archive/data.pkl at byte 5: opcode 0xff is not part of the state-dict subset"),
        ("bad_memo.pth", "archive/data.pkl at byte 5: memo index 5 was never stored"),
        ("bad_truncated_pickle.pth", "archive/data.pkl at byte 6: length 5 runs past the end of the pickle (truncated?)"),
        ("bad_nesting.pth", "containers nest deeper than 256"),
    ]
    for (name, message) in pickleCases {
        let error = readError { _ = try openCheckpoint(path: fixture(name)) }
        #expect(error.hasPrefix(fixture(name) + ": ") && error.contains(message), "\(name): \(error)")
    }
}

@Test func truncatedAndCorruptZipsGiveOneClearError() throws {
    let original = try Data(contentsOf: URL(fileURLWithPath: fixture("plain.pth")))
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("pth-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    func check(_ bytes: Data, _ label: String, contains message: String) throws {
        let path = dir.appendingPathComponent("\(label).pth").path
        try bytes.write(to: URL(fileURLWithPath: path))
        let error = readError { _ = try openCheckpoint(path: path) }
        #expect(error.hasPrefix(path + ": ") && error.contains(message), "\(label): \(error)")
    }
    for cut in [0, 3, 21, 100, original.count / 2, original.count - 22, original.count - 1] {
        let expected = cut < 4 ? "neither a PyTorch checkpoint"
            : cut < 22 ? "\(cut) bytes is too short for a zip file" : "no zip end-of-central-directory record"
        try check(original.prefix(cut), "cut\(cut)", contains: expected)
    }
    // torch writes no archive comment: the end record is the last 22 bytes.
    let eocd = original.count - 22
    func patched(_ patches: [(offset: Int, value: UInt64, bytes: Int)]) -> Data {
        var d = original
        for (offset, value, bytes) in patches {
            for k in 0..<bytes { d[offset + k] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(k))) }
        }
        return d
    }
    func patched(_ offset: Int, _ value: UInt32) -> Data { patched([(offset, UInt64(value), 4)]) }
    func int(_ offset: Int, _ bytes: Int) -> Int { (0..<bytes).reduce(0) { $0 | Int(original[offset + $1]) << (8 * $1) } }
    let directory = int(eocd + 16, 4)
    // torch (miniz) also writes the zip64 end records, whose values take precedence.
    #expect(int(eocd - 20, 4) == 0x0706_4b50, "zip64 locator")
    let zip64 = int(eocd - 20 + 8, 8)
    #expect(int(zip64 + 48, 8) == directory)
    try check(patched([(zip64 + 48, 0x7FFF_FFF0, 8)]), "directory", contains: "zip central directory [2147483632")
    try check(patched([(eocd - 20 + 8, 0x7FFF_FFF0, 8)]), "locator", contains: "zip64 end-of-central-directory locator points to 2147483632")
    try check(patched(directory + 42, 0x7FFF_FFF0), "local", contains: "zip entry \"plain/data.pkl\": local header offset 2147483632 does not hold a local header")
    try check(patched(directory + 20, 0x10), "sizes", contains: "zip entry \"plain/data.pkl\" is stored but its sizes differ")
    try check(patched([(directory + 20, 0x7FFF_FFF0, 4), (directory + 24, 0x7FFF_FFF0, 4)]), "size",
              contains: "zip entry \"plain/data.pkl\": 2147483632 bytes of data run past the end of the")
}

/// Every single-byte corruption of a checkpoint (the pickle, the storages, every header) is
/// an error or a readable file, never a trap; a protocol-2 and a protocol-4 pickle.
@Test(arguments: ["detectron2.pth", "protocol4.pth"])
func everySingleByteCorruptionIsAnErrorOrReadable(name: String) throws {
    let original = try Data(contentsOf: URL(fileURLWithPath: fixture(name)))
    var errors = 0
    // Each byte inverted, and each byte's lowest bit flipped (lengths and counts off by one).
    let corruptions = (0..<original.count).flatMap { at in [(at, UInt8(0xFF)), (at, UInt8(0x01))] }
    for (offset, flip) in corruptions {
        // The corrupted file in memory (a uint8 tensor's storage), as the reader maps it.
        let file = Tensor(dtype: .uint8, shape: [original.count]) { raw in
            raw.copyBytes(from: original)
            raw[offset] ^= flip
        }.storage
        do {
            let checkpoint = try TorchCheckpoint(storage: file, path: name, weightsKey: nil, budget: MemoryBudget(bytes: 1 << 20))
            for key in checkpoint.names { _ = try checkpoint.tensor(named: key) }
        } catch {
            errors += 1
            #expect(!"\(error)".contains("\n"), "one line: \(error)")
        }
    }
    #expect(errors > 0)
}

/// dino-tiny's weights as torch wrote them in a detrex training checkpoint (shared heads
/// stored once, optimizer and scheduler state beside them) bind strictly and give the same
/// outputs, bit for bit, as the safetensors fixture.
@Test func dinoTinyTorchCheckpointBindsLikeItsSafetensors() throws {
    let config = try ModelConfig.load("dino-tiny")
    let pth = try openCheckpoint(path: fixture("dino-tiny.pth"))
    #expect((pth as? TorchCheckpoint)?.layout == "\"model\" of a detectron2/detrex training checkpoint")
    let safetensors = try openCheckpoint(path: detectorFixtures.appendingPathComponent("dino-tiny.weights.safetensors").path)
    #expect(pth.names == safetensors.names)
    let fromPth = try traceModel(config, parameters: try checkpointParameters(for: config, path: fixture("dino-tiny.pth")))
    let fromSafetensors = try traceModel(config, parameters: try detectorCheckpointParameters(file: safetensors))
    let reference = try SafetensorsFile(path: detectorFixtures.appendingPathComponent("dino-tiny.reference.safetensors").path)
    let feeds = ["image": try reference.tensor(named: "image")]
    let a = try Interpreter(fromPth).run(feeds: feeds).outputs
    let b = try Interpreter(fromSafetensors).run(feeds: feeds).outputs
    #expect(a.keys.sorted() == b.keys.sorted() && !a.isEmpty)
    for (name, t) in a {
        let other = try #require(b[name])
        #expect(t.bitwiseEqual(other), "\(name)")
    }
}

/// A zip of stored entries in torch's layout (CRCs left zero: the reader does not check them),
/// for pickles too large or too pathological to commit as fixtures. With `zip64`, sizes and
/// offsets live in zip64 extra fields and the end records are zip64's, as for files over 4 GB.
private func storedZip(_ entries: [(String, [UInt8])], zip64: Bool = false) -> Data {
    var out: [UInt8] = [], directory: [UInt8] = []
    func le(_ v: Int, _ n: Int) -> [UInt8] { (0..<n).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } }
    let big = 0xFFFF_FFFF
    for (name, data) in entries {
        let local = out.count, nameBytes = Array(name.utf8)
        out += le(0x0403_4b50, 4) + le(20, 2) + le(0, 2) + le(0, 2) + le(0, 4) + le(0, 4)
            + le(data.count, 4) + le(data.count, 4) + le(nameBytes.count, 2) + le(0, 2) + nameBytes + data
        let extra = zip64 ? le(1, 2) + le(24, 2) + le(data.count, 8) + le(data.count, 8) + le(local, 8) : []
        directory += le(0x0201_4b50, 4) + le(45, 2) + le(45, 2) + le(0, 2) + le(0, 2) + le(0, 4) + le(0, 4)
            + le(zip64 ? big : data.count, 4) + le(zip64 ? big : data.count, 4) + le(nameBytes.count, 2)
            + le(extra.count, 2) + le(0, 2) + le(0, 2) + le(0, 2) + le(0, 4) + le(zip64 ? big : local, 4) + nameBytes + extra
    }
    let start = out.count
    out += directory
    if zip64 {
        let record = out.count
        out += le(0x0606_4b50, 4) + le(44, 8) + le(45, 2) + le(45, 2) + le(0, 4) + le(0, 4)
            + le(entries.count, 8) + le(entries.count, 8) + le(directory.count, 8) + le(start, 8)
        out += le(0x0706_4b50, 4) + le(0, 4) + le(record, 8) + le(1, 4)
    }
    out += le(0x0605_4b50, 4) + le(0, 4) + le(zip64 ? 0xFFFF : entries.count, 2) + le(zip64 ? 0xFFFF : entries.count, 2)
        + le(zip64 ? big : directory.count, 4) + le(zip64 ? big : start, 4) + le(0, 2)
    return Data(out)
}

/// Writes `data` to a fresh temporary file, passes its path to `body`, and removes it.
private func withTemporaryFile<R>(_ data: Data, _ body: (String) throws -> R) throws -> R {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("ckpt-\(UUID().uuidString).pth").path
    try data.write(to: URL(fileURLWithPath: path))
    defer { try? FileManager.default.removeItem(atPath: path) }
    return try body(path)
}

/// The entries of a fixture archive, to re-zip them differently.
private func fixtureEntries(_ name: String) throws -> [(String, [UInt8])] {
    let archive = try ZipArchive(storage: TensorStorage.map(path: fixture(name)), path: name)
    return archive.entries.map { ($0.name, Array(archive.bytes(of: $0))) }
}

@Test func zip64ExtraFieldsAndEndRecordsAreRead() throws {
    let entries = try fixtureEntries("plain.pth")
    try withTemporaryFile(storedZip(entries, zip64: true)) { path in
        let checkpoint = try #require(try openCheckpoint(path: path) as? TorchCheckpoint)
        try expectExactValues(checkpoint, "plain.expected.safetensors")
    }
    try withTemporaryFile(storedZip(entries)) { path in
        try expectExactValues(try #require(try openCheckpoint(path: path) as? TorchCheckpoint), "plain.expected.safetensors")
    }
}

@Test func archiveStructureErrorsNameTheEntry() throws {
    let entries = try fixtureEntries("plain.pth")
    func error(_ e: [(String, [UInt8])]) throws -> String {
        try withTemporaryFile(storedZip(e)) { path in readError { _ = try openCheckpoint(path: path) } }
    }
    let withByteOrder = entries.map { $0.0 == "plain/byteorder" ? ($0.0, Array("middle".utf8)) : $0 }
    #expect(try error(withByteOrder).contains("plain/byteorder is \"middle\", expected \"little\" or \"big\""))
    #expect(try error(entries + [entries[0]]).contains("zip entry \"plain/data.pkl\" appears twice"))
    #expect(try error(entries.filter { $0.0 != "plain/data.pkl" }).contains("a zip file without <archive>/data.pkl"))
    #expect(try error(entries + [("plain/constants.pkl", [0x80, 0x02, 0x4E, 0x2E])]).contains("a TorchScript archive"))
    #expect(try error([("a/b.txt", [1, 2])]).contains("not a torch.save checkpoint"))
}

/// Reads `pickle` as the data.pkl of a checkpoint and returns the one-line error it gives.
private func pickleError(_ pickle: [UInt8]) throws -> String {
    try withTemporaryFile(storedZip([("archive/data.pkl", pickle), ("archive/byteorder", Array("little".utf8))])) { path in
        readError { _ = try openCheckpoint(path: path) }
    }
}

@Test func pathologicalPicklesNeitherTrapNorRecurse() throws {
    // A million nested tuples: built, reported, and freed without recursion.
    let tuples: [UInt8] = [0x80, 0x02, 0x29] + [UInt8](repeating: 0x85, count: 1_000_000) + [0x2E]
    #expect(try pickleError(tuples).contains("the checkpoint holds a tuple of 1, not a dict of tensors"))
    // A million lists, each appended to the previous one through the memo.
    var lists: [UInt8] = [0x80, 0x02, 0x5D]
    for i in 1...1_000_000 {
        let index: [UInt8] = (0..<4).map { UInt8(truncatingIfNeeded: i >> (8 * $0)) }
        lists += [0x5D, 0x72] + index + [0x61, 0x30, 0x6A] + index // ], LONG_BINPUT i, APPEND, POP, LONG_BINGET i
    }
    lists += [0x2E]
    #expect(try pickleError(lists).contains("the checkpoint holds a list, not a dict of tensors"))
    // A dict that contains itself.
    let cycle: [UInt8] = [0x80, 0x02, 0x7D, 0x71, 0x00, 0x58, 0x01, 0, 0, 0, 0x61, 0x68, 0x00, 0x73, 0x2E]
    #expect(try pickleError(cycle).contains("no state dict found (top-level keys: \"a\")"))
    // Protocol 1 and an empty pickle.
    #expect(try pickleError([0x80, 0x01, 0x4E, 0x2E]).contains("at byte 0: pickle protocol 1 is not supported"))
    #expect(try pickleError([]).contains("at byte 0: needs 1 more bytes but the pickle ends at 0 (truncated?)"))
    #expect(try pickleError([0x80, 0x02, 0x30, 0x2E]).contains("at byte 2: pops an empty stack"))
}

/// The reference DINO's `pixel_mean`/`pixel_std` buffers are accepted and checked against the
/// configuration.
@Test func torchCheckpointPixelStatisticsAreCheckedAgainstTheConfiguration() throws {
    let checkpoint = try torchCheckpoint("dino-tiny.pth")
    #expect(try checkpoint.tensor(named: "pixel_mean").shape == [3, 1, 1])
    var config = try ModelConfig.load("dino-tiny")
    let expected = try #require(config.detector?.pixelMean)
    #expect(try checkpoint.tensor(named: "pixel_mean").floats == expected)
    config.detector?.pixelMean = [0.5, 0.5, 0.5]
    do {
        _ = try traceModel(config, parameters: try detectorCheckpointParameters(file: checkpoint))
        Issue.record("expected the pixel statistics to be refused")
    } catch let error as ConfigError {
        #expect(error.description.contains("detector.pixel_mean: [0.5, 0.5, 0.5] differs from the checkpoint's pixel_mean"), "\(error)")
    }
}

/// A DINOv2 release state dict (`dinov2_vits14_pretrain.pth` layout: mask_token,
/// register_tokens) and a DINOv2 training run's `{"teacher": …}` in float16 under `backbone.`
/// bind to the tiny DINOv2 like the same tensors in safetensors, bit for bit.
@Test func dinov2ReleaseAndTeacherCheckpointsBindLikeTheirSafetensors() throws {
    let config = try tinyDINOv2(regTokens: 4)
    let image = Tensor(dinov2RandomValues(3 * 16 * 16, seed: 4), shape: [1, 3, 16, 16])
    let cases = [("dinov2-release-tiny", "", "plain state dict"),
                 ("dinov2-teacher-tiny", "backbone.", "\"teacher\" of a DINOv2 training checkpoint")]
    for (name, prefix, layout) in cases {
        #expect(try torchCheckpoint(name + ".pth").layout == layout)
        let fromPth = try checkpointParameters(for: config, path: fixture(name + ".pth"), prefix: prefix)
        #expect(fromPth.convertedFromOriginalDINOv2)
        let fromSafetensors = try CheckpointParameters(file: SafetensorsFile(path: fixture(name + ".expected.safetensors")), prefix: prefix)
        let a = try runBackbone(config, parameters: fromPth, image: image).features
        let b = try runBackbone(config, parameters: fromSafetensors, image: image).features
        #expect(a.bitwiseEqual(b), "\(name)")
        #expect(a.floats.contains { $0 != 0 })
    }
}
