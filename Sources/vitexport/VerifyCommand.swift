import ArgumentParser
import Foundation
import VitIR
import VitInterp
import VitModels
import VitONNX
import VitPasses

struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check that an exported ONNX file computes what the traced model computes.",
        discussion: """
            Traces and folds --model, imports the ONNX file (or exports one in memory at --opset \
            when --onnx is not given), runs both in the reference interpreter on the same inputs \
            and compares every output. Floating outputs must agree within --tolerance relative to \
            the output's largest magnitude (decompositions chosen for low opsets reorder float \
            arithmetic); integer and bool outputs must be equal.

            Detectors exported in memory are compared stage by stage: the proposal top-k and the \
            detections are matched by identity, and a difference counts only when no near-tie \
            (a score gap within --score-tolerance) explains it. When near-tied proposals are \
            selected in a different order, the decoder sees different queries and the later \
            stages are reported but not judged. Exits 1 on a mismatch.
            """)

    @OptionGroup var model: ModelOptions
    @OptionGroup var io: GraphInputOptions

    @Option(help: "The ONNX file to verify (default: export in memory).")
    var onnx: String?

    @Option(help: "Opset of the in-memory export when --onnx is not given.")
    var opset: Int = 17

    @Option(help: "Largest accepted |a − b| / max|a| per floating output.")
    var tolerance: Float = 1e-5

    @Option(help: "Detectors: score differences up to this are near-ties (logits and sigmoid scores).")
    var scoreTolerance: Float = 1e-4

    func run() throws {
        let config = try model.loadConfig()
        let staged = config.architecture == .detector && onnx == nil
        var (_, graph) = try model.trace(detectorDebugOutputs: staged)
        _ = try optimize(&graph)
        let exported: Graph
        do {
            if let onnx {
                exported = try importModel(path: onnx)
            } else {
                exported = try importModel(makeModel(graph, options: ExportOptions(opset: opset, runChecker: false)), baseDirectory: nil)
            }
        } catch {
            throw CLIError("cannot read the exported model: \(error)")
        }
        let feeds = try io.feeds(for: graph)
        let reference = try Interpreter(graph).run(feeds: feeds)
        let candidate = try Interpreter(exported).run(feeds: feeds)
        var failures = 0
        var judged = Set(reference.outputNames)
        if staged, let detector = config.detector {
            let (f, skip) = compareDetectorStages(reference, candidate, numClasses: detector.numClasses,
                                                  imageSize: config.imageSize.max() ?? 1)
            failures += f
            judged.subtract(skip)
        }
        for name in reference.outputNames {
            let a = reference.outputs[name]!
            guard let b = candidate.outputs[name] else {
                print("\(name): missing from the exported model")
                failures += 1
                continue
            }
            let diff = maxAbsDiff(a, b)
            let scale = max(a.floats.map(abs).max() ?? 0, 1e-30)
            let ok = a.dtype.isFloatingPoint ? diff / scale <= tolerance : diff == 0
            let verdict = !judged.contains(name) ? "not judged" : ok ? "match" : "MISMATCH"
            print("\(name): \(verdict) max |Δ| \(diff) (relative \(diff / scale))")
            if !ok && judged.contains(name) { failures += 1 }
        }
        if failures > 0 { throw CLIError("\(failures) output(s) differ") }
        print("verified: \(reference.outputNames.count) outputs match" + (judged.count < reference.outputNames.count ? " (\(reference.outputNames.count - judged.count) compared through near-tie-aware selection)" : ""))
    }

    /// Compares a detector's query selection and detections by identity. Returns the failure
    /// count and the outputs whose plain comparison these checks replace.
    func compareDetectorStages(_ reference: Interpreter.Result, _ candidate: Interpreter.Result,
                               numClasses: Int, imageSize: Int) -> (Int, Set<String>) {
        var failures = 0
        var replaced: Set<String> = []
        guard let refTopK = reference[DetectorDebugOutput.topkIndices], let candTopK = candidate[DetectorDebugOutput.topkIndices],
              let refScores = reference[DetectorDebugOutput.proposalScores] else { return (0, []) }
        let selection = compareTopK(candidate: candTopK.int64s.map { Int($0) }, reference: refTopK.int64s.map { Int($0) },
                                    referenceScores: refScores.floats, tolerance: scoreTolerance)
        print("proposal selection: \(selection)")
        if !selection.passed { failures += 1 }
        let downstream = reference.outputNames.filter {
            $0.hasPrefix("debug.decoder.") || $0.hasPrefix("debug.reference") || $0 == DetectorDebugOutput.logits
                || $0 == DetectorDebugOutput.boxes || $0 == DetectorDebugOutput.detectionIndex
                || ["boxes", "scores", "labels"].contains($0)
        }
        replaced.insert(DetectorDebugOutput.topkIndices)
        if !selection.identical {
            // Items that changed place must be near-tied in the reference's own scores; then the
            // decoder legitimately sees different queries and its stages cannot be compared.
            let scores = refScores.floats
            let cand = candTopK.int64s.map { Int($0) }, ref = refTopK.int64s.map { Int($0) }
            let swapped = zip(cand, ref).filter { $0 != $1 }
            let unexplainedSwaps = swapped.filter { c, r in
                guard c >= 0, c < scores.count, r >= 0, r < scores.count else { return true }
                return !(abs(scores[c] - scores[r]) <= scoreTolerance)
            }
            if unexplainedSwaps.isEmpty {
                print("proposals differ only within near-ties (\(swapped.count) positions); decoder stages are not judged")
            } else {
                print("proposal order differs where no near-tie explains it: \(unexplainedSwaps.prefix(5).map { "\($0.0) vs \($0.1)" })")
                failures += 1
            }
            return (failures, replaced.union(downstream))
        }
        guard let rb = reference["boxes"], let rs = reference["scores"], let rl = reference["labels"],
              let ri = reference[DetectorDebugOutput.detectionIndex], let rLogits = reference[DetectorDebugOutput.logits],
              let cb = candidate["boxes"], let cs = candidate["scores"], let cl = candidate["labels"],
              let ci = candidate[DetectorDebugOutput.detectionIndex] else { return (failures, replaced) }
        let allScores = rLogits.floats.map { 1 / (1 + expf(-$0)) }
        let detections = compareDetections(candidate: DetectionSet(boxes: cb, scores: cs, labels: cl, indices: ci),
                                           reference: DetectionSet(boxes: rb, scores: rs, labels: rl, indices: ri),
                                           referenceScores: allScores, numClasses: numClasses,
                                           scoreTolerance: scoreTolerance, boxTolerance: 1e-3 * Float(imageSize))
        print("detections: \(detections)")
        if !detections.passed { failures += 1 }
        return (failures, replaced.union(["boxes", "scores", "labels", DetectorDebugOutput.detectionIndex]))
    }
}
