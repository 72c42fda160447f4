import Testing
import VitIR
@testable import VitInterp

/// One GridSample configuration with its expected output from ONNX Runtime (opset 20), which
/// matches torch's grid_sample. X is [1, 2, 3, 4]; the grid [1, 2, 5, 2] includes the corners
/// (−1, −1) and (1, 1), the centre, and points out to ±1.4 to exercise every padding mode.
struct GridCase: CustomTestStringConvertible, Sendable {
    var mode: GridSampleMode, padding: GridSamplePadding, alignCorners: Bool
    var expected: [Float]
    var testDescription: String { "\(mode) \(padding) align_corners=\(alignCorners)" }
}

@Suite struct GridSampleTests {
    @Test(arguments: gsCases) func matchesOnnxRuntime(_ c: GridCase) throws {
        let attrs = GridSampleAttributes(mode: c.mode, paddingMode: c.padding, alignCorners: c.alignCorners)
        let y = try eval1(.gridSample(attrs), [f32(gsX, [1, 2, 3, 4]), f32(gsGrid, [1, 2, 5, 2])])
        expectClose(y, c.expected, shape: [1, 2, 2, 5], tolerance: 2e-6)
    }

    @Test func alignCornersMapsCornersToCornerPixels() throws {
        let x = f32([1, 2, 3, 4], [1, 1, 2, 2])
        let grid = f32([-1, -1, 1, 1, 0, 0], [1, 1, 3, 2])
        expectClose(try eval1(.gridSample(GridSampleAttributes(alignCorners: true)), [x, grid]), [1, 4, 2.5])
        // Without align_corners, ±1 are the outer pixel edges: zeros padding halves each side.
        expectClose(try eval1(.gridSample(GridSampleAttributes(alignCorners: false)), [x, grid]), [0.25, 1, 2.5])
    }
}

