import CVecKernels
import VitIR

// Fast path of GridSample (bilinear, zeros padding) → Mul by one weight per sampling location
// → ReduceSum over the locations' last axis (Kernels/GridSample.swift, then the Mul → ReduceSum
// pair of FastPaths/MulReduceSum.swift): deformable attention's sampling of one level,
// [heads, d, Nq, P] samples weighted by [heads, 1, Nq, P] and summed over the P points. The
// samples (22 MB per level and layer in the default detector's encoder) are never stored:
// each row's P samples are weighted and summed as they are made. The interpreter's run plans
// it (`weightedSamplingPlan`): the GridSample node keeps its inputs, the Mul node computes the
// sum from them, and the ReduceSum node binds it.
//
// Applies when: the GridSample is bilinear with zeros padding, its image, grid and output are
// float32 with static positive extents and H, W and H·W < 2³¹ − 1 (as
// `bilinearZerosGridSample`), its output's only use is a Mul the Mul → ReduceSum pair takes,
// whose other operand is float32 of shape [N, 1, Ho, Wo], the image and grid take no more
// bytes than the samples (so keeping them until the Mul stays within `plannedMemory`), and no
// value is hooked or a graph output (`Interpreter.Options.fuse` turns it off, as does
// `checkFinite`).
// Tolerance class vs GridSample, Mul, ReduceSum: bit-exact, for every `VectorISA`. Each sample
// is `bilinearZerosGridSample`'s Float expression, each product is rounded to Float as Mul
// rounds it, and each row's products are summed in Double in point order from 0.0, then
// rounded once, as `mulReduceLastAxis` sums them.
// Pinned by FastPathTests.gridSampleWeightedSum and WeightedSamplingPlanTests.

/// One planned chain: its Mul and ReduceSum node indices and the weights operand.
struct PlannedSampling {
    var mul: Int, reduce: Int, weights: ValueID
}

/// The planned chains of a graph, by GridSample node index, and each Mul's GridSample.
struct WeightedSamplingPlan {
    var byGridSample: [Int: PlannedSampling] = [:]
    var gridSampleOfMul: [Int: Int] = [:]
}

/// Finds every GridSample → Mul → ReduceSum(last axis) chain of `graph` that
/// `bilinearZerosWeightedSum` computes, among the Mul → ReduceSum pairs of `mulReduce`,
/// leaving out chains touching `excluded` values (hooked values).
func weightedSamplingPlan(_ graph: Graph, excluded: Set<ValueID>, mulReduce: MulReduceSumPlan) -> WeightedSamplingPlan {
    let uses = graph.useCounts()
    let limit = Int(Int32.max)
    func dims(_ v: ValueID) -> [Int]? {
        let t = graph.type(of: v)
        guard t.dtype == .float32, let d = t.shape.ints, d.allSatisfy({ $0 > 0 }) else { return nil }
        return d
    }
    func bytes(_ v: ValueID) -> Int { Checked.byteCount(dims: dims(v) ?? [], .float32) ?? Int.max }
    var producer: [Int: Int] = [:]  // samples value index → GridSample node index
    var plan = WeightedSamplingPlan()
    for (i, node) in graph.nodes.enumerated() {
        if case .sampling(.gridSample(let a)) = node.op, a.mode == .bilinear, a.paddingMode == .zeros,
           node.inputs.count == 2, node.outputs.count == 1, let x = dims(node.inputs[0]), x.count == 4,
           dims(node.inputs[1])?.count == 4, dims(node.outputs[0])?.count == 4,
           x[2] < limit, x[3] < limit, x[2] * x[3] < limit,  // both < 2³¹: the product fits
           uses[node.outputs[0].index] == 1, !excluded.contains(node.outputs[0]),
           bytes(node.inputs[0]) <= bytes(node.outputs[0]) - bytes(node.inputs[1]) {
            producer[node.outputs[0].index] = i
        }
        guard let reduce = mulReduce[i], node.inputs.count == 2 else { continue }
        for (s, w) in [(0, 1), (1, 0)] {
            guard let g = producer[node.inputs[s].index], let o = dims(graph.nodes[g].outputs[0]),
                  dims(node.inputs[w]) == [o[0], 1, o[2], o[3]] else { continue }
            plan.byGridSample[g] = PlannedSampling(mul: i, reduce: reduce, weights: node.inputs[w])
            plan.gridSampleOfMul[i] = g
            break
        }
    }
    return plan
}

