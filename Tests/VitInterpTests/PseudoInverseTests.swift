import Testing
import VitIR
@testable import VitInterp

@Suite struct PseudoInverseTests {
    @Test func invertibleMatrixGivesTheInverse() throws {
        // [[4, 7], [2, 6]]⁻¹ = [[0.6, -0.7], [-0.2, 0.4]]
        let a = Tensor([4, 7, 2, 6] as [Float], shape: [2, 2])
        let p = try evaluate(.pseudoInverse, [a])[0]
        #expect(p.shape == [2, 2])
        #expect(maxAbsDiff(p, Tensor([0.6, -0.7, -0.2, 0.4] as [Float], shape: [2, 2])) < 1e-6)
    }

    @Test func tallMatrixSatisfiesThePenroseConditions() throws {
        // A (3×2, full column rank): A⁺ = (AᵀA)⁻¹Aᵀ, so A⁺A = I and A A⁺ A = A.
        let a = Tensor([1, 2, 3, 4, 5, 7] as [Float], shape: [3, 2])
        let p = try evaluate(.pseudoInverse, [a])[0]
        #expect(p.shape == [2, 3])
        let pa = try evaluate(.matMul, [p, a])[0]
        #expect(maxAbsDiff(pa, Tensor([1, 0, 0, 1] as [Float], shape: [2, 2])) < 1e-5)
        let apa = try evaluate(.matMul, [a, pa])[0]
        #expect(maxAbsDiff(apa, a) < 1e-5)
    }

    @Test func rankDeficientMatrixDropsTheNullSpace() throws {
        // Rank 1: [[1, 2], [2, 4]] = v vᵀ·… ; A⁺ = A / ‖A‖²_F = A / 25.
        let a = Tensor([1, 2, 2, 4] as [Float], shape: [2, 2])
        let p = try evaluate(.pseudoInverse, [a])[0]
        #expect(maxAbsDiff(p, Tensor([1, 2, 2, 4].map { Float($0) / 25 }, shape: [2, 2])) < 1e-6)
    }

    @Test func nonFiniteInputIsAnErrorNotATrap() {
        let a = Tensor([Float.nan, 1, 1, 1], shape: [2, 2])
        #expect(throws: (any Error).self) { _ = try evaluate(.pseudoInverse, [a]) }
    }

    @Test func shapeRuleWantsAMatrix() throws {
        #expect(throws: ShapeRuleError.self) { _ = try inferTypes(.pseudoInverse, [TensorType(.float32, [2, 2, 2])]) }
        #expect(throws: ShapeRuleError.self) { _ = try inferTypes(.pseudoInverse, [TensorType(.int64, [2, 2])]) }
        #expect(try inferTypes(.pseudoInverse, [TensorType(.float32, [3, 5])]) == [TensorType(.float32, [5, 3])])
    }
}
