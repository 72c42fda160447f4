import Foundation
import ONNXProto
import VitIR

/// Elementwise ops ↔ ONNX: one node each (Gelu below opset 20 as its Erf/Tanh formula).
extension ElementwiseOp: ONNXMapping {
    func lower(_ node: Node, _ l: inout ExportLowering) throws(ExportError) {
        let ins = l.inputNames(node), outs = l.outputNames(node)
        switch self {
        case .add, .sub, .mul, .div, .pow, .max, .min, .equal, .less, .lessOrEqual, .greater, .greaterOrEqual,
             .and, .or, .not, .neg, .abs, .sqrt, .reciprocal, .exp, .log, .erf, .sin, .cos, .tanh, .sigmoid, .relu,
             .floor, .ceil, .where, .identity:
            l.emit(name, ins, outs, node: node)
        case .gelu(let approximate):
            if l.opset >= 20 {
                l.emit("Gelu", ins, outs, [exportAttribute("approximate", approximate.rawValue)], node: node)
            } else {
                l.lowerGeluDecomposed(node, approximate: approximate)
            }
        case .clip(let lo, let hi):
            // Clip-13: min and max are optional scalar inputs of the input's type.
            let dtype = l.inputType(node, 0).dtype
            var inputs = [ins[0]]
            inputs.append(lo.map { l.constant(exportFilledTensor(Double($0), dtype), node, "min") } ?? "")
            inputs.append(hi.map { l.constant(exportFilledTensor(Double($0), dtype), node, "max") } ?? "")
            while inputs.last == "" { inputs.removeLast() }
            l.emit("Clip", inputs, outs, node: node)
        case .cast(let to):
            l.emit("Cast", ins, outs, [exportAttribute("to", to.exportDataType.rawValue)], node: node)
        }
    }

    static var importers: [String: ONNXImporter] { [
        // Binary with numpy broadcasting (Add-7+, …). Opset < 7's legacy `broadcast`/`axis`
        // attributes are left unread and so rejected.
        "Add": { try $0.binary(.add) }, "Sub": { try $0.binary(.sub) }, "Mul": { try $0.binary(.mul) },
        "Div": { try $0.binary(.div) }, "Pow": { try $0.binary(.pow) },
        "Equal": { try $0.binary(.equal) }, "Less": { try $0.binary(.less) },
        "LessOrEqual": { try $0.binary(.lessOrEqual) }, "Greater": { try $0.binary(.greater) },
        "GreaterOrEqual": { try $0.binary(.greaterOrEqual) }, "And": { try $0.binary(.and) }, "Or": { try $0.binary(.or) },
        "Max": { try $0.variadic(.max) }, "Min": { try $0.variadic(.min) },
        "Neg": { try $0.unary(.neg) }, "Abs": { try $0.unary(.abs) }, "Sqrt": { try $0.unary(.sqrt) },
        "Reciprocal": { try $0.unary(.reciprocal) }, "Exp": { try $0.unary(.exp) }, "Log": { try $0.unary(.log) },
        "Erf": { try $0.unary(.erf) }, "Sin": { try $0.unary(.sin) }, "Cos": { try $0.unary(.cos) },
        "Tanh": { try $0.unary(.tanh) }, "Sigmoid": { try $0.unary(.sigmoid) }, "Relu": { try $0.unary(.relu) },
        "Floor": { try $0.unary(.floor) }, "Ceil": { try $0.unary(.ceil) }, "Not": { try $0.unary(.not) },
        "Identity": { try $0.unary(.identity) },
        "Gelu": { try $0.gelu() },
        "Cast": { try $0.cast() },
        "CastLike": { try $0.castLike() },
        "Clip": { try $0.clip() },
        "Where": { try $0.emitFinal(.where, [$0.input(0), $0.input(1), $0.input(2)]) },
    ] }
}

