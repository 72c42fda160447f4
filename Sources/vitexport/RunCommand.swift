import ArgumentParser
import Foundation
import VitIR
import VitInterp
import VitModels
import VitONNX
import VitPasses

/// Where the graph to run comes from, and its inputs: shared by `run` and `verify`.
struct GraphInputOptions: ParsableArguments {
    @Option(name: .customLong("input"), help: ArgumentHelp("Feed an input from a .npy file (repeatable).", valueName: "name=file.npy"))
    var inputs: [String] = []

    @Option(help: "Seed of the standard-normal values fed to inputs not given with --input.")
    var seed: UInt64 = 0

    /// Feeds for `graph`: files named by --input, seeded normal values for the rest.
    func feeds(for graph: Graph) throws -> [String: Tensor] {
        var feeds: [String: Tensor] = [:]
        for spec in inputs {
            guard let eq = spec.firstIndex(of: "=") else { throw ValidationError("--input \(spec): expected name=file.npy") }
            let name = String(spec[..<eq]), path = String(spec[spec.index(after: eq)...])
            guard let data = FileManager.default.contents(atPath: path) else { throw CLIError("--input \(name): cannot read \(path)") }
            do { feeds[name] = try Tensor(npy: Array(data)) } catch { throw CLIError("--input \(name): \(path): \(error)") }
        }
        var rng = SplitMix64(seed: seed)
        for id in graph.inputs where feeds[graph.name(of: id)] == nil {
            let type = graph.type(of: id)
            guard let dims = type.shape.ints, type.dtype == .float32 else {
                throw CLIError("input \(graph.name(of: id)) (\(type)) needs --input: only static float32 inputs are generated")
            }
            feeds[graph.name(of: id)] = Tensor.float32(dims) { p in for i in p.indices { p[i] = rng.nextNormal() } }
        }
        return feeds
    }
}

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a model in the reference interpreter and summarise (or save) its outputs.",
        discussion: """
            Runs the traced and folded model, or an ONNX file given with --onnx. Inputs come from \
            .npy files or are seeded standard-normal values. --save writes every input and output \
            as <dir>/<name>.npy (names with '/' or ':' have them replaced by '_'), for outside tools.
            """)

    @OptionGroup var model: ModelOptions
    @OptionGroup var io: GraphInputOptions

    @Option(help: "Run this ONNX file instead of tracing --model.")
    var onnx: String?

    @Option(help: "Directory to write inputs and outputs to as .npy files.")
    var save: String?

    @Flag(help: "Fail at the first node whose output holds NaN or ±Inf.")
    var checkFinite = false

    @Flag(help: "Print the time spent per op (summed over the timed runs).")
    var profile = false

    @Option(name: .customLong("repeat"), help: "Timed runs; the median latency is reported.")
    var repeats: Int = 1

    @Option(help: "Untimed runs before the timed ones.")
    var warmup: Int = 0

    @Flag(help: "Detectors: drop detections whose box has zero width or height (detectron2 does this after the model; the graph keeps all K).")
    var dropEmpty = false

    @Option(help: "Detectors: print the first N detections (box, score, label).")
    var detections: Int = 0

    func validate() throws {
        guard repeats >= 1, warmup >= 0 else { throw ValidationError("--repeat must be ≥ 1 and --warmup ≥ 0") }
    }

    func run() throws {
        let graph = try loadGraph(model: model, onnx: onnx)
        let feeds = try io.feeds(for: graph)
        let interpreter = Interpreter(graph)
        let options = Interpreter.Options(checkFinite: checkFinite, profile: profile)
        for _ in 0..<warmup { _ = try interpreter.run(feeds: feeds, options: Interpreter.Options(checkFinite: checkFinite)) }
        let clock = ContinuousClock()
        var times: [Double] = []
        var result: Interpreter.Result!
        var opSeconds: [String: Double] = [:]
        for _ in 0..<repeats {
            let start = clock.now
            result = try interpreter.run(feeds: feeds, options: options)
            times.append((clock.now - start) / .seconds(1))
            for (op, s) in result.profile { opSeconds[op, default: 0] += s }
        }
        let seconds = times.sorted()[times.count / 2]
        var outputs = result.outputs
        if dropEmpty { outputs = try droppingEmptyDetections(outputs) }
        for name in result.outputNames {
            let t = outputs[name]!
            let f = t.floats
            let lo = f.min() ?? 0, hi = f.max() ?? 0, mean = f.isEmpty ? 0 : f.reduce(0, +) / Float(f.count)
            print("\(name): \(t.dtype.shortName)\(t.shape) min \(lo) max \(hi) mean \(mean)")
        }
        if detections > 0, let boxes = outputs["boxes"], let scores = outputs["scores"], let labels = outputs["labels"] {
            let b = boxes.floats, sc = scores.floats, lb = labels.int64s
            for i in 0..<min(detections, sc.count) {
                let box = b[(4 * i)..<(4 * i + 4)].map { String(format: "%.1f", $0) }.joined(separator: ", ")
                print(String(format: "  #%-3d label %3lld  score %.4f  ", i, lb[i], sc[i]) + "box [\(box)]")
            }
        }
        let runs = times.map { String(format: "%.3f", $0) }.joined(separator: " ")
        print("time \(String(format: "%.3f", seconds)) s (median of \(repeats): \(runs)), peak intermediate memory \(result.peakBytes) bytes")
        if profile {
            let total = times.reduce(0, +)
            for (op, s) in opSeconds.sorted(by: { $0.value > $1.value }) {
                let padded = op.padding(toLength: 22, withPad: " ", startingAt: 0)
                print("  \(padded) " + String(format: "%8.3f s  %5.1f%%", s / Double(repeats), 100 * s / max(total, 1e-9)))
            }
        }
        if let save {
            try FileManager.default.createDirectory(atPath: save, withIntermediateDirectories: true)
            for (name, t) in feeds.sorted(by: { $0.key < $1.key }) { try writeNPY(t, to: "\(save)/input.\(fileSafe(name)).npy") }
            for name in result.outputNames { try writeNPY(outputs[name]!, to: "\(save)/output.\(fileSafe(name)).npy") }
            print("saved inputs and outputs to \(save)")
        }
    }
}

