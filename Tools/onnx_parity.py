#!/usr/bin/env python3
"""Outside judge for exports: onnxruntime against vitexport's reference interpreter (CI only).

    Tools/onnx_parity.py --vitexport PATH [--model NAME] [--opsets 16,17,18,20,21] [--tolerance 1e-4]
                         [--weights FILE] [--external-data] [--workdir DIR]

For the model: `vitexport run --save` writes seeded inputs and the interpreter's outputs as
.npy; then for every opset `vitexport onnx --opset N` exports the model, onnx's
`check_model(full_check=True)` judges the file, onnxruntime runs it (2 threads) on the same
inputs, and each output must match the interpreter within `tolerance` relative to the
output's largest magnitude. Integer outputs must be equal.

The default tolerance 1e-4 is float32 noise for these models: onnxruntime fuses and reorders
reductions (LayerNorm, Softmax, GEMM blocking) so results differ from the interpreter's in the
last few ulps of accumulations over up to a few thousand terms (~1e-6 relative each), and
deep models amplify that through residual stacks; a real lowering bug is orders larger.
Prints one line per opset and output; exits 1 on any failure.
"""
import argparse
import pathlib
import sys
import tempfile

import numpy as np
import onnx
import onnxruntime as ort

from vxtools import sh as run



def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--vitexport", required=True)
    ap.add_argument("--model", default=None)
    ap.add_argument("--weights", default=None)
    ap.add_argument("--opsets", default="16,17,18,20,21")
    ap.add_argument("--tolerance", type=float, default=1e-4)
    ap.add_argument("--external-data", action="store_true")
    ap.add_argument("--workdir", default=None)
    args = ap.parse_args()

    work = pathlib.Path(args.workdir or tempfile.mkdtemp(prefix="vitexport-parity-"))
    work.mkdir(parents=True, exist_ok=True)
    common = []
    if args.model:
        common += ["--model", args.model]
    if args.weights:
        common += ["--weights", args.weights]
    io = work / "io"
    run([args.vitexport, "run", *common, "--save", str(io)])
    inputs = {p.name[len("input."):-len(".npy")]: np.load(p) for p in io.glob("input.*.npy")}
    expected = {p.name[len("output."):-len(".npy")]: np.load(p) for p in io.glob("output.*.npy")}

    failures = 0
    for opset in [int(o) for o in args.opsets.split(",")]:
        path = work / f"model-opset{opset}.onnx"
        extra = ["--external-data"] if args.external_data else []
        run([args.vitexport, "onnx", *common, "--opset", str(opset), "-o", str(path), *extra])
        onnx.checker.check_model(str(path), full_check=True)
        options = ort.SessionOptions()
        options.intra_op_num_threads = 2
        options.log_severity_level = 3
        session = ort.InferenceSession(str(path), sess_options=options, providers=["CPUExecutionProvider"])
        names = [o.name for o in session.get_outputs()]
        feeds = {i.name: inputs[i.name.replace("/", "_").replace(":", "_")] for i in session.get_inputs()}
        got = dict(zip(names, session.run(names, feeds)))
        for name in names:
            want = expected[name.replace("/", "_").replace(":", "_")]
            have = got[name]
            if want.shape != have.shape:
                print(f"FAIL opset {opset} {name}: shape {have.shape} != {want.shape}")
                failures += 1
                continue
            if np.issubdtype(want.dtype, np.floating):
                scale = max(float(np.abs(want).max()), 1e-30)
                rel = float(np.abs(want.astype(np.float64) - have).max()) / scale
                ok = rel <= args.tolerance
                print(f"{'ok  ' if ok else 'FAIL'} opset {opset} {name}: max|Δ|/max|x| = {rel:.2e} (tolerance {args.tolerance:.0e})")
            else:
                ok = np.array_equal(want, have)
                print(f"{'ok  ' if ok else 'FAIL'} opset {opset} {name}: {'equal' if ok else 'differs'}")
            failures += not ok
    print(f"{'parity ok' if failures == 0 else f'{failures} mismatches'} ({work})")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
