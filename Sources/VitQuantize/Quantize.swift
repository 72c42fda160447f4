import VitIR
import VitInterp

/// Post-training int8 quantization of a float32 graph that has been through the pass
/// pipeline: plans the nodes (`planQuantization`), calibrates their activations on `samples`
/// (`collectStatistics`, then the calibrator's range per activation), and inserts the QDQ pairs
/// (`insertQDQ`). `samples` is any collection of feed sets (seeded inputs, .npy files or
/// decoded images) and is iterated once per calibration pass.
public func quantize(_ graph: inout Graph, samples: some Collection<[String: Tensor]>, settings: QuantizationSettings,
                     calibration: CalibrationOptions = CalibrationOptions()) throws(QuantizationError) -> QuantizationReport {
    let plan = try planQuantization(graph, settings: settings)
    let stats = try collectStatistics(graph, targets: plan.activations, samples: samples, options: calibration)
    let symmetric = settings.activationType == .int8
    let ranges = stats.mapValues { calibration.calibrator.range($0, symmetric: symmetric) }
    return try insertQDQ(&graph, plan: plan, ranges: ranges, settings: settings)
}
