#!/usr/bin/env python3
"""Runs a batch of images through one exported ONNX file (a static batch of N, or a dynamic-batch
export) in onnxruntime, OpenVINO and tract, and judges each image's detections against the
interpreter's batch-1 detections of that image.

    Tools/batch_runtimes.py MODEL.onnx --io DIR1 --io DIR2 [...] [--runtimes onnxruntime,openvino,tract]
                            [--box-tolerance 1e-3] [--score-tolerance 1e-4] [--strict]

Each `--io DIR` is what `vitexport run --save DIR` writes for one image (batch 1, same model and
weights): `input.<name>.npy` and `output.<name>.npy`. The inputs are stacked in order along the
leading axis and fed as one batch; row i of `boxes`, `scores` and `labels` must give image i's
detections: labels equal in order, boxes within `box-tolerance` × the image size, scores within
`score-tolerance` (the same judge as Tools/runtimes.py; a runtime's GEMMs may sum in another order
at another batch size, so its boxes move by ~1e-4 px). A file whose leading input dimension is
symbolic is also run at batch 1 on the first image; tract then gets the symbol as the leading
input dimension (`set_input_fact(0, "batch,3,H,W,f32")`), not a number. With `--strict` the script exits 1 when any
row fails or a runtime cannot run the file.
"""
import argparse
import pathlib
import sys

import numpy as np
import onnx

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from runtimes import RUNNERS, detections, run_tract  # noqa: E402


def run_tract_symbolic(path, feeds, names, input_order, symbol):
    """tract with the leading dimension of every input left as the file's symbol: tract unifies
    the declared `value_info` with the input facts, and a symbol never unifies with a number, so
    `set_input_fact(0, "2,3,H,W,f32")` fails on a dynamic-batch file; the plan runs at any batch."""
    import tract
    model = tract.onnx().load(str(path))
    for i, name in enumerate(input_order):
        x = feeds[name]
        dtype = {np.float32: "f32", np.int64: "i64", np.float16: "f16"}[x.dtype.type]
        model.set_input_fact(i, ",".join([symbol] + [str(d) for d in x.shape[1:]]) + "," + dtype)
    outputs = model.into_model().into_runnable().run([feeds[n] for n in input_order])
    return {name: t.to_numpy() for name, t in zip(names, outputs)}


def run(runtime, path, feeds, names, input_order, symbol):
    if runtime == "tract":
        if symbol:
            return run_tract_symbolic(path, feeds, names, input_order, symbol)
        return run_tract(path, feeds, names, input_order)
    return RUNNERS[runtime](path, feeds, names)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model")
    ap.add_argument("--io", action="append", required=True, help="a directory written by `vitexport run --save` (one image)")
    ap.add_argument("--runtimes", default="onnxruntime,openvino,tract")
    ap.add_argument("--box-tolerance", type=float, default=1e-3, help="fraction of the image size")
    ap.add_argument("--score-tolerance", type=float, default=1e-4)
    ap.add_argument("--strict", action="store_true")
    args = ap.parse_args()

    path = pathlib.Path(args.model)
    m = onnx.load(str(path), load_external_data=False)
    input_order = [i.name for i in m.graph.input]
    names = [o.name for o in m.graph.output]
    leading = m.graph.input[0].type.tensor_type.shape.dim[0]
    symbol = leading.dim_param or None
    print(f"batch: {'symbolic ' + repr(symbol) if symbol else leading.dim_value}; {len(args.io)} image(s)")
    dirs = [pathlib.Path(d) for d in args.io]
    singles = [{n: np.load(d / f"input.{n}.npy") for n in input_order} for d in dirs]
    expected = [{n: np.load(d / f"output.{n}.npy") for n in ("boxes", "scores", "labels")} for d in dirs]
    image_size = max(singles[0][input_order[0]].shape[-2:])
    batches = [(len(dirs), {n: np.concatenate([s[n] for s in singles]) for n in input_order})]
    if symbol:
        batches.append((1, singles[0]))

    failures = 0
    for runtime in [r for r in args.runtimes.split(",") if r]:
        for size, feeds in batches:
            try:
                got = run(runtime, path, feeds, names, input_order, symbol)
            except Exception as e:  # A runtime that cannot load the file is a failure of its own.
                failures += 1
                print(f"{runtime} batch {size}: could not run the file: {type(e).__name__}: {str(e).splitlines()[0][:100]}")
                continue
            for i in range(size):
                row = {k: got[k][i:i + 1] for k in ("boxes", "scores", "labels")}
                ok, text = detections(expected[i], row, image_size, args.box_tolerance, args.score_tolerance)
                failures += 0 if ok else 1
                print(f"{runtime} batch {size} image {i}: {text}{'' if ok else '  ✗'}")
    print(f"{failures} row(s) outside tolerance")
    return 1 if failures and args.strict else 0


if __name__ == "__main__":
    sys.exit(main())
