import Foundation
import ONNXProto
import VitIR

/// Lowers IR nodes to ONNX nodes for one default-domain opset (16…21).
///
/// Contract:
/// - Every node's ONNX form computes the IR op's meaning (ONNX operator definitions) and
///   produces outputs under the IR value names with the IR types.
/// - Static IR attributes that ONNX takes as tensor inputs become int64 initializers named
///   `<node name>.<role>` (`blocks.0.attn.Reshape.shape`); Clip bounds, Pad's constant_value and
///   Range's scalars use the op's element type, Resize's `scales`/`roi` float32.
/// - An op with no native form at the opset is decomposed into ops that exist there; the
///   decomposition's nodes, values and constants are named `<node name>/decomposed/<step>` and
///   carry the original doc string.
/// - An op the opset cannot express at all throws `ExportError.needsOpset`, naming the op,
///   the node and the minimum opset.
/// - Every node output that is not a graph output gets a `value_info` (dtype and shape).
///
/// Opset-dependent forms (all other ops have one form across 16…21):
/// - layerNormalization: 16 decomposed (ReduceMean, Sub, Pow, ReduceMean, Add, Sqrt, Div, Mul,
///   Add); ≥ 17 LayerNormalization-17.
/// - groupNormalization: ≤ 20 decomposed (Reshape to [N, G, −1] with an explicit shape, the
///   normalization above, Reshape back, Mul/Add with scale/bias reshaped to [C, 1, …]);
///   21 GroupNormalization-21.
/// - gelu: ≤ 19 decomposed (Erf form, or Tanh form for approximate = "tanh"); ≥ 20 Gelu-20.
/// - reduceMean, reduceMax: ≤ 17 `axes` attribute; ≥ 18 `axes` input. reduceSum: input always.
/// - gridSample: ≤ 19 modes bilinear/nearest/bicubic; ≥ 20 linear/nearest/cubic.
/// - resize: antialias needs 18; coordinate_transformation_mode half_pixel_symmetric needs 19.
struct ExportLowering {
    let graph: Graph
    let opset: Int
    private(set) var nodes: [Onnx_NodeProto] = []
    /// Initializers created by lowering, in creation order.
    private(set) var constants: [(name: String, tensor: Tensor)] = []
    /// `value_info` of every node output that is not a graph output, in definition order.
    private(set) var valueInfos: [Onnx_ValueInfoProto] = []
    /// Value names in use (graph values, lowering initializers, decomposition intermediates).
    private var takenValueNames: Set<String>
    /// Node names in use.
    private var takenNodeNames: Set<String>
    private let graphOutputs: Set<ValueID>

    init(graph: Graph, opset: Int) {
        self.graph = graph
        self.opset = opset
        self.takenValueNames = Set(graph.values.map(\.name))
        self.takenNodeNames = Set(graph.nodes.map(\.name))
        self.graphOutputs = Set(graph.outputs)
    }

    /// Appends the ONNX form of `node` (each family's `lower` in `Sources/VitONNX/Ops/`).
    mutating func lower(_ node: Node) throws(ExportError) {
        switch node.op {
        case .elementwise(let o): try o.lower(node, &self)
        case .linearAlgebra(let o): try o.lower(node, &self)
        case .convolution(let o): try o.lower(node, &self)
        case .normalization(let o): try o.lower(node, &self)
        case .reduction(let o): try o.lower(node, &self)
        case .movement(let o): try o.lower(node, &self)
        case .sampling(let o): try o.lower(node, &self)
        case .quantization(let o): try o.lower(node, &self)
        }
        for v in node.outputs where !graphOutputs.contains(v) {
            valueInfos.append(exportValueInfo(graph.name(of: v), graph.type(of: v)))
        }
    }

    func inputNames(_ node: Node) -> [String] { node.inputs.map(graph.name(of:)) }
    func outputNames(_ node: Node) -> [String] { node.outputs.map(graph.name(of:)) }

    // MARK: Emission helpers

