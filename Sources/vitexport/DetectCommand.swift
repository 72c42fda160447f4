import ArgumentParser
import Foundation
import VitIR
import VitImage
import VitInterp
import VitModels
import VitONNX
import VitVerify

struct DetectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "detect",
        abstract: "Detect objects in photos: per photo, detections as JSON and the photo annotated as PNG.",
        discussion: """
            Each photo (JPEG or PNG, recognised by content) is read as detectron2's read_image \
            reads it (EXIF orientation applied, converted to RGB), resized to the model's input \
            with Pillow's bilinear filter (or letterboxed with --keep-aspect) and run in the \
            reference interpreter. <out>/<photo name>.json lists the detections scoring at least \
            --threshold, by score: COCO class name and category id, label, score and the box \
            (x1, y1, x2, y2) in the photo's pixels; <out>/<photo name>.png is the photo with the \
            boxes, class names and scores drawn. A detector with 80 classes is read as \
            detectron2's COCO (label 0…79 → category ids 1…90); other class counts give \
            "class N" and no category id. Boxes with zero width or height are dropped, as \
            detectron2 does.
            """)

    @Argument(help: ArgumentHelp("JPEG or PNG photos.", valueName: "photo"))
    var photos: [String] = []

    @Option(help: ArgumentHelp("Directory for the .json and .png per photo (made when missing, inside an existing directory).",
                               valueName: "dir"))
    var out: String

    @OptionGroup var model: ModelOptions
    @OptionGroup var precision: PrecisionOptions

    @Option(help: ArgumentHelp("Run this ONNX detector file instead of tracing --model.", valueName: "file"))
    var onnx: String?

    @Option(parsing: .unconditional, help: "Keep detections scoring at least this, 0…1 (detectron2's demo default).")
    var threshold: Float = 0.5

    @Option(parsing: .unconditional, help: ArgumentHelp("Keep at most N detections per photo (after --threshold).", valueName: "N"))
    var top: Int?

    @Flag(help: "Letterbox: scale each photo to fit the model's input with its aspect kept and pad right and bottom with zeros (default: stretch it to the input size).")
    var keepAspect = false

    func validate() throws {
        try precision.refuseInt8()
        guard !photos.isEmpty else { throw flagError("give at least one photo") }
        guard threshold.isFinite, (0...1).contains(threshold) else { throw flagError("--threshold \(threshold): expected a number from 0 to 1") }
        if let top, top < 1 { throw flagError("--top \(top): expected a number ≥ 1") }
        if onnx != nil, model.weights != nil {
            throw flagError("--weights binds a traced model and would be ignored with --onnx; give one of them")
        }
        if onnx != nil, precision.precision != .fp32 {
            throw flagError("--precision converts a traced model; an ONNX file runs in the precision it was exported in")
        }
        try checkSaveDirectory(out, flag: "--out")
        _ = try outputStems()
    }

    /// Each photo's output name (its file name without the extension), refused when two
    /// photos share one or an output file would replace a photo given.
    func outputStems() throws -> [String] {
        var owner: [String: String] = [:]
        var stems: [String] = []
        let inputs = Set(photos.map(canonicalPath))
        for photo in photos {
            let url = URL(fileURLWithPath: photo)
            let stem = url.pathExtension.isEmpty ? url.lastPathComponent : url.deletingPathExtension().lastPathComponent
            guard !stem.isEmpty, stem != ".", stem != ".." else { throw flagError("\(photo): cannot name its outputs after it; give a file") }
            if let other = owner[stem] {
                throw flagError("\(other) and \(photo) would both write \(out)/\(stem).json and .png; rename one or run them separately")
            }
            owner[stem] = photo
            for ext in ["json", "png"] where inputs.contains(canonicalPath("\(out)/\(stem).\(ext)")) {
                throw flagError("\(out)/\(stem).\(ext) would replace the photo given; choose another --out")
            }
            stems.append(stem)
        }
        return stems
    }

    func run() throws {
        let budget = try model.budget
        for photo in photos {
            do { _ = try probeImage(path: photo, budget: budget) } catch { throw CLIError(error) }
        }
        let detector = try loadDetector()
        if let note = detector.seededNote { print(note) }
        guard mkdir(out, 0o755) == 0 || errno == EEXIST else {
            throw CLIError("--out \(out): cannot create the directory: \(String(cString: strerror(errno)))")
        }
        let stems = try outputStems()
        let interpreter = Interpreter(detector.graph)
        let clock = ContinuousClock()
        let start = clock.now
        var total = 0
        for (i, photo) in photos.enumerated() {
            let started = clock.now
            let image: RGBImage
            do { image = try decodeImage(path: photo, budget: budget) } catch { throw CLIError(error) }
            let (input, geometry) = modelInput(image, height: detector.inputHeight, width: detector.inputWidth, keepAspect: keepAspect)
            let result = try interpreter.run(feeds: ["image": input], options: Interpreter.Options(budget: budget))
            let found = try detections(result.outputs, geometry: geometry, classes: detector.classes)
            try writeOutputs(found, image: image, photo: photo, stem: stems[i], geometry: geometry, detector: detector)
            total += found.count
            if photos.count > 1 {
                let seconds = (clock.now - started) / .seconds(1)
                FileHandle.standardError.write(Data("[\(i + 1)/\(photos.count)] \(photo): \(found.count) detections (\(String(format: "%.2f", seconds)) s)\n".utf8))
            }
        }
        let perImage = (clock.now - start) / .seconds(1) / Double(photos.count)
        print("detect: \(photos.count) image\(photos.count == 1 ? "" : "s"), \(total) detection\(total == 1 ? "" : "s") "
              + "(score ≥ \(threshold)), \(String(format: "%.2f", perImage)) s per image; wrote \(out)/<name>.json and .png")
    }

    /// The graph to run, from --onnx or the traced --model, with its input size and classes.
    func loadDetector() throws -> LoadedDetector {
        if onnx == nil {
            let config = try model.loadConfig()
            guard config.architecture == .detector else {
                throw CLIError("detect needs a detector; \(config.name) is \(config.architecture.rawValue)")
            }
        }
        let graph = try loadGraph(model: model, onnx: onnx, progress: PhaseProgress(), precision: precision)
        guard let size = photoInputSize(graph),
              Set(["boxes", "scores", "labels"]).isSubset(of: graph.outputs.map { graph.name(of: $0) }) else {
            throw CLIError("\(onnx ?? model.model): detect needs a detector with the input image [1, 3, H, W] and the outputs boxes, scores and labels")
        }
        do { try checkModelInputSize(height: size.height, width: size.width, budget: try model.budget, source: onnx ?? model.model) } catch {
            throw CLIError(error)
        }
        var config: ModelConfig?
        if onnx == nil {
            config = try model.loadConfig()
        } else if let name = graph.metadata["vitexport.model"], let c = try? ModelConfig.load(name),
                  c.fingerprint == graph.metadata["vitexport.model_config_fnv1a"] {
            config = c
        }
        let seededNote = onnx == nil
            ? (model.weights == nil ? config.map { seededWeightsNotice(seed: $0.seed) } : nil)
            : seededWeightsNotice(graph)
        return LoadedDetector(graph: graph, inputHeight: size.height, inputWidth: size.width,
                              classes: DetectorClasses(count: config?.detector?.numClasses),
                              seededNote: seededNote,
                              name: config?.name ?? onnx ?? model.model)
    }

    /// The detections over --threshold, best first, at most --top, boxes in photo pixels.
    func detections(_ outputs: [String: Tensor], geometry: ImageGeometry, classes: DetectorClasses) throws -> [Detected] {
        let kept: [String: Tensor]
        do { kept = try droppingEmptyDetections(outputs).outputs } catch { throw CLIError(error) }
        let b = kept["boxes"]!.floats, s = kept["scores"]!.floats, l = kept["labels"]!.int64s
        let order = s.indices.filter { s[$0] >= threshold }.sorted { s[$0] != s[$1] ? s[$0] > s[$1] : $0 < $1 }
        let found = order.map { i in
            let box = geometry.originalBox((b[4 * i], b[4 * i + 1], b[4 * i + 2], b[4 * i + 3]))
            return Detected(label: Int(l[i]), category: classes.category(Int(l[i])), score: s[i], box: box)
        }
        // A letterboxed input's boxes can lie wholly in the padding: empty once clipped to the photo.
        let inside = found.filter { $0.box.2 > $0.box.0 && $0.box.3 > $0.box.1 }
        return Array(inside.prefix(top ?? inside.count))
    }

    /// Writes <out>/<stem>.json and .png, each atomically; when the second cannot be written
    /// the first is removed, so a photo has both files or neither.
    func writeOutputs(_ found: [Detected], image: RGBImage, photo: String, stem: String, geometry: ImageGeometry,
                      detector: LoadedDetector) throws {
        let boxes = found.reversed().map { AnnotationBox(box: $0.box, caption: "\($0.category.name) \(String(format: "%.2f", $0.score))", colorIndex: $0.label) }
        let png: [UInt8]
        do { png = try annotatedPNG(image, boxes: boxes, path: photo) } catch { throw CLIError(error) }
        let json = detectionJSON(found, photo: photo, geometry: geometry, detector: detector)
        let jsonPath = "\(out)/\(stem).json", pngPath = "\(out)/\(stem).png"
        do { try writeFileAtomically(Array(json.utf8), to: jsonPath) } catch { throw CLIError(error) }
        do { try writeFileAtomically(png, to: pngPath) } catch {
            unlink(jsonPath)
            throw CLIError(error)
        }
    }

    func detectionJSON(_ found: [Detected], photo: String, geometry: ImageGeometry, detector: LoadedDetector) -> String {
        let rows = found.map { d -> String in
            let box = [d.box.0, d.box.1, d.box.2, d.box.3].map { String(format: "%.2f", $0) }.joined(separator: ", ")
            return "    {\"class\": \(jsonStringLiteral(d.category.name)), \"category_id\": \(d.category.id.map(String.init) ?? "null"), "
                + "\"label\": \(d.label), \"score\": \(String(format: "%.5f", d.score)), \"box\": [\(box)]}"
        }
        let weights = onnx != nil ? "from \(onnx!)" : model.weights ?? "seeded random values"
        return """
            {
              "image": \(jsonStringLiteral(photo)),
              "width": \(geometry.originalWidth),
              "height": \(geometry.originalHeight),
              "model": \(jsonStringLiteral(detector.name)),
              "weights": \(jsonStringLiteral(weights)),
              "input": {"width": \(geometry.inputWidth), "height": \(geometry.inputHeight), "keep_aspect": \(keepAspect)},
              "threshold": \(String(format: "%.5f", threshold)),
              "detections": [\(rows.isEmpty ? "" : "\n" + rows.joined(separator: ",\n") + "\n  ")]
            }

            """
    }
}

