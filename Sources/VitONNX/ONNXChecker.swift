import CONNXChecker
import Foundation
import ONNXProto
import SwiftProtobuf
import VitIR

/// The libonnx linked into this binary (Debian's 1.12: IR ≤ 8, opsets ≤ 17).
public enum LibONNX {
    /// Highest IR version libonnx's checker accepts.
    public static var maxIRVersion: Int { Int(onnx_checker_max_ir_version()) }
    /// Highest default-domain opset libonnx's schema registry knows.
    public static var maxOpset: Int { Int(onnx_checker_max_opset()) }

    /// Why `checkWithLibONNX` would skip `model`, or nil when libonnx can judge it.
    public static func skipReason(for model: Onnx_ModelProto) -> String? {
        let opset = model.opsetImport.first { $0.domain.isEmpty || $0.domain == "ai.onnx" }.map { Int($0.version) } ?? 0
        if Int(model.irVersion) > maxIRVersion {
            return "libonnx knows IR ≤ \(maxIRVersion), the model is IR \(model.irVersion)"
        }
        if opset > maxOpset { return "libonnx knows opsets ≤ \(maxOpset), the model uses opset \(opset)" }
        return nil
    }
}

/// A model libonnx rejects, or a value whose type libonnx infers differently from the export.
public struct LibONNXError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Runs libonnx's `onnx::checker::check_model` on `model`, then strict shape inference
/// (`InferShapes` with check_type, error_mode 1, no data propagation) on a copy without
/// `value_info`, and compares every type the model declares (`value_info` and graph outputs)
/// with ONNX's inference.
///
/// Returns ONNX's inferred types by value name, or nil when libonnx does not know the model's
/// IR version or opset (`LibONNX.skipReason(for:)`). Throws `LibONNXError` when the checker
/// or inference fails, or when a declared value is not inferred or inferred differently
/// (the message names the value).
public func checkWithLibONNX(_ model: Onnx_ModelProto) throws -> [String: TensorType]? {
    if LibONNX.skipReason(for: model) != nil { return nil }

    let bytes: [UInt8] = try model.serializedBytes()
    var error: UnsafeMutablePointer<CChar>?
    let checked = bytes.withUnsafeBytes { onnx_checker_check_model($0.baseAddress, $0.count, &error) }
    if checked != Int32(ONNX_CHECKER_OK) {
        throw LibONNXError("onnx checker: \(takeMessage(error, status: checked))")
    }

    var stripped = model
    stripped.graph.valueInfo = []
    let strippedBytes: [UInt8] = try stripped.serializedBytes()
    var inferredPointer: UnsafeMutablePointer<UInt8>?
    var inferredLength = 0
    let inferredStatus = strippedBytes.withUnsafeBytes {
        onnx_checker_infer_shapes($0.baseAddress, $0.count, &inferredPointer, &inferredLength, &error)
    }
    if inferredStatus != Int32(ONNX_CHECKER_OK) {
        throw LibONNXError("onnx shape inference: \(takeMessage(error, status: inferredStatus))")
    }
    defer { onnx_checker_free(inferredPointer) }
    let inferredBytes = inferredPointer.map { Data(bytes: $0, count: inferredLength) } ?? Data()
    let inferred = try Onnx_ModelProto(serializedBytes: inferredBytes)

    var onnxTypes: [String: TensorType] = [:]
    for info in inferred.graph.valueInfo + inferred.graph.output {
        onnxTypes[info.name] = try tensorType(of: info)
    }
    var problems: [String] = []
    for info in model.graph.valueInfo + model.graph.output {
        let ours = try tensorType(of: info)
        guard let theirs = onnxTypes[info.name] else {
            problems.append("value '\(info.name)': vitexport declares \(ours), libonnx infers no type")
            continue
        }
        if !agrees(declared: ours, inferred: theirs) {
            problems.append("value '\(info.name)': vitexport declares \(ours), libonnx infers \(theirs)")
        }
    }
    if !problems.isEmpty {
        throw LibONNXError("onnx shape inference disagrees with the export:\n" + problems.map { "  - " + $0 }.joined(separator: "\n"))
    }
    return onnxTypes
}

/// Whether an inferred type agrees with a declared one: same dtype and rank; a declared
/// static extent must be inferred as that extent, a declared symbolic or unknown one (a
/// dynamic batch) as anything but a static extent (libonnx infers a Reshape's −1 as unknown).
private func agrees(declared: TensorType, inferred: TensorType) -> Bool {
    guard declared.dtype == inferred.dtype, declared.rank == inferred.rank else { return false }
    return zip(declared.shape.dims, inferred.shape.dims).allSatisfy { ours, theirs in
        if case .fixed = ours { return ours == theirs }
        return theirs.value == nil
    }
}

private func takeMessage(_ pointer: UnsafeMutablePointer<CChar>?, status: Int32) -> String {
    guard let pointer else { return "failed with status \(status)" }
    defer { onnx_checker_free(pointer) }
    return String(cString: pointer)
}

/// The tensor type a `ValueInfoProto` declares; a dimension with neither value nor parameter
/// reads as the symbol `?`.
private func tensorType(of info: Onnx_ValueInfoProto) throws -> TensorType {
    guard case .tensorType(let tensor)? = info.type.value else {
        throw LibONNXError("value '\(info.name)' is not a tensor")
    }
    guard let dtype = DType(onnxDataType: tensor.elemType) else {
        throw LibONNXError("value '\(info.name)' has element type \(tensor.elemType), which vitexport does not represent")
    }
    guard tensor.hasShape else { return TensorType(dtype, Shape([Dim.symbol("?unranked")])) }
    let dims: [Dim] = tensor.shape.dim.map { d in
        switch d.value {
        case .dimValue(let v)?: .fixed(Int(v))
        case .dimParam(let p)?: .symbol(p)
        case nil: .symbol("?")
        }
    }
    return TensorType(dtype, Shape(dims))
}
