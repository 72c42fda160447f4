import Foundation
import Testing
import VitImage

private func imageFixture(_ name: String) -> URL { repoRoot.appendingPathComponent("Tests/Fixtures/images/\(name)") }
private let detectorWeights = repoRoot.appendingPathComponent("Tests/Fixtures/detector/dino-tiny.weights.safetensors").path

/// Copies fixture photos into a fresh directory under new names.
private func photos(_ names: [(fixture: String, as: String)]) throws -> URL {
    let dir = try temporaryDirectory()
    for (fixture, name) in names {
        let target = dir.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: imageFixture(fixture), to: target)
    }
    return dir
}

private struct DetectionFile: Decodable {
    struct Detection: Decodable {
        var `class`: String
        var category_id: Int?
        var label: Int
        var score: Double
        var box: [Double]
    }
    var image: String
    var width: Int
    var height: Int
    var detections: [Detection]
}

@Test func detectHelpDescribesTheCommand() throws {
    let r = try vitexport(["detect", "--help"])
    #expect(r.status == 0)
    #expect(r.stdout.contains("USAGE: vitexport detect [<options>] [<photo> ...] --out <dir>"))
    for flag in ["--threshold <threshold>", "--top <N>", "--keep-aspect", "--onnx <file>", "--weights <file>", "-m, --model <name-or-path>", "--precision <fp32|fp16|mixed|int8>"] {
        #expect(r.stdout.contains(flag), "\(flag)")
    }
    #expect(r.stdout.contains("(default: 0.5)"))
    #expect(r.stdout.contains("category ids 1…90"))
    let top = try vitexport(["--help"])
    #expect(top.stdout.contains("  detect "))
}

/// Two photos (a rotated JPEG, a palette PNG with transparency), letterboxed: per photo a JSON
/// whose boxes lie in the upright photo's pixels, sorted by score, and an annotated PNG that
/// decodes back at the photo's size.
@Test func detectWritesJSONAndAnnotatedPNGPerPhoto() throws {
    let dir = try photos([("orient-6.jpg", "street.jpg"), ("palette.png", "sub/park.png")])
    defer { try? FileManager.default.removeItem(at: dir) }
    let out = dir.appendingPathComponent("out")
    let r = try vitexport(["detect", dir.appendingPathComponent("street.jpg").path, dir.appendingPathComponent("sub/park.png").path,
                           "--out", out.path, "-m", "dino-tiny", "--weights", detectorWeights,
                           "--threshold", "0", "--top", "7", "--keep-aspect"])
    #expect(r.status == 0, "\(r.stderr)")
    #expect(!r.stdout.contains("seeded random values"))
    #expect(r.stdout.contains("detect: 2 images, 14 detections (score ≥ 0.0)"))
    #expect(r.stderr.contains("[1/2] \(dir.path)/street.jpg: 7 detections (") && r.stderr.contains("[2/2] "))
    for stem in ["street", "park"] {
        let json = try JSONDecoder().decode(DetectionFile.self, from: Data(contentsOf: out.appendingPathComponent("\(stem).json")))
        #expect(json.width == 40 && json.height == 30)  // street.jpg is stored 30×40 with orientation 6
        #expect(json.detections.count == 7)
        #expect(zip(json.detections, json.detections.dropFirst()).allSatisfy { $0.score >= $1.score })
        for d in json.detections {
            #expect(d.box.count == 4)
            #expect(d.box[0] >= 0 && d.box[2] <= 40 && d.box[1] >= 0 && d.box[3] <= 30 && d.box[0] < d.box[2] && d.box[1] < d.box[3], "\(d.box)")
            let category = COCO.categories[d.label]
            #expect(d.category_id == category.id && d.class == category.name)
        }
        let png = try decodeImage(path: out.appendingPathComponent("\(stem).png").path)
        #expect(png.width == 40 && png.height == 30)
    }
    let names = try FileManager.default.contentsOfDirectory(atPath: out.path).sorted()
    #expect(names == ["park.json", "park.png", "street.json", "street.png"])
}

