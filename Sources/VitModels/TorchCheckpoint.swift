import VitIR

// PyTorch checkpoints as `torch.save` writes them since 1.6 (torch/serialization.py `_save`):
// a zip of stored entries under one folder `<archive>/`:
//   data.pkl     the pickled object; each tensor is `torch._utils._rebuild_tensor_v2(storage,
//                storage_offset, size, stride, …)` whose storage is the persistent id
//                ('storage', torch.<Kind>Storage, key, location, numel)
//   data/<key>   the storage's bytes, numel elements of the kind
//   byteorder    "little" or "big" (absent in files from before 1.10: little)
// The pickle is read by the data-only `Unpickler`; tensors are views into the mapping when they
// are contiguous, aligned and little endian, and copies otherwise (strided views, big-endian
// files, which are byte-swapped, and float64, which is narrowed to float32).

/// The element kinds of torch storages this reader materialises.
public enum TorchStorageKind: String, Sendable, CaseIterable {
    case float32, float16, bfloat16, float64, int64, int32, uint8, bool

    /// The kind of the storage class `torch.<name>`.
    static let byClassName: [String: TorchStorageKind] = [
        "FloatStorage": .float32, "HalfStorage": .float16, "BFloat16Storage": .bfloat16, "DoubleStorage": .float64,
        "LongStorage": .int64, "IntStorage": .int32, "ByteStorage": .uint8, "BoolStorage": .bool,
    ]

    public var elementSize: Int {
        switch self {
        case .float64, .int64: 8
        case .float32, .int32: 4
        case .float16, .bfloat16: 2
        case .uint8, .bool: 1
        }
    }

    /// The dtype a tensor of this kind is materialised as (float64 narrows to float32).
    public var dtype: DType {
        switch self {
        case .float32, .float64: .float32
        case .float16: .float16
        case .bfloat16: .bfloat16
        case .int64: .int64
        case .int32: .int32
        case .uint8: .uint8
        case .bool: .bool
        }
    }
}

/// A checkpoint file whose tensors can be bound by name (`CheckpointParameters(file:prefix:)`).
public protocol CheckpointFile {
    var path: String { get }
    /// Tensor names, sorted.
    var names: [String] { get }
    /// The tensor `name` in its stored dtype (float16/bfloat16 are widened when bound).
    func tensor(named name: String) throws -> Tensor
    /// The shape and dtype of entry `name` without reading its data (nil: no such entry).
    func entryShape(named name: String) -> CheckpointEntryShape?
}

extension SafetensorsFile: CheckpointFile {}

/// The state dict of a `torch.save` checkpoint (`.pth`/`.pt`), found in one of the layouts
/// `detectStateDict` knows or under an explicit key.
public struct TorchCheckpoint: CheckpointFile, Sendable {
    public let path: String
    /// How the state dict was found, for messages ("plain state dict", "\"model\" of a
    /// detectron2/detrex training checkpoint", …).
    public let layout: String
    /// Top-level keys of the checkpoint when it is a dict with string keys.
    public let topLevelKeys: [String]
    public let bigEndian: Bool
    let archive: ZipArchive
    let folder: String
    let refs: [String: TorchTensorRef]
    /// State-dict keys whose value is not a readable tensor, with why.
    let unreadable: [String: String]
    /// Values anywhere in the checkpoint that the reader left opaque (globals outside the
    /// allow-list), with where they are; the first `OpaqueObject.listLimit`.
    public let opaqueObjects: [OpaqueObject]
    let budget: MemoryBudget

    /// Reads the checkpoint at `path`; `weightsKey` names the top-level key holding the state
    /// dict (nil: detected). Copies made when materialising are checked against `budget`.
    public init(path: String, weightsKey: String? = nil, budget: MemoryBudget = .physicalDefault) throws(CheckpointReadError) {
        let storage: TensorStorage
        do { storage = try TensorStorage.map(path: path) } catch { throw CheckpointReadError(path: path, error.reason) }
        try self.init(storage: storage, path: path, weightsKey: weightsKey, budget: budget)
    }

