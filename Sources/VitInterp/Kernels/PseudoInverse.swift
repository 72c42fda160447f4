import CBLAS
import VitIR

/// Moore–Penrose pseudo-inverse via LAPACK `dgesdd` in float64: A = U·diag(σ)·Vᵀ, A⁺ =
/// V·diag(1/σᵢ for σᵢ > max(m, n)·ε₃₂·σ_max, else 0)·Uᵀ, with ε₃₂ = float32's epsilon (the
/// cutoff `torch.linalg.pinv` uses for float32 input). Tolerance class: rounding — computed in
/// float64 then rounded once to float32, so within an ulp or so of the exact pseudo-inverse,
/// and within float32 SVD noise of torch's float32 result.
func pseudoInverse(_ a: Tensor) throws -> Tensor {
    let m = a.shape[0], n = a.shape[1]
    if m == 0 || n == 0 { return Tensor.zeros(a.dtype, [n, m]) }
    // Column-major copy of A (LAPACK overwrites it).
    let x = a.floats
    var colMajor = [Double](repeating: 0, count: m * n)
    for i in 0..<m { for j in 0..<n { colMajor[j * m + i] = Double(x[i * n + j]) } }
    let k = min(m, n)
    var s = [Double](repeating: 0, count: k)
    var u = [Double](repeating: 0, count: m * k)
    var vt = [Double](repeating: 0, count: k * n)
    var iwork = [Int32](repeating: 0, count: 8 * k)
    var info: Int32 = 0
    var mm = Int32(m), nn = Int32(n), kk = Int32(k)
    var lwork: Int32 = -1
    var query = [Double](repeating: 0, count: 1)
    let jobz = "S"
    // Workspace query, then the decomposition.
    jobz.withCString { j in
        dgesdd_(j, &mm, &nn, &colMajor, &mm, &s, &u, &mm, &vt, &kk, &query, &lwork, &iwork, &info)
    }
    guard info == 0 else { throw KernelError(.invalidInput, "PseudoInverse: LAPACK dgesdd workspace query failed (info \(info))") }
    lwork = Int32(query[0])
    var work = [Double](repeating: 0, count: max(Int(lwork), 1))
    jobz.withCString { j in
        dgesdd_(j, &mm, &nn, &colMajor, &mm, &s, &u, &mm, &vt, &kk, &work, &lwork, &iwork, &info)
    }
    guard info == 0 else {
        throw KernelError(.invalidInput, "PseudoInverse: LAPACK dgesdd did not converge (info \(info)); the matrix may hold NaN or Inf")
    }
    let cutoff = Double(max(m, n)) * Double(Float.ulpOfOne) * (s.first ?? 0)
    // A⁺[j, i] = Σ_r V[j, r] · (1/σ_r) · U[i, r];  V[j, r] = vt[r, j] = vt[j * k + r] (col-major k×n).
    var result = [Float](repeating: 0, count: n * m)
    for j in 0..<n {
        for i in 0..<m {
            var acc = 0.0
            for r in 0..<k where s[r] > cutoff {
                acc += vt[j * k + r] / s[r] * u[r * m + i]
            }
            result[j * m + i] = Float(acc)
        }
    }
    let t = Tensor(result, shape: [n, m])
    return a.dtype == .float32 ? t : try evaluate(.cast(to: a.dtype), [t])[0]
}