/// Seeded parameters are said in one line, the same line `onnx` prints; an ONNX file made with
/// seeded parameters says so through its metadata, and its labels still read as COCO.
@Test func detectSaysWhenWeightsAreSeeded() throws {
    let dir = try photos([("plain.jpg", "a.jpg")])
    defer { try? FileManager.default.removeItem(at: dir) }
    let note = "weights: seeded random values (seed 7), not a trained model; bind a checkpoint with --weights"
    let traced = try vitexport(["detect", dir.appendingPathComponent("a.jpg").path, "--out", dir.appendingPathComponent("t").path,
                                "-m", "dino-tiny", "--threshold", "0", "--top", "3"])
    #expect(traced.status == 0, "\(traced.stderr)")
    #expect(traced.stdout.hasPrefix(note + "\n"))
    #expect(traced.stderr.isEmpty)  // one photo: no progress lines
    let onnxPath = dir.appendingPathComponent("tiny.onnx").path
    let export = try vitexport(["onnx", "-m", "dino-tiny", "-o", onnxPath, "--no-check"])
    #expect(export.status == 0 && export.stdout.contains("  " + note))
    let fromFile = try vitexport(["detect", dir.appendingPathComponent("a.jpg").path, "--out", dir.appendingPathComponent("o").path,
                                  "--onnx", onnxPath, "--threshold", "0", "--top", "3"])
    #expect(fromFile.status == 0, "\(fromFile.stderr)")
    #expect(fromFile.stdout.hasPrefix(note + "\n"))
    let a = try JSONDecoder().decode(DetectionFile.self, from: Data(contentsOf: dir.appendingPathComponent("t/a.json")))
    let b = try JSONDecoder().decode(DetectionFile.self, from: Data(contentsOf: dir.appendingPathComponent("o/a.json")))
    #expect(a.detections.map(\.label) == b.detections.map(\.label))
    #expect(b.detections.allSatisfy { $0.category_id != nil })
}

/// Bad requests: one line, non-zero exit, nothing written.
@Test func detectRefusesBadRequestsWithoutWriting() throws {
    let dir = try photos([("plain.jpg", "a/x.jpg"), ("gray8.png", "b/x.png"), ("rgba.png", "c/photo.png"), ("huge-header.png", "huge.png")])
    defer { try? FileManager.default.removeItem(at: dir) }
    try Data("not a photo\n".utf8).write(to: dir.appendingPathComponent("notes.jpg"))
    let plain = try Data(contentsOf: imageFixture("plain.jpg"))
    try plain.prefix(plain.count - 300).write(to: dir.appendingPathComponent("cut.jpg"))
    let out = dir.appendingPathComponent("out").path
    let path = { (name: String) in dir.appendingPathComponent(name).path }
    let cases: [([String], String)] = [
        ([path("a/x.jpg"), path("b/x.png"), "--out", out],
         "Error: \(path("a/x.jpg")) and \(path("b/x.png")) would both write \(out)/x.json and .png; rename one or run them separately"),
        ([path("c/photo.png"), "--out", path("c")], "Error: \(path("c"))/photo.png would replace the photo given; choose another --out"),
        ([path("notes.jpg"), "--out", out, "-m", "dino-tiny"], "Error: \(path("notes.jpg")): is not a JPEG or PNG image (it starts with bytes 6e 6f 74 20)"),
        ([path("a/x.jpg"), "--out", out, "--threshold", "1.5"], "Error: --threshold 1.5: expected a number from 0 to 1"),
        ([path("a/x.jpg"), "--out", out, "--top", "0"], "Error: --top 0: expected a number ≥ 1"),
        ([path("a/x.jpg"), "--out", path("a/x.jpg")], "Error: --out \(path("a/x.jpg")): is a file; give a directory"),
        ([path("a/x.jpg"), "--out", path("none/out")], "Error: --out \(path("none/out")): the directory '\(path("none"))' does not exist"),
        ([path("a/x.jpg"), "--out", out, "-m", "tiny-convattn"],
         "Error: detect needs a detector; tiny-convattn is conv-attention"),
        (["--out", out], "Error: give at least one photo"),
        ([path("a/x.jpg"), path("huge.png"), "--out", out, "-m", "dino-tiny"],
         "Error: \(path("huge.png")): the header gives 100000×100000 pixels, over the limit of 134217728 pixels (sides ≤ 65535)"),
        ([path("cut.jpg"), "--out", out, "-m", "dino-tiny"],
         "Error: \(path("cut.jpg")): corrupt or truncated JPEG data (libjpeg-turbo: Premature end of JPEG file)"),
    ]
    for (arguments, message) in cases {
        let r = try vitexport(["detect"] + arguments)
        #expect(r.status != 0, "\(arguments)")
        #expect(r.stderr == message + "\n", "\(arguments)")
        #expect(!FileManager.default.fileExists(atPath: out + "/x.json"))
    }
    #expect((try? FileManager.default.contentsOfDirectory(atPath: out))?.isEmpty ?? true)
}

