import Foundation
import Testing
import VitIR
import VitInterp
import VitModels
import VitPasses

// The resampling building blocks against torch and against direct computation.

private struct ResizeFixture: Decodable, CustomTestStringConvertible, Sendable {
    var name: String
    var inputShape: [Int]
    var size: [Int]
    var testDescription: String { "\(name) \(inputShape) → \(size)" }
}

private func resizeFixtures() throws -> [ResizeFixture] {
    let decoder = JSONDecoder()
    decoder.keyDecodingStrategy = .convertFromSnakeCase
    return try decoder.decode([ResizeFixture].self, from: Data(contentsOf: dinov2Fixtures.appendingPathComponent("resize_cases.json")))
}

/// The interpreter's Resize with the torch presets reproduces `F.interpolate(mode="bicubic",
/// align_corners=False)` with and without antialias (upsampling, downsampling, non-square,
/// output extent 1).
/// - Against torch in float64 (rounded once to float32): 3e-7 · max |x|, about one float32
///   ulp — the kernel's float64 passes implement the same formulas.
/// - Against torch's float32 path: 3e-6 · max |x|. torch rounds the source coordinate
///   (i + 0.5)·in/out − 0.5 and the weights to float32; a coordinate off by an ulp of ~16
///   moves a value by |slope|·2e-6, which is what torch's own float32-vs-float64 results differ
///   by (measured up to 1.8e-6). A wrong coefficient or border rule errs by ~1e-2.
@Test(arguments: try resizeFixtures())
private func resizeMatchesTorch(_ fixture: ResizeFixture) throws {
    let file = try SafetensorsFile(path: dinov2Fixture("resize.safetensors"))
    let input = try file.float32Tensor(named: "\(fixture.name).input")
    let scale = input.floats.map(abs).max()!
    let sizes = Array(fixture.inputShape.prefix(2)) + fixture.size
    for (key, attributes) in [("antialias", ResizeAttributes.torchBicubicAntialiased(sizes: sizes)),
                              ("plain", ResizeAttributes.torchBicubic(sizes: sizes))] {
        let got = try evaluate(.resize(attributes), [input])[0]
        let exact = maxAbsDiff(got, try file.float32Tensor(named: "\(fixture.name).\(key)64")) / scale
        #expect(exact <= 3e-7, "\(fixture.name) \(key) vs torch float64: max abs err / max |x| = \(exact)")
        let float32 = maxAbsDiff(got, try file.float32Tensor(named: "\(fixture.name).\(key)")) / scale
        #expect(float32 <= 3e-6, "\(fixture.name) \(key) vs torch float32: max abs err / max |x| = \(float32)")
    }
}

/// Traces `body` in a fresh tracer with seeded parameters, folds and returns the one output.
private func foldedValue(_ body: (ModelContext) throws -> SymbolicTensor) throws -> Tensor {
    let tracer = Tracer(name: "t")
    let m = ModelContext(tracer: tracer, parameters: SeededParameters(seed: 1))
    try tracer.output("y", body(m))
    return try Interpreter(tracer.finish()).run(feeds: [:])["y"]!
}

/// timm's resize matrix for 14×14 → 16×16 and torch.linalg.pinv of it. The matrix is torch's
/// antialiased bicubic applied to one-hot images (tolerance 1e-6 absolute: entries ≤ ~1.1,
/// float32 weights). The pseudo-inverse is computed in float64 here and in float32 by torch;
/// they agree to 1e-5 absolute on entries of magnitude ~1 (float32 SVD noise of a matrix with
/// condition number ~10).
@Test func resizeMatrixAndPseudoInverseMatchTimm() throws {
    let file = try SafetensorsFile(path: dinov2Fixture("pinv_14_16.safetensors"))
    let matrix = try foldedValue { m in try antialiasedBicubicResizeMatrix(m, from: [14, 14], to: [16, 16]) }
    #expect(matrix.shape == [256, 196])
    #expect(maxAbsDiff(matrix, try file.float32Tensor(named: "resize_matrix")) <= 1e-6)
    let inverse = try foldedValue { m in
        try m.tracer.apply(.pseudoInverse, [antialiasedBicubicResizeMatrix(m, from: [14, 14], to: [16, 16])])[0]
    }
    #expect(maxAbsDiff(inverse, try file.float32Tensor(named: "pinv")) <= 1e-5)
}

