import Foundation
import ONNXProto
import VitIR

/// Reductions ↔ ONNX ReduceMean/ReduceSum/ReduceMax (axes attribute or input by opset) and TopK.
extension ReductionOp: ONNXMapping {
    func lower(_ node: Node, _ l: inout ExportLowering) throws(ExportError) {
        let ins = l.inputNames(node), outs = l.outputNames(node)
        switch self {
        case .reduceMean(let r):
            l.emitReduce("ReduceMean", ins[0], outs[0], axes: r.axes, keepDims: r.keepDims, axesAsInput: l.opset >= 18, node: node)
        case .reduceSum(let r):
            l.emitReduce("ReduceSum", ins[0], outs[0], axes: r.axes, keepDims: r.keepDims, axesAsInput: true, node: node)
        case .reduceMax(let r):
            l.emitReduce("ReduceMax", ins[0], outs[0], axes: r.axes, keepDims: r.keepDims, axesAsInput: l.opset >= 18, node: node)
        case .topK(let t):
            let k = l.constant(exportInt64Vector([t.k]), node, "k")
            l.emit("TopK", [ins[0], k], outs, [exportAttribute("axis", t.axis), exportAttribute("largest", t.largest ? 1 : 0),
                                             exportAttribute("sorted", t.sorted ? 1 : 0)], node: node)
        }
    }

    static var importers: [String: ONNXImporter] { [
        "ReduceMean": { try $0.reduce(axesFromInputSince: 18) { .reduceMean($0) } },
        "ReduceMax": { try $0.reduce(axesFromInputSince: 18) { .reduceMax($0) } },
        "ReduceSum": { try $0.reduce(axesFromInputSince: 13) { .reduceSum($0) } },
        "TopK": { try $0.topK() },
    ] }
}

extension NodeImport {
    /// ReduceMean/ReduceMax (axes input from opset 18), ReduceSum (from 13): keepdims 1;
    /// noop_with_empty_axes = 1 with no axes is Identity; otherwise empty axes reduce all.
    fileprivate mutating func reduce(axesFromInputSince since: Int, _ make: (ReduceAttributes) -> Op) throws(ImportError) {
        let keep = try bool("keepdims", default: true)
        var axes: [Int]
        var noop = false
        if opset < since {
            axes = try ints("axes") ?? []
        } else {
            axes = try constantInts(1, "axes") ?? []
            noop = try bool("noop_with_empty_axes", default: false)
        }
        if axes.isEmpty && noop {
            try emitFinal(.identity, [input(0)])
            return
        }
        try emitFinal(make(ReduceAttributes(axes: axes, keepDims: keep)), [input(0)])
    }

    /// TopK-1: `k` attribute; TopK-10+: K as a one-element input. axis −1; largest and sorted
    /// (TopK-11) default 1.
    fileprivate mutating func topK() throws(ImportError) {
        let k: Int
        if opset < 10 {
            guard let v = try int("k") else { throw fail("missing required attribute 'k'") }
            k = v
        } else {
            guard let v = try constantInts(1, "K"), v.count == 1 else { throw fail("K must be a one-element constant") }
            k = v[0]
        }
        let t = TopKAttributes(k: k, axis: try int("axis", default: -1), largest: try bool("largest", default: true),
                               sorted: try bool("sorted", default: true))
        try emitFinal(.topK(t), [input(0)])
    }
}