/// detect's boxes are the interpreter's boxes in input pixels mapped to the photo: x by
/// 40 / 224 and y by 30 / 224 when the 40×30 photo is stretched to dino-tiny's 224×224. `run`
/// on the same input tensor (VitImage's `loadImageInput`, saved as .npy) gives the boxes before
/// the mapping.
@Test func detectBoxesAreTheModelsBoxesMappedToThePhoto() throws {
    let dir = try photos([("plain.jpg", "p.jpg")])
    defer { try? FileManager.default.removeItem(at: dir) }
    let photo = dir.appendingPathComponent("p.jpg").path
    let (input, geometry) = try loadImageInput(path: photo, height: 224, width: 224, keepAspect: false)
    #expect(geometry.contentWidth == 224 && geometry.contentHeight == 224)
    let npy = dir.appendingPathComponent("image.npy")
    try Data(input.npyBytes()).write(to: npy)
    let run = try vitexport(["run", "-m", "dino-tiny", "--weights", detectorWeights, "--input", "image=\(npy.path)",
                             "--drop-empty", "--detections", "100"])
    #expect(run.status == 0, "\(run.stderr)")
    // "  #0   label  62  score 0.9806  box [159.7, 480.0, 309.0, 480.0]"
    let modelBoxes: [(label: Int, score: Double, box: [Double])] = run.stdout.split(separator: "\n").compactMap { line in
        guard line.hasPrefix("  #"), let b = line.range(of: "box ["), let l = line.range(of: "label "), let s = line.range(of: "score ") else { return nil }
        let label = Int(line[l.upperBound...].drop { $0 == " " }.prefix { $0.isNumber })!
        let score = Double(line[s.upperBound...].prefix { $0 != " " })!
        let box = line[b.upperBound...].dropLast().split(separator: ",").map { Double($0.trimmingCharacters(in: .whitespaces))! }
        return (label, score, box)
    }
    #expect(modelBoxes.count > 10)
    let detect = try vitexport(["detect", photo, "--out", dir.appendingPathComponent("out").path, "-m", "dino-tiny",
                                "--weights", detectorWeights, "--threshold", "0", "--top", "10"])
    #expect(detect.status == 0, "\(detect.stderr)")
    let json = try JSONDecoder().decode(DetectionFile.self, from: Data(contentsOf: dir.appendingPathComponent("out/p.json")))
    #expect(json.detections.count == 10)
    for d in json.detections {
        let scaled = [d.box[0] * 224 / 40, d.box[1] * 224 / 30, d.box[2] * 224 / 40, d.box[3] * 224 / 30]
        let partner = modelBoxes.first { $0.label == d.label && abs($0.score - d.score) < 1e-4 && zip($0.box, scaled).allSatisfy { abs($0 - $1) < 0.1 } }
        #expect(partner != nil, "no model box for \(d.class) \(d.score) \(scaled)")
    }
}
