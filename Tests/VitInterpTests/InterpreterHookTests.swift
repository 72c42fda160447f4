import Testing
import VitIR
import VitInterp

// Interpreter hooks: observing and substituting named values during a run.

/// y = (x · 2) + 1 with the intermediate value named `g.Mul` and the output `y`.
private func doubledPlusOne() throws -> Graph {
    let t = Tracer(name: "g")
    let x = t.input("x", TensorType(.float32, [3]))
    let m = try t.apply(.mul, [x, t.constant(.scalar(Float(2)), name: "two")], name: "double")[0]
    let y = try t.apply(.add, [m, t.constant(.scalar(Float(1)), name: "one")])[0]
    try t.output("y", y)
    return try t.finish()
}

@Test func hooksObserveAnIntermediateValueAndAnInitializer() throws {
    let result = try Interpreter(try doubledPlusOne()).run(feeds: ["x": f32([1, 2, 3], [3])],
                                                          hooks: Interpreter.Hooks(observe: ["double", "two", "x"]))
    expectClose(try #require(result.observed["double"]), [2, 4, 6])
    expectClose(try #require(result.observed["two"]), [2], shape: [])
    expectClose(try #require(result.observed["x"]), [1, 2, 3])
    expectClose(try #require(result["y"]), [3, 5, 7])
}

@Test func hooksOverrideAValueForEveryLaterUse() throws {
    let hooks = Interpreter.Hooks(observe: ["double"], overrides: ["double": f32([10, 20, 30], [3])])
    let result = try Interpreter(try doubledPlusOne()).run(feeds: ["x": f32([1, 2, 3], [3])], hooks: hooks)
    expectClose(try #require(result["y"]), [11, 21, 31])
    // Observed as computed, before the substitution.
    expectClose(try #require(result.observed["double"]), [2, 4, 6])
    // Overriding a graph input replaces the feed.
    let fed = try Interpreter(try doubledPlusOne()).run(feeds: ["x": f32([1, 2, 3], [3])],
                                                       hooks: Interpreter.Hooks(overrides: ["x": f32([0, 0, 1], [3])]))
    expectClose(try #require(fed["y"]), [1, 1, 3])
}

@Test func hooksRejectUnknownNamesAndMistypedOverrides() throws {
    let graph = try doubledPlusOne()
    let feeds = ["x": f32([1, 2, 3], [3])]
    #expect {
        try Interpreter(graph).run(feeds: feeds, hooks: Interpreter.Hooks(observe: ["dubble"]))
    } throws: { "\($0)".contains("hook names value 'dubble', which the graph does not have") }
    #expect {
        try Interpreter(graph).run(feeds: feeds, hooks: Interpreter.Hooks(overrides: ["double": f32([1, 2], [2])]))
    } throws: { "\($0)".contains("override of 'double' is f32[2]") }
}
