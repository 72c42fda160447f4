#!/usr/bin/env python3
"""Runs one exported ONNX file in onnxruntime, OpenVINO and tract side by side, against the
outputs of vitexport's interpreter.

    Tools/runtimes.py MODEL.onnx --io DIR [--runtimes onnxruntime,openvino,tract]
                      [--tolerance 1e-4] [--box-tolerance 1e-3] [--score-tolerance 1e-4] [--strict]

`--io DIR` is what `vitexport run --save DIR` writes for the same model and weights:
`input.<name>.npy` (fed to every runtime) and `output.<name>.npy` (the interpreter's outputs).

Prints a table: one row per output, one column per runtime, each cell the largest absolute
difference from the interpreter relative to the output's largest magnitude (integer outputs:
the count of differing elements). For a detector (outputs `boxes`, `scores`, `labels`), a
detections row per runtime compares the ranked detections: every label equal in order, boxes
within `box-tolerance` × the image size, scores within `score-tolerance`. With `--strict` the
script exits 1 when any runtime fails a row (CI uses it on fp32 exports, whose detections must
agree exactly in order; weights with near-tied scores can legitimately reorder them).

tract's `output_name` gives node names, so its outputs are matched by position; OpenVINO runs
on the CPU plugin with INFERENCE_PRECISION_HINT f32 (its default on bf16-capable processors is
bf16), onnxruntime with 2 threads.
"""
import argparse
import pathlib
import sys

import numpy as np
import onnx


def run_onnxruntime(path, feeds, names):
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.intra_op_num_threads = 2
    s = ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])
    return dict(zip(names, s.run(names, feeds)))


def run_openvino(path, feeds, names):
    import openvino as ov
    # The CPU plugin's default inference precision is bf16 on processors with bf16 support
    # (this machine's is), which alone moves scores by ~1e-2; an fp32 file is judged in f32.
    compiled = ov.Core().compile_model(str(path), "CPU", {"INFERENCE_PRECISION_HINT": "f32"})
    result = compiled(feeds)
    return {name: np.asarray(result[compiled.output(name)]) for name in names}


def run_tract(path, feeds, names, input_order):
    import tract
    model = tract.onnx().load(str(path))
    for i, name in enumerate(input_order):
        x = feeds[name]
        dtype = {np.float32: "f32", np.int64: "i64", np.float16: "f16"}[x.dtype.type]
        model.set_input_fact(i, ",".join(str(d) for d in x.shape) + "," + dtype)
    runnable = model.into_model().into_runnable()
    outputs = runnable.run([feeds[n] for n in input_order])
    return {name: t.to_numpy() for name, t in zip(names, outputs)}


RUNNERS = {"onnxruntime": run_onnxruntime, "openvino": run_openvino, "tract": run_tract}


def difference(expected, got):
    """Relative max |Δ| for floats; the count of differing elements for integers."""
    if got.shape != expected.shape:
        return f"shape {list(got.shape)}", False
    if np.issubdtype(expected.dtype, np.floating):
        scale = max(float(np.max(np.abs(expected))) if expected.size else 0.0, 1e-12)
        d = float(np.max(np.abs(got.astype(np.float64) - expected))) / scale if expected.size else 0.0
        return d, None
    n = int(np.count_nonzero(got != expected))
    return n, n == 0


def detections(expected, got, image_size, box_tol, score_tol):
    """(ok, text) comparing ranked detections."""
    if any(k not in got for k in ("boxes", "scores", "labels")):
        return False, "missing outputs"
    labels_equal = np.array_equal(expected["labels"], got["labels"])
    box = float(np.max(np.abs(expected["boxes"] - got["boxes"]))) if expected["boxes"].size else 0.0
    score = float(np.max(np.abs(expected["scores"] - got["scores"]))) if expected["scores"].size else 0.0
    ok = labels_equal and box <= box_tol * image_size and score <= score_tol
    return ok, f"labels {'equal' if labels_equal else 'DIFFER'}, box Δ {box:.2e} px, score Δ {score:.2e}"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model")
    ap.add_argument("--io", required=True, help="directory written by `vitexport run --save`")
    ap.add_argument("--runtimes", default="onnxruntime,openvino,tract")
    ap.add_argument("--tolerance", type=float, default=1e-4)
    ap.add_argument("--box-tolerance", type=float, default=1e-3, help="fraction of the image size")
    ap.add_argument("--score-tolerance", type=float, default=1e-4)
    ap.add_argument("--strict", action="store_true")
    args = ap.parse_args()

    path = pathlib.Path(args.model)
    io = pathlib.Path(args.io)
    m = onnx.load(str(path), load_external_data=False)
    input_order = [i.name for i in m.graph.input]
    names = [o.name for o in m.graph.output]
    feeds = {n: np.load(io / f"input.{n}.npy") for n in input_order}
    expected = {n: np.load(io / f"output.{n}.npy") for n in names if (io / f"output.{n}.npy").exists()}
    image = next(iter(feeds.values()))
    image_size = max(image.shape[-2:]) if image.ndim >= 2 else 1

    runtimes = [r for r in args.runtimes.split(",") if r]
    results, errors = {}, {}
    for r in runtimes:
        try:
            if r == "tract":
                results[r] = run_tract(path, feeds, names, input_order)
            else:
                results[r] = RUNNERS[r](path, feeds, names)
        except Exception as e:  # A runtime that cannot load the file is a row of its own.
            errors[r] = f"{type(e).__name__}: {str(e).splitlines()[0][:100]}"

    failures = 0
    width = max([len(n) for n in names] + [10])
    print(f"{'output':<{width}}  " + "  ".join(f"{r:>14}" for r in runtimes))
    for n in names:
        if n not in expected:
            continue
        cells = []
        for r in runtimes:
            if r in errors:
                cells.append(f"{'error':>14}")
                continue
            d, exact = difference(expected[n], results[r][n])
            ok = exact if exact is not None else (isinstance(d, float) and d <= args.tolerance)
            failures += 0 if ok else 1
            text = f"{d:.2e}" if isinstance(d, float) else str(d)
            cells.append(f"{text + ('' if ok else ' ✗'):>14}")
        print(f"{n:<{width}}  " + "  ".join(cells))
    if all(k in expected for k in ("boxes", "scores", "labels")):
        for r in runtimes:
            if r in errors:
                continue
            ok, text = detections(expected, results[r], image_size, args.box_tolerance, args.score_tolerance)
            failures += 0 if ok else 1
            print(f"detections {r}: {text}{'' if ok else '  ✗'}")
    for r, e in errors.items():
        failures += 1
        print(f"{r}: could not run the file: {e}")
    print(f"runtimes: {len(runtimes) - len(errors)} of {len(runtimes)} ran; {failures} row(s) outside tolerance")
    return 1 if failures and args.strict else 0


if __name__ == "__main__":
    sys.exit(main())
