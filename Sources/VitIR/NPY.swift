/// NumPy `.npy` (format 1.0) encoding of tensors: little-endian, C order. Used by the CLI to
/// hand inputs and outputs to outside tools (onnxruntime parity scripts).
public struct NPYError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public var description: String { "npy: \(message)" }
}

private let npyDescr: [DType: String] = [
    .float32: "<f4", .float16: "<f2", .int64: "<i8", .int32: "<i4", .uint8: "|u1", .int8: "|i1", .bool: "|b1",
]

extension Tensor {
    /// The tensor as `.npy` bytes. bfloat16 has no NumPy dtype and is written as float32.
    public func npyBytes() -> [UInt8] {
        let t = dtype == .bfloat16 ? Tensor(floats, shape: shape) : self
        let shapeText = t.shape.isEmpty ? "()" : t.shape.count == 1 ? "(\(t.shape[0]),)" : "(" + t.shape.map(String.init).joined(separator: ", ") + ")"
        var header = "{'descr': '\(npyDescr[t.dtype]!)', 'fortran_order': False, 'shape': \(shapeText), }"
        let unpadded = 10 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        var out: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0]
        let n = header.utf8.count
        out += [UInt8(n & 0xff), UInt8(n >> 8)]
        out += Array(header.utf8)
        out += Array(t.rawBytes)
        return out
    }

    /// Decodes `.npy` bytes (format 1.x/2.x, C order, a dtype of `DType`).
    public init(npy bytes: [UInt8]) throws(NPYError) {
        guard bytes.count >= 10, bytes[0] == 0x93, Array(bytes[1..<6]) == Array("NUMPY".utf8) else {
            throw NPYError(message: "not an .npy file (bad magic)")
        }
        let major = bytes[6]
        let headerStart = major == 1 ? 10 : 12
        guard bytes.count >= headerStart else { throw NPYError(message: "truncated header") }
        let headerLength = major == 1 ? Int(bytes[8]) | Int(bytes[9]) << 8
            : Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24
        guard headerStart + headerLength <= bytes.count else { throw NPYError(message: "truncated header") }
        let header = String(decoding: bytes[headerStart..<(headerStart + headerLength)], as: UTF8.self)
        func field(_ key: String) throws(NPYError) -> Substring {
            guard let r = header.range(of: "'\(key)':") else { throw NPYError(message: "header lacks '\(key)'") }
            return header[r.upperBound...].drop { $0 == " " }
        }
        let descrField = try field("descr")
        let descr = descrField.dropFirst().prefix { $0 != "'" }
        guard let dtype = npyDescr.first(where: { $0.value == descr })?.key else {
            throw NPYError(message: "unsupported dtype '\(descr)'")
        }
        guard try field("fortran_order").hasPrefix("False") else { throw NPYError(message: "Fortran order is not supported") }
        let shapeField = try field("shape")
        guard shapeField.first == "(", let close = shapeField.firstIndex(of: ")") else { throw NPYError(message: "malformed shape") }
        var shape: [Int] = []
        for part in shapeField[shapeField.index(after: shapeField.startIndex)..<close].split(separator: ",") {
            let text = part.filter { $0 != " " }
            if text.isEmpty { continue }
            guard let d = Int(text), d >= 0 else { throw NPYError(message: "malformed shape") }
            shape.append(d)
        }
        let dataStart = headerStart + headerLength
        guard let needed = Checked.byteCount(dims: shape, dtype) else {
            throw NPYError(message: "shape \(shape) of \(dtype.rawValue) is too large (its byte size overflows)")
        }
        guard bytes.count - dataStart == needed else {
            throw NPYError(message: "data holds \(bytes.count - dataStart) bytes, shape \(shape) of \(dtype.rawValue) needs \(needed)")
        }
        self = Tensor(dtype: dtype, shape: shape) { raw in
            bytes.withUnsafeBytes { src in raw.copyMemory(from: UnsafeRawBufferPointer(rebasing: src[dataStart...])) }
        }
    }
}

private extension String {
    func range(of needle: String) -> Range<String.Index>? {
        var i = startIndex
        while i < endIndex {
            if self[i...].hasPrefix(needle) { return i..<index(i, offsetBy: needle.count) }
            i = index(after: i)
        }
        return nil
    }
}