extension ExportLowering {
    /// Gelu-20 for earlier opsets. "none": 0.5·x·(1 + Erf(x / √2)); "tanh":
    /// 0.5·x·(1 + Tanh(√(2/π)·(x + 0.044715·x³))). Arithmetic is in the input's dtype.
    mutating func lowerGeluDecomposed(_ node: Node, approximate: GeluApproximation) {
        let x = graph.name(of: node.inputs[0]), y = graph.name(of: node.outputs[0])
        let type = inputType(node, 0)
        func c(_ v: Double, _ role: String) -> String { decomposedConstant(exportFilledTensor(v, type.dtype), node, role) }
        let inner: String
        switch approximate {
        case .none:
            let scaled = temp(node, "div", type)
            emit("Div", [x, c(2.0.squareRoot(), "sqrt2")], [scaled], node: node, step: "div")
            inner = temp(node, "erf", type)
            emit("Erf", [scaled], [inner], node: node, step: "erf")
        case .tanh:
            let cube = temp(node, "pow", type)
            emit("Pow", [x, c(3, "three")], [cube], node: node, step: "pow")
            let cubeScaled = temp(node, "mul_cubic", type)
            emit("Mul", [cube, c(0.044715, "cubic_coefficient")], [cubeScaled], node: node, step: "mul_cubic")
            let sum = temp(node, "add_cubic", type)
            emit("Add", [x, cubeScaled], [sum], node: node, step: "add_cubic")
            let scaled = temp(node, "mul_sqrt_2_over_pi", type)
            emit("Mul", [sum, c((2.0 / Double.pi).squareRoot(), "sqrt_2_over_pi")], [scaled], node: node, step: "mul_sqrt_2_over_pi")
            inner = temp(node, "tanh", type)
            emit("Tanh", [scaled], [inner], node: node, step: "tanh")
        }
        let onePlus = temp(node, "add_one", type)
        emit("Add", [inner, c(1, "one")], [onePlus], node: node, step: "add_one")
        let product = temp(node, "mul_x", type)
        emit("Mul", [x, onePlus], [product], node: node, step: "mul_x")
        emit("Mul", [product, c(0.5, "half")], [y], node: node, step: "mul_half")
    }
}

extension NodeImport {
    fileprivate mutating func binary(_ op: Op) throws(ImportError) {
        guard inputCount == 2 else { throw fail("expected 2 inputs, got \(inputCount)") }
        try emitFinal(op, [input(0), input(1)])
    }

    /// Max-8/Min-8 take 1…N inputs: a chain of binary ops (Identity for one input).
    fileprivate mutating func variadic(_ op: Op) throws(ImportError) {
        guard inputCount >= 1 else { throw fail("expected at least one input") }
        if inputCount == 1 { try emitFinal(.identity, [input(0)]); return }
        var acc = try input(0)
        for i in 1..<inputCount {
            let names: [String?] = i == inputCount - 1 ? proto.output.map { $0 } : [nil]
            acc = try emit(op, [acc, input(i)], names: names)[0]
        }
    }

    fileprivate mutating func unary(_ op: Op) throws(ImportError) {
        guard inputCount == 1 else { throw fail("expected 1 input, got \(inputCount)") }
        try emitFinal(op, [input(0)])
    }

    /// Cast-6+: `to` must name an IR dtype; `saturate` (Cast-19) only affects float8 targets.
    fileprivate mutating func cast() throws(ImportError) {
        guard let to = try int("to") else { throw fail("missing required attribute 'to'") }
        guard let dt = DType(onnxDataType: Int32(truncatingIfNeeded: to)) else {
            throw fail("cast to \(importTypeName(Int32(truncatingIfNeeded: to))) unsupported (not an IR dtype)")
        }
        _ = try int("saturate")
        if let mode = try string("round_mode"), mode != "up" { throw fail("round_mode='\(mode)' unsupported") }
        try emitFinal(.cast(to: dt), [input(0)])
    }

    /// Clip-6: `min`/`max` attributes (defaults ∓3.402823e+38). Clip-11+: optional constant
    /// inputs. When min > max every element becomes max (Clip-11+), i.e. clip(max, max).
    fileprivate mutating func clip() throws(ImportError) {
        var lo: Float?, hi: Float?
        if opset < 11 {
            lo = try float("min", default: -3.402823e+38)
            hi = try float("max", default: 3.402823e+38)
        } else {
            let x = try type(0).dtype
            func bound(_ i: Int, _ what: String) throws(ImportError) -> Float? {
                guard let c = try constantScalar(i, what) else { return nil }
                let (v, dt) = (c.value, c.dtype)
                guard dt == x else { throw fail("\(what) has dtype \(dt.rawValue), input is \(x.rawValue)") }
                let f = Float(v)
                guard Double(f) == v || v.isNaN || dt.isFloatingPoint else {
                    throw fail("\(what) \(v) is not exactly representable as the IR's Float bound")
                }
                return f
            }
            lo = try bound(1, "min")
            hi = try bound(2, "max")
        }
        if let l = lo, let h = hi, l > h { lo = h }
        try emitFinal(.clip(min: lo, max: hi), [input(0)])
    }

    /// Gelu-20: approximate = "none" | "tanh".
    fileprivate mutating func gelu() throws(ImportError) {
        let a = try string("approximate", default: "none")
        guard let approx = GeluApproximation(rawValue: a) else { throw fail("approximate='\(a)' unsupported") }
        try unary(.gelu(approximate: approx))
    }

    /// CastLike-15: Cast to input 1's dtype (`saturate` only affects float8 targets).
    fileprivate mutating func castLike() throws(ImportError) {
        _ = try int("saturate")
        try emitFinal(.cast(to: type(1).dtype), [input(0)])
    }
}
