import Foundation
import Testing
import VitIR
import VitONNX
import VitPasses
@testable import VitModels

private let here = URL(fileURLWithPath: #filePath).deletingLastPathComponent()

/// `text` with the line number of every Swift source location replaced by `N`
/// (`VitModels/Layers.swift:101` → `VitModels/Layers.swift:N`): the file name stays, so a node
/// traced from a different file still differs, but editing a comment above a layer does not.
func normalizingSourceLines(_ text: String) -> String {
    text.replacing(/\.swift:[0-9]+/, with: ".swift:N")
}

/// Where `actual` differs from `golden` once both have their source line numbers normalized:
/// nil when equal, else the first differing line of each.
func goldenMismatch(golden: String, actual: String) -> String? {
    let (g, t) = (normalizingSourceLines(golden), normalizingSourceLines(actual))
    guard g != t else { return nil }
    let a = g.split(separator: "\n", omittingEmptySubsequences: false)
    let b = t.split(separator: "\n", omittingEmptySubsequences: false)
    let first = Array(zip(a, b)).firstIndex { $0 != $1 } ?? min(a.count, b.count)
    return """
        line \(first + 1):
          golden: \(first < a.count ? String(a[first]) : "<end>")
          actual: \(first < b.count ? String(b[first]) : "<end>")
        """
}

/// Compares `text` with the golden file `name` (source line numbers normalized on both sides);
/// with VITEXPORT_UPDATE_GOLDEN=1 rewrites it, normalized.
func expectGolden(_ text: String, _ name: String, sourceLocation: Testing.SourceLocation = #_sourceLocation) throws {
    let url = here.appendingPathComponent("Golden/\(name)")
    if ProcessInfo.processInfo.environment["VITEXPORT_UPDATE_GOLDEN"] == "1" {
        try Data(normalizingSourceLines(text).utf8).write(to: url)
        return
    }
    let golden = try String(contentsOf: url, encoding: .utf8)
    if let mismatch = goldenMismatch(golden: golden, actual: text) {
        Issue.record("\(name) differs at \(mismatch)\n(rerun with VITEXPORT_UPDATE_GOLDEN=1 to accept)",
                     sourceLocation: sourceLocation)
    }
}

func tinyGraph() throws -> Graph { try traceModel(ModelConfig.load("tiny-convattn")) }

/// The graph as `vitexport dump --stage folded` prints it: after the pass pipeline.
func tinyFoldedGraph() throws -> Graph {
    var graph = try tinyGraph()
    _ = try optimize(&graph)
    return graph
}

/// The graph as `vitexport dump --stage exported` prints it: folded, lowered for opset 17 and
/// read back from the ONNX form.
func tinyExportedGraph() throws -> Graph {
    let model = try makeModel(tinyFoldedGraph(), options: ExportOptions(opset: 17, runChecker: false))
    return try importModel(model, baseDirectory: nil)
}

@Test func tracedTextDumpMatchesGolden() throws {
    try expectGolden(textDump(tinyGraph()), "tiny-convattn.traced.txt")
}

@Test func foldedTextDumpMatchesGolden() throws {
    try expectGolden(textDump(tinyFoldedGraph()), "tiny-convattn.folded.txt")
}

@Test func exportedTextDumpMatchesGolden() throws {
    try expectGolden(textDump(tinyExportedGraph()), "tiny-convattn.exported.txt")
}

@Test func goldenComparisonIgnoresOnlySourceLineNumbers() throws {
    let text = textDump(try tinyGraph())
    let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    let k = try #require(lines.firstIndex { $0.contains("= MatMul(%blocks.1.attn.Mul") })
    func edited(_ change: (String) -> String) -> String {
        var copy = lines
        copy[k] = change(copy[k])
        #expect(copy[k] != lines[k], "the edit must change the line")
        return copy.joined(separator: "\n")
    }
    // A layer moved down the same file: equal after normalization.
    #expect(goldenMismatch(golden: text, actual: edited { $0.replacing(/Layers\.swift:[0-9]+/, with: "Layers.swift:99999") }) == nil)
    // Traced from another file, another op, another shape, another scope: all still differ.
    #expect(goldenMismatch(golden: text, actual: edited { $0.replacing("Layers.swift:", with: "Attention.swift:") }) != nil)
    #expect(goldenMismatch(golden: text, actual: edited { $0.replacing("= MatMul(", with: "= Gemm(") }) != nil)
    #expect(goldenMismatch(golden: text, actual: edited { $0.replacing("f32[", with: "f16[") }) != nil)
    #expect(goldenMismatch(golden: text, actual: edited { $0.replacing("# blocks.1.attn", with: "# blocks.0.attn") }) != nil)
    // A line number elsewhere than after `.swift` is not normalized.
    #expect(goldenMismatch(golden: "x = Concat(axis=1)", actual: "x = Concat(axis=2)") != nil)
    #expect(goldenMismatch(golden: "a", actual: "a\nb")?.contains("<end>") == true)
}

@Test func textDumpShowsScopesAndSourceLines() throws {
    let text = textDump(try tinyGraph())
    // The q·kᵀ MatMul of block 1 is traced by selfAttention in Layers.swift, in scope blocks.1.attn.
    let line = try #require(text.split(separator: "\n").first { $0.contains("= MatMul(%blocks.1.attn.Mul") })
    #expect(line.contains("# blocks.1.attn @ VitModels/Layers.swift:"))
    let conv = try #require(text.split(separator: "\n").first { $0.contains("%patch_embed.proj.Conv: f32[1, 32, 8, 8] = Conv(") })
    #expect(conv.contains("kernel=[4,4], strides=[4,4]"))
    #expect(conv.contains("# patch_embed.proj @ VitModels/ConvAttentionModel.swift:"))
}

@Test func summaryCountsParametersAndFLOPs() throws {
    let g = try tinyGraph()
    let s = GraphSummary(g)
    #expect(s.parameterCount == g.initializers.values.reduce(0) { $0 + $1.count })
    // patch_embed: 2 · (1·32·8·8 outputs) · (8·4·4 weights per output) + bias adds.
    let patch = try #require(s.flopsByScope.first { $0.scope == "patch_embed" })
    #expect(patch.flops == 2 * 32 * 64 * (8 * 4 * 4) + 32 * 64)
    #expect(s.flopsByScope.map(\.scope).prefix(3) == ["stem", "patch_embed", "<root>"])
    #expect(s.totalFLOPs == s.flopsByScope.reduce(0) { $0 + $1.flops })
}

@Test func dotDumpIsWellFormed() throws {
    let dot = dotDump(try tinyGraph())
    #expect(dot.hasPrefix("digraph \"tiny-convattn\" {"))
    #expect(dot.hasSuffix("}\n"))
    #expect(dot.contains("subgraph \"cluster_"))
    #expect(dot.contains("label=\"blocks\""))
    #expect(dot.contains("\"in:image\" -> \"n0\";"))
    #expect(dot.contains("-> \"out:logits\";"))
    try expectGolden(dot, "tiny-convattn.traced.dot")
}

@Test func jsonDumpConformsToItsSchema() throws {
    let g = try tinyGraph()
    let json = try JSONValue.parse(Data(jsonDump(g).utf8))
    let schemaURL = here.appendingPathComponent("../../Schemas/graph-dump.schema.json").standardized
    let schema = try JSONValue.parse(Data(contentsOf: schemaURL))
    #expect(JSONSchemaValidator(schema: schema).validate(json) == [])
    guard case .array(let nodes)? = json["nodes"] else { Issue.record("nodes missing"); return }
    #expect(nodes.count == g.nodes.count)
    #expect(nodes.first?["scope"] == .string("stem.conv"))
    #expect(json["summary"]?["node_count"] == .number(Double(g.nodes.count)))
}

@Test func dumpsAreDeterministic() throws {
    #expect(jsonDump(try tinyGraph()) == jsonDump(try tinyGraph()))
    #expect(textDump(try tinyGraph(), listInitializers: true) == textDump(try tinyGraph(), listInitializers: true))
}

@Test func seededParametersAreDeterministicAndNonDegenerate() {
    let p = SeededParameters(seed: 7)
    let a = p.tensor(for: "blocks.0.attn.qkv.weight", shape: [96, 32], initializer: .normal(std: 0.02))
    let b = p.tensor(for: "blocks.0.attn.qkv.weight", shape: [96, 32], initializer: .normal(std: 0.02))
    let c = p.tensor(for: "blocks.1.attn.qkv.weight", shape: [96, 32], initializer: .normal(std: 0.02))
    #expect(a.bitwiseEqual(b))
    #expect(!a.bitwiseEqual(c))
    let f = a.floats
    let mean = f.reduce(0, +) / Float(f.count)
    let std = (f.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Float(f.count)).squareRoot()
    #expect(abs(mean) < 0.002)
    #expect(abs(std - 0.02) < 0.002)
}
