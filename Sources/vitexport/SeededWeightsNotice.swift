import VitIR

/// The line every command prints when a model's parameters are seeded random values rather
/// than a checkpoint (no --weights), so its outputs are not mistaken for a trained model's.
func seededWeightsNotice(seed: UInt64) -> String {
    "weights: seeded random values (seed \(seed)), not a trained model; bind a checkpoint with --weights"
}

/// `seededWeightsNotice(seed:)` when `graph` — traced, or imported from a file vitexport
/// wrote — records seeded parameters (metadata `vitexport.weights` = `seeded-random:<seed>`);
/// nil when it records a checkpoint or nothing.
func seededWeightsNotice(_ graph: Graph) -> String? {
    guard let kind = graph.metadata["vitexport.weights"], kind.hasPrefix("seeded-random:"),
          let seed = UInt64(kind.dropFirst("seeded-random:".count)) else { return nil }
    return seededWeightsNotice(seed: seed)
}