    init(storage: TensorStorage, path: String, weightsKey: String?, budget: MemoryBudget) throws(CheckpointReadError) {
        self.path = path
        self.budget = budget
        let archive = try ZipArchive(storage: storage, path: path)
        self.archive = archive
        let folder = try Self.archiveFolder(archive)
        self.folder = folder
        bigEndian = try Self.byteOrder(archive, folder: folder)
        guard let pickle = archive.byName[folder + "data.pkl"] else {
            throw CheckpointReadError(path: path, "no \(folder)data.pkl entry")
        }
        var unpickler = Unpickler(bytes: archive.bytes(of: pickle), persistentLoad: Self.storageReference)
        defer { unpickler.releaseContainers() }
        let top: PickleValue
        do { top = try unpickler.run() } catch {
            throw CheckpointReadError(path: path, "\(folder)data.pkl at byte \(error.offset): \(error.message)")
        }
        if case .dict(let d) = top { topLevelKeys = d.stringKeys } else { topLevelKeys = [] }
        opaqueObjects = OpaqueObject.find(in: top)
        let (stateDict, layout) = try Self.detectStateDict(top, weightsKey: weightsKey, path: path)
        self.layout = layout
        var refs: [String: TorchTensorRef] = [:]
        var unreadable: [String: String] = [:]
        for (key, value) in zip(stateDict.keys, stateDict.values) {
            guard case .string(let name) = key else {
                throw CheckpointReadError(path: path, "the state dict (\(layout)) has a key that is \(key.summary), not a string")
            }
            switch value {
            case .tensor(let ref): refs[name] = ref
            case .opaque(let why): unreadable[name] = why
            default: unreadable[name] = "is \(value.summary), not a tensor"
            }
        }
        self.refs = refs
        self.unreadable = unreadable
    }

    public var names: [String] { (Array(refs.keys) + Array(unreadable.keys)).sorted() }

    /// The persistent id `('storage', torch.<Kind>Storage, key, location, numel)` as a storage
    /// reference; anything else is opaque.
    static func storageReference(_ pid: PickleValue) -> PickleValue {
        guard case .tuple(let box) = pid, case let t = box.items, t.count == 5, case .string("storage") = t[0] else { return .opaque("has the persistent id \(pid.summary), not a storage") }
        guard case .global(let module, let name) = t[1], module == "torch" else { return .opaque("has a storage of \(t[1].summary)") }
        guard let kind = TorchStorageKind.byClassName[name] else { return .opaque("has a storage of type torch.\(name), which this reader does not support") }
        guard case .string(let key) = t[2], case .int(let count) = t[4] else { return .opaque("has a malformed storage id") }
        return .storage(TorchStorageRef(key: key, kind: kind, count: count))
    }

    /// The folder (`archive/`, or the file's stem in older torch) holding `data.pkl`.
    static func archiveFolder(_ archive: ZipArchive) throws(CheckpointReadError) -> String {
        let pickles = archive.entries.filter { $0.name.hasSuffix("/data.pkl") && $0.name.split(separator: "/").count == 2 }
        guard pickles.count == 1, let name = pickles.first?.name else {
            throw CheckpointReadError(path: archive.path, pickles.isEmpty
                ? "a zip file without <archive>/data.pkl: not a torch.save checkpoint"
                : "a zip file with \(pickles.count) */data.pkl entries; torch.save writes one")
        }
        let folder = String(name.dropLast("data.pkl".count))
        if archive.byName[folder + "constants.pkl"] != nil {
            throw CheckpointReadError(path: archive.path, "a TorchScript archive (torch.jit.save), not a state dict; save one with torch.save(model.state_dict(), path)")
        }
        return folder
    }

    /// Whether the storages are big endian (`<archive>/byteorder`; little when absent).
    static func byteOrder(_ archive: ZipArchive, folder: String) throws(CheckpointReadError) -> Bool {
        guard let entry = archive.byName[folder + "byteorder"] else { return false }
        switch String(decoding: archive.bytes(of: entry), as: UTF8.self) {
        case "little": return false
        case "big": return true
        case let other: throw CheckpointReadError(path: archive.path, "\(entry.name) is \"\(other.prefix(20))\", expected \"little\" or \"big\"")
        }
    }

    /// The tensor `name`: a view into the file when it is contiguous, aligned and little
    /// endian, else a checked copy (strided, byte-swapped from big endian, float64 narrowed).
    public func tensor(named name: String) throws -> Tensor {
        guard let ref = refs[name] else {
            if let why = unreadable[name] { throw CheckpointReadError(path: path, "\(name): \(why)") }
            throw CheckpointReadError(path: path, "no tensor named \"\(name)\" in the state dict (\(layout))")
        }
        return try materialise(ref, name: name)
    }
}
