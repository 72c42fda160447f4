import Testing
@testable import VitIR

/// Softmax, LayerNormalization, GroupNormalization, reductions and TopK.
@Suite struct NormReduceShapeTests {
    // MARK: Softmax

    @Test("Softmax keeps the type for any in-range axis", arguments: [-3, -1, 0, 2])
    func softmaxValid(_ axis: Int) {
        expectType(.softmax(axis: axis), [f32(2, 12, 197)], f32(2, 12, 197))
    }

    @Test("Softmax rejects out-of-range axes and integer input")
    func softmaxInvalid() {
        expectRejected(.softmax(axis: 3), [f32(2, 3, 4)], mentioning: ["[-3, 2]", "got 3"])
        expectRejected(.softmax(axis: -4), [f32(2, 3, 4)], mentioning: ["got -4"])
        expectRejected(.softmax(axis: -1), [i64(4)], mentioning: ["int64"])
    }

    // MARK: LayerNormalization

    @Test("LayerNormalization with scale and optional bias over the trailing axes")
    func layerNormValid() {
        let ln = Op.layerNormalization(axis: -1, epsilon: 1e-6)
        expectType(ln, [f32(2, 197, 768), f32(768), f32(768)], f32(2, 197, 768))
        expectType(ln, [f32(2, 197, 768), f32(768)], f32(2, 197, 768))          // bias omitted
        // axis 1: the normalized shape is [197, 768]; a [768] scale broadcasts to it.
        let ln1 = Op.layerNormalization(axis: 1, epsilon: 1e-5)
        expectType(ln1, [f32(2, 197, 768), f32(197, 768), f32(768)], f32(2, 197, 768))
        expectType(ln1, [f16(2, 4, 8), f16(1, 8), f16(4, 1)], f16(2, 4, 8))
    }

    @Test("LayerNormalization rejects scale/bias that do not fit the normalized shape")
    func layerNormInvalid() {
        let ln = Op.layerNormalization(axis: -1, epsilon: 1e-6)
        expectRejected(ln, [f32(2, 197, 768), f32(512)], mentioning: ["[768]", "[512]"])
        expectRejected(ln, [f32(2, 197, 768), f32(768), f32(384)], mentioning: ["[768]", "[384]"])
        // Scale or bias of higher rank than the normalized shape would grow the output.
        expectRejected(ln, [f32(2, 4, 8), f32(4, 8)], mentioning: ["scale", "[8]", "[4, 8]"])
        expectRejected(ln, [f32(2, 4, 8), f32(8), f32(1, 8)], mentioning: ["bias", "[1, 8]"])
        expectRejected(.layerNormalization(axis: 3, epsilon: 1e-6), [f32(2, 4, 8), f32(8)], mentioning: ["got 3"])
        expectRejected(ln, [f32(2, 8), f16(8)], mentioning: ["float16"])
        expectRejected(ln, [i64(2, 8), i64(8)], mentioning: ["int64"])
        expectRejected(ln, [f32(2, 8)], mentioning: ["2…3 inputs, got 1"])
    }

    // MARK: GroupNormalization

    @Test("GroupNormalization keeps the type with per-channel scale and bias", arguments: [1, 2, 8, 32])
    func groupNormValid(_ groups: Int) {
        expectType(.groupNormalization(numGroups: groups, epsilon: 1e-5),
                   [f32(2, 32, 8, 8), f32(32), f32(32)], f32(2, 32, 8, 8))
    }

    @Test("GroupNormalization rejects groups that do not divide the channels")
    func groupNormGroups() {
        expectRejected(.groupNormalization(numGroups: 5, epsilon: 1e-5), [f32(2, 32, 8, 8), f32(32), f32(32)],
                       mentioning: ["(32)", "(5)"])
        expectRejected(.groupNormalization(numGroups: 0, epsilon: 1e-5), [f32(2, 32, 8, 8), f32(32), f32(32)])
        expectRejected(.groupNormalization(numGroups: 64, epsilon: 1e-5), [f32(2, 32, 8, 8), f32(32), f32(32)])
    }

