#!/usr/bin/env python3
"""torch's side of Tools/bench.py for the DINOv2 ViT-B backbone (run with a python that has
torch and timm; onnx and onnxsim are optional):

    /tmp/torchenv/bin/python Tools/bench/torch_backbone.py --threads 2 --runs 5 --warmup 1 --out DIR

Builds timm's vit_base_patch14_dinov2 as the detector backbone is built (patch_size 16,
img_size 512, features of the last block without the final norm, seeded random weights), times
eager inference under torch.inference_mode (median of --runs after --warmup), then
torch.onnx.export (opset 17) and onnxsim.simplify, each timed once, and writes DIR/torch.onnx
(simplified when onnxsim is importable). Prints one JSON object: versions, times, node counts,
and a `skipped` map naming what could not run and why.
"""
import argparse
import json
import pathlib
import statistics
import sys
import time


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, required=True)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    import timm
    import torch

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = timm.create_model("vit_base_patch14_dinov2", pretrained=False, patch_size=16, img_size=512,
                              features_only=True, out_indices=(-1,)).eval()
    x = torch.randn(1, 3, 512, 512)
    result = {"torch": torch.__version__, "timm": timm.__version__, "skipped": {}}
    with torch.inference_mode():
        for _ in range(args.warmup):
            model(x)
        times = []
        for _ in range(args.runs):
            t = time.perf_counter()
            model(x)
            times.append(time.perf_counter() - t)
    result["eager"] = {"median": statistics.median(times), "runs": times}

    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    try:
        import onnx
    except ImportError as e:
        result["skipped"]["torch.onnx.export"] = f"onnx not importable: {e}"
        print(json.dumps(result))
        return 0
    path = out / "torch.onnx"
    t = time.perf_counter()
    torch.onnx.export(model, (x,), str(path), opset_version=17, input_names=["image"], dynamo=False)
    result["export_seconds"] = time.perf_counter() - t
    exported = onnx.load(str(path))
    result["export_nodes"] = len(exported.graph.node)
    try:
        import onnxsim
    except ImportError as e:
        result["skipped"]["onnxsim"] = f"onnxsim not importable: {e}"
    else:
        t = time.perf_counter()
        simplified, ok = onnxsim.simplify(exported)
        result["onnxsim_seconds"] = time.perf_counter() - t
        if ok:
            onnx.save(simplified, str(path))
            result["onnxsim_nodes"] = len(simplified.graph.node)
        else:
            result["skipped"]["onnxsim"] = "onnxsim.simplify could not validate its result; the unsimplified file is kept"
        result["onnxsim"] = onnxsim.__version__ if hasattr(onnxsim, "__version__") else "?"
    result["file"] = str(path)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
