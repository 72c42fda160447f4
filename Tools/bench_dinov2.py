#!/usr/bin/env python3
"""Full-size DINOv2 ViT-B/14 → patch 16 at 512², seeded weights: trace, fold, export (opset 17),
run in the interpreter and in onnxruntime, compare (run by hand; a few minutes, ~1.5 GB RAM).

    Tools/bench_dinov2.py [--model dinov2-vitb14] [--weights FILE [--weights-prefix P]]
                          [--runs 3] [--warmup 1] [--vitexport PATH] [--workdir DIR]

Builds vitexport in release mode unless --vitexport is given. Prints:
  - the resampling ops in the traced graph (PseudoInverse, Resize) and that none survive export;
  - export wall time, node counts traced → folded → exported, file size (libonnx checker on);
  - interpreter latency (`vitexport run`, median of --runs after --warmup) and onnxruntime
    latency (same input, 2 intra-op threads, sequential), both with 2 threads;
  - max |interpreter − onnxruntime| / max |interpreter| over the `features` output
    (expected ≤ 1e-4: same float32 math, different summation orders).
The machine may be shared: compare the two latencies from one run, not across runs.
"""
import argparse
import json
import os
import pathlib
import re
import statistics
import sys
import tempfile
import time

import numpy as np
import onnx
import onnxruntime as ort

from vxtools import sh, vitexport_binary

root = pathlib.Path(__file__).resolve().parent.parent



def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="dinov2-vitb14")
    ap.add_argument("--weights")
    ap.add_argument("--weights-prefix")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--vitexport")
    ap.add_argument("--workdir")
    args = ap.parse_args()

    exe = vitexport_binary(args.vitexport)
    work = pathlib.Path(args.workdir or tempfile.mkdtemp(prefix="vitexport-dinov2-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    model = ["--model", args.model]
    if args.weights:
        model += ["--weights", args.weights]
    if args.weights_prefix:
        model += ["--weights-prefix", args.weights_prefix]

    traced = json.loads(sh([exe, "dump", *model, "--stage", "traced", "--format", "json"]))
    traced_ops = [n["op"] for n in traced["nodes"]]
    print(f"traced graph: {len(traced_ops)} nodes; resampling ops: "
          f"PseudoInverse ×{traced_ops.count('PseudoInverse')}, Resize ×{traced_ops.count('Resize')}")

    path = work / "model.onnx"
    t0 = time.perf_counter()
    out = sh([exe, "onnx", *model, "--opset", "17", "-o", str(path)])
    export_seconds = time.perf_counter() - t0
    print(out.rstrip())
    counts = re.search(r"traced (\d+) → folded (\d+) → exported (\d+)", out)
    exported_ops = {n.op_type for n in onnx.load(str(path), load_external_data=False).graph.node}
    leftover = sorted(exported_ops & {"PseudoInverse", "Resize"})
    print(f"export: {export_seconds:.2f} s wall (trace + fold + lower + check + write); nodes traced {counts.group(1)} → "
          f"folded {counts.group(2)} → exported {counts.group(3)}; file {path.stat().st_size / 2**20:.1f} MiB; "
          f"resampling left in the file: {leftover or 'none'}")

    io = work / "io"
    if io.exists():  # fresh files: `run --save` does not overwrite existing ones on every platform
        for f in io.iterdir():
            f.unlink()
    env = dict(os.environ, OPENBLAS_NUM_THREADS="2")
    out = sh([exe, "run", *model, "--repeat", str(args.runs), "--warmup", str(args.warmup), "--save", str(work / "io")], env=env)
    m = re.search(r"time ([0-9.]+) s \(median of \d+: ([0-9. ]+)\)", out)
    interp = float(m.group(1))

    options = ort.SessionOptions()
    options.intra_op_num_threads = 2
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    session = ort.InferenceSession(str(path), sess_options=options, providers=["CPUExecutionProvider"])
    feeds = {i.name: np.load(work / "io" / f"input.{i.name}.npy") for i in session.get_inputs()}
    for _ in range(args.warmup):
        session.run(None, feeds)
    times = []
    for _ in range(args.runs):
        t = time.perf_counter()
        (got,) = session.run(["features"], feeds)
        times.append(time.perf_counter() - t)
    ortime = statistics.median(times)
    want = np.load(work / "io" / "output.features.npy")
    error = float(np.abs(want - got).max() / max(np.abs(want).max(), 1e-30))

    print(f"features {list(want.shape)}: max |interpreter − onnxruntime| / max |interpreter| = {error:.2e}")
    print(f"interpreter  median {interp:.3f} s  (runs: {m.group(2).strip()})")
    print(f"onnxruntime  median {ortime:.3f} s  (runs: {' '.join(f'{t:.3f}' for t in times)})")
    print(f"ratio interpreter/onnxruntime = {interp / ortime:.2f}")
    return 0 if error <= 1e-4 and not leftover else 1


if __name__ == "__main__":
    sys.exit(main())
