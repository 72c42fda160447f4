import Testing
import VitIR
@testable import VitModels

/// Seeded parameters fill in parallel chunks; the values must be those of one sequential pass.
@Suite struct SeededParametersTests {
    /// Under every worker bound (`WorkerThreads.limit`, vitexport --threads): one worker taking
    /// every chunk, or three taking them in turn.
    @Test(arguments: [ParameterInit.normal(std: 0.02), .nearOne(std: 0.1), .uniform(bound: 0.5)], [1, 3])
    func parallelFillEqualsSequentialStream(_ initializer: ParameterInit, workers: Int) {
        let key = "blocks.3.mlp.fc1.weight", seed: UInt64 = 7
        let shape = [3, 70_001]  // Several chunks of 65536 and a ragged last one.
        let previous = WorkerThreads.limit
        WorkerThreads.setLimit(workers)
        defer { WorkerThreads.setLimit(previous) }
        let t = SeededParameters(seed: seed).tensor(for: key, shape: shape, initializer: initializer)
        var rng = SplitMix64(seed: seed ^ FNV1a.hash(key))
        var expected: [Float] = []
        for _ in 0..<(3 * 70_001) {
            switch initializer {
            case .normal(let std): expected.append(std * rng.nextNormal())
            case .nearOne(let std): expected.append(1 + std * rng.nextNormal())
            case .uniform(let b): expected.append(b * (2 * rng.nextUnit() - 1))
            }
        }
        #expect(t.floats == expected)
    }

    @Test func skippingAheadEqualsStepping() {
        var stepped = SplitMix64(seed: 42)
        for _ in 0..<1000 { _ = stepped.next() }
        var skipped = SplitMix64(seed: 42, skipping: 1000)
        #expect(stepped.next() == skipped.next())
    }
}
