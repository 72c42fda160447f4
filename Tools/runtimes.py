#!/usr/bin/env python3
"""Runs one exported ONNX file in onnxruntime, OpenVINO and tract side by side, against the
outputs of vitexport's interpreter.

    Tools/runtimes.py MODEL.onnx --io DIR [--runtimes onnxruntime,openvino,tract]
                      [--tolerance 1e-4] [--box-tolerance 1e-3] [--score-tolerance 1e-4] [--strict]
                      [--vitexport BIN]

`--io DIR` is what `vitexport run --save DIR` writes for the same model and weights:
`input.<name>.npy` (fed to every runtime) and `output.<name>.npy` (the interpreter's outputs).

Prints a table: one row per output, one column per runtime, each cell the largest absolute
difference from the interpreter relative to the output's largest magnitude (integer outputs:
the count of differing elements). For a detector (outputs `boxes`, `scores`, `labels`), a
detections row per runtime compares the ranked detections: every label equal in order, boxes
within `box-tolerance` × the image size, scores within `score-tolerance`. With `--strict` the
script exits 1 when any runtime fails a row (CI uses it on fp32 exports, whose detections must
agree exactly in order; weights with near-tied scores can legitimately reorder them).

Reduced-precision files (metadata `vitexport.precision`: fp16 or mixed, compared with the
interpreter running the same file, `vitexport run --precision … --save DIR`) are judged by the
agreement `verify --precision` states instead of exact ranks: detections matched as sets (same
label, the unused partner of highest IoU, IoU ≥ 0.5), at least 90% matched, mean IoU of
matched boxes ≥ --min-mean-iou, largest score drift ≤ --max-score-drift; their output rows are
informative (reordered near-ties move positional differences). Such a file is teacher-forced
when `--vitexport BIN` is given: one flipped near-tie in the proposal top-k changes which queries
the decoder attends over and cascades through every detection, so the script makes a copy whose
proposal indices (the `topk_indices` stage of `vitexport.stages`) are a graph input
`proposal_indices`, takes the indices onnxruntime computes from the original file, and runs the
copy in every runtime and in the interpreter (`BIN run --onnx COPY --input …`) with them; the
interpreter's outputs then come from that run (`--io` supplies only the image).

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


def teacher_forced(path, model, feeds, vitexport, workdir):
    """(copy path, feeds with proposal_indices, interpreter outputs) for a reduced file."""
    import subprocess
    import onnx.helper as oh
    stages = dict(p.split("=", 1) for p in next((m.value for m in model.metadata_props if m.key == "vitexport.stages"), "").split(",") if "=" in p)
    value = stages.get("topk_indices")
    if value is None:
        raise SystemExit(f"{path}: no topk_indices stage in vitexport.stages; cannot teacher-force")
    info = next(v for v in model.graph.value_info if v.name == value)
    probe = onnx.load(str(path))
    probe.graph.output.append(info)
    import onnxruntime as ort
    session = ort.InferenceSession(probe.SerializeToString(), providers=["CPUExecutionProvider"])
    indices = np.ascontiguousarray(session.run([value], feeds)[0], dtype=np.int64)
    forced = onnx.load(str(path))
    for node in forced.graph.node:
        node.input[:] = ["proposal_indices" if i == value else i for i in node.input]
    forced.graph.input.append(oh.make_tensor_value_info("proposal_indices", onnx.TensorProto.INT64, list(indices.shape)))
    out = workdir / (path.stem + ".forced.onnx")
    onnx.save(forced, str(out))
    feeds = dict(feeds, proposal_indices=indices)
    for name, x in feeds.items():
        np.save(workdir / f"forced.input.{name}.npy", x)
    io = workdir / "forced-io"
    subprocess.run([vitexport, "run", "--onnx", str(out), "--save", str(io)]
                   + [a for n in feeds for a in ("--input", f"{n}={workdir / f'forced.input.{n}.npy'}")],
                   check=True, stdout=subprocess.DEVNULL)
    outputs = {o.name: np.load(io / f"output.{o.name}.npy") for o in forced.graph.output}
    return out, feeds, outputs


def agreement(expected, got, min_matched, min_iou, max_drift):
    """(ok, text): detections matched as sets by label and best IoU (≥ 0.5), in the reference's order."""
    if any(k not in got for k in ("boxes", "scores", "labels")):
        return False, "missing outputs"
    eb, es, el = expected["boxes"].reshape(-1, 4), expected["scores"].reshape(-1), expected["labels"].reshape(-1)
    gb, gs, gl = got["boxes"].reshape(-1, 4).astype(np.float64), got["scores"].reshape(-1), got["labels"].reshape(-1)
    used = np.zeros(len(gl), dtype=bool)
    ious, drifts = [], []
    for i in range(len(el)):
        candidates = np.flatnonzero((gl == el[i]) & ~used)
        if candidates.size == 0:
            continue
        b = gb[candidates]
        w = np.clip(np.minimum(b[:, 2], eb[i, 2]) - np.maximum(b[:, 0], eb[i, 0]), 0, None)
        h = np.clip(np.minimum(b[:, 3], eb[i, 3]) - np.maximum(b[:, 1], eb[i, 1]), 0, None)
        area = lambda r: np.clip(r[..., 2] - r[..., 0], 0, None) * np.clip(r[..., 3] - r[..., 1], 0, None)
        union = area(b) + area(eb[i]) - w * h
        iou = np.where(union > 0, w * h / np.where(union > 0, union, 1), 0.0)
        j = int(np.argmax(iou))
        if iou[j] < 0.5:
            continue
        used[candidates[j]] = True
        ious.append(float(iou[j]))
        drifts.append(abs(float(gs[candidates[j]]) - float(es[i])))
    matched = len(ious) / max(len(el), 1)
    mean_iou = float(np.mean(ious)) if ious else 0.0
    drift = max(drifts) if drifts else 0.0
    ok = matched >= min_matched and mean_iou >= min_iou and drift <= max_drift
    return ok, f"matched {len(ious)}/{len(el)}, mean IoU {mean_iou:.4f}, largest score drift {drift:.2e}"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model")
    ap.add_argument("--io", required=True, help="directory written by `vitexport run --save`")
    ap.add_argument("--runtimes", default="onnxruntime,openvino,tract")
    ap.add_argument("--tolerance", type=float, default=1e-4)
    ap.add_argument("--box-tolerance", type=float, default=1e-3, help="fraction of the image size")
    ap.add_argument("--score-tolerance", type=float, default=1e-4)
    ap.add_argument("--strict", action="store_true")
    ap.add_argument("--min-matched", type=float, default=0.9, help="fp16/mixed files: fraction of detections matched")
    ap.add_argument("--min-mean-iou", type=float, default=0.85, help="fp16/mixed files: mean IoU of matched boxes")
    ap.add_argument("--max-score-drift", type=float, default=0.02, help="fp16/mixed files: largest score difference")
    ap.add_argument("--vitexport", help="fp16/mixed detector files: teacher-force with this binary's interpreter")
    args = ap.parse_args()

    path = pathlib.Path(args.model)
    io = pathlib.Path(args.io)
    m = onnx.load(str(path), load_external_data=False)
    precision = next((p.value for p in m.metadata_props if p.key == "vitexport.precision"), "fp32")
    reduced = precision.startswith("fp16") or precision.startswith("mixed")
    if reduced:
        print(f"precision: {precision} (judged by detection agreement; output rows informative)")
    input_order = [i.name for i in m.graph.input]
    names = [o.name for o in m.graph.output]
    feeds = {n: np.load(io / f"input.{n}.npy") for n in input_order}
    expected = {n: np.load(io / f"output.{n}.npy") for n in names if (io / f"output.{n}.npy").exists()}
    image = next(iter(feeds.values()))
    if reduced and args.vitexport:
        import atexit
        import shutil
        import tempfile
        workdir = pathlib.Path(tempfile.mkdtemp(prefix="runtimes-"))
        atexit.register(shutil.rmtree, workdir, True)
        path, feeds, expected = teacher_forced(path, m, feeds, args.vitexport, workdir)
        input_order = input_order + ["proposal_indices"]
        print(f"teacher-forced: proposal indices from onnxruntime on the original file, fed to every runtime and the interpreter")
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
            ok = ok or reduced
            failures += 0 if ok else 1
            text = f"{d:.2e}" if isinstance(d, float) else str(d)
            cells.append(f"{text + ('' if ok else ' ✗'):>14}")
        print(f"{n:<{width}}  " + "  ".join(cells))
    if all(k in expected for k in ("boxes", "scores", "labels")):
        for r in runtimes:
            if r in errors:
                continue
            if reduced:
                ok, text = agreement(expected, results[r], args.min_matched, args.min_mean_iou, args.max_score_drift)
            else:
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
