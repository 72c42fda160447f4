import CVecKernels
import VitIR

// Fast path of GridSample (bilinear, zeros padding) → Mul by one weight per sampling location
// → ReduceSum over the locations' last axis (Kernels/GridSample.swift, then the Mul → ReduceSum
// pair of FastPaths/MulReduceSum.swift): deformable attention's sampling of one level,
// [heads, d, Nq, P] samples weighted by [heads, 1, Nq, P] and summed over the P points. The
// samples (22 MB per level and layer in the default detector's encoder) are never stored:
// each row's P samples are weighted and summed as they are made. The interpreter's run plans
// it (`weightedSamplingPlan`): the GridSample node keeps its inputs, the Mul node computes the
// sum from them, and the ReduceSum node binds it. Where the image is a Reshape of a
// Transpose(perm [0, 2, 3, 1]) of [1, H·W, heads, channels] values (each level of the value
// projection, split into heads), the Transpose runs as a view of its input that only this
// kernel reads: the channels of a pixel are adjacent there, which is the layout the kernel
// copies the image into anyway, so the transposed copy is never made.
//
// Applies when: the GridSample is bilinear with zeros padding, its image, grid and output, the
// weights and the sum are all float32 or all float16, with static positive extents and H, W
// and H·W < 2³¹ − 1 (as `bilinearZerosGridSample`), its output's only use is a Mul the Mul →
// ReduceSum pair takes, whose other operand has shape [N, 1, Ho, Wo], the image and grid take no more
// bytes than the samples (so keeping them until the Mul stays within `plannedMemory`), and no
// value is hooked or a graph output (`Interpreter.Options.fuse` turns it off, as does
// `checkFinite`); the Transpose, when its outputs (and the Reshape's) have no other use and
// the view keeps no storage live beyond `plannedMemory`'s count (`viewLifetimes`).
// Tolerance class vs GridSample, Mul, ReduceSum: bit-exact, for every `VectorISA`. Each sample
// is `bilinearZerosGridSample`'s Float expression, each product is rounded to Float as Mul
// rounds it, and each row's products are summed in Double in point order from 0.0, then
// rounded once, as `mulReduceLastAxis` sums them. float16 (portable steps only): each sample
// and each product is rounded to float16 precision as the plain GridSample and Mul store them,
// a tile at a time, and the sum to Float, then float16 as the plain ReduceSum stores it.
// Pinned by FastPathTests.gridSampleWeightedSum and WeightedSamplingPlanTests.

/// One planned chain: its Mul and ReduceSum node indices, the weights operand, and whether the
/// image arrives channels-last (its Transpose runs as a view).
struct PlannedSampling {
    var mul: Int, reduce: Int, weights: ValueID, channelsLast = false
}

/// The planned chains of a graph, by GridSample node index, each Mul's GridSample, and the
/// Transpose nodes that pass their input on as a view.
struct WeightedSamplingPlan {
    var byGridSample: [Int: PlannedSampling] = [:]
    var gridSampleOfMul: [Int: Int] = [:]
    var viewTransposes: Set<Int> = []
}

/// Finds every GridSample → Mul → ReduceSum(last axis) chain of `graph` that
/// `bilinearZerosWeightedSum` computes, among the Mul → ReduceSum pairs of `mulReduce`,
/// leaving out chains touching `excluded` values (hooked values).
func weightedSamplingPlan(_ graph: Graph, excluded: Set<ValueID>, mulReduce: MulReduceSumPlan) -> WeightedSamplingPlan {
    let uses = graph.useCounts()
    func dims(_ v: ValueID) -> [Int]? {
        let t = graph.type(of: v)
        guard t.dtype == .float32 || t.dtype == .float16, let d = t.shape.ints, d.allSatisfy({ $0 > 0 }) else { return nil }
        return d
    }
    func bytes(_ v: ValueID) -> Int { Checked.byteCount(dims: dims(v) ?? [], graph.type(of: v).dtype) ?? Int.max }
    func sameDType(_ values: [ValueID]) -> Bool { Set(values.map { graph.type(of: $0).dtype }).count == 1 }
    var producer: [Int: Int] = [:]  // samples value index → GridSample node index
    var definedBy: [Int: Int] = [:]  // value index → node index
    let keepsAlive = viewLifetimes(graph)
    var plan = WeightedSamplingPlan()
    /// The Transpose under a GridSample's image that can run as a view read at node `reader`.
    func channelsLastTranspose(_ image: ValueID, reader: Int) -> Int? {
        guard let r = definedBy[image.index], case .movement(.reshape) = graph.nodes[r].op, uses[image.index] == 1,
              !excluded.contains(image),  // an observed or overridden image must have its declared layout
              let y = graph.nodes[r].inputs.first, let t = definedBy[y.index], uses[y.index] == 1, !excluded.contains(y),
              case .movement(.transpose(let perm)) = graph.nodes[t].op, perm == [0, 2, 3, 1],
              let source = graph.nodes[t].inputs.first, let d = dims(source), d.count == 4, d[0] == 1,
              let x = dims(image), x == [d[2], d[3], x[2], x[3]], x[2] * x[3] == d[1],
              keepsAlive(source, y, reader) else { return nil }
        return t
    }
    for (i, node) in graph.nodes.enumerated() {
        defer { for v in node.outputs { definedBy[v.index] = i } }
        if case .sampling(.gridSample(let a)) = node.op, a.mode == .bilinear, a.paddingMode == .zeros,
           node.inputs.count == 2, node.outputs.count == 1, let x = dims(node.inputs[0]), x.count == 4,
           dims(node.inputs[1])?.count == 4, dims(node.outputs[0])?.count == 4, bilinearTapsFit(h: x[2], w: x[3]),
           uses[node.outputs[0].index] == 1, !excluded.contains(node.outputs[0]), sameDType(node.inputs + node.outputs),
           bytes(node.inputs[0]) <= bytes(node.outputs[0]) - bytes(node.inputs[1]) {
            producer[node.outputs[0].index] = i
        }
        guard let reduce = mulReduce[i], node.inputs.count == 2 else { continue }
        for (s, w) in [(0, 1), (1, 0)] {
            guard let g = producer[node.inputs[s].index], let o = dims(graph.nodes[g].outputs[0]),
                  dims(node.inputs[w]) == [o[0], 1, o[2], o[3]],
                  sameDType([graph.nodes[g].outputs[0], node.inputs[w], graph.nodes[reduce].outputs[0]]) else { continue }
            let transpose = channelsLastTranspose(graph.nodes[g].inputs[0], reader: i)
            plan.byGridSample[g] = PlannedSampling(mul: i, reduce: reduce, weights: node.inputs[w], channelsLast: transpose != nil)
            plan.gridSampleOfMul[i] = g
            if let transpose { plan.viewTransposes.insert(transpose) }
            break
        }
    }
    return plan
}

