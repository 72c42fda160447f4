import Foundation
import ONNXProto
import VitIR
import VitONNX

/// One deliberate change to an ONNX model, of the kind a real exporter bug makes: mutation
/// testing proves `verifyExport` fails on each (see `VitVerifyTests`).
public enum ExportMutation: Sendable, CustomStringConvertible {
    /// Multiplies every element of a float initializer.
    case scaleWeight(initializer: String, factor: Float)
    /// Swaps the first two inputs of a node (a Sub or Div computing b − a, b / a).
    case swapInputs(node: String)
    /// Sets an attribute of a node.
    case setAttribute(node: String, name: String, value: AttributeValue)
    /// Replaces a node by an Identity of its first input (the node is dropped).
    case replaceWithIdentity(node: String)
    /// Swaps positions `first` and `second` along axis 1 of the value `value` [1, N] (a Gather
    /// with a permutation is inserted after its producer): forces a top-k to come out in a
    /// different order.
    case permute(value: String, first: Int, second: Int)

    public enum AttributeValue: Sendable, CustomStringConvertible {
        case int(Int)
        case float(Float)
        case string(String)

        public var description: String {
            switch self {
            case .int(let v): "\(v)"
            case .float(let v): "\(v)"
            case .string(let v): "\"\(v)\""
            }
        }
    }

    public var description: String {
        switch self {
        case .scaleWeight(let name, let factor): "scale \(name) by \(factor)"
        case .swapInputs(let node): "swap the inputs of \(node)"
        case .setAttribute(let node, let name, let value): "set \(node).\(name) = \(value)"
        case .replaceWithIdentity(let node): "replace \(node) by Identity"
        case .permute(let value, let first, let second): "swap positions \(first) and \(second) of \(value)"
        }
    }
}

/// `model` with `mutation` applied. Throws `VerifyError` when the named node, initializer or
/// value does not exist (a mutation that silently does nothing would prove nothing).
public func mutated(_ model: Onnx_ModelProto, _ mutation: ExportMutation) throws(VerifyError) -> Onnx_ModelProto {
    var model = model
    func nodeIndex(_ name: String) throws(VerifyError) -> Int {
        guard let i = model.graph.node.firstIndex(where: { $0.name == name }) else { throw VerifyError("no node \(name)") }
        return i
    }
    switch mutation {
    case .scaleWeight(let name, let factor):
        guard let i = model.graph.initializer.firstIndex(where: { $0.name == name }) else { throw VerifyError("no initializer \(name)") }
        let tensor: Tensor
        do { tensor = try importTensor(model.graph.initializer[i]) } catch { throw VerifyError("\(name): \(error)") }
        guard tensor.dtype == .float32 else { throw VerifyError("\(name) is \(tensor.dtype), not float32") }
        let scaled = tensor.floats.map { $0 * factor }
        model.graph.initializer[i].floatData = []
        model.graph.initializer[i].rawData = scaled.withUnsafeBytes { Data($0) }
    case .swapInputs(let name):
        let i = try nodeIndex(name)
        guard model.graph.node[i].input.count >= 2 else { throw VerifyError("\(name) has fewer than two inputs") }
        model.graph.node[i].input.swapAt(0, 1)
    case .setAttribute(let node, let name, let value):
        let i = try nodeIndex(node)
        setAttribute(&model.graph.node[i], name, value)
    case .replaceWithIdentity(let name):
        let i = try nodeIndex(name)
        let old = model.graph.node[i]
        var identity = Onnx_NodeProto()
        identity.name = old.name
        identity.opType = "Identity"
        identity.input = [old.input[0]]
        identity.output = [old.output[0]]
        model.graph.node[i] = identity
    case .permute(let value, let first, let second):
        guard let i = model.graph.node.firstIndex(where: { $0.output.contains(value) }),
              let info = (model.graph.valueInfo + model.graph.output).first(where: { $0.name == value }),
              info.type.tensorType.shape.dim.count == 2 else {
            throw VerifyError("no node output \(value) of rank 2 with a declared type")
        }
        let n = Int(info.type.tensorType.shape.dim[1].dimValue)
        guard first != second, (0..<n).contains(first), (0..<n).contains(second) else {
            throw VerifyError("positions \(first), \(second) are not two distinct positions of 0..<\(n)")
        }
        var order = Array(0..<Int64(n))
        order.swapAt(first, second)
        let unpermuted = value + "/unpermuted", permutation = value + "/permutation"
        let k = model.graph.node[i].output.firstIndex(of: value)!
        model.graph.node[i].output[k] = unpermuted
        var perm = Onnx_TensorProto()
        perm.name = permutation
        perm.dataType = 7  // INT64
        perm.dims = [Int64(n)]
        perm.int64Data = order
        model.graph.initializer.append(perm)
        var gather = Onnx_NodeProto()
        gather.name = value + "/permute"
        gather.opType = "Gather"
        gather.input = [unpermuted, permutation]
        gather.output = [value]
        gather.attribute = [attribute("axis", .int(1))]
        model.graph.node.insert(gather, at: i + 1)
        var unpermutedInfo = info
        unpermutedInfo.name = unpermuted
        model.graph.valueInfo.append(unpermutedInfo)
    }
    return model
}

/// Sets (or adds) attribute `name` of `node`: the one function that edits op attributes.
func setAttribute(_ node: inout Onnx_NodeProto, _ name: String, _ value: ExportMutation.AttributeValue) {
    node.attribute.removeAll { $0.name == name }
    node.attribute.append(attribute(name, value))
}

private func attribute(_ name: String, _ value: ExportMutation.AttributeValue) -> Onnx_AttributeProto {
    var a = Onnx_AttributeProto()
    a.name = name
    switch value {
    case .int(let v): a.type = .int; a.i = Int64(v)
    case .float(let v): a.type = .float; a.f = v
    case .string(let v): a.type = .string; a.s = Data(v.utf8)
    }
    return a
}

/// Names of the nodes of `opType` in `model`, in graph order, optionally only those whose name
/// starts with `prefix`.
public func nodeNames(_ model: Onnx_ModelProto, opType: String, prefix: String = "") -> [String] {
    model.graph.node.filter { $0.opType == opType && $0.name.hasPrefix(prefix) }.map(\.name)
}

/// The integer or float value of attribute `name` of node `node`, when set.
public func attributeValue(_ model: Onnx_ModelProto, node: String, name: String) -> ExportMutation.AttributeValue? {
    guard let a = model.graph.node.first(where: { $0.name == node })?.attribute.first(where: { $0.name == name }) else { return nil }
    switch a.type {
    case .int: return .int(Int(a.i))
    case .float: return .float(a.f)
    case .string: return .string(String(decoding: a.s, as: UTF8.self))
    default: return nil
    }
}

/// Names of the float initializers of rank ≥ 2 (weight matrices and kernels) whose name starts
/// with `prefix`, in file order.
public func weightNames(_ model: Onnx_ModelProto, prefix: String) -> [String] {
    model.graph.initializer.filter { $0.name.hasPrefix(prefix) && $0.dataType == 1 && $0.dims.count >= 2 }.map(\.name)
}
