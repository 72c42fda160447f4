/// `base` when it is free, else the first free name of `base_1`, `base_2`, … — the one naming
/// scheme for generated value and node names (tracer, ONNX lowering and import).
///
/// Contract: the result is not taken (`isTaken` is false for it); `base` itself is returned
/// unchanged whenever it is free, so a name that is already unique is never altered; the
/// result depends only on which names are taken, never on call history.
public func uniqueName(_ base: String, isTaken: (String) -> Bool) -> String {
    if !isTaken(base) { return base }
    var k = 1
    while isTaken("\(base)_\(k)") { k += 1 }
    return "\(base)_\(k)"
}

/// `uniqueName(_:isTaken:)` over the set `taken`, inserting the result into it.
public func uniqueName(_ base: String, in taken: inout Set<String>) -> String {
    let name = uniqueName(base, isTaken: taken.contains)
    taken.insert(name)
    return name
}
