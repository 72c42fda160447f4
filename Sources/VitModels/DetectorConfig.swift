import Foundation

/// The `detector` section of a model configuration: a DINOv2 ViT backbone, a ViTDet
/// SimpleFeaturePyramid, a ChannelMapper neck and a DINO deformable transformer with its
/// prediction heads and post-processing, as detrex builds `dino_dinov2`.
public struct DetectorConfig: Sendable, Equatable, Decodable {
    /// The ViT as detrex's `TimmBackbone(features_only, out_indices=(-1,))` runs it; its keys
    /// sit under `backbone.net.timm_model.model.`.
    public var backbone: DINOv2Config
    /// timm's `dynamic_img_pad`: the normalized image is zero-padded right and bottom to a
    /// multiple of the patch size, and the position table resampled to the padded grid.
    /// Boxes are still scaled by the unpadded size, as detrex does.
    public var dynamicPad: Bool?
    public var pyramid: PyramidConfig
    public var neck: NeckConfig
    public var transformer: DINOTransformerConfig
    /// Number of object classes (sigmoid scores, no background class).
    public var numClasses: Int
    /// Detections kept by post-processing (`select_box_nums_for_evaluation`).
    public var numDetections: Int
    /// Per-channel RGB mean and standard deviation on the 0…255 scale.
    public var pixelMean: [Float]
    public var pixelStd: [Float]
}

/// ViTDet's SimpleFeaturePyramid (detectron2 `modeling/backbone/vit.py`).
public struct PyramidConfig: Sendable, Equatable, Decodable {
    /// One pyramid level per factor, relative to the backbone stride; supported: 4, 2, 1, 0.5.
    public var scaleFactors: [Double]
    public var outChannels: Int
    /// The extra top level (`LastLevelMaxPool`), or nil for none.
    public var topBlock: TopBlockConfig?
    public var normEps: Float
}

public struct TopBlockConfig: Sendable, Equatable, Decodable {
    /// The pyramid level it pools (detectron2 default "p5").
    public var inFeature: String
}

/// detrex's ChannelMapper: per level a 1×1 convolution with bias and a GroupNorm.
public struct NeckConfig: Sendable, Equatable, Decodable {
    public var groups: Int
    public var groupNormEps: Float
}

/// detrex's DINOTransformer (encoder, two-stage proposals, decoder with box refinement).
public struct DINOTransformerConfig: Sendable, Equatable, Decodable {
    public var embedDim: Int
    public var numHeads: Int
    public var numLevels: Int
    public var numPoints: Int
    public var encoderLayers: Int
    public var decoderLayers: Int
    public var ffnDim: Int
    public var numQueries: Int
    public var layerNormEps: Float
}

/// What the pyramid produces for a backbone stride and scale factors, or why it cannot.
struct PyramidPlan {
    struct Level {
        /// detectron2's stage index `log2(stride)`: module `simfp_<stage>`, output `p<stage>`.
        var stage: Int
        var stride: Int
        var scale: Double
    }
    var levels: [Level]
    /// Output names in order, the top block's last.
    var outputNames: [String]
}

extension DetectorConfig {
    static let supportedScales: [Double] = [4, 2, 1, 0.5]

    /// Plans the pyramid, or lists every reason it cannot be built. Each message names the
    /// configuration key, the offending value and a fix.
    func pyramidPlan() -> (PyramidPlan?, [String]) {
        var problems: [String] = []
        let stride = backbone.exportPatchSize
        if stride <= 0 || stride & (stride - 1) != 0 {
            problems.append("detector.backbone.export_patch_size: the backbone stride \(stride) is not a power of two, so the pyramid's levels (stride / scale factor) cannot be the power-of-two strides p2…p6 it names; resample the patch embedding to 16: set \"export_patch_size\": 16 and \"patch_resample\": \"pinv\" in detector.backbone (ViTDet appendix A.2; timm resample_patch_embed)")
        }
        var levels: [PyramidPlan.Level] = []
        for (i, s) in pyramid.scaleFactors.enumerated() {
            guard Self.supportedScales.contains(s) else {
                problems.append("detector.pyramid.scale_factors[\(i)]: \(s) is not supported; ViTDet's pyramid builds 4.0, 2.0, 1.0 and 0.5")
                continue
            }
            let exact = Double(stride) / s
            guard exact == exact.rounded(), exact >= 1 else {
                problems.append("detector.pyramid.scale_factors[\(i)]: \(s) gives the fractional stride \(stride)/\(s) = \(exact); choose scale factors that divide the backbone stride \(stride)")
                continue
            }
            let levelStride = Int(exact)
            guard levelStride & (levelStride - 1) == 0 else { continue }
            levels.append(.init(stage: levelStride.trailingZeroBitCount, stride: levelStride, scale: s))
        }
        for (a, b) in zip(levels, levels.dropFirst()) where b.stage != a.stage + 1 {
            problems.append("detector.pyramid.scale_factors: \(pyramid.scaleFactors) gives strides \(levels.map(\.stride)), which are not consecutive powers of two; list the factors in decreasing order, each half the previous (e.g. [2.0, 1.0, 0.5])")
            break
        }
        var names = levels.map { "p\($0.stage)" }
        if let top = pyramid.topBlock, problems.isEmpty {
            if let last = levels.last, names.contains(top.inFeature) {
                names.append("p\(last.stage + 1)")
            } else {
                problems.append("detector.pyramid.top_block.in_feature: \"\(top.inFeature)\" is not a pyramid output (the scale factors \(pyramid.scaleFactors) on stride \(stride) give \(names.joined(separator: ", "))); use one of those, or add the scale factor that produces it")
            }
        }
        if let top = pyramid.topBlock, problems.isEmpty, top.inFeature != names[names.count - 2] {
            problems.append("detector.pyramid.top_block.in_feature: \"\(top.inFeature)\" is not the coarsest level \(names[names.count - 2]); LastLevelMaxPool extends the pyramid from its last level")
        }
        guard problems.isEmpty else { return (nil, problems) }
        return (PyramidPlan(levels: levels, outputNames: names), [])
    }

