#!/usr/bin/env python3
"""Interpreter vs onnxruntime on one model, both with 2 threads, same run, same input.

    Tools/bench_interpreter.py [--model Tools/bench/vit-b16-512.json] [--runs 5] [--warmup 1]
                               [--vitexport PATH] [--weights FILE]

Builds vitexport in release mode (unless --vitexport is given), exports the model (opset 17),
times `vitexport run` (median of --runs after --warmup, OPENBLAS_NUM_THREADS=2, per-op profile)
and onnxruntime (intra_op_num_threads=2, sequential, median likewise) on the same seeded
input, checks that both outputs agree, and prints latency, GFLOP/s (FLOPs from the folded
graph's dump summary) and the ratio interpreter/onnxruntime. The machine is shared and noisy:
compare ratios measured in one run, not absolute times across runs.
"""
import argparse
import json
import os
import pathlib
import re
import statistics
import tempfile
import time

import numpy as np
import onnxruntime as ort

from vxtools import sh, vitexport_binary

root = pathlib.Path(__file__).resolve().parent.parent



def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default=str(root / "Tools/bench/vit-b16-512.json"))
    ap.add_argument("--weights")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--vitexport")
    ap.add_argument("--workdir")
    args = ap.parse_args()

    exe = vitexport_binary(args.vitexport)
    work = pathlib.Path(args.workdir or tempfile.mkdtemp(prefix="vitexport-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    model = ["--model", args.model] + (["--weights", args.weights] if args.weights else [])

    summary = json.loads(sh([exe, "dump", *model, "--stage", "folded", "--format", "json"]))["summary"]
    gflop = summary["flops"] / 1e9
    t0 = time.perf_counter()
    print(sh([exe, "onnx", *model, "-o", str(work / "model.onnx")]).rstrip())
    print(f"export wall time {time.perf_counter() - t0:.2f} s (includes tracing and folding)")

    env = dict(os.environ, OPENBLAS_NUM_THREADS="2")
    out = sh([exe, "run", *model, "--repeat", str(args.runs), "--warmup", str(args.warmup), "--profile",
              "--save", str(work / "io")], env=env)
    m = re.search(r"time ([0-9.]+) s \(median of \d+: ([0-9. ]+)\)", out)
    interp = float(m.group(1))

    options = ort.SessionOptions()
    options.intra_op_num_threads = 2
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    session = ort.InferenceSession(str(work / "model.onnx"), sess_options=options, providers=["CPUExecutionProvider"])
    feeds = {i.name: np.load(work / "io" / f"input.{i.name}.npy") for i in session.get_inputs()}
    for _ in range(args.warmup):
        session.run(None, feeds)
    times = []
    for _ in range(args.runs):
        t = time.perf_counter()
        outputs = session.run(None, feeds)
        times.append(time.perf_counter() - t)
    ortime = statistics.median(times)

    worst = 0.0
    for meta, have in zip(session.get_outputs(), outputs):
        want = np.load(work / "io" / f"output.{meta.name}.npy")
        worst = max(worst, float(np.abs(want - have).max() / max(np.abs(want).max(), 1e-30)))

    print(out.rstrip())
    print(f"model {pathlib.Path(args.model).name}: {gflop:.1f} GFLOP (folded graph estimate)")
    print(f"interpreter  median {interp:.3f} s  {gflop / interp:6.1f} GFLOP/s  (runs: {m.group(2).strip()})")
    print(f"onnxruntime  median {ortime:.3f} s  {gflop / ortime:6.1f} GFLOP/s  (runs: {' '.join(f'{t:.3f}' for t in times)})")
    print(f"ratio interpreter/onnxruntime = {interp / ortime:.2f}")
    print(f"outputs agree: max |Δ|/max|x| = {worst:.2e}")


if __name__ == "__main__":
    main()
