import VitIR

extension TorchCheckpoint {
    /// Wrapper keys whose dict value is the state dict, in the order they are tried:
    /// detectron2/detrex training checkpoints (`model`, beside `optimizer`, `scheduler`,
    /// `iteration`), Lightning-style `state_dict`, DINOv2 training checkpoints (`teacher`).
    static let wrapperKeys: [(key: String, layout: String)] = [
        ("model", "\"model\" of a detectron2/detrex training checkpoint"),
        ("state_dict", "\"state_dict\" of a checkpoint"),
        ("teacher", "\"teacher\" of a DINOv2 training checkpoint"),
    ]

    /// The state dict inside `top`: under `weightsKey` when given, else under the first wrapper
    /// key whose value is a dict, else `top` itself when it holds tensors.
    static func detectStateDict(_ top: PickleValue, weightsKey: String?, path: String) throws(CheckpointReadError) -> (PickleDict, String) {
        guard case .dict(let d) = top else {
            throw CheckpointReadError(path: path, "the checkpoint holds \(top.summary), not a dict of tensors; save a state dict with torch.save(model.state_dict(), path)")
        }
        let keys = d.stringKeys
        let listed = keys.prefix(20).map { "\"\($0)\"" }.joined(separator: ", ") + (keys.count > 20 ? ", …" : "")
        if let weightsKey {
            guard let value = d[weightsKey] else {
                throw CheckpointReadError(path: path, "--weights-key \"\(weightsKey)\" is not a top-level key (keys: \(listed))")
            }
            guard case .dict(let inner) = value else {
                throw CheckpointReadError(path: path, "--weights-key \"\(weightsKey)\" holds \(value.summary), not a state dict")
            }
            return (inner, "\"\(weightsKey)\" (--weights-key)")
        }
        for (key, layout) in wrapperKeys {
            if case .dict(let inner)? = d[key] { return (inner, layout) }
        }
        if d.values.contains(where: { if case .tensor = $0 { true } else { false } }) { return (d, "plain state dict") }
        throw CheckpointReadError(path: path, "no state dict found (top-level keys: \(listed)); name the key holding it with --weights-key")
    }

    /// Row-major strides of `shape`, in elements (nil on overflow).
    static func contiguousStrides(_ shape: [Int]) -> [Int]? {
        var strides = [Int](repeating: 1, count: shape.count)
        var running = 1
        for i in shape.indices.reversed() {
            strides[i] = running
            guard let next = Checked.multiply(running, max(shape[i], 1)) else { return nil }
            running = next
        }
        return strides
    }

    func materialise(_ ref: TorchTensorRef, name: String) throws(CheckpointReadError) -> Tensor {
        func fail(_ message: String) -> CheckpointReadError { CheckpointReadError(path: path, "\(name): \(message)") }
        let kind = ref.storage.kind, size = kind.elementSize
        let entryName = folder + "data/" + ref.storage.key
        guard let entry = archive.byName[entryName] else { throw fail("its storage \(entryName) is not in the archive") }
        guard ref.storage.count >= 0, let storageBytes = Checked.multiply(ref.storage.count, size), storageBytes <= entry.size else {
            throw fail("storage \(entryName) declares \(ref.storage.count) \(kind.rawValue) elements but holds \(entry.size) bytes")
        }
        guard ref.shape.allSatisfy({ $0 >= 0 }), ref.strides.allSatisfy({ $0 >= 0 }), ref.offset >= 0,
              let count = Checked.product(ref.shape) else {
            throw fail("size \(ref.shape), stride \(ref.strides) or storage offset \(ref.offset) is negative or too large")
        }
        if count > 0 {
            // The last element read: offset + Σ (size_i − 1)·stride_i, inside the storage.
            var last: Int? = ref.offset
            for (d, s) in zip(ref.shape, ref.strides) { last = last.flatMap { l in Checked.multiply(d - 1, s).flatMap { Checked.add(l, $0) } } }
            guard let last, last < ref.storage.count else {
                throw fail("size \(ref.shape) with stride \(ref.strides) at storage offset \(ref.offset) reaches past the \(ref.storage.count) elements of \(entryName)")
            }
        }
        let dtype = kind.dtype
        guard count > 0 else { return Tensor.zeros(dtype, ref.shape) }
        // ref.offset ≤ last < storage count, so the start lies inside the entry.
        let start = entry.dataOffset + ref.offset * size
        let contiguous = Self.contiguousStrides(ref.shape).map { expected in
            zip(ref.shape, zip(ref.strides, expected)).allSatisfy { $0 <= 1 || $1.0 == $1.1 }
        } ?? false
        if contiguous, !bigEndian, kind != .float64, start % size == 0 {
            do { return try Tensor(dtype: dtype, shape: ref.shape, storage: archive.storage, offset: start) } catch { throw fail(error.reason) }
        }
        do { try budget.check(Checked.byteCount(dims: ref.shape, dtype), name) } catch { throw CheckpointReadError(path: path, error.description) }
        return copy(ref, from: entry.dataOffset, count: count)
    }

