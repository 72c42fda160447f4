// libFuzzer entry for vitexport's readers of untrusted files (built and run by Tools/fuzz.sh).
//
// One binary serves every target; VITFUZZ_TARGET picks it, an environment variable rather
// than an argument so that the child processes libFuzzer starts itself (-minimize_crash,
// -fork) fuzz the same target. Contract of every target: any input either is accepted or
// throws; a trap, an out-of-bounds access, a leak or an allocation over -malloc_limit_mb is a
// finding.
//
// SwiftPM links an executable's `main` as the module's entry point, which would shadow
// libFuzzer's own `main`, so the top-level code below hands control to libFuzzer's driver.
import Foundation
import ONNXProto
import SwiftProtobuf
@testable import VitModels
@testable import VitIR
import VitInterp
import VitONNX
import VitImage

/// Size of the largest run the ONNX target interprets (plan peak), and its graph size.
let interpretBudget = MemoryBudget(bytes: 64 << 20)
let interpretMaxNodes = 200
/// Largest decoded photo the image target accepts (about 1.6 megapixels).
let imageBudget = MemoryBudget(bytes: 16 << 20)
/// Largest copy the checkpoint target may make of one tensor (byte swaps, strided layouts).
let checkpointBudget = MemoryBudget(bytes: 64 << 20)

/// `data` as tensor storage, as a mapped file would be.
func storage(_ data: Data) -> TensorStorage {
    let copy = UnsafeMutableRawPointer.allocate(byteCount: max(data.count, 1), alignment: 64)
    data.copyBytes(to: copy.assumingMemoryBound(to: UInt8.self), count: data.count)
    return TensorStorage(adopting: copy, byteCount: data.count)
}

let targets: [String: (Data) -> Void] = [
    "safetensors": { data in
        guard let file = try? SafetensorsFile(storage: storage(data), path: "fuzz.safetensors") else { return }
        for name in file.names { _ = try? file.float32Tensor(named: name) }
    },
    // PyTorch checkpoints: the zip reader, the restricted unpickler, state-dict detection and
    // every tensor's storage, offset, strides and byte order.
    "pth": { data in
        guard let file = try? TorchCheckpoint(storage: storage(data), path: "fuzz.pth", weightsKey: nil,
                                              budget: checkpointBudget) else { return }
        for name in file.names { _ = try? file.tensor(named: name) }
    },
    // The unpickler alone on raw bytes (mutations of a zip rarely reach its opcodes intact).
    "pickle": { data in
        data.withUnsafeBytes { bytes in
            var unpickler = Unpickler(bytes: bytes, persistentLoad: TorchCheckpoint.storageReference)
            defer { unpickler.releaseContainers() }
            _ = try? unpickler.run()
        }
    },
    "onnx": { data in
        guard let model = try? Onnx_ModelProto(serializedBytes: data),
              let graph = try? importModel(model, baseDirectory: nil) else { return }
        guard (try? verify(graph)) != nil, let plan = plannedMemory(graph),
              plan.peakBytes < interpretBudget.bytes, graph.nodes.count < interpretMaxNodes else { return }
        var feeds: [String: Tensor] = [:]
        for v in graph.inputs {
            let type = graph.type(of: v)
            guard let dims = type.shape.ints else { return }
            feeds[graph.name(of: v)] = Tensor.zeros(type.dtype, dims)
        }
        _ = try? Interpreter(graph).run(feeds: feeds, options: .init(budget: interpretBudget))
    },
    "config": { data in
        _ = try? ModelConfig.parse(data, source: "fuzz.json")
    },
    "npy": { data in
        _ = try? Tensor(npy: Array(data))
    },
    // Photos: sniffing, the EXIF parser, libjpeg-turbo/libpng through their wrappers, the
    // orientation and a resize to a small model input. The budget keeps a decoded image small
    // (a header claiming more is refused before decoding), so an input stays fast.
    "image": { data in
        guard let image = try? decodeImage(Array(data), path: "fuzz", budget: imageBudget) else { return }
        _ = modelInput(image, height: 8, width: 12, keepAspect: data.count % 2 == 0)
    },
]

guard let name = ProcessInfo.processInfo.environment["VITFUZZ_TARGET"], let target = targets[name] else {
    FileHandle.standardError.write(Data("set VITFUZZ_TARGET to one of: \(targets.keys.sorted().joined(separator: ", "))\n".utf8))
    exit(2)
}
let selected = target

@_cdecl("LLVMFuzzerTestOneInput")
func testOneInput(_ bytes: UnsafePointer<UInt8>?, _ count: Int) -> Int32 {
    selected(bytes.map { Data(bytes: $0, count: count) } ?? Data())
    return 0
}

@_silgen_name("LLVMFuzzerRunDriver")
func runFuzzerDriver(_ argc: UnsafeMutablePointer<Int32>,
                     _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
                     _ body: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32) -> Int32

var argc = CommandLine.argc
var argv = CommandLine.unsafeArgv
exit(runFuzzerDriver(&argc, &argv, testOneInput))
