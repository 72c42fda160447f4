#!/usr/bin/env python3
"""DINOv2 parity of the exported ONNX files with timm, judged by onnxruntime (CI only).

    Tools/dinov2_parity.py [--vitexport PATH] [--opset 17] [--workdir DIR] [--release]

For every case in Tests/Fixtures/dinov2/cases.json (written by Tools/gen_dinov2_fixtures.py from
timm): `vitexport onnx --model <case>.config.json --weights <checkpoint> -o <case>.onnx`, then
onnxruntime (CPU) on the fixture's input, compared with timm's features:

    max |onnxruntime − timm| ≤ 1e-4 · max |timm|

and the file must hold no Resize and no non-ONNX op (the weight resampling folds away before
export). Prints one line per case and exits 1 if any case fails. Needs numpy and onnxruntime
(Tools/requirements.txt); safetensors files are read with numpy alone.
"""
import argparse
import json
import pathlib
import sys
import tempfile

import numpy as np
import onnx
import onnxruntime as ort

from vxtools import read_safetensors, sh, vitexport_binary

root = pathlib.Path(__file__).resolve().parent.parent
fixtures = root / "Tests" / "Fixtures" / "dinov2"
TOLERANCE = 1e-4




def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--vitexport", help="vitexport executable (default: built with swift build)")
    ap.add_argument("--release", action="store_true", help="build in release mode")
    ap.add_argument("--opset", type=int, default=17)
    ap.add_argument("--workdir")
    args = ap.parse_args()

    exe = vitexport_binary(args.vitexport, release=args.release)
    work = pathlib.Path(args.workdir or tempfile.mkdtemp(prefix="vitexport-dinov2-"))
    work.mkdir(parents=True, exist_ok=True)

    failed = 0
    for case in json.loads((fixtures / "cases.json").read_text()):
        name = case["case"]
        path = work / f"{name}.onnx"
        sh([exe, "onnx", "--model", str(fixtures / f"{name}.config.json"), "--weights", str(fixtures / case["checkpoint"]),
            "--opset", str(args.opset), "-o", str(path)])
        model = onnx.load(str(path))
        ops = {n.op_type for n in model.graph.node}
        foreign = sorted(o for o in ops if o == "Resize" or o == "PseudoInverse")
        io = {k: v.astype(np.float32) for k, v in read_safetensors(fixtures / f"{name}.io.safetensors")[0].items()}
        session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        (got,) = session.run(["features"], {"image": io["input"]})
        want = io["features"]
        error = float(np.abs(got - want).max() / np.abs(want).max()) if got.shape == want.shape else float("inf")
        ok = error <= TOLERANCE and not foreign
        failed += not ok
        note = f"  unfolded ops: {foreign}" if foreign else ""
        print(f"{'ok  ' if ok else 'FAIL'}  {name:28s} {len(model.graph.node):4d} nodes  "
              f"max|ort-timm|/max|timm| = {error:.2e}{note}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