/// ReduceSum over the last axis of GridSample(x, grid) (bilinear, zeros padding) · weights:
/// x [N, C, H, W], grid [N, Ho, Wo, 2], weights [N, 1, Ho, Wo], all float32 with positive
/// extents; the [N, C, Ho] sums typed `out` (keepdims either way). Laid out as
/// `bilinearZerosGridSample`: the image copied channel-interleaved per batch element, taps of
/// up to 2048 locations (whole rows of Wo) at a time, then every channel block; work splits
/// over batch·output rows. `isa` picks the portable Swift steps or the AVX2 ones (same bits).
func bilinearZerosWeightedSum(_ x: Tensor, _ grid: Tensor, _ weights: Tensor, alignCorners: Bool, _ out: TensorType,
                              isa: VectorISA = .best) -> Tensor {
    let n = x.shape[0], c = x.shape[1], h = x.shape[2], w = x.shape[3]
    let ho = grid.shape[1], wo = grid.shape[2]
    let hw = h * w, blocks = (c + 7) / 8
    return withFloats(x) { px in
        withFloats(grid) { pg in
            withFloats(weights) { pw in
                makeFloats(.float32, out.shape.ints ?? [], writesAll: true) { py in
                    parallelChunks(n * ho, grain: Swift.max(1, 4096 / Swift.max(wo * c, 1))) { rows in
                        let tileRows = Swift.max(1, Swift.min(2048 / wo, rows.count))
                        var taps = [vk_bilinear_taps](repeating: vk_bilinear_taps(), count: tileRows * wo)
                        var image = [Float](repeating: 0, count: blocks * (hw + 1) * 8)
                        var row = rows.lowerBound
                        while row < rows.upperBound {
                            // Rows row..<end share batch b.
                            let b = row / ho
                            let end = Swift.min(rows.upperBound, (b + 1) * ho)
                            defer { row = end }
                            image.withUnsafeMutableBufferPointer { img in
                                for block in 0..<blocks {
                                    interleave8(px.baseAddress! + (b * c + block * 8) * hw, lanes: Swift.min(8, c - block * 8),
                                                hw, img.baseAddress! + block * (hw + 1) * 8, isa)
                                }
                            }
                            for start in stride(from: row, to: end, by: tileRows) {
                                let count = Swift.min(tileRows, end - start)  // rows start..<start + count
                                taps.withUnsafeMutableBufferPointer { t in
                                    bilinearTaps(pg.baseAddress! + start * wo * 2, count * wo, w: w, h: h,
                                                 alignCorners: alignCorners, t.baseAddress!, isa)
                                }
                                taps.withUnsafeBufferPointer { t in
                                    image.withUnsafeBufferPointer { img in
                                        for block in 0..<blocks {
                                            bilinearWeightedSum(img.baseAddress! + block * (hw + 1) * 8, t.baseAddress!,
                                                                pw.baseAddress! + start * wo, rows: count, points: wo,
                                                                lanes: Swift.min(8, c - block * 8),
                                                                py.baseAddress! + (b * c + block * 8) * ho + (start - b * ho),
                                                                plane: ho, isa)
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// For each of `rows` rows of `points` locations (taps and weights row-major), channel j <
/// `lanes` of the interleaved image gets Σₚ Float(sample · weight) summed in Double in point
/// order from 0.0, rounded to Float into dst[j·plane + row].
func bilinearWeightedSum(_ pixels: UnsafePointer<Float>, _ taps: UnsafePointer<vk_bilinear_taps>,
                         _ weights: UnsafePointer<Float>, rows: Int, points: Int, lanes: Int,
                         _ dst: UnsafeMutablePointer<Float>, plane: Int, _ isa: VectorISA) {
    if isa == .avx2 {
        return vk_bilinear_weighted_sum_avx2(pixels, taps, weights, rows, points, Int32(lanes), dst, plane)
    }
    for r in 0..<rows {
        var sum = SIMD8<Double>()
        for p in 0..<points {
            let product = bilinear8(pixels, taps[r * points + p]) * Float8(repeating: weights[r * points + p])
            sum += SIMD8<Double>(product)
        }
        for lane in 0..<lanes { dst[lane * plane + r] = Float(sum[lane]) }
    }
}