let gsX: [Float] = [0.03419277, 1.359748, 1.224721, -0.5103071, -0.2979695, -0.5273842, 0.5697263, -0.05606444, 0.7468856, -1.847325, 1.566549, -0.09643216, 0.6803784, -0.1365663, -0.3790986, 0.4631101, 0.8245136, -0.2025299, -0.1527862, 0.6856986, -0.8703406, -1.514384, 0.3949819, -0.6705658]
let gsGrid: [Float] = [-1, -1, 1, 1, 0, 0, -0.09219502, -0.6239943, -1.167272, 1.108644, -1.2, 0.5, 0.4854146, -0.8337951, 1.124007, -0.7919849, -1.307391, -0.8378469, -0.431906, -0.08705714]
let gsCases: [GridCase] = [
    GridCase(mode: .bilinear, padding: .zeros, alignCorners: false, expected: [0.008548192, -0.02410804, 0.02117106, 1.221231, 0.04164932, 0.04856713, 0.3055818, -0.1044182, 0, -0.2713625, 0.1700946, -0.1676415, -0.177658, -0.2114297, -0.04853367, -0.04466266, 0.01306637, 0.09476084, 0, 0.1697532]),
    GridCase(mode: .bilinear, padding: .zeros, alignCorners: true, expected: [0.03419277, -0.09643216, 0.02117106, 0.7689108, 0.4987007, 0.1571206, 0.7621164, -0.3384714, -0.01059955, -0.3491908, 0.6803784, -0.6705658, -0.177658, -0.209344, -0.5811325, -0.01603949, -0.1494992, 0.414656, 0.3792607, -0.04763411]),
    GridCase(mode: .bilinear, padding: .border, alignCorners: false, expected: [0.03419277, -0.09643216, 0.02117106, 1.221231, 0.7468856, 0.4856718, 0.407819, -0.5103071, 0.03419277, -0.2713625, 0.6803784, -0.6705658, -0.177658, -0.2114297, -0.8703406, -0.4466271, 0.01743793, 0.4631101, 0.6803784, 0.1697532]),
    GridCase(mode: .bilinear, padding: .border, alignCorners: true, expected: [0.03419277, -0.09643216, 0.02117106, 0.7689108, 0.7468855, 0.224458, 0.7621164, -0.4158177, -0.01966837, -0.3491908, 0.6803784, -0.6705658, -0.177658, -0.209344, -0.8703406, -0.02291355, -0.1494992, 0.5094119, 0.7037504, -0.04763411]),
    GridCase(mode: .bilinear, padding: .reflection, alignCorners: false, expected: [0.03419277, -0.09643216, 0.02117106, 1.221231, 0.7468856, 0.4856718, 0.407819, -0.5103071, 0.1863424, -0.2713625, 0.6803784, -0.6705658, -0.177658, -0.2114297, -0.8703406, -0.4466271, 0.01743793, 0.4631101, 0.586608, 0.1697532]),
    GridCase(mode: .bilinear, padding: .reflection, alignCorners: true, expected: [0.03419277, -0.09643216, 0.02117106, 0.7689108, 0.0469221, -0.1990858, 0.7621164, -0.1360042, 0.4752672, -0.3491908, 0.6803784, -0.6705658, -0.177658, -0.209344, -0.8582414, -0.2735766, -0.1494992, 0.3528965, 0.3113599, -0.04763411]),
    GridCase(mode: .nearest, padding: .zeros, alignCorners: false, expected: [0.03419277, 0, 0.5697263, 1.359748, 0, 0, 1.224721, 0, 0, -0.5273842, 0.6803784, 0, -0.1527862, -0.1365663, 0, 0, -0.3790986, 0, 0, -0.2025299]),
    GridCase(mode: .nearest, padding: .zeros, alignCorners: true, expected: [0.03419277, -0.09643216, 0.5697263, 1.359748, 0.7468856, 0.7468856, 1.224721, -0.5103071, 0.03419277, -0.5273842, 0.6803784, -0.6705658, -0.1527862, -0.1365663, -0.8703406, -0.8703406, -0.3790986, 0.4631101, 0.6803784, -0.2025299]),
    GridCase(mode: .nearest, padding: .border, alignCorners: false, expected: [0.03419277, -0.09643216, 0.5697263, 1.359748, 0.7468856, 0.7468856, 1.224721, -0.5103071, 0.03419277, -0.5273842, 0.6803784, -0.6705658, -0.1527862, -0.1365663, -0.8703406, -0.8703406, -0.3790986, 0.4631101, 0.6803784, -0.2025299]),
    GridCase(mode: .nearest, padding: .border, alignCorners: true, expected: [0.03419277, -0.09643216, 0.5697263, 1.359748, 0.7468856, 0.7468856, 1.224721, -0.5103071, 0.03419277, -0.5273842, 0.6803784, -0.6705658, -0.1527862, -0.1365663, -0.8703406, -0.8703406, -0.3790986, 0.4631101, 0.6803784, -0.2025299]),
    GridCase(mode: .nearest, padding: .reflection, alignCorners: false, expected: [0.03419277, -0.09643216, 0.5697263, 1.359748, 0.7468856, 0.7468856, 1.224721, -0.5103071, 0.03419277, -0.5273842, 0.6803784, -0.6705658, -0.1527862, -0.1365663, -0.8703406, -0.8703406, -0.3790986, 0.4631101, 0.6803784, -0.2025299]),
    GridCase(mode: .nearest, padding: .reflection, alignCorners: true, expected: [0.03419277, -0.09643216, 0.5697263, 1.359748, 0.7468856, 0.7468856, 1.224721, -0.5103071, 0.03419277, -0.5273842, 0.6803784, -0.6705658, -0.1527862, -0.1365663, -0.8703406, -0.8703406, -0.3790986, 0.4631101, 0.6803784, -0.2025299]),
    GridCase(mode: .bicubic, padding: .zeros, alignCorners: false, expected: [-0.05168381, -0.1130684, 0.05833133, 1.534088, 0.0587611, 0.06344543, 0.27235, -0.1624966, -0.004151472, -0.3617468, 0.199786, -0.2978986, -0.3525513, -0.3546445, -0.04998249, -0.04155071, -0.004762968, 0.1088502, -0.03414296, 0.3357991]),
    GridCase(mode: .bicubic, padding: .zeros, alignCorners: true, expected: [0.03419277, -0.09643216, 0.05833133, 1.172394, 0.8430061, 0.3884045, 0.8552249, -0.5532193, -0.1410306, -0.3929434, 0.6803784, -0.6705658, -0.3525513, -0.3654305, -0.6375051, 0.03533912, -0.2046082, 0.5793772, 0.5203018, 0.0217955]),
    GridCase(mode: .bicubic, padding: .border, alignCorners: false, expected: [-0.07260451, -0.2652371, 0.05833133, 1.468668, 0.8526386, 0.5127467, 0.4023479, -0.6180128, 0.06952755, -0.3505228, 0.7416078, -0.9143455, -0.3525513, -0.3402643, -0.9554023, -0.4763001, -0.0363626, 0.4724317, 0.6650458, 0.2743832]),
    GridCase(mode: .bicubic, padding: .border, alignCorners: true, expected: [0.03419277, -0.09643216, 0.05833133, 1.000196, 1.104633, 0.3650417, 0.7957102, -0.5647563, -0.1446245, -0.3945644, 0.6803784, -0.6705658, -0.3525513, -0.325521, -0.9146743, 0.08488919, -0.2013414, 0.6212268, 0.8140679, 0.009153545]),
    GridCase(mode: .bicubic, padding: .reflection, alignCorners: false, expected: [-0.2067352, -0.4522738, 0.05833133, 1.468668, 1.231681, 0.6411173, 0.4028751, -0.8255358, 0.2318565, -0.3505228, 0.799144, -1.191594, -0.3525513, -0.3402643, -1.094316, -0.4314544, -0.04531493, 0.5567484, 0.587317, 0.2743832]),
    GridCase(mode: .bicubic, padding: .reflection, alignCorners: true, expected: [0.03419277, -0.09643216, 0.05833133, 1.187133, 0.2885982, -0.1312761, 0.7721157, -0.3594402, 0.4640151, -0.3855104, 0.6803784, -0.6705658, -0.3525513, -0.3268498, -0.9727602, -0.3623726, -0.1971129, 0.4493506, 0.441311, 0.02390021]),
]
