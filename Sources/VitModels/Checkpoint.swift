import VitIR

/// A parameter source that checks, once tracing is done, that the model and the checkpoint
/// agree. `traceModel` calls `verifyBinding()` after the model is traced.
public protocol StrictParameterSource: ParameterSource {
    /// Declares checkpoint keys the model deliberately does not use (a pruned final norm,
    /// blocks past the requested output), as full model keys or key prefixes.
    func permitUnused(keys: [String], prefixes: [String])
    /// Throws `CheckpointBindingError` listing every missing, unexpected and misshaped key.
    func verifyBinding() throws
}

/// A checkpoint that does not fit the model, with every problem listed.
public struct CheckpointBindingError: ProblemListing, Equatable {
    public struct Misshaped: Sendable, Equatable {
        public var key: String
        public var expected: [Int]
        public var found: [Int]
        public var foundDType: DType
    }
    public var source: String
    /// Keys the model asked for that the checkpoint lacks (model keys, prefix applied).
    public var missing: [String]
    /// Checkpoint keys (under the prefix) the model never asked for.
    public var unexpected: [String]
    /// Keys whose shape or dtype is not what the model needs.
    public var misshaped: [Misshaped]
    /// A hint about the likely cause (a prefix no key starts with).
    public var note: String? = nil
    /// Requested keys the checkpoint holds as something other than a readable tensor, with
    /// why (an opaque pickle global, an unsupported dtype).
    public var unreadable: [String] = []

    public func description(limit: Int?) -> String {
        let unreadableCount = unreadable.isEmpty ? "" : ", \(unreadable.count) unreadable"
        var head = ["\(source): checkpoint does not match the model (\(missing.count) missing, \(unexpected.count) unexpected, \(misshaped.count) misshaped\(unreadableCount))"]
        if let note { head.append("  note: \(note)") }
        var lines: [String] = []
        for k in missing { lines.append("  missing:    \(k)") }
        for k in unexpected { lines.append("  unexpected: \(k)") }
        for m in misshaped { lines.append("  misshaped:  \(m.line)") }
        for u in unreadable { lines.append("  unreadable: \(u)") }
        return (head + ProblemList.abbreviated(lines, limit: limit)).joined(separator: "\n")
    }
}

/// Parameters bound from a checkpoint by key, strictly: every parameter the model requests
/// must be present with exactly the requested shape, and every checkpoint key under `prefix`
/// must be requested (or declared unused by the model). Problems do not stop tracing — the
/// request is answered with zeros — so `verifyBinding()` can report all of them at once.
///
/// Key mapping: model key `k` is looked up as `prefix + k`; checkpoint keys outside `prefix`
/// are ignored (they belong to other parts of a larger model). Float16 and bfloat16 weights
/// are widened to float32. A checkpoint in the original DINOv2 release layout (it has
/// `mask_token`, as timm's `checkpoint_filter_fn` detects it) is converted to timm's layout
/// first (see `convertOriginalDINOv2`).
public final class CheckpointParameters: StrictParameterSource {
    public let source: String
    public let prefix: String
    /// Checkpoint tensors under the prefix, by model key (prefix removed), after conversion.
    public let tensors: [String: Tensor]
    /// Number of checkpoint keys outside the prefix, which binding ignores.
    public let ignoredOutsidePrefix: Int
    /// Whether the original DINOv2 layout was detected and converted.
    public let convertedFromOriginalDINOv2: Bool

    private var requests = ParameterRequests()

    /// Binds against `tensors` (checkpoint key → tensor, any float dtype).
    public convenience init(tensors checkpoint: [String: Tensor], prefix: String = "", source: String = "checkpoint") {
        self.init(tensors: checkpoint, prefix: prefix, source: source, outsideNotLoaded: 0)
    }

    /// Binds against a checkpoint file (safetensors or a torch.save state dict, see
    /// `openCheckpoint`); only tensors under `prefix` are opened (views of the mapping where
    /// possible, converted to float32 when bound).
    public convenience init(file: some CheckpointFile, prefix: String = "") throws {
        var under: [String: Tensor] = [:]
        for name in file.names where name.hasPrefix(prefix) { under[name] = try file.tensor(named: name) }
        self.init(tensors: under, prefix: prefix, source: file.path, outsideNotLoaded: file.names.count - under.count)
    }

    private init(tensors checkpoint: [String: Tensor], prefix: String, source: String, outsideNotLoaded: Int) {
        self.source = source
        self.prefix = prefix
        var under: [String: Tensor] = [:]
        var outside = outsideNotLoaded
        for (k, t) in checkpoint {
            if k.hasPrefix(prefix) { under[String(k.dropFirst(prefix.count))] = t } else { outside += 1 }
        }
        ignoredOutsidePrefix = outside
        if under["mask_token"] != nil {
            under = convertOriginalDINOv2(under)
            convertedFromOriginalDINOv2 = true
        } else {
            convertedFromOriginalDINOv2 = false
        }
        tensors = under
    }