/// Traces and folds `--model`, or imports the ONNX file when one is given.
func loadGraph(model: ModelOptions, onnx: String?) throws -> Graph {
    if let onnx {
        do { return try importModel(path: onnx) } catch { throw CLIError("\(onnx): \(error)") }
    }
    var (_, graph) = try model.trace()
    _ = try optimize(&graph)
    return graph
}

func fileSafe(_ name: String) -> String { String(name.map { $0 == "/" || $0 == ":" ? "_" : $0 }) }

func writeNPY(_ t: Tensor, to path: String) throws { try writeAtomically(Data(t.npyBytes()), to: path) }

/// Detector outputs (`boxes` [1, K, 4] xyxy, `scores` [1, K], `labels` [1, K]) without the
/// detections whose box has zero width or height, as detectron2's `Instances` filter.
func droppingEmptyDetections(_ outputs: [String: Tensor]) throws -> [String: Tensor] {
    guard let boxes = outputs["boxes"], let scores = outputs["scores"], let labels = outputs["labels"],
          boxes.shape.count == 3, boxes.shape[0] == 1, boxes.shape[2] == 4 else {
        throw CLIError("--drop-empty needs detector outputs boxes [1, K, 4], scores [1, K] and labels [1, K]")
    }
    let b = boxes.floats, s = scores.floats, l = labels.int64s
    let keep = (0..<boxes.shape[1]).filter { (i: Int) -> Bool in
        let x1 = b[4 * i], y1 = b[4 * i + 1], x2 = b[4 * i + 2], y2 = b[4 * i + 3]
        return x2 > x1 && y2 > y1
    }
    var out = outputs
    let kept: [Float] = keep.flatMap { (i: Int) -> ArraySlice<Float> in b[(4 * i)..<(4 * i + 4)] }
    out["boxes"] = Tensor(kept, shape: [1, keep.count, 4])
    out["scores"] = Tensor(keep.map { s[$0] }, shape: [1, keep.count])
    out["labels"] = Tensor(keep.map { l[$0] }, shape: [1, keep.count])
    print("dropped \(boxes.shape[1] - keep.count) empty boxes, kept \(keep.count)")
    return out
}