    /// A reduction with `axes` as an attribute (ReduceMean/ReduceMax < 18) or an int64 input
    /// (ReduceSum ≥ 13, ReduceMean/ReduceMax ≥ 18). Empty `axes` reduces every axis.
    mutating func emitReduce(_ opType: String, _ input: String, _ output: String, axes: [Int], keepDims: Bool,
                                     axesAsInput: Bool, node: Node, step: String? = nil) {
        var inputs = [input]
        var attributes = [exportAttribute("keepdims", keepDims ? 1 : 0)]
        if !axes.isEmpty {
            if axesAsInput {
                let role = step.map { "\($0).axes" } ?? "axes"
                inputs.append(step == nil ? constant(exportInt64Vector(axes), node, role)
                                          : decomposedConstant(exportInt64Vector(axes), node, role))
            } else {
                attributes.insert(exportAttribute("axes", ints: axes), at: 0)
            }
        }
        emit(opType, inputs, [output], attributes, node: node, step: step)
    }

    func inputType(_ node: Node, _ i: Int) -> TensorType { graph.type(of: node.inputs[i]) }

    private mutating func unique(_ base: String) -> String { uniqueName(base, in: &takenValueNames) }

    /// An initializer for a static input, named `<node name>.<role>`.
    mutating func constant(_ tensor: Tensor, _ node: Node, _ role: String) -> String {
        let name = unique("\(node.name).\(role)")
        constants.append((name, tensor))
        return name
    }

    /// A decomposition constant, named `<node name>/decomposed/<role>`.
    mutating func decomposedConstant(_ tensor: Tensor, _ node: Node, _ role: String) -> String {
        let name = unique("\(node.name)/decomposed/\(role)")
        constants.append((name, tensor))
        return name
    }

    /// A decomposition intermediate value `<node name>/decomposed/<step>` with its value_info.
    mutating func temp(_ node: Node, _ step: String, _ type: TensorType) -> String {
        let name = unique("\(node.name)/decomposed/\(step)")
        valueInfos.append(exportValueInfo(name, type))
        return name
    }

    /// Appends one ONNX node. `step` names a decomposition node `<node name>/decomposed/<step>`.
    mutating func emit(_ opType: String, _ inputs: [String], _ outputs: [String],
                               _ attributes: [Onnx_AttributeProto] = [], node: Node, step: String? = nil) {
        var proto = Onnx_NodeProto()
        proto.name = step.map { uniqueName("\(node.name)/decomposed/\($0)", in: &takenNodeNames) } ?? node.name
        proto.opType = opType
        proto.input = inputs
        proto.output = outputs
        proto.attribute = attributes
        proto.docString = "scope=\(node.scope) at \(node.location)"
        nodes.append(proto)
    }
}

/// An op family's ONNX form: how each member lowers to ONNX nodes at the target opset, and
/// which ONNX op types import to it. Each family's conformance is one file in
/// `Sources/VitONNX/Ops/`, export and import side by side.
protocol ONNXMapping {
    /// Appends the ONNX nodes computing `node` (whose op is `self`) to `l`.
    func lower(_ node: Node, _ l: inout ExportLowering) throws(ExportError)
    /// ONNX op type → conversion of such a node to IR ops.
    static var importers: [String: ONNXImporter] { get }
}

/// Converts one ONNX node (attributes, inputs) into IR nodes.
typealias ONNXImporter = @Sendable (inout NodeImport) throws -> Void

// MARK: Attributes (AttributeProto of type INT, FLOAT, STRING, INTS)

func exportAttribute(_ name: String, _ value: Int) -> Onnx_AttributeProto {
    var a = Onnx_AttributeProto()
    a.name = name
    a.type = .int
    a.i = Int64(value)
    return a
}

func exportAttribute(_ name: String, _ value: Float) -> Onnx_AttributeProto {
    var a = Onnx_AttributeProto()
    a.name = name
    a.type = .float
    a.f = value
    return a
}

func exportAttribute(_ name: String, _ value: String) -> Onnx_AttributeProto {
    var a = Onnx_AttributeProto()
    a.name = name
    a.type = .string
    a.s = Data(value.utf8)
    return a
}

func exportAttribute(_ name: String, ints: [Int]) -> Onnx_AttributeProto {
    var a = Onnx_AttributeProto()
    a.name = name
    a.type = .ints
    a.ints = ints.map(Int64.init)
    return a
}
