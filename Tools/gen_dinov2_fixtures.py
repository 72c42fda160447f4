#!/usr/bin/env python3
"""Generates the DINOv2 parity fixtures under Tests/Fixtures/dinov2 from timm itself.

Run by hand (never in CI), with the torch/timm/safetensors environment:

    /tmp/torchenv/bin/python Tools/gen_dinov2_fixtures.py [--out Tests/Fixtures/dinov2]

What it writes (all tensors float32, safetensors, timm key names unless stated):
  <checkpoint>.safetensors      random-initialised weights of a small timm DINOv2 model
                                (timm's own architecture code, reduced embed_dim/depth)
  <case>.io.safetensors         `input` [1,3,H,W] and timm's backbone output `features`
                                [1,C,H/p,W/p] as detrex's TimmBackbone(features_only=True,
                                out_indices=(-1,)) returns it (last block, prefix tokens
                                dropped, no final norm)
  <case>.config.json            the vitexport model configuration of the same model
  cases.json                    the case list the Swift tests iterate
  resize.safetensors            torch F.interpolate bicubic results (plain and antialiased, computed
                                in float32 and in float64)
  resize_cases.json             their sizes
  pinv_14_16.safetensors        timm's resize matrix 14x14 -> 16x16 and torch.linalg.pinv of it
  VERSIONS.txt                  torch/timm/safetensors versions

Patch-16 cases load the patch-14 checkpoint through timm's `checkpoint_filter_fn`, which
resamples the patch kernel (FlexiViT pseudo-inverse) and the position table (antialiased
bicubic); the Swift side must reproduce both from the same checkpoint.
"""
import argparse
import json
import os
import re
import sys

import torch
import torch.nn.functional as F
import timm
import safetensors
from safetensors.torch import save_file
from timm.models.vision_transformer import checkpoint_filter_fn

# Small dims so the committed fixtures stay small; timm's code paths are unchanged.
SMALL = dict(embed_dim=128, depth=2, num_heads=2, num_classes=0)