    @Test("GroupNormalization rejects per-group (opset 18) scale shapes, low rank and missing inputs")
    func groupNormOther() {
        let gn = Op.groupNormalization(numGroups: 8, epsilon: 1e-5)
        expectRejected(gn, [f32(2, 32, 8, 8), f32(8), f32(8)], mentioning: ["[32]", "[8]"])
        expectRejected(gn, [f32(2, 32, 8, 8), f32(32), f32(16)], mentioning: ["[16]"])
        expectRejected(gn, [f32(32), f32(32), f32(32)], mentioning: ["rank ≥ 2"])
        expectRejected(gn, [f32(2, 32, 8, 8), f32(32)], mentioning: ["3 inputs, got 2"])
        expectRejected(gn, [i64(2, 32, 8, 8), i64(32), i64(32)], mentioning: ["int64"])
    }

    // MARK: Reductions

    /// ReduceMean, ReduceSum and ReduceMax with the same attributes.
    static func reductions(_ axes: [Int], keepDims: Bool = true) -> [Op] {
        let r = ReduceAttributes(axes: axes, keepDims: keepDims)
        return [.reduceMean(r), .reduceSum(r), .reduceMax(r)]
    }

    @Test("reductions: keepdims on/off, negative axes, empty axes = all",
          arguments: [
              ([1], true, [2, 1, 4]),
              ([1], false, [2, 4]),
              ([-1, 0], true, [1, 3, 1]),
              ([-1, 0], false, [3]),
              ([], true, [1, 1, 1]),
              ([], false, []),
              ([0, 1, 2], false, []),
          ] as [([Int], Bool, [Int])])
    func reduceValid(_ axes: [Int], _ keepDims: Bool, _ expected: [Int]) {
        for op in Self.reductions(axes, keepDims: keepDims) {
            expectType(op, [f32(2, 3, 4)], ty(.float32, expected))
        }
    }

    @Test("reductions keep an integer dtype")
    func reduceInt() {
        for op in Self.reductions([0], keepDims: false) {
            expectType(op, [i64(5, 2)], i64(2))
        }
    }

    @Test("reductions reject bad and duplicate axes and bool input")
    func reduceInvalid() {
        for op in Self.reductions([3]) { expectRejected(op, [f32(2, 3, 4)], mentioning: ["got 3"]) }
        for op in Self.reductions([1, -2]) { expectRejected(op, [f32(2, 3, 4)], mentioning: ["distinct"]) }
        for op in Self.reductions([0]) { expectRejected(op, [bool(2)], mentioning: ["bool"]) }
    }

    @Test("ReduceMax rejects an empty reduced axis; ReduceSum and ReduceMean accept it")
    func reduceEmptyAxis() {
        expectRejected(.reduceMax(ReduceAttributes(axes: [1])), [f32(2, 0)])
        expectType(.reduceSum(ReduceAttributes(axes: [1])), [f32(2, 0)], f32(2, 1))
        expectType(.reduceMean(ReduceAttributes(axes: [1], keepDims: false)), [f32(2, 0)], f32(2))
        // Reducing a non-empty axis of a tensor that is empty elsewhere is fine for ReduceMax.
        expectType(.reduceMax(ReduceAttributes(axes: [0], keepDims: false)), [f32(2, 0)], f32(0))
    }

    // MARK: TopK

    @Test("TopK outputs values of the input dtype and int64 indices")
    func topKValid() {
        expectTypes(.topK(TopKAttributes(k: 3)), [f32(2, 10)], [f32(2, 3), i64(2, 3)])
        expectTypes(.topK(TopKAttributes(k: 2, axis: 0)), [f32(4, 10)], [f32(2, 10), i64(2, 10)])
        expectTypes(.topK(TopKAttributes(k: 10, axis: -1, largest: false)), [f32(2, 10)], [f32(2, 10), i64(2, 10)])
        expectTypes(.topK(TopKAttributes(k: 1)), [i32(7)], [i32(1), i64(1)])
        expectTypes(.topK(TopKAttributes(k: 0)), [f16(5)], [f16(0), i64(0)])
        #expect(Op.topK(TopKAttributes(k: 3)).outputCount == 2)
    }

    @Test("TopK rejects k larger than the axis, negative k, bad axes and bool")
    func topKInvalid() {
        expectRejected(.topK(TopKAttributes(k: 11)), [f32(2, 10)], mentioning: ["10", "k = 11"])
        expectRejected(.topK(TopKAttributes(k: 3, axis: 0)), [f32(2, 10)], mentioning: ["2", "k = 3"])
        expectRejected(.topK(TopKAttributes(k: -1)), [f32(4)])
        expectRejected(.topK(TopKAttributes(k: 1, axis: 2)), [f32(2, 10)], mentioning: ["got 2"])
        expectRejected(.topK(TopKAttributes(k: 1)), [bool(4)], mentioning: ["bool"])
    }
}
