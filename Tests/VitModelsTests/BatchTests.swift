import Foundation
import ONNXProto
import Testing
import VitIR
import VitInterp
import VitModels
import VitONNX
import VitPasses

// A batch of images: a static batch traced at N, and a dynamic-batch export made from the
// traces at 2 and 3. Each image's detections must be what a batch of one gives it.

/// `count` images [1, 3, H, W] of seeded uniform values on the 0…255 scale, distinct per `seed`.
private func images(_ count: Int, size: [Int], seed: UInt64) -> [Tensor] {
    var rng = SplitMix64(seed: seed)
    return (0..<count).map { _ in
        Tensor.float32([1, 3, size[0], size[1]]) { p in for i in p.indices { p[i] = 255 * Float(rng.nextUnit()) } }
    }
}

/// The images stacked along the batch axis.
private func stacked(_ parts: [Tensor]) -> Tensor {
    let shape = [parts.count] + Array(parts[0].shape.dropFirst())
    return Tensor(parts.flatMap(\.floats), shape: shape)
}

/// Row `i` of a [B, …] output as a [1, …] tensor with the output's dtype.
private func row(_ t: Tensor, _ i: Int) -> Tensor {
    let n = t.count / t.shape[0]
    let shape = [1] + Array(t.shape.dropFirst())
    if t.dtype == .int64 { return Tensor(Array(t.int64s[(i * n)..<(i * n + n)]), shape: shape) }
    return Tensor(Array(t.floats[(i * n)..<(i * n + n)]), shape: shape)
}

private func folded(_ config: ModelConfig, batch: Int) throws -> Graph {
    var g = try traceModel(config, batch: batch)
    _ = try optimize(&g)
    return g
}

private func dynamicModel(_ config: ModelConfig, opset: Int = 17) throws -> (Onnx_ModelProto, Graph) {
    let main = try folded(config, batch: 2)
    let twin = try folded(config, batch: 3)
    let options = ExportOptions(opset: opset, runChecker: false, dynamicBatch: DynamicBatch(twin: twin, batch: 2, twinBatch: 3))
    return (try makeModel(main, options: options), main)
}

