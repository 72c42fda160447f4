#!/usr/bin/env python3
"""A PyTorch reference of the detector's inference path, written for vitexport's parity tests.

It follows detrex's semantics (DINO with a ViTDet SimpleFeaturePyramid on a timm DINOv2 ViT, as
dgcnz/edge's `dino_dinov2` config builds it; see the research notes quoted in the model code)
with module names equal to detrex's state-dict keys, so its `state_dict()` is a detrex-format
checkpoint. The ViT itself is timm's (`features_only=True, out_indices=(-1,)`, which drops the
final norm and the class token). Everything else is this file's own code.

Usage (torch and timm are needed; never run in CI):

    /tmp/torchenv/bin/python Tools/dino_reference.py --config Models/configs/dino-tiny.json \
        --out Tests/Fixtures/detector

writes `<name>.weights.safetensors` (random weights that exercise every parameter, detrex keys,
with `transformer.decoder.{class,bbox}_embed.*` duplicated as detrex saves them) and
`<name>.reference.safetensors` (the input image and every stage's output), with the torch and
timm versions in the files' metadata. The committed fixtures:

    python Tools/dino_reference.py --config Models/configs/dino-tiny.json --out Tests/Fixtures/detector
    python Tools/dino_reference.py --config Models/configs/dino-tiny.json --out Tests/Fixtures/detector \
        --weights Tests/Fixtures/detector/dino-tiny.weights.safetensors \
        --image-size 232 200 --dynamic-pad --name dino-tiny-pad --values backbone memory topk_indices \
        topk_scores pred_logits pred_boxes boxes scores labels detection_scores detection_index
"""
import argparse
import json
import math
import pathlib
from functools import partial

import timm
import torch
import torch.nn.functional as F
from safetensors.torch import load_file, save_file
from torch import nn


# ----------------------------------------------------------------------------- pyramid

class ChannelLayerNorm(nn.Module):
    """detectron2 LayerNorm: normalizes NCHW over channels with the biased variance."""

    def __init__(self, channels, eps):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))
        self.eps = eps

    def forward(self, x):
        mean = x.mean(1, keepdim=True)
        var = (x - mean).pow(2).mean(1, keepdim=True)
        x = (x - mean) / torch.sqrt(var + self.eps)
        return self.weight[:, None, None] * x + self.bias[:, None, None]


