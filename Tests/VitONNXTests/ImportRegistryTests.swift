import Testing
@testable import VitONNX

/// The import table is built from the families' registrations; a type registered twice would
/// silently import as whichever family came first.
@Test func everyONNXOpTypeIsRegisteredByOneFamily() {
    var seen: [String: Int] = [:]
    for family in onnxImporterFamilies {
        for type in family.keys { seen[type, default: 0] += 1 }
    }
    let twice = seen.filter { $0.value > 1 }.keys.sorted()
    #expect(twice.isEmpty, "registered more than once: \(twice)")
    #expect(onnxImporters.count == onnxImporterFamilies.reduce(0) { $0 + $1.count })
    for type in ["GridSample", "Resize", "Conv", "LayerNormalization", "TopK", "Constant", "Add"] {
        #expect(onnxImporters[type] != nil, "\(type)")
    }
}