    /// Every relation between keys the schema cannot express, each naming the key, the
    /// offending value and what would fix it. Empty when the detector can be traced.
    public func problems(imageSize: [Int]) -> [String] {
        var problems: [String] = []
        let (plan, pyramidProblems) = pyramidPlan()
        problems += pyramidProblems
        if let plan, plan.outputNames.count != transformer.numLevels {
            problems.append("detector.transformer.num_levels: \(transformer.numLevels) differs from the \(plan.outputNames.count) pyramid levels (\(plan.outputNames.joined(separator: ", "))); set it to \(plan.outputNames.count)")
        }
        let stride = backbone.exportPatchSize
        if stride > 0, dynamicPad != true {
            for (axis, extent) in zip(["height", "width"], imageSize) where extent % stride != 0 {
                let down = extent / stride * stride, up = down + stride
                problems.append("image_size: \(axis) \(extent) is not divisible by the patch size \(stride); use \(down > 0 ? "\(down) or " : "")\(up), or set detector.dynamic_pad to true (timm dynamic_img_pad)")
            }
        }
        if stride > 0, imageSize.count == 2 {
            // Image divisibility is reported above, naming dynamic_pad.
            let padded = imageSize.map { ($0 + stride - 1) / stride * stride }
            problems += backbone.problems(imageSize: padded).map { problem in
                problem.hasPrefix("dinov2.") ? "detector.backbone." + problem.dropFirst("dinov2.".count) : problem
            }
        }
        if plan?.levels.contains(where: { $0.scale == 4 }) == true, backbone.embedDim % 4 != 0 {
            problems.append("detector.pyramid.scale_factors: scale 4.0 halves the channels twice, so detector.backbone.embed_dim \(backbone.embedDim) must be divisible by 4")
        }
        if plan?.levels.contains(where: { $0.scale == 2 }) == true, backbone.embedDim % 2 != 0 {
            problems.append("detector.pyramid.scale_factors: scale 2.0 halves the channels, so detector.backbone.embed_dim \(backbone.embedDim) must be even")
        }
        if pyramid.outChannels % neck.groups != 0 {
            problems.append("detector.neck.groups: \(neck.groups) does not divide detector.pyramid.out_channels \(pyramid.outChannels)")
        }
        let t = transformer
        if t.embedDim != pyramid.outChannels {
            problems.append("detector.transformer.embed_dim: \(t.embedDim) differs from detector.pyramid.out_channels \(pyramid.outChannels); the neck keeps the channel count")
        }
        if t.embedDim % t.numHeads != 0 {
            problems.append("detector.transformer.num_heads: \(t.numHeads) does not divide embed_dim \(t.embedDim)")
        }
        if t.embedDim % 4 != 0 {
            problems.append("detector.transformer.embed_dim: \(t.embedDim) must be divisible by 4 (sine embeddings of embed_dim/2 features, interleaved sin/cos)")
        }
        if numDetections > t.numQueries * numClasses {
            problems.append("detector.num_detections: \(numDetections) exceeds num_queries × num_classes = \(t.numQueries * numClasses)")
        }
        if let plan, imageSize.count == 2 {
            let tokens = featureShapes(imageSize: imageSize, plan: plan).reduce(0) { $0 + $1.0 * $1.1 }
            if t.numQueries > tokens {
                problems.append("detector.transformer.num_queries: \(t.numQueries) exceeds the \(tokens) encoder tokens at image_size \(imageSize); lower it or enlarge the image")
            }
        }
        if pixelMean.count != 3 || pixelStd.count != 3 {
            problems.append("detector.pixel_mean/pixel_std: need 3 values each (RGB)")
        }
        return problems
    }

    /// The image size the backbone sees: rounded up to a multiple of the patch size with
    /// dynamic padding, unchanged otherwise.
    func paddedImageSize(_ imageSize: [Int]) -> [Int] {
        let p = max(backbone.exportPatchSize, 1)
        return dynamicPad == true ? imageSize.map { ($0 + p - 1) / p * p } : imageSize
    }

    /// The backbone's patch grid (rows, columns).
    func patchGrid(imageSize: [Int]) -> (Int, Int) {
        let padded = paddedImageSize(imageSize), p = max(backbone.exportPatchSize, 1)
        return (padded[0] / p, padded[1] / p)
    }

    /// (height, width) of every pyramid level in order.
    func featureShapes(imageSize: [Int], plan: PyramidPlan) -> [(Int, Int)] {
        var (h, w) = patchGrid(imageSize: imageSize)
        var shapes: [(Int, Int)] = plan.levels.map { level in
            switch level.scale {
            case 4: (h * 4, w * 4)
            case 2: (h * 2, w * 2)
            case 0.5: (h / 2, w / 2)
            default: (h, w)
            }
        }
        if pyramid.topBlock != nil, let last = shapes.last {
            (h, w) = ((last.0 + 1) / 2, (last.1 + 1) / 2)
            shapes.append((h, w))
        }
        return shapes
    }
}
