import Testing
@testable import VitIR

/// The verifier reports every broken invariant of a graph at once.
@Suite struct VerifierTests {
    /// x: f32[2, 3] input, w: f32[3, 4] initializer, y = MatMul(x, w), z = Relu(y); outputs [z].
    static func wellFormed() -> Graph {
        var g = Graph(name: "g")
        let x = g.addValue(name: "x", type: f32(2, 3))
        let w = g.addValue(name: "w", type: f32(3, 4))
        let y = g.addValue(name: "y", type: f32(2, 4))
        let z = g.addValue(name: "z", type: f32(2, 4))
        g.inputs = [x]
        g.initializers[w] = Tensor.zeros(.float32, [3, 4])
        g.nodes = [
            Node(name: "mm", op: .matMul, inputs: [x, w], outputs: [y], scope: "", location: .unknown),
            Node(name: "act", op: .relu, inputs: [y], outputs: [z], scope: "", location: .unknown),
        ]
        g.outputs = [z]
        return g
    }

    /// Runs the verifier expecting failure and returns the problems (empty if it passed).
    func problems(_ g: Graph, sourceLocation: Testing.SourceLocation = #_sourceLocation) -> [String] {
        do {
            try verify(g)
            Issue.record("verification passed", sourceLocation: sourceLocation)
            return []
        } catch {
            return error.problems
        }
    }

