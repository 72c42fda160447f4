import Synchronization
import Testing
import VitIR
@testable import VitInterp

/// `Threading.limit` bounds `parallelChunks`, and the kernels give bit-identical results at one
/// and two threads. Other suites may run concurrently while the limit changes here, which is
/// sound exactly because of what this suite asserts: no kernel's result depends on the limit
/// (OpenBLAS's, which may, is used only where its rounding is tolerated).
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

    /// GEMM shapes (m, n, k): a ViT linear layer, thin, tall-deep, wide-shallow.
    static let gemmShapes = [(1024, 768, 768), (2, 3, 3072), (300, 256, 2304), (7, 2000, 33)]

    /// Random A [m, k] and B [k, n] in -1…1.
    func operands(_ m: Int, _ n: Int, _ k: Int, _ rng: inout SplitMix) -> ([Float], [Float]) {
        ((0..<(m * k)).map { _ in rng.float(in: -1...1) }, (0..<(k * n)).map { _ in rng.float(in: -1...1) })
    }

    /// The m×n result `body` writes through its pointer.
    func gemm(_ m: Int, _ n: Int, _ body: (UnsafeMutablePointer<Float>) -> Void) -> [Float] {
        var c = [Float](repeating: 0, count: m * n)
        c.withUnsafeMutableBufferPointer { body($0.baseAddress!) }
        return c
    }

    /// oneDNN's GEMMs run in row blocks fixed by the shape and the core count, never by the
    /// limit, so one and two workers compute the same calls.
    @Test func oneDNNIsBitIdenticalAtOneAndTwoThreads() {
        var rng = SplitMix(seed: 101)
        for (m, n, k) in Self.gemmShapes {
            let (a, b) = operands(m, n, k, &rng)
            func product() -> [Float] {
                gemm(m, n) { VitInterp.oneDNNGemm(transA: false, transB: false, m: m, n: n, k: k, alpha: 1, a, b, beta: 0, $0) }
            }
            let one = withLimit(1) { product() }, two = withLimit(2) { product() }
            #expect(one.map(\.bitPattern) == two.map(\.bitPattern), "m=\(m) n=\(n) k=\(k)")
        }
    }

    /// A batch stacked into the rows of one GEMM: each element's rows are computed in the blocks
    /// a GEMM of that element alone uses, so they are its product bit for bit. (oneDNN 2.6 on an
    /// AVX2 Zen 3 sums a row differently in a call of 300 or 2 rows than in one of 1,200.)
    @Test func stackedRowGroupsGetTheirOwnProductBitForBit() {
        var rng = SplitMix(seed: 107)
        for (group, n, k) in [(300, 256, 256), (1025, 768, 64), (2, 3, 3072), (7, 2000, 33), (50, 32, 80)] {
            let batch = 3, m = 3 * group
            let (a, b) = operands(m, n, k, &rng)
            for limit in [1, 2] {
                let together = withLimit(limit) {
                    gemm(m, n) { VitInterp.oneDNNGemm(transA: false, transB: false, m: m, n: n, k: k, alpha: 1, a, b, beta: 0, $0, rowGroup: group) }
                }
                for i in 0..<batch {
                    let alone = withLimit(limit) {
                        a.withUnsafeBufferPointer { a in
                            gemm(group, n) {
                                VitInterp.oneDNNGemm(transA: false, transB: false, m: group, n: n, k: k, alpha: 1,
                                                     a.baseAddress! + i * group * k, b, beta: 0, $0)
                            }
                        }
                    }
                    let rows = together[(i * group * n)..<((i + 1) * group * n)]
                    #expect(rows.map(\.bitPattern) == alone.map(\.bitPattern), "group \(group) n=\(n) k=\(k) element \(i) limit \(limit)")
                }
            }
        }
    }

    /// OpenBLAS (`--gemm openblas`) splits its GEMMs by its own thread count, which may move a
    /// row into another k order (seen on an AVX2 Zen 3): at one and two threads the products
    /// agree within twice the rounding bound of a length-k Float dot product.
    @Test func openBLASAtOneAndTwoThreadsAgreesWithinRounding() {
        var rng = SplitMix(seed: 103)
        for (m, n, k) in Self.gemmShapes {
            let (a, b) = operands(m, n, k, &rng)
            func product() -> [Float] { gemm(m, n) { cblasGemm(m: m, n: n, k: k, a, b, $0) } }
            let one = withLimit(1) { product() }, two = withLimit(2) { product() }
            var worst = 0.0
            for i in 0..<m {
                for j in 0..<n {
                    var magnitude = 0.0
                    for p in 0..<k { magnitude += abs(Double(a[i * k + p]) * Double(b[p * n + j])) }
                    let bound = 2 * Double(k) * 0x1p-24 * magnitude
                    worst = Swift.max(worst, abs(Double(one[i * n + j]) - Double(two[i * n + j])) / Swift.max(bound, .leastNonzeroMagnitude))
                }
            }
            #expect(worst <= 1, "m=\(m) n=\(n) k=\(k): \(worst) of the bound")
        }
    }
}
