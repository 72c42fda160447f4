import Synchronization
import Testing
import VitIR
@testable import VitInterp

/// `Threading.limit` bounds `parallelChunks`, and the kernels give bit-identical results at one
/// and two threads. Other suites may run concurrently while the limit changes here, which is
/// sound exactly because of what this suite asserts: no kernel's result depends on the limit.
@Suite(.serialized) struct ThreadingTests {
    /// Runs `body` with the limit set to `n`, restoring the default afterwards.
    func withLimit<T>(_ n: Int, _ body: () throws -> T) rethrows -> T {
        Threading.setLimit(n)
        defer { Threading.setLimit(Threading.coreCount) }
        return try body()
    }

    @Test func parallelChunksSplitsIntoAtMostTheLimit() {
        let count = 1 << 18
        for limit in [1, 2, 3, 5] {
            let ranges = Mutex<[Range<Int>]>([])
            withLimit(limit) { parallelChunks(count) { r in ranges.withLock { $0.append(r) } } }
            let sorted = ranges.withLock { $0 }.sorted { $0.lowerBound < $1.lowerBound }
            #expect(sorted.count == limit, "limit \(limit)")
            #expect(sorted.first?.lowerBound == 0 && sorted.last?.upperBound == count)
            #expect(zip(sorted, sorted.dropFirst()).allSatisfy { $0.upperBound == $1.lowerBound })
        }
        // Fewer items than two grains: one call whatever the limit.
        let calls = Mutex(0)
        withLimit(4) { parallelChunks(100, grain: 64) { _ in calls.withLock { $0 += 1 } } }
        #expect(calls.withLock { $0 } == 1)
    }

    @Test func limitIsClamped() {
        #expect(withLimit(0) { Threading.limit } == 1)
        #expect(withLimit(-7) { Threading.limit } == 1)
        #expect(withLimit(Int.max) { Threading.limit } == Threading.maximum)
        #expect(Threading.limit == Threading.coreCount)
    }

    @Test func kernelsAreBitIdenticalAtOneAndTwoThreads() throws {
        var rng = SplitMix(seed: 97)
        func random(_ shape: [Int]) -> Tensor { Tensor((0..<shape.reduce(1, *)).map { _ in rng.float(in: -3...3) }, shape: shape) }
        // Sizes beyond two grains of each kernel's parallel loop, so two threads really split.
        let cases: [(String, Op, [Tensor])] = [
            ("Softmax", .softmax(axis: -1), [random([64, 4100])]),
            ("Gelu", .gelu(approximate: .none), [random([1 << 17])]),
            ("Add", .add, [random([600, 512]), random([512])]),
            ("LayerNormalization", .layerNormalization(axis: -1, epsilon: 1e-6), [random([1024, 384]), random([384]), random([384])]),
            ("Conv", .conv(ConvAttributes(kernelShape: [3, 3], pads: [1, 1, 1, 1])), [random([1, 16, 64, 64]), random([8, 16, 3, 3])]),
            ("MatMul", .matMul, [random([4, 300, 64]), random([4, 64, 200])]),
            ("MatMul thin", .matMul, [random([2, 3072]), random([3072, 3])]),
            ("Linear", .matMul, [random([1, 1024, 768]), random([768, 768])]),
        ]
        for (name, op, inputs) in cases {
            let one = try withLimit(1) { try evaluate(op, inputs)[0] }
            let two = try withLimit(2) { try evaluate(op, inputs)[0] }
            #expect(one.floats.map(\.bitPattern) == two.floats.map(\.bitPattern), "\(name) (GEMM: \(GEMMBackend.current))")
        }
    }

    /// Attention one head at a time: heads in turn with split GEMMs at one thread, whole heads
    /// per worker at two (FastPaths/AttentionPerHead.swift).
    @Test func attentionPerHeadIsBitIdenticalAtOneAndTwoThreads() {
        var rng = SplitMix(seed: 89)
        func random(_ shape: [Int]) -> Tensor { Tensor((0..<shape.reduce(1, *)).map { _ in rng.float(in: -3...3) }, shape: shape) }
        let q = random([1, 5, 300, 32]), k = random([1, 5, 300, 32]), v = random([1, 5, 300, 32])
        let one = withLimit(1) { attentionPerHead(q, k, transK: true, v) }, two = withLimit(2) { attentionPerHead(q, k, transK: true, v) }
        #expect(one.output.bitwiseEqual(two.output))
        #expect(one.scratchBytes == 300 * 300 * 4 && two.scratchBytes == 2 * 300 * 300 * 4)
    }

    @Test(arguments: [false, true]) func bothGEMMLibrariesAreBitIdenticalAtOneAndTwoThreads(oneDNN: Bool) {
        var rng = SplitMix(seed: oneDNN ? 101 : 103)
        for (m, n, k) in [(1024, 768, 768), (2, 3, 3072), (300, 256, 2304), (7, 2000, 33)] {
            let a = (0..<(m * k)).map { _ in rng.float(in: -1...1) }, b = (0..<(k * n)).map { _ in rng.float(in: -1...1) }
            func product() -> [Float] {
                var c = [Float](repeating: 0, count: m * n)
                c.withUnsafeMutableBufferPointer { c in
                    if oneDNN {
                        VitInterp.oneDNNGemm(transA: false, transB: false, m: m, n: n, k: k, alpha: 1, a, b, beta: 0, c.baseAddress!)
                    } else {
                        cblasGemm(m: m, n: n, k: k, a, b, c.baseAddress!)
                    }
                }
                return c
            }
            let one = withLimit(1) { product() }, two = withLimit(2) { product() }
            #expect(one.map(\.bitPattern) == two.map(\.bitPattern), "\(oneDNN ? "oneDNN" : "OpenBLAS") m=\(m) n=\(n) k=\(k)")
        }
    }
}
