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
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
    ],
    targets: [
        // The graph IR: dtypes, shapes, tensors, the closed op set with its shape rules,
        // tracing, verification and dumps.
        .target(name: "VitIR"),
        // OpenBLAS (cblas_sgemm, LAPACK) as a system library.
        .systemLibrary(name: "CBLAS", pkgConfig: "openblas",
                       providers: [.apt(["libopenblas-dev"])]),
        // The reference interpreter: one kernel per op.
        .target(name: "VitInterp", dependencies: ["VitIR", "CBLAS"]),
        // Graph passes (folding runs the interpreter's kernels).
        .target(name: "VitPasses", dependencies: ["VitIR", "VitInterp"]),
        // Model configurations, layers and model definitions.
        .target(name: "VitModels", dependencies: ["VitIR", "ModelZoo", "ConfigSchemas"]),
        // Committed model configurations (Models/) and JSON schemas (Schemas/) as resources.
        .target(name: "ModelZoo", path: "Models",
                exclude: ["README.md"],
                sources: ["ModelZoo.swift"],
                resources: [.copy("configs")]),
        .target(name: "ConfigSchemas", path: "Schemas",
                exclude: ["onnx.proto", "README.md", "graph-dump.schema.json"],
                sources: ["ConfigSchemas.swift"],
                resources: [.copy("model-config.schema.json")]),
        // Generated swift-protobuf types for Schemas/onnx.proto (Tools/gen-onnx-proto.sh).
        .target(name: "ONNXProto", dependencies: [.product(name: "SwiftProtobuf", package: "swift-protobuf")]),
        // libonnx's checker and strict shape inference behind a plain C header.
        .target(name: "CONNXChecker",
                cxxSettings: [.define("ONNX_ML", to: "1"), .define("ONNX_NAMESPACE", to: "onnx")],
                linkerSettings: [.linkedLibrary("onnx"), .linkedLibrary("onnx_proto"), .linkedLibrary("protobuf")]),
        // ONNX export (lowering per opset, file writing, validation) and import.
        .target(name: "VitONNX", dependencies: ["VitIR", "ONNXProto", "CONNXChecker",
                                               .product(name: "SwiftProtobuf", package: "swift-protobuf")]),
        .executableTarget(name: "vitexport", dependencies: [
            "VitIR", "VitInterp", "VitPasses", "VitModels", "VitONNX",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .testTarget(name: "VitIRTests", dependencies: ["VitIR"]),
        .testTarget(name: "VitInterpTests", dependencies: ["VitIR", "VitInterp"]),
        .testTarget(name: "VitModelsTests", dependencies: ["VitIR", "VitModels", "VitInterp", "VitPasses", "VitONNX"], exclude: ["Golden"]),
        .testTarget(name: "VitPassesTests", dependencies: ["VitIR", "VitPasses", "VitInterp", "VitModels"]),
        .testTarget(name: "VitONNXTests", dependencies: ["VitIR", "VitONNX", "VitInterp", "VitPasses", "VitModels"]),
        .testTarget(name: "CLITests", dependencies: ["vitexport"]),
    ]
)

// libFuzzer targets (Tools/fuzz.sh), declared only for its sanitized build so that a plain
// `swift build` never links an executable whose `main` is libFuzzer's driver.
if Context.environment["VITEXPORT_FUZZ"] == "1" {
    package.targets.append(.executableTarget(name: "vitfuzz", dependencies: [
        "VitIR", "VitInterp", "VitModels", "VitONNX", "ONNXProto",
        .product(name: "SwiftProtobuf", package: "swift-protobuf"),
    ], path: "Tools/fuzz/vitfuzz"))
}