    func expectProblem(_ problems: [String], containing parts: String...,
                       sourceLocation: Testing.SourceLocation = #_sourceLocation) {
        #expect(problems.contains { p in parts.allSatisfy(p.contains) },
                "no problem mentions \(parts) in \(problems)", sourceLocation: sourceLocation)
    }

    @Test("a well-formed hand-built graph passes")
    func wellFormedPasses() {
        #expect(throws: Never.self) { try verify(Self.wellFormed()) }
    }

    @Test("a well-formed traced graph passes")
    func tracedPasses() throws {
        let tracer = Tracer(name: "traced")
        let x = tracer.input("pixel_values", f32(1, 3, 32, 32))
        let out = try tracer.scope("stem") {
            let w = tracer.parameter("weight", Tensor.zeros(.float32, [8, 3, 3, 3]))
            let b = tracer.parameter("bias", Tensor.zeros(.float32, [8]))
            let c = try tracer.apply(.conv(ConvAttributes(kernelShape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1])), [x, w, b])[0]
            let p = try tracer.apply(.maxPool(PoolAttributes(kernelShape: [2, 2], strides: [2, 2], ceilMode: true)), [c])[0]
            let t = try tracer.apply(.reshape(shape: [1, 8, 64]), [p])[0]
            return try tracer.apply(.topK(TopKAttributes(k: 5)), [t])
        }
        try tracer.output("scores", out[0])
        try tracer.output("indices", out[1])
        #expect(throws: Never.self) { try verify(tracer.graph) }
        #expect(tracer.graph.type(of: out[0].id) == f32(1, 8, 5))
    }

    @Test("use before definition")
    func useBeforeDefinition() {
        var g = Self.wellFormed()
        g.nodes.swapAt(0, 1)
        let p = problems(g)
        expectProblem(p, containing: "node 'act'", "reads 'y' before it is defined")
    }

    @Test("a value defined twice (graph input and node output)")
    func definedTwice() {
        var g = Self.wellFormed()
        g.inputs.append(ValueID(2))       // y is also produced by 'mm'
        let p = problems(g)
        expectProblem(p, containing: "value 'y' is defined twice", "node 'mm'")
    }

    @Test("a value produced by two nodes")
    func producedTwice() {
        var g = Self.wellFormed()
        g.nodes.append(Node(name: "act2", op: .relu, inputs: [ValueID(2)], outputs: [ValueID(3)], scope: "", location: .unknown))
        expectProblem(problems(g), containing: "value 'z' is defined twice", "act2")
    }

    @Test("duplicate value names")
    func duplicateValueNames() {
        var g = Self.wellFormed()
        g.values[3].name = "x"
        expectProblem(problems(g), containing: "value name 'x' is used by %0 and %3")
    }

    @Test("an empty value name")
    func emptyValueName() {
        var g = Self.wellFormed()
        g.values[2].name = ""
        expectProblem(problems(g), containing: "value %2 has an empty name")
    }

    @Test("duplicate node names")
    func duplicateNodeNames() {
        var g = Self.wellFormed()
        g.nodes[1].name = "mm"
        expectProblem(problems(g), containing: "node name 'mm' is used twice")
    }

    @Test("a node output type that disagrees with the shape rule")
    func wrongOutputType() {
        var g = Self.wellFormed()
        g.values[2].type = f32(2, 5)           // MatMul [2, 3] × [3, 4] gives [2, 4]
        let p = problems(g)
        expectProblem(p, containing: "node 'mm'", "declared f32[2, 5]", "shape rule gives f32[2, 4]")
        // The dtype counts too.
        var h = Self.wellFormed()
        h.values[3].type = f16(2, 4)
        expectProblem(problems(h), containing: "node 'act'", "declared f16[2, 4]")
    }

    @Test("a node whose inputs fail its shape rule")
    func failingShapeRule() {
        var g = Self.wellFormed()
        g.values[1].type = f32(5, 4)
        g.initializers[ValueID(1)] = Tensor.zeros(.float32, [5, 4])
        expectProblem(problems(g), containing: "node 'mm'", "fails its shape rule", "(3)", "(5)")
    }

    @Test("a node with the wrong number of outputs")
    func wrongOutputCount() {
        var g = Graph(name: "g")
        let x = g.addValue(name: "x", type: f32(10))
        let v = g.addValue(name: "v", type: f32(3))
        g.inputs = [x]
        g.nodes = [Node(name: "topk", op: .topK(TopKAttributes(k: 3)), inputs: [x], outputs: [v], scope: "", location: .unknown)]
        g.outputs = [v]
        expectProblem(problems(g), containing: "node 'topk'", "has 1 outputs, its op produces 2")
    }

    @Test("an initializer whose tensor type differs from its declared type")
    func initializerTypeMismatch() {
        var g = Self.wellFormed()
        g.initializers[ValueID(1)] = Tensor.zeros(.float32, [4, 3])
        expectProblem(problems(g), containing: "initializer 'w' holds f32[4, 3]", "declared f32[3, 4]")
        var h = Self.wellFormed()
        h.initializers[ValueID(1)] = Tensor.zeros(.float16, [3, 4])
        expectProblem(problems(h), containing: "initializer 'w' holds f16[3, 4]")
    }

    @Test("references to values that do not exist")
    func unknownValues() {
        var g = Self.wellFormed()
        g.nodes[1].inputs = [ValueID(42)]
        g.outputs.append(ValueID(-1))
        let p = problems(g)
        expectProblem(p, containing: "node 'act'", "reads unknown value %42")
        expectProblem(p, containing: "graph output %-1 is never defined")
    }

    @Test("a graph output that nothing defines")
    func undefinedOutput() {
        var g = Self.wellFormed()
        let dangling = g.addValue(name: "dangling", type: f32(1))
        g.outputs.append(dangling)
        expectProblem(problems(g), containing: "graph output 'dangling' is never defined")
    }

    @Test("an empty outputs list")
    func noOutputs() {
        var g = Self.wellFormed()
        g.outputs = []
        #expect(problems(g) == ["graph has no outputs"])
    }

    @Test("several problems are reported together, each once")
    func multipleProblems() {
        var g = Self.wellFormed()
        g.nodes[1].name = "mm"                                      // duplicate node name
        g.initializers[ValueID(1)] = Tensor.zeros(.float32, [9])    // initializer mismatch
        g.values[3].type = i64(2, 4)                                // Relu output type wrong
        g.outputs = []                                              // no outputs
        let p = problems(g)
        #expect(p.count == 4, "\(p)")
        expectProblem(p, containing: "node name 'mm' is used twice")
        expectProblem(p, containing: "initializer 'w' holds f32[9]")
        expectProblem(p, containing: "declared i64[2, 4]")
        expectProblem(p, containing: "graph has no outputs")
        // The error's description lists them all.
        do { try verify(g) } catch {
            #expect(error.description.hasPrefix("graph verification failed (4 problems)"))
            for problem in p { #expect(error.description.contains("  - " + problem)) }
        }
    }

    @Test("problem labels carry the node's op and source location")
    func problemLabels() {
        var g = Self.wellFormed()
        g.nodes[0].location = SourceLocation(file: "VitModels/ViT.swift", line: 42)
        g.values[2].type = f32(1)
        expectProblem(problems(g), containing: "node 'mm' (MatMul, VitModels/ViT.swift:42)")
    }
}