    /// Gathers the strided elements of `ref` (already bounds-checked) into a new tensor.
    private func copy(_ ref: TorchTensorRef, from base: Int, count: Int) -> Tensor {
        let kind = ref.storage.kind, size = kind.elementSize, swap = bigEndian
        let source = archive.storage.base + base
        let rank = ref.shape.count
        return Tensor(dtype: kind.dtype, shape: ref.shape) { raw in
            guard count > 0, let out = raw.baseAddress else { return }
            var index = [Int](repeating: 0, count: rank)
            var element = ref.offset
            var bytes = [UInt8](repeating: 0, count: 8)
            for i in 0..<count {
                for b in 0..<size { bytes[swap ? size - 1 - b : b] = source.load(fromByteOffset: element * size + b, as: UInt8.self) }
                if kind == .float64 {
                    var bits: UInt64 = 0
                    for b in 0..<8 { bits |= UInt64(bytes[b]) << (8 * UInt64(b)) }
                    out.storeBytes(of: Float(Double(bitPattern: bits)), toByteOffset: i * 4, as: Float.self)
                } else {
                    for b in 0..<size { out.storeBytes(of: bytes[b], toByteOffset: i * size + b, as: UInt8.self) }
                }
                // Advance the multi-index, last axis fastest.
                var axis = rank - 1
                while axis >= 0 {
                    // Wrapping arithmetic: a stride of a size-1 axis may be huge, but every index
                    // actually read was bounds-checked in `materialise`.
                    index[axis] += 1
                    element &+= ref.strides[axis]
                    if index[axis] < ref.shape[axis] { break }
                    element &-= ref.strides[axis] &* ref.shape[axis]
                    index[axis] = 0
                    axis -= 1
                }
            }
        }
    }
}

/// Opens a weights file by its content, not its extension: a `torch.save` zip (`.pth`/`.pt`)
/// as a `TorchCheckpoint` (state dict under `weightsKey`, or detected), a safetensors file as a
/// `SafetensorsFile` (`weightsKey` must be nil). A legacy (pre-1.6) torch file is refused with
/// how to re-save it. Throws `CheckpointReadError` or `SafetensorsError`, each one clear
/// message naming the file.
public func openCheckpoint(path: String, weightsKey: String? = nil, budget: MemoryBudget = .physicalDefault) throws -> any CheckpointFile {
    let storage: TensorStorage
    do { storage = try TensorStorage.map(path: path) } catch { throw CheckpointReadError(path: path, error.reason) }
    let r = ByteReader(storage: storage, path: path)
    switch checkpointFormat(r) {
    case .zip:
        return try TorchCheckpoint(storage: storage, path: path, weightsKey: weightsKey, budget: budget)
    case .safetensors:
        if let weightsKey {
            throw CheckpointReadError(path: path, "--weights-key \"\(weightsKey)\" applies to PyTorch checkpoints; this is a safetensors file (use --weights-prefix)")
        }
        return try SafetensorsFile(storage: storage, path: path)
    case .legacyTorch:
        throw CheckpointReadError(path: path, "a legacy (pre-1.6, non-zip) torch.save file, which this reader refuses; re-save it with PyTorch ≥ 1.6: torch.save(torch.load(old, weights_only=True), new)")
    case .unknown:
        throw CheckpointReadError(path: path, "neither a PyTorch checkpoint (zip written by torch.save) nor a safetensors file")
    }
}

enum CheckpointFormat { case zip, safetensors, legacyTorch, unknown }

/// The format by the file's first bytes: "PK\3\4" (or an empty zip's "PK\5\6"); a pickle's
/// PROTO opcode (legacy torch.save starts with a pickled magic number); an old tar-based
/// torch.save ("ustar" at 257); a safetensors header length followed by "{".
func checkpointFormat(_ r: ByteReader) -> CheckpointFormat {
    if r.u32(0) == 0x0403_4b50 || r.u32(0) == 0x0605_4b50 { return .zip }
    if r.u8(0) == 0x80 && r.has(0, 2) && (2...5).contains(r.u8(1)) { return .legacyTorch }
    if r.has(257, 5) && r.string(257, 5) == "ustar" { return .legacyTorch }
    if r.has(0, 9) && r.u8(8) == UInt8(ascii: "{") { return .safetensors }
    return .unknown
}

/// Strict parameters for `config` from the weights file at `path`, safetensors or torch.save
/// (by content, `openCheckpoint`), with the state dict under `weightsKey` for the latter. A
/// detector without `prefix` binds detrex's state dict (either copy of the shared heads, see
/// `detectorCheckpointParameters`); anything else binds the keys under `prefix`. Throws
/// `CheckpointReadError` or `SafetensorsError` for a file that cannot be read, and
/// `CheckpointBindingError` for detrex head copies that disagree; whether the model and the
/// checkpoint agree is checked when tracing (`CheckpointBindingError`).
public func checkpointParameters(for config: ModelConfig, path: String, weightsKey: String? = nil, prefix: String? = nil,
                                 budget: MemoryBudget = .physicalDefault) throws -> CheckpointParameters {
    let file = try openCheckpoint(path: path, weightsKey: weightsKey, budget: budget)
    if config.architecture == .detector && prefix == nil { return try detectorCheckpointParameters(file: file) }
    return try CheckpointParameters(file: file, prefix: prefix ?? "")
}