/// Hand-checked rows of the 1-d antialiased bicubic matrices (Keys a = −0.5, window truncated
/// at the border and renormalised; support widened by in/out when downsampling), from an
/// independent float64 evaluation of ATen's formulas (the research notes' sanity values).
@Test func oneDimensionalAntialiasedRowsMatchHandValues() throws {
    func matrix(_ n: Int, _ out: Int) throws -> [Float] {
        try foldedValue { m in try antialiasedBicubicResizeMatrix(m, from: [1, n], to: [1, out]) }.floats
    }
    let up = try matrix(14, 16)  // [16, 14]
    let expectUp: [(Int, [(Int, Float)])] = [
        (0, [(0, 1.028517), (1, -0.028517), (2, 0)]),
        (1, [(0, 0.152004), (1, 0.909014), (2, -0.061018), (3, 0)]),
        (7, [(4, 0), (5, -0.027466), (6, 0.990601), (7, 0.038696), (8, -0.001831), (9, 0)]),
    ]
    for (row, taps) in expectUp { for (col, v) in taps { #expect(abs(up[row * 14 + col] - v) <= 2e-6, "14→16 [\(row), \(col)]") } }
    let down = try matrix(37, 32)  // [32, 37]
    let expectDown: [(Int, [(Int, Float)])] = [
        (0, [(0, 0.881273), (1, 0.152397), (2, -0.03367), (3, 0)]),
        (16, [(16, 0), (17, -0.063398), (18, 0.48458), (19, 0.637529), (20, -0.058711), (21, 0)]),
    ]
    for (row, taps) in expectDown { for (col, v) in taps { #expect(abs(down[row * 37 + col] - v) <= 2e-6, "37→32 [\(row), \(col)]") } }
}

/// Keys' cubic convolution kernel with a = −0.75 (torch's plain bicubic), in float64.
private func keys(_ x: Double, _ a: Double = -0.75) -> Double {
    let t = abs(x)
    if t <= 1 { return ((a + 2) * t - (a + 3)) * t * t + 1 }
    if t < 2 { return ((a * t - 5 * a) * t + 8 * a) * t - 4 * a }
    return 0
}

/// Plain bicubic resize of one [h, w] plane as torch defines it, computed directly: source
/// coordinate (i + 0.5)·in/out − 0.5, four taps around ⌊·⌋ with Keys weights, indices clamped
/// to the border; rows and columns separably, in float64.
private func directBicubic(_ x: [Double], _ h: Int, _ w: Int, to oh: Int, _ ow: Int) -> [Double] {
    func weights(_ i: Int, _ n: Int, _ out: Int) -> [(Int, Double)] {
        let s = (Double(i) + 0.5) * Double(n) / Double(out) - 0.5
        let f = s.rounded(.down)
        return (-1...2).map { k in (min(max(Int(f) + k, 0), n - 1), keys(s - (f + Double(k)))) }
    }
    var out = [Double](repeating: 0, count: oh * ow)
    for i in 0..<oh {
        for j in 0..<ow {
            var acc = 0.0
            for (r, wr) in weights(i, h, oh) { for (c, wc) in weights(j, w, ow) { acc += wr * wc * x[r * w + c] } }
            out[i * ow + j] = acc
        }
    }
    return out
}

/// EVA's method: the traced, folded kernel resampling equals plain bicubic interpolation of
/// every 14×14 kernel slice computed directly. Tolerance 1e-6 · max |w|: float64 reference vs
/// the kernel's float64 passes rounded to float32.
@Test func evaBicubicKernelResamplingMatchesDirectBicubic() throws {
    let (o, i) = (4, 3)
    let values = dinov2RandomValues(o * i * 14 * 14, seed: 11)
    let resampled = try foldedValue { m in
        let w = m.tracer.constant(Tensor(values, shape: [o, i, 14, 14]), name: "w")
        return try resamplePatchKernel(m, w, to: [16, 16], method: .bicubic)
    }
    #expect(resampled.shape == [o, i, 16, 16])
    var reference: [Float] = []
    for s in 0..<(o * i) {
        let plane = values[(s * 196)..<((s + 1) * 196)].map(Double.init)
        reference += directBicubic(plane, 14, 14, to: 16, 16).map(Float.init)
    }
    let error = maxAbsDiff(resampled, Tensor(reference, shape: [o, i, 16, 16]))
    #expect(error <= 1e-6)
    // Not the identity: the resampled kernel really differs from a border-padded copy.
    #expect(resampled.floats[0] != values[0])
}

/// The pseudo-inverse method's defining property (FlexiViT §3.4): for a patch x and its
/// antialiased-bicubic resize M·x, ⟨M·x, w′⟩ = ⟨x, w⟩ when upsampling: M has full column rank,
/// so pinv(M)·M = I and ⟨M·x, pinv(M)ᵀ·w⟩ = xᵀ·w. Checked on random kernels and patches;
/// tolerance 1e-4 relative to Σ|x·w| (float32 products over 196–256 terms).
@Test func pseudoInverseKernelPreservesPatchResponses() throws {
    let values = dinov2RandomValues(2 * 196, seed: 5)
    let patch = dinov2RandomValues(196, seed: 6)
    let (kernels, resizedPatch) = try (
        foldedValue { m in
            try resamplePatchKernel(m, m.tracer.constant(Tensor(values, shape: [2, 1, 14, 14]), name: "w"), to: [16, 16], method: .pinv)
        },
        evaluate(.resize(.torchBicubicAntialiased(sizes: [1, 1, 16, 16])), [Tensor(patch, shape: [1, 1, 14, 14])])[0]
    )
    let k = kernels.floats, r = resizedPatch.floats
    for s in 0..<2 {
        let original = (0..<196).reduce(0.0) { $0 + Double(values[s * 196 + $1]) * Double(patch[$1]) }
        let magnitude = (0..<196).reduce(0.0) { $0 + abs(Double(values[s * 196 + $1]) * Double(patch[$1])) }
        let resampled = (0..<256).reduce(0.0) { $0 + Double(k[s * 256 + $1]) * Double(r[$1]) }
        #expect(abs(resampled - original) <= 1e-4 * magnitude, "kernel \(s): \(resampled) vs \(original)")
    }
}

/// Position tables: equal grids are returned untouched (no op traced, as timm's early return);
/// prefix entries are carried over bit for bit; a non-square target resamples each axis.
@Test func positionTableResamplingKeepsPrefixAndSkipsEqualGrids() throws {
    let d = 3
    let values = dinov2RandomValues((2 + 16) * d, seed: 9)
    let tracer = Tracer(name: "t")
    let m = ModelContext(tracer: tracer, parameters: SeededParameters(seed: 1))
    let table = tracer.constant(Tensor(values, shape: [1, 2 + 16, d]), name: "pos_embed")
    let same = try resamplePositionTable(m, table, prefix: 2, from: [4, 4], to: [4, 4])
    #expect(same.id == table.id)
    #expect(tracer.graph.nodes.isEmpty)
    let resized = try resamplePositionTable(m, table, prefix: 2, from: [4, 4], to: [3, 5])
    #expect(resized.dims == [1, 2 + 15, d])
    try tracer.output("y", resized)
    let y = try Interpreter(tracer.finish()).run(feeds: [:])["y"]!.floats
    #expect(Array(y[0..<(2 * d)]) == Array(values[0..<(2 * d)]))
    // The grid part equals a direct antialiased resize of the [1, d, 4, 4] image.
    var image = [Float](repeating: 0, count: d * 16)
    for t in 0..<16 { for c in 0..<d { image[c * 16 + t] = values[(2 + t) * d + c] } }
    let direct = try evaluate(.resize(.torchBicubicAntialiased(sizes: [1, d, 3, 5])), [Tensor(image, shape: [1, d, 4, 4])])[0].floats
    for t in 0..<15 { for c in 0..<d { #expect(y[(2 + t) * d + c] == direct[c * 15 + t]) } }
}
