import Foundation

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

/// Prints seconds per op and per top-level scope (`topLevelScope`), averaged over `repeats`
/// timed runs whose wall times sum to `total`, largest first.
func printProfile(ops: [String: Double], scopes: [String: Double], repeats: Int, total: Double) {
    func rows(_ seconds: [String: Double]) {
        for (name, s) in seconds.sorted(by: { $0.value > $1.value || ($0.value == $1.value && $0.key < $1.key) }) {
            let padded = name.padding(toLength: 22, withPad: " ", startingAt: 0)
            print("  \(padded) " + String(format: "%8.3f s  %5.1f%%", s / Double(repeats), 100 * s / max(total, 1e-9)))
        }
    }
    var byTop: [String: Double] = [:]
    for (scope, s) in scopes { byTop[topLevelScope(scope), default: 0] += s }
    print("per op:")
    rows(ops)
    print("per top-level scope:")
    rows(byTop)
}
