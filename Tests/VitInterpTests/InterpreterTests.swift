import Testing
import VitIR
import VitInterp

@Suite struct InterpreterTests {
    /// y = relu(x) · w + 1 with w an initializer.
    func smallGraph() throws -> Graph {
        let t = Tracer(name: "g")
        let x = t.input("x", TensorType(.float32, [2, 3]))
        let w = t.parameter("w", f32([1, 2, 3], [3]))
        let r = try t.apply(.relu, [x])[0]
        let m = try t.apply(.mul, [r, w])[0]
        let y = try t.apply(.add, [m, t.constant(.scalar(Float(1)), name: "one")])[0]
        try t.output("y", y)
        try t.output("r", r)
        return try t.finish()
    }

    @Test func runsAndNamesOutputs() throws {
        let result = try Interpreter(try smallGraph()).run(feeds: ["x": f32([-1, 2, -3, 4, -5, 6], [2, 3])])
        #expect(result.outputNames == ["y", "r"])
        expectClose(try #require(result["y"]), [1, 5, 1, 5, 1, 19], shape: [2, 3])
        expectClose(try #require(result["r"]), [0, 2, 0, 4, 0, 6])
        #expect(result.profile.isEmpty)
    }

    @Test func reluExample() throws {
        let t = Tracer(name: "g")
        let x = t.input("x", TensorType(.float32, [2, 3]))
        let y = try t.apply(.relu, [x])[0]
        try t.output("y", y)
        let g = try t.finish()
        let out = try Interpreter(g).run(feeds: ["x": f32([-1, 0, 1, -2, 2, 3], [2, 3])])
        expectClose(try #require(out.outputs["y"]), [0, 0, 1, 0, 2, 3])
    }

    @Test func valuesAreFreedAfterTheirLastUse() throws {
        // A chain of 10 ops over 1000 floats: at most the input of a node and its output are live.
        let t = Tracer(name: "chain")
        var v = t.input("x", TensorType(.float32, [1000]))
        for _ in 0..<10 { v = try t.apply(.neg, [v])[0] }
        try t.output("y", v)
        let result = try Interpreter(try t.finish()).run(feeds: ["x": f32(ramp(1000), [1000])], options: .init(profile: true))
        let tensorBytes = 4000
        #expect(result.peakBytes == 2 * tensorBytes)
        #expect(result.peakBytes < 11 * tensorBytes)
        expectClose(try #require(result["y"]), ramp(1000))
        #expect(result.profile["Neg"] != nil)
    }

    @Test func profileGroupsTimeByOpByScopeAndByPair() throws {
        // Two Negs in scope "a.b", one Neg and one Abs named (no scope) "imported/blk.Neg" and
        // "imported/blk.Abs" as an imported file's nodes are: each grouping's keys, and every
        // node's time counted once in each grouping.
        let t = Tracer(name: "profiled")
        var v = t.input("x", TensorType(.float32, [64]))
        try t.scope("a") { try t.scope("b") { for _ in 0..<2 { v = try t.apply(.neg, [v])[0] } } }
        v = try t.apply(.neg, [v], name: "imported/blk.Neg")[0]
        v = try t.apply(.abs, [v], name: "imported/blk.Abs")[0]
        try t.output("y", v)
        var g = try t.finish()
        for i in g.nodes.indices where g.nodes[i].name.hasPrefix("imported") { g.nodes[i].scope = "" }
        let r = try Interpreter(g).run(feeds: ["x": f32(ramp(64), [64])], options: .init(profile: true))
        #expect(g.nodes.count == 4)
        #expect(Set(r.profile.keys) == ["Neg", "Abs"])
        #expect(Set(r.scopeProfile.keys) == ["a.b", "imported/blk"])
        #expect(Set(r.scopeOpProfile.keys.map { "\($0.scope) \($0.op)" }) == ["a.b Neg", "imported/blk Neg", "imported/blk Abs"])
        let byOp = r.profile.values.reduce(0, +), byScope = r.scopeProfile.values.reduce(0, +)
        let byPair = r.scopeOpProfile.values.reduce(0, +)
        #expect(byOp > 0 && abs(byOp - byScope) <= 1e-12 && abs(byOp - byPair) <= 1e-12)
        let negs = r.scopeOpProfile.filter { $0.key.op == "Neg" }.values.reduce(0, +)
        #expect(abs(negs - r.profile["Neg"]!) <= 1e-12)
    }

    @Test func aSliceViewKeepsItsInputAliveInRunAndPlan() throws {
        // y = Neg(Slice(x)[rows 0..<3]) then Neg of a later value while the slice is still used:
        // the slice is a view, so x's 4×100 floats stay live until its last use, and the plan
        // counts them there (not the 3×100 a copy would hold).
        let t = Tracer(name: "slice-view")
        let x = t.input("x", TensorType(.float32, [4, 100]))
        let part = try t.apply(.slice(SliceAttributes(starts: [0], ends: [3], axes: [0])), [x])[0]
        let a = try t.apply(.reshape(shape: [300]), [part])[0]
        let b = try t.apply(.neg, [a])[0]
        let c = try t.apply(.add, [a, b])[0]
        try t.output("y", c)
        let g = try t.finish()
        let result = try Interpreter(g).run(feeds: ["x": f32(ramp(400), [4, 100])])
        let plan = try #require(plannedMemory(g))
        // During the Add: x (the view's storage, 1600 bytes), b and c (1200 each).
        #expect(result.peakBytes == 1600 + 2 * 1200)
        #expect(plan.peakActivationBytes == result.peakBytes)
        expectClose(try #require(result["y"]), [Float](repeating: 0, count: 300))
    }

    @Test func viewsAndInitializersAreNotCounted() throws {
        let t = Tracer(name: "views")
        let x = t.input("x", TensorType(.float32, [4, 4]))
        let w = t.parameter("w", f32(ramp(16), [4, 4]))
        let a = try t.apply(.reshape(shape: [16]), [x])[0]
        let b = try t.apply(.reshape(shape: [2, 8]), [w])[0]
        let c = try t.apply(.reshape(shape: [2, 8]), [a])[0]
        let y = try t.apply(.add, [b, c])[0]
        try t.output("y", y)
        let result = try Interpreter(try t.finish()).run(feeds: ["x": f32(ramp(16), [4, 4])])
        // x and its two reshaped views share one storage; the weight's view is not counted.
        #expect(result.peakBytes == 2 * 64)
        expectClose(try #require(result["y"]), ramp(16).map { $0 * 2 })
    }

    @Test func feedErrorsNameTheInput() throws {
        let interpreter = Interpreter(try smallGraph())
        func message(_ feeds: [String: Tensor]) -> String {
            do {
                _ = try interpreter.run(feeds: feeds)
                return "no error"
            } catch {
                return error.description
            }
        }
        #expect(message([:]) == "input 'x': missing feed (expected f32[2, 3])")
        #expect(message(["x": f32(ramp(6), [2, 3]), "z": .scalar(Float(1))]).hasPrefix("input 'z': not a graph input"))
        #expect(message(["x": f32(ramp(6), [3, 2])]) == "input 'x': expected f32[2, 3], got f32[3, 2]")
        #expect(message(["x": i64([1, 2, 3, 4, 5, 6], [2, 3])]) == "input 'x': expected f32[2, 3], got i64[2, 3]")
    }

    @Test func runtimeErrorNamesNodeScopeAndLine() throws {
        let t = Tracer(name: "g")
        let table = t.input("table", TensorType(.float32, [5, 2]))
        let index = t.input("index", TensorType(.int64, [2]))
        let line = #line + 1
        let y = try t.scope("backbone") { try t.scope("blocks.0") { try t.apply(.gather(axis: 0), [table, index])[0] } }
        try t.output("y", y)
        let g = try t.finish()
        do {
            _ = try Interpreter(g).run(feeds: ["table": f32(ramp(10), [5, 2]), "index": i64([1, 7], [2])])
            Issue.record("expected an error")
        } catch {
            #expect(error.description == "Gather at backbone.blocks.0 (VitInterpTests/InterpreterTests.swift:\(line)) node 'backbone.blocks.0.Gather': index 7 out of range for axis 0 of extent 5")
            #expect(error.underlying?.kind == .invalidInput)
        }
    }

    @Test func finiteCheckReportsTheNode() throws {
        let t = Tracer(name: "g")
        let x = t.input("x", TensorType(.float32, [2]))
        let y = try t.apply(.log, [x], name: "logits")[0]
        try t.output("y", y)
        let g = try t.finish()
        let feeds = ["x": f32([1, 0], [2])]
        let unchecked = try Interpreter(g).run(feeds: feeds)
        #expect(try #require(unchecked["y"]).floats[1] == -.infinity)
        do {
            _ = try Interpreter(g).run(feeds: feeds, options: .init(checkFinite: true))
            Issue.record("expected an error")
        } catch {
            #expect(error.description.contains("node 'logits': output 0 ('y') holds -inf at flat index 1"))
        }
    }

    @Test func outputThatIsAnInputOrInitializer() throws {
        let t = Tracer(name: "g")
        let x = t.input("x", TensorType(.float32, [2]))
        try t.output("same", x)
        try t.output("weight", t.parameter("w", f32([3, 4], [2])))
        let result = try Interpreter(try t.finish()).run(feeds: ["x": f32([1, 2], [2])])
        expectClose(try #require(result["same"]), [1, 2])
        expectClose(try #require(result["weight"]), [3, 4])
    }
}

@Suite struct CompareTests {
    @Test func maxAbsDiffAcrossDTypesAndNaN() throws {
        #expect(maxAbsDiff(f32([1, 2, 3], [3]), f32([1, 2.5, 2], [3])) == 1)
        #expect(maxAbsDiff(f32([.nan, 1], [2]), f32([.nan, 1], [2])) == 0)
        #expect(maxAbsDiff(f32([.nan], [1]), f32([0], [1])) == .infinity)
        #expect(maxAbsDiff(f32([1], [1]), f32([1], [1, 1])) == .infinity)
        #expect(maxAbsDiff(f32([2, 3], [2]), i64([2, 3], [2])) == 0)
    }
}
