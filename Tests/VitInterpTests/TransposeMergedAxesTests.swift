import Testing
import VitIR
@testable import VitInterp

extension FastPathTests {
    // MARK: Transpose on merged axes

    /// Transpose by its definition, one element at a time with index arithmetic only: output
    /// element at index o reads input index i with i[perm[a]] = o[a] (the oracle, independent
    /// of `gatherAxes`' block copies).
    func transposeByElements(_ x: Tensor, perm: [Int]) -> Tensor {
        let outShape = perm.map { x.shape[$0] }, size = x.dtype.byteSize
        let inStrides = rowMajorStrides(x.shape)
        return Tensor(dtype: x.dtype, shape: outShape) { raw in
            let src = x.rawPointer
            var o = 0
            forEachIndex(outShape) { index in
                var i = 0
                for a in perm.indices { i += index[a] * inStrides[perm[a]] }
                for byte in 0..<size { raw[o * size + byte] = src.load(fromByteOffset: i * size + byte, as: UInt8.self) }
                o += 1
            }
        }
    }

    @Test func transposeMergedAxes() throws {
        var rng = SplitMix(seed: 101)
        // Attention's and deformable attention's transposes, then random ones.
        var cases: [(shape: [Int], perm: [Int], dtype: DType)] = [
            ([1, 1025, 3, 12, 64], [2, 0, 3, 1, 4], .float32),
            ([1, 12, 1025, 64], [0, 2, 1, 3], .float32),
            ([1, 4096, 8, 32], [0, 2, 3, 1], .float32),
            ([1, 5440, 8, 4, 2], [0, 2, 1, 3, 4], .float32),
            ([1, 300, 3, 12, 64], [2, 0, 3, 1, 4], .float16),
            ([1, 1, 1], [2, 0, 1], .float32), ([], [], .float32), ([5], [0], .int64),
            ([2, 1, 3], [1, 0, 2], .float32),  // no movement once the unit axis is dropped
            ([70, 33, 5], [2, 1, 0], .uint8),
        ]
        let dtypes: [DType] = [.float32, .float16, .int64, .uint8, .bool]
        for _ in 0..<80 {
            let rank = rng.int(1...5)
            let shape = (0..<rank).map { _ in [1, 2, 3, 7, 33][rng.int(0...4)] }
            var perm = Array(0..<rank)
            for i in stride(from: rank - 1, to: 0, by: -1) { perm.swapAt(i, rng.int(0...i)) }
            cases.append((shape, perm, dtypes[rng.int(0...(dtypes.count - 1))]))
        }
        for (shape, perm, dtype) in cases {
            let x = Tensor(dtype: dtype, shape: shape) { raw in
                for i in raw.indices { raw[i] = dtype == .bool ? UInt8(rng.int(0...1)) : UInt8(truncatingIfNeeded: rng.next()) }
            }
            let expected = transposeByElements(x, perm: perm)
            #expect(VitInterp.transposeMergedAxes(x, perm: perm).bitwiseEqual(expected), "\(dtype) \(shape) \(perm)")
            #expect(transpose(x, perm: perm).bitwiseEqual(expected), "\(dtype) \(shape) \(perm)")
        }
        // The merged forms the kernels see.
        #expect(mergedTranspose([1, 1025, 3, 12, 64], [2, 0, 3, 1, 4]) == ([1025, 36, 64], [1, 0, 2]))
        #expect(mergedTranspose([1, 4096, 8, 32], [0, 2, 3, 1]) == ([4096, 256], [1, 0]))
        #expect(mergedTranspose([1, 5440, 8, 4, 2], [0, 2, 1, 3, 4]) == ([5440, 8, 8], [1, 0, 2]))
        #expect(mergedTranspose([1, 12, 1025, 64], [0, 2, 1, 3]) == ([12, 1025, 64], [1, 0, 2]))
        #expect(mergedTranspose([2, 1, 3], [1, 0, 2]) == ([6], [0]))
        // A Transpose that moves nothing is a view, and the memory plan knows it.
        let x = Tensor([Float](repeating: 1, count: 6), shape: [2, 1, 3])
        #expect(transpose(x, perm: [1, 0, 2]).storage === x.storage)
        #expect(transposeIsView([2, 1, 3], [1, 0, 2]))
        #expect(!transposeIsView([2, 1, 3], [2, 1, 0]) && !transposeIsView([1, 2], [1, 0]) && !transposeIsView([0, 1, 3], [1, 0, 2]))
    }
}
