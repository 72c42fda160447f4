import Testing
@testable import VitIR

/// Tracing: errors carry op, scope, call-site location, input types and the expectation; nodes
/// get unique scoped names and the caller's location; parameters get checkpoint keys.
@Suite struct TracerTests {
    static let thisFile = "TracerTests.swift"


    @Test("a bad op inside nested scopes throws a TraceError located at the call")
    func errorInNestedScopes() {
        let tracer = Tracer(name: "t")
        let x = tracer.input("x", f32(2, 3))
        let w = tracer.input("w", f32(4, 5))
        var callLine = 0
        do {
            try tracer.scope("backbone") {
                try tracer.scope("blocks.3") {
                    callLine = #line; try tracer.apply(.matMul, [x, w])
                }
            }
            Issue.record("MatMul of [2, 3] by [4, 5] was accepted")
        } catch let error as TraceError {
            #expect(error.op == "MatMul")
            #expect(error.scope == "backbone.blocks.3")
            #expect(error.location.line == callLine)
            #expect(error.location.file.hasSuffix(Self.thisFile))
            #expect(error.inputTypes == [f32(2, 3), f32(4, 5)])
            // The message is the shape rule's expectation, verbatim.
            let ruleError = #expect(throws: ShapeRuleError.self) { try inferTypes(.matMul, [f32(2, 3), f32(4, 5)]) }
            #expect(error.message == ruleError?.expected)
            #expect(error.message.contains("(3)") && error.message.contains("(4)"))
            let text = error.description
            #expect(text.contains("MatMul"))
            #expect(text.contains("backbone.blocks.3"))
            #expect(text.contains("f32[2, 3]"))
            #expect(text.contains("f32[4, 5]"))
            #expect(text.contains(error.message))
            #expect(text.contains("\(Self.thisFile):\(callLine)"))
        } catch {
            Issue.record("expected a TraceError, got \(error)")
        }
        // The rejected op left no node behind and the scopes were unwound.
        #expect(tracer.graph.nodes.isEmpty)
        #expect(tracer.scope == "")
    }

    @Test("a TraceError at the root scope says <root>")
    func errorAtRoot() {
        let tracer = Tracer(name: "t")
        let x = tracer.input("x", i64(3))
        let error = #expect(throws: TraceError.self) { try tracer.apply(.sqrt, [x]) }
        #expect(error?.scope == "")
        #expect(error?.description.contains("Sqrt at <root>") == true)
        #expect(error?.description.contains("int64") == true)
    }

    @Test("an input from another trace is rejected")
    func foreignInput() {
        let a = Tracer(name: "a"), b = Tracer(name: "b")
        let x = a.input("x", f32(2))
        let y = b.input("y", f32(2))
        let error = #expect(throws: TraceError.self) { try a.apply(.add, [x, y]) }
        #expect(error?.message.contains("different trace") == true)
        #expect(a.graph.nodes.isEmpty)
    }