/// ReduceSum over the last axis of GridSample(x, grid) (bilinear, zeros padding) · weights:
/// x [N, C, H, W] (stored [H·W, N, C] when `channelsLast`), grid [N, Ho, Wo, 2], weights
/// [N, 1, Ho, Wo], all float32 or all float16 with positive extents; the [N, C, Ho] sums typed
/// `out` (keepdims either way). Through `bilinearZerosGridSample`'s loop (`forEachBilinearTile`);
/// `isa` picks the portable Swift steps or the AVX2 ones (same bits); float16 takes the
/// portable steps with its roundings (`bilinearWeightedSumHalf`).
func bilinearZerosWeightedSum(_ x: Tensor, channelsLast: Bool = false, _ grid: Tensor, _ weights: Tensor,
                              alignCorners: Bool, _ out: TensorType, isa: VectorISA = .best) -> Tensor {
    let c = x.shape[1], ho = grid.shape[1], wo = grid.shape[2]
    return withFloats(x) { px in
        withFloats(grid) { pg in
            withFloats(weights) { pw in
                makeFloats(out.dtype, out.shape.ints ?? [], writesAll: true) { py in
                    forEachBilinearTile(px.baseAddress!, channelsLast: channelsLast, x.shape, pg.baseAddress!, ho: ho, wo: wo,
                                        alignCorners: alignCorners, isa: isa) { image, block, lanes, taps, b, first, rows in
                        let weights = pw.baseAddress! + (b * ho + first) * wo, dst = py.baseAddress! + (b * c + block * 8) * ho + first
                        if out.dtype == .float16 {
                            bilinearWeightedSumHalf(image, taps, weights, rows: rows, points: wo, lanes: lanes, dst, plane: ho)
                        } else {
                            bilinearWeightedSum(image, taps, weights, rows: rows, points: wo, lanes: lanes, dst, plane: ho, isa)
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

/// `bilinearWeightedSum` with float16's roundings: the samples of a tile's rows · points
/// locations (2048, or one row when longer) into a scratch, rounded to float16 precision,
/// multiplied by their weights and rounded again, then each row's products summed in Double in
/// point order from 0.0.
func bilinearWeightedSumHalf(_ pixels: UnsafePointer<Float>, _ taps: UnsafePointer<vk_bilinear_taps>,
                             _ weights: UnsafePointer<Float>, rows: Int, points: Int, lanes: Int,
                             _ dst: UnsafeMutablePointer<Float>, plane: Int) {
    let locations = rows * points
    let scratch = UnsafeMutablePointer<Float>.allocate(capacity: locations * 8)
    defer { scratch.deallocate() }
    for i in 0..<locations { store8(bilinear8(pixels, taps[i]), scratch + i * 8) }
    roundThroughHalf(scratch, locations * 8)  // the float16 samples the plain GridSample stores
    for i in 0..<locations { store8(load8(scratch + i * 8) * Float8(repeating: weights[i]), scratch + i * 8) }
    roundThroughHalf(scratch, locations * 8)  // the float16 products the plain Mul stores
    for r in 0..<rows {
        var sum = SIMD8<Double>()
        for p in 0..<points { sum += SIMD8<Double>(load8(scratch + (r * points + p) * 8)) }
        for lane in 0..<lanes { dst[lane * plane + r] = Float(sum[lane]) }
    }
}
