import ModelZoo
import VitIR

// `vitexport inspect`: what a checkpoint holds and which embedded configurations it binds to,
// without materialising a single tensor. Binding is dry-run: each configuration is traced once
// with a `ParameterRecorder` (every parameter a view of one shared zero buffer, as large as the
// configuration's largest parameter), which yields the keys and shapes the model requests and
// the keys it declares unused; those are compared with the checkpoint's entry shapes by the
// same rules as a real binding (`ParameterRequests.bindingProblems`).

extension SafetensorsFile {
    public func entryShape(named name: String) -> CheckpointEntryShape? {
        guard let e = entries[name] else { return nil }
        guard let dtype = Self.dtypes[e.dtype] else {
            return CheckpointEntryShape(shape: e.shape, dtype: nil, problem: "dtype \(e.dtype) is not supported")
        }
        return CheckpointEntryShape(shape: e.shape, dtype: dtype)
    }
}

extension TorchCheckpoint {
    public func entryShape(named name: String) -> CheckpointEntryShape? {
        if let ref = refs[name] { return CheckpointEntryShape(shape: ref.shape, dtype: ref.storage.kind.dtype) }
        return unreadable[name].map { CheckpointEntryShape(shape: [], dtype: nil, problem: $0) }
    }
}

/// A value of a PyTorch checkpoint the reader left opaque: where it sits (dotted keys, `[i]`
/// for list items and non-string keys) and why ("needs global os.system, which this reader
/// does not execute").
public struct OpaqueObject: Sendable, Equatable, Encodable {
    public var path: String
    public var reason: String

    /// At most this many are listed; containers nested deeper than `depthLimit` are not searched.
    public static let listLimit = 1000
    public static let depthLimit = 32

    /// The opaque values under `top`, depth first in insertion order. Every container is
    /// visited once (pickles can share and nest containers in cycles).
    static func find(in top: PickleValue) -> [OpaqueObject] {
        var found: [OpaqueObject] = []
        var seen: Set<ObjectIdentifier> = []
        var stack: [(PickleValue, String, Int)] = [(top, "", 0)]
        func child(_ path: String, _ key: PickleValue, index: Int) -> String {
            if case .string(let s) = key { return path.isEmpty ? s : path + "." + s }
            if case .int(let i) = key { return path + "[\(i)]" }
            return path + "[#\(index)]"
        }
        while let (value, path, depth) = stack.popLast(), found.count < listLimit {
            var children: [(PickleValue, String)] = []
            switch value {
            case .opaque(let why): found.append(OpaqueObject(path: path.isEmpty ? "<top>" : path, reason: why))
            case .dict(let d) where seen.insert(ObjectIdentifier(d)).inserted:
                children = d.keys.indices.map { (d.values[$0], child(path, d.keys[$0], index: $0)) }
            case .list(let l) where seen.insert(ObjectIdentifier(l)).inserted:
                children = l.items.enumerated().map { ($1, path + "[\($0)]") }
            case .tuple(let t) where seen.insert(ObjectIdentifier(t)).inserted:
                children = t.items.enumerated().map { ($1, path + "[\($0)]") }
            default: break
            }
            guard depth < depthLimit else { continue }
            stack.append(contentsOf: children.reversed().map { ($0.0, $0.1, depth + 1) })
        }
        return found
    }
}

/// A parameter source that records what a model requests and answers with zeros: views of one
/// shared buffer as large as the largest parameter so far (checked against `budget`), so a
/// trace costs the graph and that one buffer, not the model's weights.
final class ParameterRecorder: StrictParameterSource {
    private(set) var requests = ParameterRequests()
    private var zeros = Tensor.zeros(.uint8, [0]).storage
    let budget: MemoryBudget

    init(budget: MemoryBudget) { self.budget = budget }

    func tensor(for key: String, shape: [Int], initializer: ParameterInit) throws -> Tensor {
        requests.record(key, shape)
        let bytes = Checked.byteCount(dims: shape, .float32)
        try budget.check(bytes, "parameter '\(key)' \(shape)")
        if let bytes, bytes > zeros.byteCount { zeros = Tensor.zeros(.uint8, [bytes]).storage }
        return try Tensor(dtype: .float32, shape: shape, storage: zeros, offset: 0)
    }

    func permitUnused(keys: [String], prefixes: [String]) { requests.permitUnused(keys: keys, prefixes: prefixes) }
    func verifyBinding() throws {}
}

/// The parameter keys and shapes `config` requests, and the checkpoint keys it declares
/// unused, from one trace with a `ParameterRecorder`: the cost is the graph plus one zero
/// buffer the size of the largest parameter (`budget` bounds it); no weights are allocated.
public func parameterRequests(for config: ModelConfig, budget: MemoryBudget = .physicalDefault) throws -> ParameterRequests {
    let recorder = ParameterRecorder(budget: budget)
    // Shapes only: the trace's own budget check would count the parameters it never holds.
    _ = try traceModel(config, parameters: recorder, budget: MemoryBudget(bytes: Int.max))
    return recorder.requests
}

/// Whether `file` would bind strictly to a model with `requests` (of configuration `config`),
/// as `checkpointParameters(for:path:prefix:)` binds it: a detector without a prefix reads
/// detrex's state dict (head copies compared by shape only: values are not read), anything
/// else the keys under `prefix` (the original DINOv2 layout converted). Nil when it binds.
public func dryRunBinding(_ requests: ParameterRequests, file: some CheckpointFile, config: ModelConfig,
                          prefix: String?) -> CheckpointBindingError? {
    var all: [String: CheckpointEntryShape] = [:]
    for name in file.names { all[name] = file.entryShape(named: name) }
    if config.architecture == .detector && prefix == nil {
        let (entries, conflicts) = normalizedDetectorKeys(all) { $0.shape == $1.shape && $0.dtype == $1.dtype }
        if !conflicts.isEmpty { return CheckpointBindingError(source: file.path, missing: [], unexpected: conflicts, misshaped: []) }
        return requests.bindingProblems(available: entries, prefix: "", ignoredOutsidePrefix: 0, source: file.path)
    }
    let prefix = prefix ?? ""
    var under: [String: CheckpointEntryShape] = [:]
    for (name, entry) in all where name.hasPrefix(prefix) { under[String(name.dropFirst(prefix.count))] = entry }
    if under["mask_token"] != nil {
        under = convertOriginalDINOv2Layout(under, shape: \.shape, isFloat: { $0.dtype?.isFloatingPoint ?? false }) { cls, pos in
            (CheckpointEntryShape(shape: cls.shape, dtype: .float32),
             CheckpointEntryShape(shape: [1, pos.shape[1] - 1, pos.shape[2]], dtype: .float32))
        }
    }
    return requests.bindingProblems(available: under, prefix: prefix, ignoredOutsidePrefix: all.count - under.count,
                                    source: file.path)
}

/// Prefixes under which `file` may hold a model whose first requested keys are `requests`:
/// "" and, for each checkpoint key ending in ".<first key>", what comes before it (timm
/// backbones nested in detectron2 as `backbone.net.…`). At most eight, shortest first.
func candidatePrefixes(_ requests: ParameterRequests, names: [String]) -> [String] {
    var prefixes: Set<String> = [""]
    for (key, _) in requests.shapes.prefix(2) {
        for name in names where name.hasSuffix("." + key) { prefixes.insert(String(name.dropLast(key.count))) }
    }
    return Array(prefixes.sorted { ($0.count, $0) < ($1.count, $1) }.prefix(8))
}
