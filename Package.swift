// swift-tools-version: 6.0
import PackageDescription

// Layering (data moves left to right once):
//   VitIR ─► VitInterp ─► VitPasses ─► VitONNX ─► vitexport
//     └────► VitModels ──────────────────────────────┘
// VitIR and its tests need neither BLAS nor protobuf.
let package = Package(
    name: "vitexport",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "vitexport", targets: ["vitexport"]),
        .library(name: "VitIR", targets: ["VitIR"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", exact: "1.8.2"),
        // Exact: Sources/ONNXProto is what this version's protoc-gen-swift generates.
        .package(url: "https://github.com/apple/swift-protobuf", exact: "1.39.0"),
    ],
    targets: [
        // The graph IR: dtypes, shapes, tensors, the closed op set with its shape rules,
        // tracing, verification and dumps.
        .target(name: "VitIR"),
        // OpenBLAS (cblas_sgemm, LAPACK) as a system library.
        .systemLibrary(name: "CBLAS", pkgConfig: "openblas",
                       providers: [.apt(["libopenblas-dev"])]),
        // libjpeg-turbo's TurboJPEG API, libpng and cairo as system libraries (images in, annotated
        // images out). CPNG's header also holds the setjmp-guarded libpng calls Swift cannot make.
        .systemLibrary(name: "CTurboJPEG", pkgConfig: "libturbojpeg",
                       providers: [.apt(["libturbojpeg0-dev"])]),
        .systemLibrary(name: "CPNG", pkgConfig: "libpng",
                       providers: [.apt(["libpng-dev"])]),
        .systemLibrary(name: "CCairo", pkgConfig: "cairo",
                       providers: [.apt(["libcairo2-dev"])]),
        // oneDNN (dnnl_sgemm) and the OpenMP runtime it runs on, as a system library.
        .systemLibrary(name: "CDNNL", providers: [.apt(["libdnnl-dev"])]),
        // The reference interpreter: one kernel per op.
        .target(name: "VitInterp", dependencies: ["VitIR", "CBLAS", "CDNNL", "CVecKernels"]),
        // AVX2 twins of the interpreter's portable Softmax, Gelu and GridSample kernels (bit-identical).
        .target(name: "CVecKernels"),
        // Graph passes (folding runs the interpreter's kernels).
        .target(name: "VitPasses", dependencies: ["VitIR", "VitInterp"]),
        // int8 post-training quantization: calibration through interpreter hooks and the QDQ rewrite.
        .target(name: "VitQuantize", dependencies: ["VitIR", "VitInterp", "VitPasses"]),
        // Model configurations, layers and model definitions.
        .target(name: "VitModels", dependencies: ["VitIR", "ModelZoo", "ConfigSchemas"]),
        // Committed model configurations (Models/configs) and the model-config schema (Schemas/),
        // embedded as generated Swift source (Tools/gen-embedded.py) rather than resource bundles,
        // so the executable needs no files beside it.
        .target(name: "ModelZoo", path: "Models",
                exclude: ["README.md", "configs"],
                sources: ["ModelZoo.swift", "EmbeddedConfigs.swift"]),
        .target(name: "ConfigSchemas", path: "Schemas",
                exclude: ["onnx.proto", "README.md", "graph-dump.schema.json", "model-config.schema.json"],
                sources: ["ConfigSchemas.swift", "EmbeddedSchemas.swift"]),
        // Generated swift-protobuf types for Schemas/onnx.proto (Tools/gen-onnx-proto.sh).
        .target(name: "ONNXProto", dependencies: [.product(name: "SwiftProtobuf", package: "swift-protobuf")]),
        // libonnx's checker and strict shape inference behind a plain C header.
        .target(name: "CONNXChecker",
                cxxSettings: [.define("ONNX_ML", to: "1"), .define("ONNX_NAMESPACE", to: "onnx")],
                linkerSettings: [.linkedLibrary("onnx"), .linkedLibrary("onnx_proto"), .linkedLibrary("protobuf")]),
        // ONNX export (lowering per opset, file writing, validation) and import.
        .target(name: "VitONNX", dependencies: ["VitIR", "ONNXProto", "CONNXChecker",
                                               .product(name: "SwiftProtobuf", package: "swift-protobuf")]),
        // Tracing a model from config + weights + options, verification of exports stage by
        // stage, and the ONNX mutations that prove the verifier can fail.
        .target(name: "VitVerify", dependencies: ["VitIR", "VitInterp", "VitPasses", "VitModels", "VitONNX", "ONNXProto", "VitQuantize"]),
        // Photos in (JPEG/PNG decoding, EXIF orientation, Pillow-exact bilinear resize, model
        // input tensors) and annotated detections out (cairo).
        .target(name: "VitImage", dependencies: ["VitIR", "CTurboJPEG", "CPNG", "CCairo"]),
        .executableTarget(name: "vitexport", dependencies: [
            "VitIR", "VitInterp", "VitPasses", "VitModels", "VitONNX", "VitVerify", "VitImage", "VitQuantize",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .testTarget(name: "VitIRTests", dependencies: ["VitIR"]),
        .testTarget(name: "VitInterpTests", dependencies: ["VitIR", "VitInterp"]),
        .testTarget(name: "VitModelsTests", dependencies: ["VitIR", "VitModels", "VitInterp", "VitPasses", "VitONNX"], exclude: ["Golden"]),
        .testTarget(name: "VitPassesTests", dependencies: ["VitIR", "VitPasses", "VitInterp", "VitModels"]),
        .testTarget(name: "VitONNXTests", dependencies: ["VitIR", "VitONNX", "VitInterp", "VitPasses", "VitModels"]),
        .testTarget(name: "VitVerifyTests", dependencies: ["VitIR", "VitInterp", "VitModels", "VitONNX", "VitVerify", "ONNXProto"]),
        .testTarget(name: "VitQuantizeTests", dependencies: ["VitIR", "VitInterp", "VitPasses", "VitQuantize", "VitModels", "VitVerify"]),
        .testTarget(name: "VitImageTests", dependencies: ["VitIR", "VitImage"]),
        .testTarget(name: "CLITests", dependencies: ["vitexport", "VitIR", "VitInterp", "VitVerify", "VitONNX", "ONNXProto", "VitImage"]),
    ]
)

// libFuzzer targets (Tools/fuzz.sh), declared only for its sanitized build so that a plain
// `swift build` never links an executable whose `main` is libFuzzer's driver.
if Context.environment["VITEXPORT_FUZZ"] == "1" {
    package.targets.append(.executableTarget(name: "vitfuzz", dependencies: [
        "VitIR", "VitInterp", "VitModels", "VitONNX", "ONNXProto", "VitImage",
        .product(name: "SwiftProtobuf", package: "swift-protobuf"),
    ], path: "Tools/fuzz/vitfuzz"))
}