    public func tensor(for key: String, shape: [Int], initializer: ParameterInit) throws -> Tensor {
        requests.record(key, shape)
        guard let t = tensors[key], t.shape == shape, t.dtype.isFloatingPoint else { return Tensor.zeros(.float32, shape) }
        return try float32(t, name: prefix + key, path: source)
    }

    public func permitUnused(keys: [String], prefixes: [String]) { requests.permitUnused(keys: keys, prefixes: prefixes) }

    public func verifyBinding() throws {
        let available = tensors.mapValues { CheckpointEntryShape(shape: $0.shape, dtype: $0.dtype) }
        if let error = requests.bindingProblems(available: available, prefix: prefix, ignoredOutsidePrefix: ignoredOutsidePrefix, source: source) {
            throw error
        }
    }
}

/// A checkpoint entry as binding sees it: its shape and dtype, or why it cannot be read.
public struct CheckpointEntryShape: Sendable, Equatable {
    public var shape: [Int]
    /// nil when the entry is not a readable tensor (`problem` says why).
    public var dtype: DType?
    public var problem: String?
    public init(shape: [Int], dtype: DType?, problem: String? = nil) { self.shape = shape; self.dtype = dtype; self.problem = problem }
}

/// What a model asked a strict parameter source for while it was traced: parameter keys with
/// their shapes (in request order) and the checkpoint keys it declared unused. The one
/// implementation of strict binding's rules, used by `CheckpointParameters` after a real trace
/// and by `dryRunBinding` against a checkpoint's shapes alone.
public struct ParameterRequests: Sendable {
    /// Requested keys (model keys, no prefix) and shapes, in request order.
    public private(set) var shapes: [(key: String, shape: [Int])] = []
    private var requested: Set<String> = []
    public private(set) var unusedKeys: Set<String> = []
    public private(set) var unusedPrefixes: [String] = []

    public init() {}

    mutating func record(_ key: String, _ shape: [Int]) {
        if requested.insert(key).inserted { shapes.append((key, shape)) }
    }

    mutating func permitUnused(keys: [String], prefixes: [String]) {
        unusedKeys.formUnion(keys)
        unusedPrefixes.append(contentsOf: prefixes)
    }

    /// Every way `available` (model key → entry, prefix already removed) fails the requests:
    /// keys missing, entries of another shape or a non-float dtype, unreadable entries, and
    /// entries nobody requested nor declared unused; nil when they bind strictly.
    public func bindingProblems(available: [String: CheckpointEntryShape], prefix: String, ignoredOutsidePrefix: Int,
                                source: String) -> CheckpointBindingError? {
        var missing: [String] = [], misshaped: [CheckpointBindingError.Misshaped] = [], unreadable: [String] = []
        for (key, shape) in shapes {
            guard let entry = available[key] else { missing.append(prefix + key); continue }
            guard let dtype = entry.dtype else { unreadable.append("\(prefix + key): \(entry.problem ?? "not a tensor")"); continue }
            if entry.shape != shape || !dtype.isFloatingPoint {
                misshaped.append(.init(key: prefix + key, expected: shape, found: entry.shape, foundDType: dtype))
            }
        }
        let unexpected = available.keys.filter { k in
            !requested.contains(k) && !unusedKeys.contains(k) && !unusedPrefixes.contains(where: { k.hasPrefix($0) })
        }.sorted().map { prefix + $0 }
        guard missing.isEmpty, unexpected.isEmpty, misshaped.isEmpty, unreadable.isEmpty else {
            let note = available.isEmpty && ignoredOutsidePrefix > 0
                ? "no checkpoint key starts with the prefix \"\(prefix)\" (\(ignoredOutsidePrefix) keys outside it were ignored)" : nil
            return CheckpointBindingError(source: source, missing: missing.sorted(), unexpected: unexpected,
                                          misshaped: misshaped.sorted { $0.key < $1.key }, note: note, unreadable: unreadable.sorted())
        }
        return nil
    }
}

extension ModelContext {
    /// Tells a strict parameter source that these checkpoint keys (relative to the current
    /// scope) are deliberately unused; a no-op for seeded parameters.
    public func permitUnusedParameters(_ keys: [String], prefixes: [String] = []) {
        guard let strict = parameters as? StrictParameterSource else { return }
        strict.permitUnused(keys: keys.map(tracer.qualified), prefixes: prefixes.map(tracer.qualified))
    }
}
