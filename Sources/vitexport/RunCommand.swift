import ArgumentParser
import Foundation
import VitIR
import VitInterp
import VitModels
import VitONNX
import VitPasses
import VitVerify

/// Where the graph to run comes from, and its inputs: shared by `run` and `verify`.
struct GraphInputOptions: ParsableArguments {
    @Option(name: .customLong("input"), help: ArgumentHelp("Feed an input from a .npy file (repeatable).", valueName: "name=file.npy"))
    var specifications: [String] = []

    @Option(parsing: .unconditional, help: "Seed (≥ 0) of the standard-normal values fed to inputs not given with --input.")
    var seed: Int = 0

    func validate() throws {
        guard seed >= 0 else { throw flagError("--seed \(seed): expected a number ≥ 0") }
    }

    var inputs: GraphInputs {
        get throws { do { return try GraphInputs(specifications: specifications, seed: UInt64(seed)) } catch { throw CLIError(error) } }
    }

    /// Feeds for `graph`: files named by --input, seeded normal values for the rest.
    func feeds(for graph: Graph) throws -> [String: Tensor] {
        let inputs = try self.inputs
        do { return try inputs.feeds(for: graph) } catch { throw CLIError(error) }
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
    @OptionGroup var batching: BatchOptions
    @OptionGroup var precision: PrecisionOptions
    @OptionGroup var io: GraphInputOptions

    @Option(help: "Run this ONNX file instead of tracing --model.")
    var onnx: String?

    @Option(help: "Directory to write inputs and outputs to as .npy files.")
    var save: String?

    @Flag(help: "Fail at the first node whose output holds NaN or ±Inf.")
    var checkFinite = false

    @Flag(help: "Print the time spent per op and per top-level scope (averaged over the timed runs).")
    var profile = false

    @Flag(help: "Run every node as its own kernel: no fused chains (MatMul + bias Add, Mul + ReduceSum over the last axis, Transpose of the last two axes + MatMul, attention's MatMul + Softmax + MatMul one head at a time, GridSample + Mul + ReduceSum as one weighted sampling pass; the plain path, for comparison).")
    var noFusion = false

    @Option(name: .customLong("repeat"), parsing: .unconditional, help: "Timed runs; the median latency is reported.")
    var repeats: Int = 1

    @Option(parsing: .unconditional, help: "Untimed runs before the timed ones.")
    var warmup: Int = 0

    @Flag(help: "Detectors: drop detections whose box has zero width or height (detectron2 does this after the model; the graph keeps all K).")
    var dropEmpty = false

    @Option(parsing: .unconditional, help: "Detectors: print the first N detections (box, score, label).")
    var detections: Int = 0

    func validate() throws {
        try precision.refuseInt8()
        guard repeats >= 1 else { throw flagError("--repeat \(repeats): expected a number ≥ 1") }
        guard warmup >= 0 else { throw flagError("--warmup \(warmup): expected a number ≥ 0") }
        guard detections >= 0 else { throw flagError("--detections \(detections): expected a number ≥ 0") }
        if onnx != nil, model.weights != nil {
            throw flagError("--weights binds a traced model and would be ignored with --onnx; give one of them")
        }
        if onnx != nil, precision.precision != .fp32 {
            throw flagError("--precision converts a traced model; an ONNX file runs in the precision it was exported in")
        }
        if let save { try checkSaveDirectory(save) }
    }

    func run() throws {
        let progress = PhaseProgress()
        defer { progress.end() }
        let graph = try loadGraph(model: model, onnx: onnx, io: io, batch: batching.batch, progress: progress, precision: precision)
        if let notice = seededWeightsNotice(graph) { print(notice) }
        let feeds = try io.feeds(for: graph)
        let interpreter = Interpreter(graph)
        let budget = try model.budget
        let options = Interpreter.Options(checkFinite: checkFinite, profile: profile, budget: budget, fuse: !noFusion)
        var warm = options
        warm.profile = false
        for _ in 0..<warmup { _ = try interpreter.run(feeds: feeds, options: warm) }
        progress.begin("running")
        let clock = ContinuousClock()
        var times: [Double] = [], cpuTimes: [Double] = []
        var result: Interpreter.Result!
        var scopeOpSeconds: [Interpreter.ScopeOp: Double] = [:]
        for _ in 0..<repeats {
            let start = clock.now, cpuStart = processCPUSeconds()
            result = try interpreter.run(feeds: feeds, options: options)
            times.append((clock.now - start) / .seconds(1))
            cpuTimes.append(processCPUSeconds() - cpuStart)
            for (key, s) in result.scopeOpProfile { scopeOpSeconds[key, default: 0] += s }
        }
        progress.end()
        let seconds = times.sorted()[times.count / 2]
        let (outputs, dropped): ([String: Tensor], Int)
        do { (outputs, dropped) = try postProcess(result.outputs, PostProcessing(dropEmptyBoxes: dropEmpty)) } catch {
            throw CLIError(error)
        }
        if dropEmpty { print("dropped \(dropped) empty boxes, kept \(outputs["scores"]!.count)") }
        for name in result.outputNames {
            let t = outputs[name]!
            let f = t.floats
            let lo = f.min() ?? 0, hi = f.max() ?? 0, mean = f.isEmpty ? 0 : f.reduce(0, +) / Float(f.count)
            print("\(name): \(t.dtype.shortName)\(t.shape) min \(lo) max \(hi) mean \(mean)")
        }
        if detections > 0 { printDetections(outputs, first: detections) }
        let runs = times.map { String(format: "%.3f", $0) }.joined(separator: " ")
        print("time \(String(format: "%.3f", seconds)) s (median of \(repeats): \(runs)), peak intermediate memory \(result.peakBytes) bytes")
        let cpu = cpuTimes.sorted()[cpuTimes.count / 2]
        print("cpu time \(String(format: "%.3f", cpu)) s per run (median of \(repeats); all threads, time spent waiting for a core excluded)")
        if profile {
            printProfile(scopeOpSeconds, repeats: repeats, total: times.reduce(0, +))
        }
        if let save {
            guard mkdir(save, 0o755) == 0 || errno == EEXIST else {
                throw CLIError("--save \(save): cannot create the directory: \(String(cString: strerror(errno)))")
            }
            for (name, t) in feeds.sorted(by: { $0.key < $1.key }) { try writeNPY(t, to: "\(save)/input.\(fileSafe(name)).npy") }
            for name in result.outputNames { try writeNPY(outputs[name]!, to: "\(save)/output.\(fileSafe(name)).npy") }
            print("saved inputs and outputs to \(save)")
        }
    }
}

/// The first `count` detections of each image (box, score, label), under a heading per image
/// when there are several.
func printDetections(_ outputs: [String: Tensor], first count: Int) {
    guard let boxes = outputs["boxes"], let scores = outputs["scores"], let labels = outputs["labels"],
          boxes.shape.count == 3, scores.count * 4 == boxes.count, labels.count == scores.count else { return }
    let (images, k) = (boxes.shape[0], boxes.shape[1])
    let b = boxes.floats, sc = scores.floats, lb = labels.int64s
    for image in 0..<images {
        if images > 1 { print("image \(image):") }
        for i in 0..<min(count, k) {
            let j = image * k + i
            let box = b[(4 * j)..<(4 * j + 4)].map { String(format: "%.1f", $0) }.joined(separator: ", ")
            print(String(format: "  #%-3d label %3lld  score %.4f  ", i, lb[j], sc[j]) + "box [\(box)]")
        }
    }
}

/// Traces, folds and converts `--model` to `precision` at `--batch`, or imports the ONNX file
/// when one is given, its
/// symbolic dimensions (a dynamic-batch export's `batch`) bound from the shapes of the
/// `--input` files (`io`), else from `--batch`; its phases shown by `progress`.
func loadGraph(model: ModelOptions, onnx: String?, io: GraphInputOptions? = nil, batch: Int? = nil,
               progress: PhaseProgress = PhaseProgress(), precision: PrecisionOptions? = nil) throws -> Graph {
    defer { progress.end() }
    if let onnx {
        progress.begin("reading \(onnx)")
        do {
            let shapes = try io?.inputs.fileTensors().mapValues(\.shape) ?? [:]
            return try importBindingDimensions(path: onnx, shapes: shapes, batch: batch)
        } catch { throw CLIError(error) }
    }
    return try model.load(TraceSettings(stages: .none, batch: batch ?? 1, precision: precision?.precision ?? .fp32,
                                        policy: try precision?.policy ?? .standard, onPhase: progress.reporter)).graph
}

/// `--save DIR` (or `flag`) must name a directory (existing, or to be made in an existing one).
func checkSaveDirectory(_ path: String, flag: String = "--save") throws {
    var st = stat()
    if stat(path, &st) == 0 {
        guard (st.st_mode & S_IFMT) == S_IFDIR else { throw flagError("\(flag) \(path): is a file; give a directory") }
        return
    }
    let parent = path.contains("/") ? String(path[..<path.lastIndex(of: "/")!]) : "."
    guard stat(parent.isEmpty ? "/" : parent, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR else {
        throw flagError("\(flag) \(path): the directory '\(parent)' does not exist")
    }
}

/// CPU seconds this process has used, all threads (CLOCK_PROCESS_CPUTIME_ID).
func processCPUSeconds() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
}

func fileSafe(_ name: String) -> String { String(name.map { $0 == "/" || $0 == ":" ? "_" : $0 }) }

func writeNPY(_ t: Tensor, to path: String) throws { try writeAtomically(Data(t.npyBytes()), to: path) }