    @Test("nodes are named after the op under the current scope, made unique with _1, _2")
    func nodeNames() throws {
        let tracer = Tracer(name: "t")
        let x = tracer.input("x", f32(2, 8))
        let w = tracer.input("w", f32(8, 8))
        try tracer.scope("backbone") {
            try tracer.scope("blocks.3") {
                let h = try tracer.apply(.matMul, [x, w])[0]
                let h2 = try tracer.apply(.matMul, [h, w])[0]
                _ = try tracer.apply(.matMul, [h2, w])
            }
            _ = try tracer.apply(.relu, [x])
        }
        _ = try tracer.apply(.relu, [x])
        let names = tracer.graph.nodes.map(\.name)
                    #expect(names == ["backbone.blocks.3.MatMul", "backbone.blocks.3.MatMul_1", "backbone.blocks.3.MatMul_2",
                              "backbone.Relu", "Relu"])
        #expect(names.allSatisfy { $0.hasPrefix("backbone.blocks.3.MatMul") || $0.hasSuffix("Relu") })
        #expect(tracer.graph.nodes.map(\.scope) == ["backbone.blocks.3", "backbone.blocks.3", "backbone.blocks.3", "backbone", ""])
        #expect(Set(names).count == names.count)
    }

    @Test("a single-output node's value takes the node's name; multi-output values get :k")
    func valueNames() throws {
        let tracer = Tracer(name: "t")
        let x = tracer.input("x", f32(2, 10))
        try tracer.scope("head") {
            let r = try tracer.apply(.relu, [x])[0]
                            #expect(tracer.graph.name(of: r.id) == "head.Relu")
            let top = try tracer.apply(.topK(TopKAttributes(k: 3)), [r])
            #expect(top.map { tracer.graph.name(of: $0.id) } == ["head.TopK:0", "head.TopK:1"])
        }
        let names = tracer.graph.values.map(\.name)
        #expect(Set(names).count == names.count)
    }

    @Test("apply returns tensors typed by the shape rule and records them in the graph")
    func applyTypes() throws {
        let tracer = Tracer(name: "t")
        let x = tracer.input("x", f32(2, 10))
        let outs = try tracer.apply(.topK(TopKAttributes(k: 4)), [x])
        #expect(outs.map(\.type) == [f32(2, 4), i64(2, 4)])
        #expect(outs.map { tracer.graph.type(of: $0.id) } == [f32(2, 4), i64(2, 4)])
        #expect(outs[0].dims == [2, 4])
        let node = try #require(tracer.graph.nodes.last)
        #expect(node.op == .topK(TopKAttributes(k: 4)))
        #expect(node.inputs == [x.id])
        #expect(node.outputs == outs.map(\.id))
    }

    @Test("a node records the caller's file and line")
    func nodeLocation() throws {
        let tracer = Tracer(name: "t")
        let x = tracer.input("x", f32(4))
        var line = 0
        try tracer.scope("stem") {
            line = #line; try tracer.apply(.exp, [x])
        }
        let node = try #require(tracer.graph.nodes.first)
        #expect(node.location.line == line)
        #expect(node.location.file.hasSuffix(Self.thisFile))
        #expect(node.scope == "stem")
    }

    @Test("an explicit name overrides the default and is still made unique")
    func explicitName() throws {
        let tracer = Tracer(name: "t")
        let x = tracer.input("x", f32(4))
        try tracer.scope("blk") {
            _ = try tracer.apply(.relu, [x], name: "act")
            _ = try tracer.apply(.relu, [x], name: "act")
        }
                    #expect(tracer.graph.nodes.map(\.name) == ["act", "act_1"])
    }

    @Test("parameter() under scopes is keyed by the dotted checkpoint path")
    func parameterKeys() throws {
        let tracer = Tracer(name: "t")
        let weight = Tensor.zeros(.float32, [768, 3, 16, 16])
        let p = tracer.scope("backbone") {
            tracer.scope("patch_embed") {
                tracer.scope("proj") { tracer.parameter("weight", weight) }
            }
        }
        #expect(tracer.graph.name(of: p.id) == "backbone.patch_embed.proj.weight")
        #expect(tracer.graph.initializers[p.id]?.bitwiseEqual(weight) == true)
        #expect(p.type == ty(.float32, [768, 3, 16, 16]))
        // Outside any scope the key is the bare name; empty scope names are ignored.
        let b = tracer.scope("") { tracer.parameter("bias", Tensor.zeros(.float32, [4])) }
        #expect(tracer.graph.name(of: b.id) == "bias")
        #expect(tracer.qualified("x") == "x")
        #expect(tracer.scope("a") { tracer.scope("b") { tracer.qualified("c") } } == "a.b.c")
    }

    @Test("output() renames a node result to the public name")
    func outputRenames() throws {
        let tracer = Tracer(name: "t")
        let x = tracer.input("x", f32(4))
        let y = try tracer.apply(.relu, [x])[0]
        try tracer.output("logits", y)
        #expect(tracer.graph.outputs == [y.id])
        #expect(tracer.graph.name(of: y.id) == "logits")
        let g = try tracer.finish()
        #expect(g.nodes.count == 1)
    }

    @Test("output() of a graph input goes through an Identity whose value carries the public name")
    func outputOfInput() throws {
        let tracer = Tracer(name: "t")
        let x = tracer.input("x", f32(4))
        try tracer.output("passthrough", x)
        let out = try #require(tracer.graph.outputs.first)
        #expect(out != x.id)
        #expect(tracer.graph.nodes.map(\.op) == [.identity])
                    #expect(tracer.graph.name(of: out) == "passthrough")
        _ = try tracer.finish()
    }

    @Test("finish() verifies: a traced graph passes, a graph without outputs fails")
    func finish() throws {
        let tracer = Tracer(name: "t")
        let x = tracer.input("x", f32(2, 3))
        let w = tracer.scope("fc") { tracer.parameter("weight", Tensor.zeros(.float32, [3, 4])) }
        let y = try tracer.scope("fc") { try tracer.apply(.matMul, [x, w])[0] }
        let err = #expect(throws: VerificationError.self) { try tracer.finish() }
        #expect(err?.problems.contains("graph has no outputs") == true)
        try tracer.output("y", y)
        let g = try tracer.finish()
        #expect(g.outputs == [y.id])
        #expect(g.initializers.count == 1)
    }
}
