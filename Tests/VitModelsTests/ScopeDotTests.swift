import Foundation
import Testing
import VitIR
import VitModels

// `dotDump(_:depth:)`: clusters by scope prefix, merged boxes with op counts, no duplicate
// edges, checked on the traced dino-tiny detector against counts taken from the graph itself.

private func detectorGraph() throws -> Graph { try traceModel(try ModelConfig.load("dino-tiny")) }

/// Declared item ids, edges and cluster names of a DOT text written by `dotDump`.
private struct ParsedDot {
    var items: [String: String] = [:]  // id → label
    var edges: [(String, String)] = []
    var clusters: [String] = []

    init(_ text: String) {
        for raw in text.split(separator: "\n") {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.hasPrefix("subgraph \"cluster_") {
                clusters.append(String(line.dropFirst("subgraph \"cluster_".count).prefix { $0 != "\"" }))
            } else if line.contains(" -> ") {
                let parts = line.dropLast().components(separatedBy: " -> ").map { $0.trimmingCharacters(in: CharacterSet(charactersIn: "\"")) }
                edges.append((parts[0], parts[1]))
            } else if line.hasPrefix("\""), let close = line.dropFirst().firstIndex(of: "\""), let label = line.range(of: "label=\"") {
                let id = String(line[line.index(after: line.startIndex)..<close])
                items[id] = String(line[label.upperBound...].prefix { $0 != "\"" })
            }
        }
    }
}

@Test func depthOneMergesEveryTopLevelScopeIntoOneBoxWithItsOpCounts() throws {
    let graph = try detectorGraph()
    let dot = dotDump(graph, depth: 1)
    #expect(dot == dotDump(graph, depth: 1), "deterministic")
    let parsed = ParsedDot(dot)
    #expect(parsed.clusters.isEmpty)
    var expected: [String: Int] = [:]
    for node in graph.nodes { if let top = node.scope.split(separator: ".").first { expected[String(top), default: 0] += 1 } }
    let boxes = parsed.items.filter { $0.key.hasPrefix("s:") }
    #expect(Set(boxes.keys) == Set(expected.keys.map { "s:" + $0 }))
    #expect(Set(expected.keys).isSuperset(of: ["backbone", "neck", "transformer", "postprocess"]))
    for (scope, count) in expected {
        #expect(boxes["s:" + scope]?.hasPrefix("\(scope) · \(count) ops: ") == true, "\(scope): \(boxes["s:" + scope] ?? "none")")
    }
    let alone = parsed.items.keys.filter { $0.hasPrefix("n") }.count
    #expect(alone == graph.nodes.filter { $0.scope.isEmpty }.count)
    #expect(parsed.edges.contains { $0 == ("s:backbone", "s:neck") } && parsed.edges.contains { $0 == ("s:neck", "s:transformer") })
}

@Test func depthTwoClustersTopLevelScopesAndHasNoDuplicateOrDanglingEdges() throws {
    let graph = try detectorGraph()
    let parsed = ParsedDot(dotDump(graph, depth: 2))
    var secondLevel: [String: Int] = [:]
    var clusters: Set<String> = []
    for node in graph.nodes {
        let parts = node.scope.split(separator: ".")
        if parts.count >= 2 { secondLevel[parts.prefix(2).joined(separator: "."), default: 0] += 1 }
        if parts.count >= 2 || (parts.count == 1) { if let top = parts.first { clusters.insert(String(top)) } }
    }
    #expect(Set(parsed.clusters) == clusters)
    #expect(parsed.clusters.count == clusters.count, "each cluster once")
    #expect(parsed.clusters.contains("backbone") && parsed.clusters.contains("transformer"))
    for (scope, count) in secondLevel {
        #expect(parsed.items["s:" + scope]?.hasPrefix("\(scope) · \(count) ops: ") == true, "\(scope)")
    }
    #expect(parsed.items["s:transformer.encoder"] != nil && parsed.items["s:transformer.decoder"] != nil)
    let pairs = parsed.edges.map { $0.0 + " -> " + $0.1 }
    #expect(Set(pairs).count == pairs.count, "no duplicate edges")
    #expect(parsed.edges.allSatisfy { $0.0 != $0.1 }, "no edge inside a box")
    #expect(parsed.edges.allSatisfy { parsed.items[$0.0] != nil && parsed.items[$0.1] != nil }, "every endpoint declared")
    let merged = secondLevel.values.reduce(0, +)
    let alone = parsed.items.keys.filter { $0.hasPrefix("n") }.count
    #expect(merged + alone == graph.nodes.count)
}
