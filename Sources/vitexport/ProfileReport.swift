import Foundation
import VitInterp

/// The top-level part of a model a node scope belongs to, for `run --profile`'s breakdown:
/// detectors' backbone (the ViT), pyramid (ViTDet's simple feature pyramid), neck, encoder,
/// proposals (two-stage query selection), decoder and post-process; any other model's first
/// scope component. Exported node names carry the same paths, so a file run with --onnx splits
/// the same way.
func topLevelScope(_ scope: String) -> String {
    let parts = scope.split(separator: ".", omittingEmptySubsequences: false)
    guard let first = parts.first, !first.isEmpty else { return "(unscoped)" }
    let second = parts.count > 1 ? String(parts[1]) : ""
    switch first {
    case "backbone": return second == "net" ? "backbone" : "pyramid"
    case "transformer":
        switch second {
        case "encoder": return "encoder"
        case "decoder": return "decoder"
        default: return "proposals"
        }
    case "class_embed", "bbox_embed": return "decoder"
    case "postprocess": return "post-process"
    default: return String(first)
    }
}

/// The two innermost named components of a node scope (numbers, the indices of repeated
/// blocks, skipped): `layers.attentions` for `transformer.encoder.layers.3.attentions.0`,
/// `attn.qkv` for a ViT block's query-key-value projection.
func moduleName(_ scope: String) -> String {
    let named = scope.split(separator: ".").filter { Int($0) == nil }
    return named.isEmpty ? "(unscoped)" : named.suffix(2).joined(separator: ".")
}

/// Prints seconds per op, the `ranked` largest per op within a module (top-level scope, module
/// name, op: where the time goes), and per top-level scope (`topLevelScope`), from the seconds
/// per (scope, op) pair summed over `repeats` timed runs whose wall times sum to `total`,
/// averaged per run, largest first.
func printProfile(_ scopeOps: [Interpreter.ScopeOp: Double], repeats: Int, total: Double, ranked: Int = 15) {
    func rows(_ seconds: [String: Double], width: Int = 22, limit: Int = .max) {
        let sorted = seconds.sorted(by: { $0.value > $1.value || ($0.value == $1.value && $0.key < $1.key) })
        for (name, s) in sorted.prefix(limit) {
            let padded = name.padding(toLength: max(width, name.count), withPad: " ", startingAt: 0)
            print("  \(padded) " + String(format: "%8.3f s  %5.1f%%", s / Double(repeats), 100 * s / max(total, 1e-9)))
        }
    }
    var byTop: [String: Double] = [:], byModule: [String: Double] = [:]
    for (scope, s) in scopeOps.sums(by: \.scope) { byTop[topLevelScope(scope), default: 0] += s }
    for (key, s) in scopeOps { byModule["\(topLevelScope(key.scope)) \(moduleName(key.scope)) \(key.op)", default: 0] += s }
    print("per op:")
    rows(scopeOps.sums(by: \.op))
    print("per op within a module (the \(ranked) largest):")
    rows(byModule, width: 38, limit: ranked)
    print("per top-level scope:")
    rows(byTop)
}