def randomize(model, gen):
    """Non-degenerate random weights: unit-scale activations, LayerScale near 1 (timm's
    init_values=1e-5 would make every block a near no-op and the test blind to them)."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith('.gamma'):
                p.copy_(0.5 + torch.rand(p.shape, generator=gen))
            elif 'norm' in name and name.endswith('.weight'):
                p.copy_(1 + 0.1 * torch.randn(p.shape, generator=gen))
            elif name.endswith('.bias'):
                p.copy_(0.1 * torch.randn(p.shape, generator=gen))
            elif name.endswith('.weight'):
                fan_in = p[0].numel()
                p.copy_(torch.randn(p.shape, generator=gen) / fan_in ** 0.5)
            elif name == 'pos_embed':
                p.copy_(0.5 * torch.randn(p.shape, generator=gen))
            else:  # cls_token, reg_token
                p.copy_(torch.randn(p.shape, generator=gen))


def features(model_name, state_dict, img_hw, gen, **kwargs):
    """timm's backbone output for `state_dict` (run through timm's checkpoint filter)."""
    fnet = timm.create_model(model_name, pretrained=False, features_only=True, out_indices=(-1,),
                             img_size=img_hw, **SMALL, **kwargs).eval()
    vit = fnet.model
    filtered = checkpoint_filter_fn(dict(state_dict), vit)
    result = vit.load_state_dict(filtered, strict=False)
    assert not result.missing_keys, result.missing_keys
    # features_only prunes the final norm to Identity after loading (prune_norm=True).
    assert set(result.unexpected_keys) <= {'norm.weight', 'norm.bias'}, result.unexpected_keys
    assert isinstance(vit.norm, torch.nn.Identity)
    assert vit.blocks[0].norm1.eps == 1e-6
    x = torch.randn((1, 3) + tuple(img_hw), generator=gen)
    with torch.no_grad():
        y = fnet(x)[0].contiguous()
    # Cross-check against the unpruned model's forward_intermediates.
    full = timm.create_model(model_name, pretrained=False, img_size=img_hw, **SMALL, **kwargs).eval()
    full.load_state_dict(checkpoint_filter_fn(dict(state_dict), full), strict=True)
    with torch.no_grad():
        z = full.forward_intermediates(x, indices=[full.depth - 1 if hasattr(full, 'depth') else len(full.blocks) - 1],
                                       norm=False, output_fmt='NCHW', intermediates_only=True)[0]
    assert torch.equal(y, z), (y - z).abs().max()
    return x, y, filtered


def to_original_dinov2(sd):
    """Rewrites a timm reg4/no_embed_class state dict in the original DINOv2 release layout
    (inverse of timm's `_convert_dinov2`): `register_tokens`, `mask_token`, a position table
    with a cls slot whose entry is folded out of `cls_token`, `mlp.w12`/`mlp.w3`."""
    gen = torch.Generator().manual_seed(7)
    out = {}
    d = sd['cls_token'].shape[-1]
    cls_pos = torch.randn((1, 1, d), generator=gen)
    for k, v in sd.items():
        if k == 'reg_token':
            out['register_tokens'] = v
        elif k == 'cls_token':
            out['cls_token'] = v - cls_pos
        elif k == 'pos_embed':
            out['pos_embed'] = torch.cat([cls_pos, v], dim=1)
        elif '.mlp.fc1.' in k:
            out[k.replace('.mlp.fc1.', '.mlp.w12.')] = v
        elif '.mlp.fc2.' in k:
            out[k.replace('.mlp.fc2.', '.mlp.w3.')] = v
        else:
            out[k] = v
    out['mask_token'] = torch.randn((1, d), generator=gen)
    return out


def config_json(name, model_args, img_hw, export_patch, pos_grid, description):
    embed = SMALL['embed_dim']
    mlp_hidden = model_args.get('mlp_hidden', 4 * embed)
    return {
        '$schema': '../../../Schemas/model-config.schema.json',
        'name': name,
        'description': description,
        'architecture': 'dinov2',
        'image_size': list(img_hw),
        'seed': 0,
        'dinov2': {
            'in_channels': 3,
            'embed_dim': embed,
            'depth': SMALL['depth'],
            'num_heads': SMALL['num_heads'],
            'mlp_layer': model_args.get('mlp_layer', 'mlp'),
            'mlp_hidden_dim': mlp_hidden,
            'reg_tokens': model_args.get('reg_tokens', 0),
            'no_embed_class': model_args.get('no_embed_class', False),
            'layer_scale': True,
            'layer_norm_eps': 1e-6,
            'patch_size': 14,
            'export_patch_size': export_patch,
            'patch_resample': 'pinv' if export_patch != 14 else 'none',
            'pos_embed_grid': list(pos_grid),
            'out_index': -1,
            'final_norm': False,
        },
    }


def config_text(cfg):
    """JSON in the style of Models/configs: two-space indent, integer lists on one line."""
    text = json.dumps(cfg, indent=2, ensure_ascii=False).replace('1e-06', '1e-6')
    return re.sub(r'\[\s*([0-9,\s]+?)\s*\]', lambda m: '[' + ', '.join(v.strip() for v in m.group(1).split(',')) + ']', text) + '\n'


def resize_fixtures(out, gen):
    cases = [
        ([1, 3, 14, 14], [16, 16]),
        ([1, 2, 16, 16], [14, 20]),
        ([1, 2, 37, 37], [32, 32]),
        ([1, 2, 32, 32], [33, 25]),
        ([2, 1, 5, 7], [1, 3]),
        ([1, 1, 4, 4], [9, 2]),
        ([1, 2, 6, 5], [17, 13]),
    ]
    tensors, listing = {}, []
    for k, (shape, size) in enumerate(cases):
        x = torch.randn(shape, generator=gen)
        tensors[f'case{k}.input'] = x
        tensors[f'case{k}.antialias'] = F.interpolate(x, size=size, mode='bicubic', align_corners=False, antialias=True).contiguous()
        tensors[f'case{k}.plain'] = F.interpolate(x, size=size, mode='bicubic', align_corners=False, antialias=False).contiguous()
        # The same in float64 (rounded once to float32): torch's float32 path rounds the source
        # coordinates and weights, which alone moves results by ~1e-6 relative.
        for key, aa in (('antialias64', True), ('plain64', False)):
            y = F.interpolate(x.double(), size=size, mode='bicubic', align_corners=False, antialias=aa)
            tensors[f'case{k}.{key}'] = y.float().contiguous()
        listing.append({'name': f'case{k}', 'input_shape': shape, 'size': size})
    save_file(tensors, os.path.join(out, 'resize.safetensors'))
    with open(os.path.join(out, 'resize_cases.json'), 'w') as f:
        json.dump(listing, f, indent=1)
        f.write('\n')

    from timm.layers.patch_embed import _compute_resize_matrix
    m = _compute_resize_matrix((14, 14), (16, 16), 'bicubic', True, torch.device('cpu'))
    save_file({'resize_matrix': m.contiguous(), 'pinv': torch.linalg.pinv(m).contiguous()},
              os.path.join(out, 'pinv_14_16.safetensors'))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--out', default=os.path.join(os.path.dirname(__file__), '..', 'Tests', 'Fixtures', 'dinov2'))
    args = ap.parse_args()
    out = os.path.abspath(args.out)
    os.makedirs(out, exist_ok=True)
    torch.set_num_threads(1)
    gen = torch.Generator().manual_seed(20240601)

    checkpoints = {
        # name: (timm model, extra model kwargs, config model args)
        's14': ('vit_small_patch14_dinov2', {}, {}),
        's14reg4': ('vit_small_patch14_reg4_dinov2', {}, {'reg_tokens': 4, 'no_embed_class': True}),
        'g14reg4': ('vit_giant_patch14_reg4_dinov2', {'mlp_ratio': 2.66667 * 2},
                    {'reg_tokens': 4, 'no_embed_class': True, 'mlp_layer': 'swiglu_packed'}),
    }
    # (case, checkpoint, image [H, W], export patch, stored in original DINOv2 layout)
    cases = [
        ('s14_native_224', 's14', (224, 224), 14, False),
        ('s14_to16_224', 's14', (224, 224), 16, False),
        ('s14_to16_224x320', 's14', (224, 320), 16, False),
        ('s14reg4_native_224', 's14reg4', (224, 224), 14, False),
        ('s14reg4_to16_320x224', 's14reg4', (320, 224), 16, False),
        ('g14reg4orig_native_224', 'g14reg4', (224, 224), 14, True),
        ('g14reg4orig_to16_224x288', 'g14reg4', (224, 288), 16, True),
    ]

    state_dicts = {}
    for name, (model_name, kwargs, margs) in checkpoints.items():
        model = timm.create_model(model_name, pretrained=False, img_size=224, **SMALL, **kwargs)
        randomize(model, gen)
        sd = {k: v.detach().clone().contiguous() for k, v in model.state_dict().items()}
        if margs.get('mlp_layer') == 'swiglu_packed':
            margs['mlp_hidden'] = sd['blocks.0.mlp.fc1.weight'].shape[0]
        state_dicts[name] = sd

    listing, written = [], set()
    for case, ckpt, hw, patch, original in cases:
        model_name, kwargs, margs = checkpoints[ckpt]
        sd = state_dicts[ckpt]
        file = f'{ckpt}.original.safetensors' if original else f'{ckpt}.safetensors'
        if original:
            sd = to_original_dinov2(sd)
        if file not in written:
            save_file(sd, os.path.join(out, file))
            written.add(file)
        x, y, _ = features(model_name, sd, hw, gen, patch_size=patch, **kwargs)
        save_file({'input': x.contiguous(), 'features': y}, os.path.join(out, f'{case}.io.safetensors'))
        cfg = config_json(case, margs, hw, patch, (16, 16),
                          f'Fixture {case}: timm {model_name} ({SMALL}), checkpoint {file}.')
        with open(os.path.join(out, f'{case}.config.json'), 'w') as f:
            f.write(config_text(cfg))
        listing.append({'case': case, 'checkpoint': file, 'timm_model': model_name, 'image_size': list(hw),
                        'patch_size': patch, 'original_layout': original,
                        'features_shape': list(y.shape), 'features_max_abs': float(y.abs().max())})
        print(f'{case}: features {list(y.shape)} max|y| {float(y.abs().max()):.4f}')

    with open(os.path.join(out, 'cases.json'), 'w') as f:
        json.dump(listing, f, indent=1)
        f.write('\n')
    resize_fixtures(out, gen)
    with open(os.path.join(out, 'VERSIONS.txt'), 'w') as f:
        f.write(f'torch {torch.__version__}\ntimm {timm.__version__}\nsafetensors {safetensors.__version__}\n'
                f'python {sys.version.split()[0]}\ngenerated by Tools/gen_dinov2_fixtures.py\n')
    total = sum(os.path.getsize(os.path.join(out, n)) for n in os.listdir(out))
    print(f'wrote {out} ({total / 1e6:.2f} MB)')


if __name__ == '__main__':
    main()
