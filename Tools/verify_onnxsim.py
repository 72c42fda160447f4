"""Optional outside check (not in CI): `vitexport verify` on exports simplified by onnxsim.

onnx-simplifier rewrites a file the way third-party tools do (folds, fuses, may rename values).
This script exports each (model, opset), runs `onnxsim` on it, verifies the simplified file
against the traced model, then strips vitexport's stage metadata and renames every internal
value (as a foreign file would be) and verifies again: the first run must report
"stage by stage", the second "detections as sets"; both must pass.

onnxsim is not in Tools/requirements.txt; install it into a throwaway virtualenv:

    python3 -m venv /tmp/onnxsim-venv && /tmp/onnxsim-venv/bin/pip install onnxsim
    python3 Tools/verify_onnxsim.py --onnxsim /tmp/onnxsim-venv/bin/onnxsim
"""
import argparse
import pathlib
import subprocess
import sys
import tempfile

import onnx

from vxtools import sh, vitexport_binary


def foreign(src, dst):
    """`src` without vitexport.stages and with every internal value renamed t0, t1, …"""
    m = onnx.load(src)
    kept = {v.name for v in list(m.graph.input) + list(m.graph.output)} | {t.name for t in m.graph.initializer}
    renamed = {}

    def rename(name):
        if not name or name in kept:
            return name
        return renamed.setdefault(name, f"t{len(renamed)}")

    for n in m.graph.node:
        n.input[:] = [rename(x) for x in n.input]
        n.output[:] = [rename(x) for x in n.output]
    for v in m.graph.value_info:
        v.name = rename(v.name)
    kept_props = [p for p in m.metadata_props if p.key != "vitexport.stages"]
    del m.metadata_props[:]
    m.metadata_props.extend(kept_props)
    onnx.save(m, dst)


def verify(bin, model, weights, path, expect_mode):
    cmd = [bin, "verify", "-m", model, "--onnx", path] + (["--weights", weights] if weights else [])
    r = subprocess.run(cmd, capture_output=True, text=True)
    print(r.stdout + r.stderr)
    if r.returncode != 0 or f"mode: {expect_mode}" not in r.stdout:
        sys.exit(f"FAIL: {' '.join(cmd)} (expected mode '{expect_mode}', exit 0)")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--onnxsim", required=True, help="the onnxsim executable")
    ap.add_argument("--vitexport", help="vitexport binary (default: build in release mode)")
    ap.add_argument("--model", default="dino-tiny")
    ap.add_argument("--weights", default=None)
    ap.add_argument("--opsets", default="17")
    args = ap.parse_args()
    bin = vitexport_binary(args.vitexport)
    with tempfile.TemporaryDirectory() as work:
        for opset in args.opsets.split(","):
            exported = pathlib.Path(work, f"{args.model}-{opset}.onnx")
            simplified = pathlib.Path(work, f"{args.model}-{opset}-sim.onnx")
            stripped = pathlib.Path(work, f"{args.model}-{opset}-foreign.onnx")
            sh([bin, "onnx", "-m", args.model, "--opset", opset, "-o", exported] + (["--weights", args.weights] if args.weights else []))
            sh([args.onnxsim, exported, simplified])
            print(f"== {args.model} opset {opset}, onnxsim output")
            verify(bin, args.model, args.weights, simplified, "stage by stage")
            foreign(simplified, stripped)
            print(f"== {args.model} opset {opset}, onnxsim output stripped and renamed")
            verify(bin, args.model, args.weights, stripped, "detections as sets")
    print("onnxsim outputs verify")


if __name__ == "__main__":
    main()