class ConvNorm(nn.Conv2d):
    """detectron2 Conv2d wrapper: bias-free convolution, then `norm`."""

    def __init__(self, cin, cout, kernel, eps):
        super().__init__(cin, cout, kernel, padding=(kernel - 1) // 2, bias=False)
        self.norm = ChannelLayerNorm(cout, eps)

    def forward(self, x):
        return self.norm(super().forward(x))


class TimmNet(nn.Module):
    """detrex TimmBackbone: `timm_model` is timm's FeatureGetterNet."""

    def __init__(self, b, dynamic_pad):
        super().__init__()
        assert b["patch_resample"] == "none" and b["patch_size"] == b["export_patch_size"]
        assert b["mlp_layer"] == "mlp" and b["reg_tokens"] == 0 and not b["final_norm"]
        # timm sizes the position table from img_size; with dynamic padding it is resampled to
        # the padded image's grid at run time (antialiased bicubic, resample_abs_pos_embed).
        grid = b["pos_embed_grid"]
        self.timm_model = timm.create_model(
            "vit_small_patch14_dinov2", pretrained=False, features_only=True, out_indices=(b["out_index"],),
            dynamic_img_size=bool(dynamic_pad), dynamic_img_pad=bool(dynamic_pad),
            patch_size=b["patch_size"], img_size=(grid[0] * b["patch_size"], grid[1] * b["patch_size"]),
            embed_dim=b["embed_dim"], depth=b["depth"],
            num_heads=b["num_heads"], mlp_ratio=b["mlp_hidden_dim"] / b["embed_dim"],
            init_values=1e-5 if b["layer_scale"] else None,
            norm_layer=partial(nn.LayerNorm, eps=b["layer_norm_eps"]))
        assert self.timm_model.model.pos_embed.shape[1] == 1 + b["pos_embed_grid"][0] * b["pos_embed_grid"][1]

    def forward(self, x):
        return self.timm_model(x)[0]


class SimpleFeaturePyramid(nn.Module):
    def __init__(self, cfg, image_size):
        super().__init__()
        b, p = cfg["backbone"], cfg["pyramid"]
        self.net = TimmNet(b, cfg.get("dynamic_pad"))
        dim, out, eps = b["embed_dim"], p["out_channels"], p["norm_eps"]
        stride = b["export_patch_size"]
        self.stage_names = []
        for scale in p["scale_factors"]:
            layers, width = [], dim
            if scale == 4.0:
                layers = [nn.ConvTranspose2d(dim, dim // 2, 2, 2), ChannelLayerNorm(dim // 2, eps), nn.GELU(),
                          nn.ConvTranspose2d(dim // 2, dim // 4, 2, 2)]
                width = dim // 4
            elif scale == 2.0:
                layers, width = [nn.ConvTranspose2d(dim, dim // 2, 2, 2)], dim // 2
            elif scale == 0.5:
                layers = [nn.MaxPool2d(2, 2)]
            layers += [ConvNorm(width, out, 1, eps), ConvNorm(out, out, 3, eps)]
            stage = int(math.log2(int(stride / scale)))
            self.add_module(f"simfp_{stage}", nn.Sequential(*layers))
            self.stage_names.append(stage)
        self.top = p.get("top_block")

    def forward(self, x):
        features = self.net(x)
        levels = [getattr(self, f"simfp_{s}")(features) for s in self.stage_names]
        names = [f"p{s}" for s in self.stage_names]
        if self.top is not None:
            levels.append(F.max_pool2d(levels[names.index(self.top["in_feature"])], kernel_size=1, stride=2))
        return features, levels


class ChannelMapperConv(nn.Module):
    def __init__(self, channels, groups, eps):
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 1, bias=True)
        self.norm = nn.GroupNorm(groups, channels, eps=eps)

    def forward(self, x):
        return self.norm(self.conv(x))


class ChannelMapper(nn.Module):
    def __init__(self, channels, levels, groups, eps):
        super().__init__()
        self.convs = nn.ModuleList(ChannelMapperConv(channels, groups, eps) for _ in range(levels))

    def forward(self, levels):
        return [conv(x) for conv, x in zip(self.convs, levels)]


# ----------------------------------------------------------------------------- transformer

def sine_position_embedding(h, w, features, temperature=10000, offset=-0.5, eps=1e-6, scale=2 * math.pi):
    """detrex PositionEmbeddingSine(normalize=True) of an all-valid mask: [1, 2F, H, W]."""
    not_mask = torch.ones(1, h, w)
    y = not_mask.cumsum(1, dtype=torch.float32)
    x = not_mask.cumsum(2, dtype=torch.float32)
    y = (y + offset) / (y[:, -1:, :] + eps) * scale
    x = (x + offset) / (x[:, :, -1:] + eps) * scale
    dim_t = torch.arange(features, dtype=torch.float32)
    dim_t = temperature ** (2 * torch.div(dim_t, 2, rounding_mode="floor") / features)
    px = x[:, :, :, None] / dim_t
    py = y[:, :, :, None] / dim_t
    px = torch.stack((px[:, :, :, 0::2].sin(), px[:, :, :, 1::2].cos()), dim=4).flatten(3)
    py = torch.stack((py[:, :, :, 0::2].sin(), py[:, :, :, 1::2].cos()), dim=4).flatten(3)
    return torch.cat((py, px), dim=3).permute(0, 3, 1, 2)


def box_sine_embedding(boxes, features, temperature=10000):
    """detrex get_sine_pos_embed(exchange_xy=True) of [B, N, 4] boxes: [B, N, 4F]."""
    scale = 2 * math.pi
    dim_t = torch.arange(features, dtype=torch.float32)
    dim_t = temperature ** (2 * torch.div(dim_t, 2, rounding_mode="floor") / features)

    def embed(c):
        e = c * scale / dim_t
        return torch.stack((e[:, :, 0::2].sin(), e[:, :, 1::2].cos()), dim=3).flatten(2)

    parts = [embed(c) for c in boxes.split(1, dim=-1)]
    parts[0], parts[1] = parts[1], parts[0]
    return torch.cat(parts, dim=-1)


def inverse_sigmoid(x, eps=1e-3):
    x = x.clamp(min=0, max=1)
    return torch.log(x.clamp(min=eps) / (1 - x).clamp(min=eps))


class MSDeformAttn(nn.Module):
    """detrex MultiScaleDeformableAttention (batch first, pytorch grid_sample path)."""

    def __init__(self, dim, heads, levels, points):
        super().__init__()
        self.heads, self.levels, self.points = heads, levels, points
        self.sampling_offsets = nn.Linear(dim, heads * levels * points * 2)
        self.attention_weights = nn.Linear(dim, heads * levels * points)
        self.value_proj = nn.Linear(dim, dim)
        self.output_proj = nn.Linear(dim, dim)

    def forward(self, query, query_pos, value, reference, shapes):
        identity = query
        q = query + query_pos
        b, nq, dim = q.shape
        v = self.value_proj(value).view(b, value.shape[1], self.heads, dim // self.heads)
        off = self.sampling_offsets(q).view(b, nq, self.heads, self.levels, self.points, 2)
        aw = self.attention_weights(q).view(b, nq, self.heads, self.levels * self.points).softmax(-1)
        aw = aw.view(b, nq, self.heads, self.levels, self.points)
        if reference.shape[-1] == 2:
            normalizer = torch.tensor([[w, h] for h, w in shapes], dtype=torch.float32)
            loc = reference[:, :, None, :, None, :] + off / normalizer[None, None, None, :, None, :]
        else:
            loc = reference[:, :, None, :, None, :2] + off / self.points * reference[:, :, None, :, None, 2:] * 0.5
        grids = 2 * loc - 1
        values = v.split([h * w for h, w in shapes], dim=1)
        samples = []
        for l, (h, w) in enumerate(shapes):
            vl = values[l].flatten(2).transpose(1, 2).reshape(b * self.heads, dim // self.heads, h, w)
            gl = grids[:, :, :, l].transpose(1, 2).flatten(0, 1)
            samples.append(F.grid_sample(vl, gl, mode="bilinear", padding_mode="zeros", align_corners=False))
        aw = aw.transpose(1, 2).reshape(b * self.heads, 1, nq, self.levels * self.points)
        out = (torch.stack(samples, dim=-2).flatten(-2) * aw).sum(-1).view(b, dim, nq).transpose(1, 2)
        return self.output_proj(out) + identity


class FFN(nn.Module):
    def __init__(self, dim, hidden):
        super().__init__()
        self.layers = nn.Sequential(nn.Sequential(nn.Linear(dim, hidden), nn.ReLU()), nn.Linear(hidden, dim))

    def forward(self, x):
        return x + self.layers(x)


class EncoderLayer(nn.Module):
    def __init__(self, t):
        super().__init__()
        d = t["embed_dim"]
        self.attentions = nn.ModuleList([MSDeformAttn(d, t["num_heads"], t["num_levels"], t["num_points"])])
        self.ffns = nn.ModuleList([FFN(d, t["ffn_dim"])])
        self.norms = nn.ModuleList(nn.LayerNorm(d, eps=t["layer_norm_eps"]) for _ in range(2))

    def forward(self, x, pos, ref, shapes):
        x = self.norms[0](self.attentions[0](x, pos, x, ref, shapes))
        return self.norms[1](self.ffns[0](x))


class SelfAttention(nn.Module):
    """detrex MultiheadAttention wrapper: identity + attn(q=k=x+pos, v=x)."""

    def __init__(self, dim, heads):
        super().__init__()
        self.attn = nn.MultiheadAttention(dim, heads, batch_first=True)

    def forward(self, x, pos):
        q = x + pos
        return x + self.attn(query=q, key=q, value=x)[0]


class DecoderLayer(nn.Module):
    def __init__(self, t):
        super().__init__()
        d = t["embed_dim"]
        self.attentions = nn.ModuleList([SelfAttention(d, t["num_heads"]),
                                         MSDeformAttn(d, t["num_heads"], t["num_levels"], t["num_points"])])
        self.ffns = nn.ModuleList([FFN(d, t["ffn_dim"])])
        self.norms = nn.ModuleList(nn.LayerNorm(d, eps=t["layer_norm_eps"]) for _ in range(3))

    def forward(self, x, pos, memory, ref, shapes):
        x = self.norms[0](self.attentions[0](x, pos))
        x = self.norms[1](self.attentions[1](x, pos, memory, ref, shapes))
        return self.norms[2](self.ffns[0](x))


class MLP(nn.Module):
    def __init__(self, cin, hidden, out, count):
        super().__init__()
        dims = [cin] + [hidden] * (count - 1)
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(dims, dims[1:] + [out]))

    def forward(self, x):
        for i, layer in enumerate(self.layers):
            x = layer(x)
            if i < len(self.layers) - 1:
                x = F.relu(x)
        return x


class Encoder(nn.Module):
    def __init__(self, t):
        super().__init__()
        self.layers = nn.ModuleList(EncoderLayer(t) for _ in range(t["encoder_layers"]))


class Decoder(nn.Module):
    def __init__(self, t):
        super().__init__()
        d = t["embed_dim"]
        self.layers = nn.ModuleList(DecoderLayer(t) for _ in range(t["decoder_layers"]))
        self.ref_point_head = MLP(2 * d, d, d, 2)
        self.norm = nn.LayerNorm(d, eps=t["layer_norm_eps"])


class Transformer(nn.Module):
    def __init__(self, t):
        super().__init__()
        d = t["embed_dim"]
        self.encoder = Encoder(t)
        self.decoder = Decoder(t)
        self.level_embeds = nn.Parameter(torch.zeros(t["num_levels"], d))
        self.enc_output = nn.Linear(d, d)
        self.enc_output_norm = nn.LayerNorm(d, eps=t["layer_norm_eps"])
        self.tgt_embed = nn.Embedding(t["num_queries"], d)


class DINO(nn.Module):
    def __init__(self, config):
        super().__init__()
        cfg = config["detector"]
        t = cfg["transformer"]
        self.cfg, self.t = cfg, t
        self.image_size = config["image_size"]
        d, layers = t["embed_dim"], t["decoder_layers"]
        self.backbone = SimpleFeaturePyramid(cfg, self.image_size)
        self.neck = ChannelMapper(d, t["num_levels"], cfg["neck"]["groups"], cfg["neck"]["group_norm_eps"])
        self.transformer = Transformer(t)
        self.class_embed = nn.ModuleList(nn.Linear(d, cfg["num_classes"]) for _ in range(layers + 1))
        self.bbox_embed = nn.ModuleList(MLP(d, d, 4, 3) for _ in range(layers + 1))
        # detrex shares the heads with the decoder, so its state dict holds both names.
        self.transformer.decoder.class_embed = self.class_embed
        self.transformer.decoder.bbox_embed = self.bbox_embed
        self.label_enc = nn.Embedding(cfg["num_classes"], d)
        self.register_buffer("pixel_mean", torch.tensor(cfg["pixel_mean"]).view(3, 1, 1))
        self.register_buffer("pixel_std", torch.tensor(cfg["pixel_std"]).view(3, 1, 1))

    @torch.no_grad()
    def forward(self, image):
        """image: [1, 3, H, W] RGB 0..255. Returns every stage's values by name."""
        out = {}
        x = (image - self.pixel_mean) / self.pixel_std
        h, w = x.shape[-2:]
        p = self.cfg["backbone"]["export_patch_size"]
        if self.cfg.get("dynamic_pad"):
            x = F.pad(x, (0, (p - w % p) % p, 0, (p - h % p) % p))
        features, levels = self.backbone(x)
        out["backbone"] = features
        stages = self.backbone.stage_names
        names = [f"p{s}" for s in stages] + ([f"p{stages[-1] + 1}"] if self.backbone.top else [])
        for n, l in zip(names, levels):
            out[f"pyramid.{n}"] = l
        mapped = self.neck(levels)
        for i, l in enumerate(mapped):
            out[f"neck.{i}"] = l

        t, tr = self.t, self.transformer
        d = t["embed_dim"]
        shapes = [tuple(l.shape[-2:]) for l in mapped]
        src = torch.cat([l.flatten(2).transpose(1, 2) for l in mapped], 1)
        pos = torch.cat([sine_position_embedding(hh, ww, d // 2).flatten(2).transpose(1, 2) + tr.level_embeds[i].view(1, 1, -1)
                         for i, (hh, ww) in enumerate(shapes)], 1)
        refs = []
        for hh, ww in shapes:
            ry, rx = torch.meshgrid(torch.linspace(0.5, hh - 0.5, hh), torch.linspace(0.5, ww - 0.5, ww), indexing="ij")
            refs.append(torch.stack((rx.reshape(-1) / ww, ry.reshape(-1) / hh), -1))
        enc_ref = torch.cat(refs, 0)[None, :, None, :].expand(1, -1, len(shapes), 2)
        memory = src
        for layer in tr.encoder.layers:
            memory = layer(memory, pos, enc_ref, shapes)
        out["memory"] = memory

        proposals = []
        for lvl, (hh, ww) in enumerate(shapes):
            gy, gx = torch.meshgrid(torch.linspace(0, hh - 1, hh), torch.linspace(0, ww - 1, ww), indexing="ij")
            grid = (torch.stack((gx, gy), -1) + 0.5) / torch.tensor([ww, hh])
            wh = torch.ones_like(grid) * 0.05 * (2.0 ** lvl)
            proposals.append(torch.cat((grid, wh), -1).view(1, -1, 4))
        proposals = torch.cat(proposals, 1)
        valid = ((proposals > 0.01) & (proposals < 0.99)).all(-1, keepdim=True)
        proposals = torch.log(proposals / (1 - proposals)).masked_fill(~valid, float("inf"))
        om = tr.enc_output_norm(tr.enc_output(memory.masked_fill(~valid, 0.0)))
        layers = t["decoder_layers"]
        enc_class = self.class_embed[layers](om)
        enc_coord = self.bbox_embed[layers](om) + proposals
        topk = torch.topk(enc_class.max(-1)[0], t["num_queries"], dim=1)[1]
        out["topk_indices"] = topk
        out["topk_scores"] = enc_class.max(-1)[0]
        ref = torch.gather(enc_coord, 1, topk.unsqueeze(-1).repeat(1, 1, 4)).sigmoid()
        out["reference.init"] = ref

        output = tr.tgt_embed.weight[None]
        states, references = [], []
        for i, layer in enumerate(tr.decoder.layers):
            qpos = tr.decoder.ref_point_head(box_sine_embedding(ref, d // 2))
            output = layer(output, qpos, memory, ref[:, :, None].expand(-1, -1, len(shapes), -1), shapes)
            new_ref = (self.bbox_embed[i](output) + inverse_sigmoid(ref)).sigmoid()
            states.append(tr.decoder.norm(output))
            references.append(new_ref)
            out[f"decoder.{i}.state"] = states[-1]
            out[f"decoder.{i}.reference"] = new_ref
            ref = new_ref

        last = layers - 1
        previous = out["reference.init"] if last == 0 else references[last - 1]
        logits = self.class_embed[last](states[last])
        boxes = (self.bbox_embed[last](states[last]) + inverse_sigmoid(previous)).sigmoid()
        out["pred_logits"], out["pred_boxes"] = logits, boxes

        classes = logits.shape[-1]
        scores, index = torch.topk(logits.sigmoid().view(1, -1), self.cfg["num_detections"], dim=1)
        query = torch.div(index, classes, rounding_mode="floor")
        labels = index % classes
        chosen = torch.gather(boxes, 1, query.unsqueeze(-1).repeat(1, 1, 4))
        cx, cy, bw, bh = chosen.unbind(-1)
        xyxy = torch.stack((cx - 0.5 * bw, cy - 0.5 * bh, cx + 0.5 * bw, cy + 0.5 * bh), -1)
        xyxy[..., 0::2] *= w
        xyxy[..., 1::2] *= h
        xyxy[..., 0::2] = xyxy[..., 0::2].clamp(min=0, max=w)
        xyxy[..., 1::2] = xyxy[..., 1::2].clamp(min=0, max=h)
        out["boxes"], out["scores"], out["labels"] = xyxy, scores, labels
        out["detection_scores"] = logits.sigmoid().view(1, -1)
        out["detection_index"] = index
        return out


def randomize(model, generator):
    """Random weights that exercise every parameter: norms near 1, LayerScale near 1, no zero
    last layers, sampling offsets of a few pixels (some samples leave the map)."""
    with torch.no_grad():
        for key, p in model.state_dict().items():
            if key in ("pixel_mean", "pixel_std"):
                continue
            fan_in = p.shape[1] * (p[0, 0].numel() if p.dim() > 2 else 1) if p.dim() >= 2 else p.shape[0]
            if "norm" in key and key.endswith(".weight") and p.dim() == 1:
                p.copy_(1 + 0.1 * torch.randn(p.shape, generator=generator))
            elif key.endswith("gamma"):
                p.copy_(1 + 0.1 * torch.randn(p.shape, generator=generator))
            elif "sampling_offsets.bias" in key:
                p.copy_(4 * (2 * torch.rand(p.shape, generator=generator) - 1))
            elif key.endswith("bias"):
                p.copy_(0.02 * torch.randn(p.shape, generator=generator))
            elif key in ("transformer.level_embeds", "transformer.tgt_embed.weight", "label_enc.weight"):
                p.copy_(torch.randn(p.shape, generator=generator))
            else:
                p.copy_(torch.randn(p.shape, generator=generator) / math.sqrt(fan_in))
            # Stored as float16 (half the fixture's size); the model computes in float32 with
            # exactly the stored values, as vitexport does after widening them.
            p.copy_(p.half().float())
        # The shared heads are one set of tensors; state_dict() lists them twice.


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--weights", help="load these weights (strictly) instead of drawing random ones")
    parser.add_argument("--image-size", type=int, nargs=2, metavar=("H", "W"), help="override image_size")
    parser.add_argument("--dynamic-pad", action="store_true", help="set detector.dynamic_pad")
    parser.add_argument("--name", help="file name stem (default: the config's name)")
    parser.add_argument("--values", nargs="+", help="save only these values (default: all)")
    args = parser.parse_args()
    config = json.loads(pathlib.Path(args.config).read_text())
    if args.image_size:
        config["image_size"] = args.image_size
    if args.dynamic_pad:
        config["detector"]["dynamic_pad"] = True
    name = args.name or config["name"]
    torch.manual_seed(args.seed)
    generator = torch.Generator().manual_seed(args.seed)
    model = DINO(config).eval()
    if args.weights:
        model.load_state_dict(load_file(args.weights), strict=True)
    else:
        randomize(model, generator)
    h, w = config["image_size"]
    # A smooth image with structure at several scales, on the 0..255 scale.
    yy, xx = torch.meshgrid(torch.linspace(0, 1, h), torch.linspace(0, 1, w), indexing="ij")
    base = torch.stack([torch.sin(6 * xx + 3 * yy), torch.cos(9 * yy - 2 * xx), torch.sin(13 * xx * yy)])
    image = (127.5 + 100 * base + 20 * torch.randn(3, h, w, generator=generator)).clamp(0, 255)[None]
    out = model(image)

    meta = {"torch": torch.__version__, "timm": timm.__version__, "config": config["name"], "seed": str(args.seed),
            "image_size": "x".join(map(str, config["image_size"])),
            "dynamic_pad": str(bool(config["detector"].get("dynamic_pad"))).lower(),
            "generator": "Tools/dino_reference.py"}
    dest = pathlib.Path(args.out)
    dest.mkdir(parents=True, exist_ok=True)
    if not args.weights:
        weights = {k: v.contiguous().clone() if k.startswith("pixel_") else v.half().contiguous()
                   for k, v in model.state_dict().items()}
        save_file(weights, str(dest / f"{name}.weights.safetensors"), metadata=meta)
    values = {"image": image}
    values.update({k: v.contiguous() for k, v in out.items() if not args.values or k in args.values})
    save_file(values, str(dest / f"{name}.reference.safetensors"), metadata=meta)
    for k, v in values.items():
        print(f"{k:28s} {str(tuple(v.shape)):20s} {v.dtype}")


if __name__ == "__main__":
    main()
