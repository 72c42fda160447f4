import Testing
import VitIR
import VitInterp

@Suite struct GatherTests {
    let data = f32(ramp(15), [5, 3])

    @Test func axisZeroWithNegativeIndices() throws {
        let y = try eval1(.gather(axis: 0), [data, i64([4, -5, -1], [3])])
        expectClose(y, [12, 13, 14, 0, 1, 2, 12, 13, 14], shape: [3, 3])
    }

    @Test func negativeAxisWithMatrixIndices() throws {
        let y = try eval1(.gather(axis: -1), [data, Tensor([Int32(2), 0, 1, 1], shape: [2, 2])])
        #expect(y.shape == [5, 2, 2])
        expectClose(y, [2, 0, 1, 1, 5, 3, 4, 4, 8, 6, 7, 7, 11, 9, 10, 10, 14, 12, 13, 13])
    }

    @Test func scalarIndexDropsTheAxis() throws {
        expectClose(try eval1(.gather(axis: 0), [data, i64([1], [])]), [3, 4, 5], shape: [3])
    }

    @Test func outOfRangeIndexThrows() {
        expectKernelError(.invalidInput, containing: "index 7 out of range for axis 0 of extent 5") {
            _ = try eval1(.gather(axis: 0), [data, i64([1, 7], [2])])
        }
        expectKernelError(.invalidInput, containing: "index -6") {
            _ = try eval1(.gather(axis: 0), [data, i64([-6], [1])])
        }
    }

    @Test func gatherElementsAlongAxisOne() throws {
        let x = f32([1, 2, 3, 4, 5, 6], [2, 3])
        let y = try eval1(.gatherElements(axis: 1), [x, i64([2, -3, 1, 0], [2, 2])])
        expectClose(y, [3, 1, 5, 4], shape: [2, 2])
        expectClose(try eval1(.gatherElements(axis: 0), [x, i64([1, 0, 1], [1, 3])]), [4, 2, 6], shape: [1, 3])
    }

    @Test func gatherElementsOutOfRangeThrows() {
        expectKernelError(.invalidInput, containing: "out of range for axis 1") {
            _ = try eval1(.gatherElements(axis: 1), [f32([1, 2], [1, 2]), i64([2], [1, 1])])
        }
    }
}