@Test func staticBatchOfTwoGivesEachImageItsBatchOneDetectionsBitForBit() throws {
    let config = try ModelConfig.load("dino-tiny")
    let pictures = images(2, size: config.imageSize, seed: 41)
    #expect(!pictures[0].bitwiseEqual(pictures[1]))
    let single = Interpreter(try folded(config, batch: 1))
    let batch = try folded(config, batch: 2)
    #expect(batch.type(of: batch.inputs[0]).shape == Shape([2, 3, config.imageSize[0], config.imageSize[1]]))
    let together = try Interpreter(batch).run(feeds: ["image": stacked(pictures)])
    for (i, picture) in pictures.enumerated() {
        let alone = try single.run(feeds: ["image": picture])
        for name in ["boxes", "scores", "labels"] {
            let got = row(try #require(together.outputs[name]), i)
            let expected = try #require(alone.outputs[name])
            #expect(got.shape == expected.shape && got.bitwiseEqual(expected), "image \(i) \(name) differs in the batch")
        }
    }
    // The export passes libonnx's checker and its shape inference agrees with every type.
    #expect(try checkWithLibONNX(makeModel(batch, options: ExportOptions(opset: 17, runChecker: false))) != nil)
    // The two images' detections differ: a batch that repeated image 0 would fail above.
    #expect(!row(together.outputs["boxes"]!, 0).bitwiseEqual(row(together.outputs["boxes"]!, 1)))
}

@Test func dynamicBatchExportHasASymbolicBatchAndNoShapeComputation() throws {
    let config = try ModelConfig.load("dino-tiny")
    let (model, main) = try dynamicModel(config)
    let plain = try makeModel(main, options: ExportOptions(opset: 17, runChecker: false))
    let g = model.graph
    for vi in g.input + g.output {
        let dims = vi.type.tensorType.shape.dim
        #expect(dims.first?.dimParam == "batch", "\(vi.name)")
        #expect(dims.dropFirst().allSatisfy { $0.dimValue > 0 && $0.dimParam.isEmpty }, "\(vi.name)")
    }
    #expect(g.valueInfo.filter { $0.type.tensorType.shape.dim.contains { $0.dimParam == "batch" } }.count > 100)
    let ops = Set(g.node.map(\.opType))
    for op in ["Shape", "ConstantOfShape", "Range", "NonZero", "Size", "Loop", "If", "Tile"] { #expect(!ops.contains(op), "\(op)") }
    #expect(g.node.map(\.opType) == plain.graph.node.map(\.opType))

    // Shape constants: only Reshape/Expand shapes change, to 0 (copy), −1 (one, inferred) or 1.
    let dynamicValues = Dictionary(uniqueKeysWithValues: g.initializer.map { ($0.name, $0) })
    let plainValues = Dictionary(uniqueKeysWithValues: plain.graph.initializer.map { ($0.name, $0) })
    var copies = 0, inferred = 0, broadcast = 0
    for node in g.node {
        for (k, input) in node.input.enumerated() {
            guard let d = dynamicValues[input], let p = plainValues[input], d != p else { continue }
            let (dv, pv) = (try importTensor(d).int64s, try importTensor(p).int64s)
            let changed = zip(dv, pv).filter { $0 != $1 }.map(\.0)
            switch (node.opType, k) {
            case ("Reshape", 1):
                #expect(changed.allSatisfy { $0 == 0 || $0 == -1 } && changed.filter { $0 == -1 }.count <= 1, "\(node.name): \(dv)")
                copies += changed.filter { $0 == 0 }.count
                inferred += changed.filter { $0 == -1 }.count
            case ("Expand", 1):
                #expect(changed.allSatisfy { $0 == 1 }, "\(node.name): \(dv)")
                broadcast += changed.count
            default:
                Issue.record("\(node.name) (\(node.opType)) input \(k) changed for the dynamic batch")
            }
        }
    }
    #expect(copies > 20 && inferred > 4 && broadcast >= 2, "copies \(copies), inferred \(inferred), broadcast \(broadcast)")
    // libonnx checks it (checker, then shape inference agreeing with every declared type).
    #expect(try checkWithLibONNX(model) != nil)
}

@Test func dynamicBatchFileRunsAtTheFedBatchLikeTheStaticTraces() throws {
    // Opset 21 has the IR's GELU and GroupNormalization as ops, so the file computes bit for
    // bit what the trace does.
    let config = try ModelConfig.load("tiny-convattn")
    let (model, _) = try dynamicModel(config, opset: 21)
    let pictures = images(4, size: config.imageSize, seed: 5)
    for b in [1, 2, 4] {
        let file = try importModel(model, baseDirectory: nil, options: ImportOptions(dimensions: ["batch": b]))
        let feeds = ["image": stacked(Array(pictures.prefix(b)))]
        let got = try Interpreter(file).run(feeds: feeds)
        let expected = try Interpreter(try folded(config, batch: b)).run(feeds: feeds)
        for name in ["logits", "features"] {
            let (x, y) = (try #require(got.outputs[name]), try #require(expected.outputs[name]))
            #expect(x.shape == y.shape && x.shape.first == b && x.bitwiseEqual(y), "batch \(b) \(name)")
        }
    }
    #expect(throws: ImportError.self) { try importModel(model, baseDirectory: nil) }
    do { _ = try importModel(model, baseDirectory: nil) } catch { #expect("\(error)".contains("'batch'"), "\(error)") }
}

@Test func dynamicDetectorFileGivesEachImageItsTracedBatchOneDetections() throws {
    // Opset 21 exports GELU as Gelu-20, the IR's own op, so the file computes bit for bit what
    // the trace does (at 17 its Erf decomposition rounds differently, ~1e-4 px).
    let config = try ModelConfig.load("dino-tiny")
    let (model, _) = try dynamicModel(config, opset: 21)
    let pictures = images(2, size: config.imageSize, seed: 77)
    let file = try importModel(model, baseDirectory: nil, options: ImportOptions(dimensions: ["batch": 2]))
    let together = try Interpreter(file).run(feeds: ["image": stacked(pictures)])
    let single = Interpreter(try folded(config, batch: 1))
    for (i, picture) in pictures.enumerated() {
        let alone = try single.run(feeds: ["image": picture])
        for name in ["boxes", "scores", "labels"] {
            #expect(row(together.outputs[name]!, i).bitwiseEqual(alone.outputs[name]!), "image \(i) \(name)")
        }
    }
}

/// x [B, 4] + (a [1, 4] constant expanded to [B, 4]) under scope `head`: the constant has no
/// batch, so its Expand needs the batch size as a number.
private func expandedConstant(batch: Int) throws -> Graph {
    let t = Tracer(name: "expanded-constant")
    let x = t.input("x", TensorType(.float32, [batch, 4]))
    let c = t.constant(Tensor([1, 2, 3, 4] as [Float], shape: [1, 4]), name: "c")
    let y = try t.scope("head") { try x.add(c.expand([batch, 4])) }
    try t.output("y", y)
    return try t.finish()
}

@Test func dynamicBatchRefusesAPatternItCannotExpressNamingTheNode() throws {
    let dynamic = DynamicBatch(twin: try expandedConstant(batch: 3), batch: 2, twinBatch: 3)
    let options = ExportOptions(opset: 17, runChecker: false, dynamicBatch: dynamic)
    do {
        _ = try makeModel(try expandedConstant(batch: 2), options: options)
        Issue.record("an Expand of a batch-less constant was exported with a dynamic batch")
    } catch let error as ExportError {
        #expect(error.message.contains("node head.Expand (Expand) at scope head"), "\(error)")
    }
    // Folded, the expanded constant is a batch-sized initializer: the node using it is named.
    var main = try expandedConstant(batch: 2), twin = try expandedConstant(batch: 3)
    _ = try optimize(&main)
    _ = try optimize(&twin)
    do {
        _ = try makeModel(main, options: ExportOptions(opset: 17, runChecker: false,
                                                       dynamicBatch: DynamicBatch(twin: twin, batch: 2, twinBatch: 3)))
        Issue.record("a batch-sized folded constant was exported with a dynamic batch")
    } catch let error as ExportError {
        #expect(error.message.contains("node head.Add (Add) at scope head"), "\(error)")
        #expect(error.message.contains("depend on the batch size"), "\(error)")
    }
}

@Test func batchOutsideTheLimitIsAConfigurationError() throws {
    let config = try ModelConfig.load("tiny-convattn")
    for batch in [0, -2, InputLimits.maxBatch + 1] {
        #expect(throws: ConfigError.self) { try traceModel(config, batch: batch) }
        do { _ = try traceModel(config, batch: batch) } catch { #expect("\(error)".contains("batch: expected a batch size in 1…\(InputLimits.maxBatch), got \(batch)"), "\(error)") }
    }
    let detector = try ModelConfig.load("dino-tiny")
    #expect(throws: ConfigError.self) { try traceDetectorModel(detector, options: DetectorTraceOptions(batch: 0)) }
}