/// A detector ready to run on photos.
struct LoadedDetector {
    var graph: Graph
    var inputHeight: Int
    var inputWidth: Int
    var classes: DetectorClasses
    /// Said once when the parameters are seeded random values.
    var seededNote: String?
    var name: String
}

/// One detection: label, its category, score and box (x1, y1, x2, y2) in photo pixels.
struct Detected {
    var label: Int
    var category: (id: Int?, name: String)
    var score: Float
    var box: (Double, Double, Double, Double)
}

/// How labels read: a detector with 80 classes is detectron2's COCO (label i is
/// `COCO.categories[i]`); any other count (or an unknown one) names labels "class N" with no
/// category id.
struct DetectorClasses {
    var count: Int?

    func category(_ label: Int) -> (id: Int?, name: String) {
        if count == COCO.categories.count, COCO.categories.indices.contains(label) {
            return (COCO.categories[label].id, COCO.categories[label].name)
        }
        return (nil, "class \(label)")
    }
}

/// The absolute path of `path` with symbolic links resolved where it exists.
func canonicalPath(_ path: String) -> String {
    URL(fileURLWithPath: path).standardizedFileURL.resolvingSymlinksInPath().path
}

/// The (height, width) of `graph`'s input `image` when it is one RGB photo [1, 3, H, W], the
/// input `detect` and photo calibration fill.
func photoInputSize(_ graph: Graph) -> (height: Int, width: Int)? {
    guard let input = graph.inputs.first(where: { graph.name(of: $0) == "image" }),
          let dims = graph.type(of: input).shape.ints, dims.count == 4, dims[0] == 1, dims[1] == 3 else { return nil }
    return (dims[2], dims[3])
}
