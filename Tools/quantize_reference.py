#!/usr/bin/env python3
"""vitexport's int8 export beside onnxruntime's `quantize_static` on vitexport's own fp32
export, both calibrated on the same inputs, run in onnxruntime, OpenVINO and tract and compared
with the fp32 file's detections.

    Tools/quantize_reference.py --vitexport BIN [-m MODEL] [--weights W] [--samples N]
                                [--calibrator minmax|percentile|entropy] [--activation-type uint8|int8]
                                [--reduce-range] [--runtimes onnxruntime,openvino,tract] [--workdir DIR]
                                [--min-proposals F] [--strict]

Steps: `vitexport run --seed k --save` writes the seeded inputs k = 1…N (calibration, saved as
.npy) and k = 0 (evaluation); `vitexport onnx --debug-outputs` writes the fp32 file and, with
`--precision int8 --calibrate-input image=…` on those same .npy files, vitexport's int8 file;
`quantize_static` (QDQ, per-channel int8 weights, the same activation type and calibration
method) quantizes the fp32 file with the same inputs, leaving in float exactly the
MatMul/Gemm/Conv/ConvTranspose nodes vitexport left in float (its policy and --exclude).
`--reduce-range` gives both quantizers 7-bit weights (vitexport's flag, quantize_static's
`reduce_range`): on x86 CPUs without VNNI, onnxruntime's and OpenVINO's uint8 × int8 kernels
add products in pairs into saturating 16-bit sums, which full-range weights can overflow.

Detections are compared with the fp32 file run in the same runtime, on the evaluation input:
- by (query, class): the flat detection index `debug.detection_index` (slot · classes + label);
- as objects: same class and box IoU ≥ 0.5 (greedy by score), then the mean IoU and the
  largest score drift over those pairs;
- proposals: the share of fp32's top-k encoder tokens (`debug.topk_indices`) also selected.
A runtime that cannot load or run a file is reported as such (tract and QDQ, for instance).
With `--strict` the script exits 1 when vitexport's file fails the onnx checker, a runtime
cannot run it, or in some runtime it shares fewer than `--min-proposals` of fp32's proposals
(a wrong scale or axis scrambles the encoder long before the detections).
"""
import argparse
import pathlib
import subprocess
import sys
import tempfile

import numpy as np
import onnx

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from runtimes import RUNNERS  # noqa: E402

WEIGHTED_OPS = {"MatMul", "Gemm", "Conv", "ConvTranspose"}


def sh(*args):
    r = subprocess.run([str(a) for a in args], capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"error: {' '.join(map(str, args))}: {r.stderr.strip()}")
    return r.stdout


def float_nodes(int8_path):
    """Weighted nodes of vitexport's int8 file whose first input is not dequantized."""
    m = onnx.load(str(int8_path), load_external_data=False)
    dq = {o for n in m.graph.node if n.op_type == "DequantizeLinear" for o in n.output}
    return sorted(n.name for n in m.graph.node if n.op_type in WEIGHTED_OPS and n.input[0] not in dq)


def iou(a, b):
    w = max(min(a[2], b[2]) - max(a[0], b[0]), 0)
    h = max(min(a[3], b[3]) - max(a[1], b[1]), 0)
    area = lambda r: max(r[2] - r[0], 0) * max(r[3] - r[1], 0)  # noqa: E731
    union = area(a) + area(b) - w * h
    return w * h / union if union > 0 else 0.0


def compare(ref, got):
    """Agreement of `got`'s detections with `ref`'s (see the module doc)."""
    ri, gi = ref["debug.detection_index"].ravel(), got["debug.detection_index"].ravel()
    by_query = len(set(ri.tolist()) & set(gi.tolist())) / max(len(ri), 1)
    rb, gb = ref["boxes"][0], got["boxes"][0]
    rl, gl = ref["labels"][0], got["labels"][0]
    rs, gs = ref["scores"][0], got["scores"][0]
    used, ious, drift = set(), [], 0.0
    for i in np.argsort(-rs, kind="stable"):
        best = None
        for j in range(len(gl)):
            if j in used or gl[j] != rl[i]:
                continue
            v = iou(rb[i], gb[j])
            if v >= 0.5 and (best is None or v > best[1]):
                best = (j, v)
        if best:
            used.add(best[0])
            ious.append(best[1])
            drift = max(drift, abs(float(gs[best[0]]) - float(rs[i])))
    rt, gt = ref["debug.topk_indices"].ravel(), got["debug.topk_indices"].ravel()
    return {"by_query": by_query, "objects": len(ious) / max(len(rl), 1),
            "mean_iou": float(np.mean(ious)) if ious else float("nan"), "drift": drift,
            "proposals": len(set(rt.tolist()) & set(gt.tolist())) / max(len(rt), 1)}


