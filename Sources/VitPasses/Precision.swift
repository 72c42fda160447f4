/// The numeric precision an export or a run is made in (`--precision`).
public enum Precision: String, CaseIterable, Sendable {
    /// Everything float32: the model as traced.
    case fp32
    /// Weights and activations float16; graph inputs and outputs stay float32.
    case fp16
    /// float16 where the stated policy finds it safe, float32 elsewhere.
    case mixed
    /// int8 QuantizeLinear/DequantizeLinear pairs from calibrated activation ranges.
    case int8
}
