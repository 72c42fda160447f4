import Foundation
import Testing
import VitIR
import VitInterp
@testable import VitModels

/// Every shape is static, so oversized models are refused before allocation, naming the tensor.
@Suite struct MemoryBudgetTests {
    private func config(embedDim: Int = 32, imageSize: Int = 32) throws -> ModelConfig {
        let text = """
            {"name": "t", "architecture": "conv-attention", "image_size": [\(imageSize), \(imageSize)], "seed": 0,
             "conv_attention": {"in_channels": 3, "stem_channels": 8, "patch_size": 4, "embed_dim": \(embedDim),
               "depth": 1, "num_heads": 2, "mlp_ratio": 2.0, "layer_norm_eps": 1e-6, "neck_groups": 4, "num_classes": 10}}
            """
        return try ModelConfig.parse(Data(text.utf8), source: "test.json")
    }

    private func traceError(_ c: ModelConfig) -> String {
        do {
            _ = try traceModel(c)
            return "no error"
        } catch {
            return "\(error)"
        }
    }

    @Test func hugeEmbeddingIsRefusedAtItsFirstParameter() throws {
        let message = traceError(try config(embedDim: 1 << 40))
        #expect(message.contains("over the memory budget"), "\(message)")
        #expect(message.contains("parameter '"), "\(message)")
    }

    @Test func hugeImageIsRefusedNamingTheOp() throws {
        let message = traceError(try config(imageSize: 100_000))
        #expect(message.contains("over the memory budget"), "\(message)")
        #expect(message.contains("[1, 3, 100000, 100000]") || message.contains("100000"), "\(message)")
    }

    @Test func planFollowsLivenessAndRefusesOverBudget() throws {
        let g = try traceModel(try config())
        let plan = try #require(plannedMemory(g))
        let input = try #require(g.inputs.first)
        let inputBytes = g.type(of: input).shape.elementCount! * 4
        #expect(plan.peakActivationBytes >= inputBytes)
        #expect(plan.initializerBytes == g.parameterStats.bytes)
        // The interpreter's measured peak never exceeds the plan (kernel scratch aside).
        let x = Tensor.float32([1, 3, 32, 32]) { p in for i in p.indices { p[i] = Float(i % 7) / 7 } }
        let result = try Interpreter(g).run(feeds: [g.name(of: input): x])
        #expect(result.peakBytes <= plan.peakActivationBytes)
        // One byte below the plan's peak is refused, naming the run.
        let tight = MemoryBudget(bytes: plan.peakBytes - 1)
        #expect(throws: MemoryBudgetError.self) { try checkMemory(g, budget: tight) }
        #expect(throws: InterpreterError.self) {
            try Interpreter(g).run(feeds: [g.name(of: input): x], options: .init(budget: tight))
        }
        try checkMemory(g, budget: MemoryBudget(bytes: plan.peakBytes))
    }
}