def ort_static(fp32, out, calibration, excluded, activation_type, calibrator, reduce_range):
    from onnxruntime.quantization import (CalibrationDataReader, CalibrationMethod, QuantFormat,
                                          QuantType, quantize_static)

    class Reader(CalibrationDataReader):
        def __init__(self):
            self.items = iter(calibration)

        def get_next(self):
            return next(self.items, None)

    method = {"minmax": CalibrationMethod.MinMax, "percentile": CalibrationMethod.Percentile,
              "entropy": CalibrationMethod.Entropy}[calibrator]
    quantize_static(str(fp32), str(out), Reader(), quant_format=QuantFormat.QDQ, per_channel=True,
                    activation_type=QuantType.QInt8 if activation_type == "int8" else QuantType.QUInt8,
                    weight_type=QuantType.QInt8, op_types_to_quantize=sorted(WEIGHTED_OPS),
                    nodes_to_exclude=excluded, calibrate_method=method, reduce_range=reduce_range,
                    extra_options={"ActivationSymmetric": activation_type == "int8", "WeightSymmetric": True})


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--vitexport", required=True)
    ap.add_argument("-m", "--model", default="dino-tiny")
    ap.add_argument("--weights")
    ap.add_argument("--samples", type=int, default=2)
    ap.add_argument("--calibrator", default="minmax", choices=["minmax", "percentile", "entropy"])
    ap.add_argument("--activation-type", default="uint8", choices=["uint8", "int8"])
    ap.add_argument("--reduce-range", action="store_true", help="7-bit weights in both quantizers")
    ap.add_argument("--runtimes", default="onnxruntime,openvino,tract")
    ap.add_argument("--workdir")
    ap.add_argument("--min-proposals", type=float, default=0.0, help="share of fp32's proposals needed (--strict)")
    ap.add_argument("--strict", action="store_true")
    args = ap.parse_args()

    work = pathlib.Path(args.workdir or tempfile.mkdtemp(prefix="quantize-reference-"))
    work.mkdir(parents=True, exist_ok=True)
    model = ["-m", args.model] + (["--weights", args.weights] if args.weights else [])
    for k in range(args.samples + 1):
        sh(args.vitexport, "run", *model, "--seed", k, "--save", work / f"io{k}")
    inputs = [p.name[len("input."):-len(".npy")] for p in sorted((work / "io0").glob("input.*.npy"))]
    load = lambda k: {n: np.load(work / f"io{k}" / f"input.{n}.npy") for n in inputs}  # noqa: E731
    calibration = [load(k) for k in range(1, args.samples + 1)]

    fp32, ours, theirs = work / "fp32.onnx", work / "vitexport-int8.onnx", work / "ort-int8.onnx"
    sh(args.vitexport, "onnx", *model, "--debug-outputs", "-o", fp32)
    files = [f"{n}={work / f'io{k}' / f'input.{n}.npy'}" for k in range(1, args.samples + 1) for n in inputs]
    summary = sh(args.vitexport, "onnx", *model, "--debug-outputs", "--precision", "int8", "--calibrator", args.calibrator,
                 "--activation-type", args.activation_type, *(["--reduce-range"] if args.reduce_range else []),
                 *sum((["--calibrate-input", f] for f in files), []), "-o", ours)
    checker_ok = "libonnx checker: passed" in summary
    excluded = float_nodes(ours)
    ort_static(fp32, theirs, calibration, excluded, args.activation_type, args.calibrator, args.reduce_range)
    onnx.checker.check_model(str(ours), full_check=True)

    print(f"{args.model}: {args.samples} calibration samples, {args.calibrator}, activations {args.activation_type}, "
          f"weights {'7' if args.reduce_range else '8'}-bit; "
          f"{len(excluded)} weighted nodes left in float by vitexport's policy, excluded from quantize_static too")
    print(f"file sizes: fp32 {fp32.stat().st_size} B, vitexport int8 {ours.stat().st_size} B, "
          f"quantize_static {theirs.stat().st_size} B; vitexport's file passes the onnx checker: {checker_ok}")
    feeds = load(0)
    failed = not checker_ok
    print(f"{'runtime':12} {'file':16} {'(query,class)':>13} {'objects':>8} {'mean IoU':>9} {'score drift':>12} {'proposals':>10}")
    for runtime in [r for r in args.runtimes.split(",") if r]:
        try:
            names = [o.name for o in onnx.load(str(fp32), load_external_data=False).graph.output]
            run = (lambda p: RUNNERS[runtime](p, feeds, names, inputs)) if runtime == "tract" else \
                  (lambda p: RUNNERS[runtime](p, feeds, names))
            ref = run(fp32)
        except Exception as e:  # noqa: BLE001 - a runtime's own error is the finding
            print(f"{runtime:12} fp32             cannot run: {str(e).splitlines()[0][:100]}")
            failed = True
            continue
        for label, path in (("vitexport int8", ours), ("quantize_static", theirs)):
            try:
                c = compare(ref, run(path))
            except Exception as e:  # noqa: BLE001
                print(f"{runtime:12} {label:16} cannot run: {str(e).splitlines()[0][:100]}")
                failed = failed or label == "vitexport int8"
                continue
            print(f"{runtime:12} {label:16} {c['by_query']:13.2f} {c['objects']:8.2f} {c['mean_iou']:9.3f} "
                  f"{c['drift']:12.4f} {c['proposals']:10.2f}")
            if label == "vitexport int8" and c["proposals"] < args.min_proposals:
                failed = True
    if args.strict and failed:
        sys.exit("error: vitexport's int8 file failed a check (see above)")


if __name__ == "__main__":
    main()
