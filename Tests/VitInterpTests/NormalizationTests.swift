import Testing
import VitIR
import VitInterp

@Suite struct NormalizationTests {
    let x = f32([1, 2, 3, 4, 5, 6], [2, 3])

    @Test func softmaxLastAndFirstAxis() throws {
        expectClose(try eval1(.softmax(axis: -1), [x]), [0.09003057, 0.2447285, 0.6652409, 0.09003057, 0.2447285, 0.6652409])
        expectClose(try eval1(.softmax(axis: 0), [x]), [0.04742587, 0.04742587, 0.04742587, 0.9525741, 0.9525741, 0.9525741])
    }

    @Test func softmaxIsStableForLargeInputs() throws {
        expectClose(try eval1(.softmax(axis: 1), [f32([1000, 1000, -1000], [1, 3])]), [0.5, 0.5, 0])
    }

    @Test func softmaxRejectsBadAxis() {
        expectKernelError(.shapeRule, containing: "axis") { _ = try eval1(.softmax(axis: 2), [x]) }
    }

    @Test func layerNormWithScaleAndBias() throws {
        let y = try eval1(.layerNormalization(axis: -1, epsilon: 1e-5), [x, f32([1, 2, 0.5], [3]), f32([0, 1, -1], [3])])
        expectClose(y, [-1.224736, 1, -0.3876322, -1.224736, 1, -0.3876322])
    }

    @Test func layerNormOverTrailingAxesWithoutBias() throws {
        // x = arange(12)^1.5 as [2, 2, 3], normalized over the last two axes; scale 2 everywhere.
        let values: [Float] = [0, 1, 2.828427, 5.196153, 8, 11.18034, 14.69694, 18.52026, 22.62742, 27, 31.62278, 36.48287]
        let y = try eval1(.layerNormalization(axis: 1, epsilon: 1e-5), [f32(values, [2, 2, 3]), f32([2, 2, 2, 2, 2, 2], [2, 3])])
        expectClose(y, [-2.395581, -1.885972, -0.9541885, 0.2524261, 1.681292, 3.302022,
                        -2.807086, -1.781186, -0.6791248, 0.4941571, 1.734573, 3.038667], tolerance: 2e-5)
    }

    @Test func groupNormPerChannelScaleAndBias() throws {
        // Expected from ONNX Runtime (opset 21).
        let x = f32([1, 2, 3, 5, -1, 0, 4, 8], [1, 4, 1, 2])
        let y = try eval1(.groupNormalization(numGroups: 2, epsilon: 1e-5), [x, f32([1, 2, 3, 4], [4]), f32([0, 0.5, 1, -1], [4])])
        expectClose(y, [-1.183213, -0.5070914, 0.8380609, 3.542548, -2.15838, -1.316145, 0.4037243, 4.895642])
    }

    @Test func halfPrecisionLayerNormKeepsDType() throws {
        let h = try eval1(.cast(to: .float16), [x])
        let y = try eval1(.layerNormalization(axis: -1, epsilon: 1e-5), [h, try eval1(.cast(to: .float16), [f32([1, 1, 1], [3])])])
        #expect(y.dtype == .float16)
        expectClose(y, [-1.2247, 0, 1.2247, -1.2247, 0, 1.2247], tolerance: 1e-3)
    }
}

@Suite struct ReduceTests {
    let x = f32(ramp(24), [2, 3, 4])

    @Test func sumOverOneAxisWithoutKeepDims() throws {
        expectClose(try eval1(.reduceSum(ReduceAttributes(axes: [1], keepDims: false)), [x]),
                    [12, 15, 18, 21, 48, 51, 54, 57], shape: [2, 4])
    }

    @Test func meanOverNegativeAxisKeepsDims() throws {
        expectClose(try eval1(.reduceMean(ReduceAttributes(axes: [-1])), [x]), [1.5, 5.5, 9.5, 13.5, 17.5, 21.5], shape: [2, 3, 1])
    }

    @Test func meanOverNonTrailingAxes() throws {
        expectClose(try eval1(.reduceMean(ReduceAttributes(axes: [0, 2], keepDims: false)), [x]), [7.5, 11.5, 15.5], shape: [3])
    }

    @Test func maxOverAllAxesWhenEmpty() throws {
        expectClose(try eval1(.reduceMax(ReduceAttributes(axes: [])), [x]), [23], shape: [1, 1, 1])
        let m = try eval1(.reduceMax(ReduceAttributes(axes: [1], keepDims: false)), [f32([1, .nan, 3, 2, 5, 4], [2, 3])]).floats
        #expect(m[0].isNaN && m[1] == 5)
    }

    @Test func integerReductions() throws {
        let t = i64([1, -2, 3, -4, 5, -7], [2, 3])
        #expect(try eval1(.reduceSum(ReduceAttributes(axes: [1], keepDims: false)), [t]).int64s == [2, -6])
        #expect(try eval1(.reduceMean(ReduceAttributes(axes: [1], keepDims: false)), [t]).int64s == [0, -2])
        #expect(try eval1(.reduceMax(ReduceAttributes(axes: [0], keepDims: false)), [t]).int64s == [1, 5, 3])
    }
}

@Suite struct TopKTests {
    @Test func tiesKeepLowerIndexFirst() throws {
        let x = f32([3, 1, 3, 2, 3], [5])
        let top = try evaluate(.topK(TopKAttributes(k: 3)), [x])
        #expect(top[0].floats == [3, 3, 3])
        #expect(top[1].dtype == .int64 && top[1].int64s == [0, 2, 4])
        let bottom = try evaluate(.topK(TopKAttributes(k: 2, largest: false)), [x])
        #expect(bottom[0].floats == [1, 2] && bottom[1].int64s == [1, 3])
    }

    @Test func alongFirstAxis() throws {
        let x = f32([1, 9, 5, 7, 2, 5], [3, 2])
        let r = try evaluate(.topK(TopKAttributes(k: 2, axis: 0)), [x])
        #expect(r[0].shape == [2, 2] && r[0].floats == [5, 9, 2, 7])
        #expect(r[1].int64s == [1, 0, 2, 1])
    }

    @Test func nanRanksAboveNumbers() throws {
        let r = try evaluate(.topK(TopKAttributes(k: 2)), [f32([1, .nan, 4], [3])])
        #expect(r[1].int64s == [1, 2])
        let s = try evaluate(.topK(TopKAttributes(k: 3, largest: false)), [f32([1, .nan, 4], [3])])
        #expect(s[1].int64s == [0, 2, 1])
    }

    @Test func integerValues() throws {
        let r = try evaluate(.topK(TopKAttributes(k: 2)), [i64([4, -1, 9, 4], [4])])
        #expect(r[0].dtype == .int64 && r[0].int64s == [9, 4] && r[1].int64s == [2, 0])
    }

    @Test func kLargerThanAxisIsAShapeError() {
        expectKernelError(.shapeRule, containing: "k") { _ = try evaluate(.topK(TopKAttributes(k: 4)), [f32([1, 2], [2])]) }
    }
}
