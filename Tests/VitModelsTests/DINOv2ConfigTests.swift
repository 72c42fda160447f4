import Foundation
import Testing
import VitIR
import VitModels

/// timm's DINOv2 definitions (`vit_*_patch14_dinov2` in timm/models/vision_transformer.py):
/// embed_dim, depth, num_heads, fc1 width, MLP kind.
private let timmFamily: [(String, Int, Int, Int, Int, DINOv2Config.MLPLayer)] = [
    ("dinov2-vits14", 384, 12, 6, 1536, .mlp),
    ("dinov2-vitb14", 768, 12, 12, 3072, .mlp),
    ("dinov2-vitl14", 1024, 24, 16, 4096, .mlp),
    ("dinov2-vitg14", 1536, 40, 24, 8192, .swigluPacked),
]

@Test func familyConfigsFollowTimmDefinitions() throws {
    for (name, dim, depth, heads, hidden, mlp) in timmFamily {
        for registers in [false, true] {
            let file = registers ? name + "-reg4" : name
            let config = try ModelConfig.load(file)
            let c = try #require(config.dinov2, "\(file)")
            #expect(config.architecture == .dinov2)
            #expect((c.embedDim, c.depth, c.numHeads, c.mlpHiddenDim, c.mlpLayer) == (dim, depth, heads, hidden, mlp), "\(file)")
            #expect(c.regTokens == (registers ? 4 : 0) && c.noEmbedClass == registers, "\(file)")
            #expect(c.layerScale && c.layerNormEps == 1e-6 && c.inChannels == 3, "\(file)")
            #expect((c.patchSize, c.exportPatchSize, c.patchResample) == (14, 16, .pinv), "\(file)")
            // The lvd142m checkpoints are 518² (37×37 table); timm's patch-16 model is built for
            // 518 // 16 = 32; the detector feeds 512².
            #expect(c.posEmbedGrid == [37, 37] && c.posEmbedLoadGrid == [32, 32] && config.imageSize == [512, 512], "\(file)")
            #expect(c.outIndex == -1 && !c.finalNorm, "\(file)")
        }
    }
}

@Test func smallFamilyModelTracesWithResamplingAndTheDetectorOutput() throws {
    let graph = try traceModel(ModelConfig.load("dinov2-vits14-reg4"))
    #expect(graph.outputs.map { graph.type(of: $0).shape.ints } == [[1, 384, 32, 32]])
    let ops = graph.nodes.map(\.op.name)
    #expect(ops.filter { $0 == "PseudoInverse" }.count == 1)
    #expect(ops.filter { $0 == "Resize" }.count == 2, "patch basis and the 37→32 table (32→32 is skipped)")
    #expect(!graph.nodes.contains { $0.scope == "norm" }, "the final norm is not applied")
    #expect(graph.nodes.contains { $0.scope == "blocks.11.norm2" })
    #expect(graph.metadata["vitexport.weights"] == "seeded-random:0")
}

private func dinov2Problems(_ edit: (inout String) -> Void) throws -> [String] {
    var text = try String(contentsOf: dinov2Fixtures.appendingPathComponent("s14_to16_224.config.json"), encoding: .utf8)
    edit(&text)
    do {
        _ = try ModelConfig.parse(Data(text.utf8), source: "t.json")
        return []
    } catch let e as ConfigError {
        return e.problems
    } catch {
        return ["unexpected \(error)"]
    }
}

@Test func dinov2RelationsAreCheckedWithAFix() throws {
    #expect(try dinov2Problems { _ in }.isEmpty)
    #expect(try dinov2Problems { $0 = $0.replacingOccurrences(of: "\"image_size\": [224, 224]", with: "\"image_size\": [224, 230]") }
        == ["image_size: width 230 is not divisible by dinov2.export_patch_size 16"])
    #expect(try dinov2Problems { $0 = $0.replacingOccurrences(of: "\"pinv\"", with: "\"none\"") }
        .first?.hasPrefix("dinov2.patch_resample: \"none\" needs patch_size 14 == export_patch_size 16") == true)
    #expect(try dinov2Problems { $0 = $0.replacingOccurrences(of: "\"out_index\": -1", with: "\"out_index\": 2") }
        == ["dinov2.out_index: 2 is not a block index for depth 2 (use -2…1)"])
    #expect(try dinov2Problems { $0 = $0.replacingOccurrences(of: "\"num_heads\": 2", with: "\"num_heads\": 3") }
        == ["dinov2.num_heads: 3 does not divide embed_dim 128"])
    #expect(try dinov2Problems { $0 = $0.replacingOccurrences(of: "\"pinv\"", with: "\"bilinear\"") }
        .contains { $0.hasPrefix("dinov2.patch_resample: string \"bilinear\" is not one of") })
    #expect(try dinov2Problems { $0 = $0.replacingOccurrences(of: "\"final_norm\": false", with: "\"final_norm\": false, \"norm\": 1") }
        .contains { $0.hasPrefix("dinov2.norm: unknown key") })
}
