import Foundation
import VitIR

/// The frequency divisors of detrex's sine embeddings: `temperature^(2⌊k/2⌋ / features)` for
/// k in 0..<features, evaluated in Float32 as torch does.
func sineDivisors(features: Int, temperature: Float = 10000) -> [Float] {
    (0..<features).map { k in Foundation.pow(temperature, Float(2 * (k / 2)) / Float(features)) }
}

/// detrex's `PositionEmbeddingSine(num_pos_feats: features, temperature 1e4, normalize, offset
/// −0.5, scale 2π, eps 1e-6)` of an all-valid H×W mask (inference masks nothing), as a
/// token-major table [H·W, 2·features]: row i·W + j holds the y embedding in channels
/// 0..<features and the x embedding after it, each interleaving sin (even channels) and cos
/// (odd channels) of `e / divisor[k]` with e = (i + 1 − 0.5) / (H + 1e-6) · 2π for y and the
/// same over j and W for x. Arithmetic follows torch's Float32 order.
func sinePositionTable(height h: Int, width w: Int, features: Int) -> [Float] {
    let divisors = sineDivisors(features: features)
    let scale = Float(2 * Double.pi)
    func embed(_ index: Int, _ extent: Int) -> [Float] {
        let e = (Float(index + 1) + -0.5) / (Float(extent) + 1e-6) * scale
        return (0..<features).map { k in
            let v = e / divisors[k]
            return k % 2 == 0 ? Foundation.sin(v) : Foundation.cos(v)
        }
    }
    let ys = (0..<h).map { embed($0, h) }, xs = (0..<w).map { embed($0, w) }
    var table: [Float] = []
    table.reserveCapacity(h * w * 2 * features)
    for i in 0..<h {
        for j in 0..<w {
            table += ys[i]
            table += xs[j]
        }
    }
    return table
}

/// detrex's `get_sine_pos_embed(pos, num_pos_feats: features, temperature 1e4,
/// exchange_xy: true)` as traced ops on boxes [B, N, 4] = (cx, cy, w, h) in [0, 1]: each
/// coordinate c becomes `features` channels interleaving sin(c·2π / divisor[2k]) and
/// cos(c·2π / divisor[2k+1]); the blocks are concatenated as (cy, cx, w, h). Output
/// [B, N, 4·features]. Its constants are created once, under the scope of `init`.
struct BoxSineEmbedding {
    var features: Int
    var order: SymbolicTensor
    var divisors: SymbolicTensor

    init(_ m: ModelContext, features: Int) {
        self.features = features
        order = m.tracer.constant(Tensor([1, 0, 2, 3] as [Int64], shape: [4]), name: m.tracer.qualified("sine_order"))
        divisors = m.tracer.constant(Tensor(sineDivisors(features: features), shape: [features]),
                                     name: m.tracer.qualified("sine_divisors"))
    }

    func callAsFunction(_ boxes: SymbolicTensor) throws -> SymbolicTensor {
        let (b, n) = (boxes.dims[0], boxes.dims[1])
        let swapped = try boxes.gather(order, axis: 2)
        let e = try swapped.unsqueeze([3]).mul(Float(2 * Double.pi)).div(divisors)            // [B, N, 4, F]
        let even = try e.slice(axis: 3, start: 0, end: features, step: 2).sin().unsqueeze([4])
        let odd = try e.slice(axis: 3, start: 1, end: features, step: 2).cos().unsqueeze([4])
        return try concat([even, odd], axis: 4).reshape([b, n, 4 * features])
    }
}
