#!/usr/bin/env python3
"""One benchmark run of issue #13's figures, appended to BENCHMARKS.md (run by hand, not in CI;
Tools/bench.sh is the entry point):

    Tools/bench.sh [--quick] [--runs 5] [--warmup 1] [--threads N] [--vitexport PATH]
                   [--torch-python /tmp/torchenv/bin/python] [--workdir DIR] [--output BENCHMARKS.md | --no-write]

Models: the default detector (dino-dinov2-b, 512²) and the ViT-B/14→16 backbone alone
(dinov2-vitb14, 512²); --quick: dino-tiny only (under a minute). Per model, with --threads N
(default: all cores) on every side:
  - export: `vitexport onnx` under /usr/bin/time (wall seconds, peak RSS and RSS / weight bytes);
  - the interpreter on the traced model (-m) with each GEMM library (--gemm onednn, openblas)
    and on the exported file (--onnx): wall and CPU seconds per run, and seconds per top-level
    scope (backbone, pyramid, neck, encoder, proposals, decoder, post-process) from --profile;
  - the interpreter in reduced precision: the traced model with --precision fp16 and mixed,
    and the int8 file `vitexport onnx --precision int8 --calibrate-seeded 2` writes (--onnx;
    its export time is a note), for what `verify --precision …` costs on a laptop;
  - onnxruntime and OpenVINO (CPU, f32) on the exported file when importable, latency and
    seconds per scope from their profilers (a separate, untimed run);
  - backbone only, when --torch-python has torch and timm: torch eager, torch.onnx.export and
    onnxsim times and node counts, and both runtimes on that file (Tools/bench/torch_backbone.py);
  - the sgemm throughput of OpenBLAS and oneDNN on a ViT-B block's shapes (Tools/bench/sgemm.c),
    measured first; per model, its GEMM floor: the FLOPs of its matrix products and
    convolutions (`vitexport dump`'s estimate) at the best oneDNN rate of that measurement,
    the time no side can beat on this machine with these libraries.
Each figure is the median of --runs (≥ 5) after --warmup, with its spread (max − min) / median.
The sides run one after the other in rounds: every round times each side once (the interpreter
as one process per round), so load from other processes falls on all of them alike; on a
shared machine compare the ratios, and the CPU seconds, not absolute wall times.
"""
import argparse
import ctypes
import datetime
import json
import os
import pathlib
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

from vxtools import sh, vitexport_binary

root = pathlib.Path(__file__).resolve().parent.parent
MODELS = [("detector", "dino-dinov2-b"), ("backbone", "dinov2-vitb14")]
QUICK_MODELS = [("detector", "dino-tiny")]
SCOPES = ["backbone", "pyramid", "neck", "encoder", "proposals", "decoder", "post-process"]


def top_level_scope(name):
    """The top-level part a node scope (or an exported node's name) belongs to: the same split as
    `topLevelScope` in Sources/vitexport/ProfileReport.swift."""
    parts = name.split(".")
    first, second = parts[0], parts[1] if len(parts) > 1 else ""
    if not first or "." not in name and "/" not in name:
        return "(unscoped)"
    if first == "backbone":
        return "backbone" if second == "net" else "pyramid"
    if first == "transformer":
        return {"encoder": "encoder", "decoder": "decoder"}.get(second, "proposals")
    if first in ("class_embed", "bbox_embed"):
        return "decoder"
    return "post-process" if first == "postprocess" else first


def summary(values):
    """Median, spread (max − min) / median, and the values, rounded for the table."""
    m = statistics.median(values)
    return {"median": m, "spread": (max(values) - min(values)) / m if m > 0 else 0.0, "runs": values}


def run_interpreter(exe, args, threads, warmup, save=None):
    """One `vitexport run` process with one timed run: wall and CPU seconds and seconds per
    top-level scope."""
    cmd = [exe, "run", *args, "--threads", threads, "--warmup", warmup, "--repeat", 1, "--profile"]
    out = sh(cmd + (["--save", save] if save else []))
    wall = float(re.search(r"^time ([0-9.]+) s", out, re.M).group(1))
    cpu = float(re.search(r"^cpu time ([0-9.]+) s", out, re.M).group(1))
    section = out.split("per top-level scope:\n", 1)[1]
    scopes = {m.group(1): float(m.group(2)) for m in re.finditer(r"^  (\S+)\s+([0-9.]+) s", section, re.M)}
    return wall, cpu, scopes


def export(exe, model, path, threads, extra=()):
    """`vitexport onnx` under /usr/bin/time: (wall seconds, peak RSS bytes)."""
    r = subprocess.run(["/usr/bin/time", "-f", "%e %M", str(exe), "onnx", "-m", model, "--threads", str(threads),
                        *extra, "-o", str(path)], capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"FAIL: export of {model}\n{r.stdout}{r.stderr}")
    seconds, kib = r.stderr.strip().splitlines()[-1].split()
    return float(seconds), int(kib) * 1024


class Runtime:
    """A runtime session on one file with `threads` threads: `time()` is one timed inference,
    `scopes()` the profiler's seconds per top-level scope."""

    def __init__(self, kind, path, feeds, threads, workdir):
        self.kind, self.path, self.feeds, self.threads, self.workdir = kind, path, feeds, threads, workdir
        if kind == "onnxruntime":
            import onnxruntime as ort
            self.session = ort.InferenceSession(str(path), sess_options=self._ort_options(False),
                                                providers=["CPUExecutionProvider"])
            self.infer = lambda: self.session.run(None, feeds)
        else:
            import openvino as ov
            self.request = ov.Core().compile_model(str(path), "CPU", self._ov_config(False)).create_infer_request()
            self.infer = lambda: self.request.infer(feeds)

    def _ort_options(self, profile):
        import onnxruntime as ort
        o = ort.SessionOptions()
        o.intra_op_num_threads, o.inter_op_num_threads = self.threads, 1
        o.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        if profile:
            o.enable_profiling = True
            o.profile_file_prefix = str(self.workdir / "ort-profile")
        return o

    def _ov_config(self, profile):
        return {"INFERENCE_NUM_THREADS": self.threads, "INFERENCE_PRECISION_HINT": "f32",
                "PERFORMANCE_HINT": "LATENCY", "PERF_COUNT": profile}

    def time(self):
        t = time.perf_counter()
        self.infer()
        return time.perf_counter() - t

    def scopes(self, runs=3):
        """Seconds per top-level scope from the runtime's profiler: the mean over `runs`
        profiled inferences after one that is not counted."""
        totals = {}
        if self.kind == "onnxruntime":
            import onnxruntime as ort
            s = ort.InferenceSession(str(self.path), sess_options=self._ort_options(True), providers=["CPUExecutionProvider"])
            for _ in range(1 + runs):
                s.run(None, self.feeds)
            events = json.loads(pathlib.Path(s.end_profiling()).read_text())
            starts = sorted(e["ts"] for e in events if e.get("name") == "model_run")
            for e in events:
                if e.get("cat") == "Node" and e["name"].endswith("_kernel_time") and e["ts"] >= starts[1]:
                    key = top_level_scope(e["name"][:-len("_kernel_time")])
                    totals[key] = totals.get(key, 0.0) + e["dur"] * 1e-6 / runs
        else:
            import openvino as ov
            request = ov.Core().compile_model(str(self.path), "CPU", self._ov_config(True)).create_infer_request()
            request.infer(self.feeds)
            for _ in range(runs):
                request.infer(self.feeds)
                for p in request.get_profiling_info():
                    key = top_level_scope(p.node_name)
                    totals[key] = totals.get(key, 0.0) + p.real_time.total_seconds() / runs
        return totals


def importable(name):
    try:
        __import__(name)
        return None
    except Exception as e:  # noqa: BLE001 — any import failure is a reason to skip
        return f"{name} not importable: {e}"


def environment(exe, threads):
    """Date, CPU, cores, threads, GEMM libraries and versions for the table's heading."""
    cpu = next((l.split(":", 1)[1].strip() for l in pathlib.Path("/proc/cpuinfo").read_text().splitlines()
                if l.startswith("model name")), platform.processor() or "unknown CPU")
    env = {"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), "cpu": cpu,
           "cores": os.cpu_count(), "threads": threads, "vitexport": sh([exe, "--version"]).strip()}
    commit = subprocess.run(["git", "-C", root, "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    env["commit"] = commit.stdout.strip() or "?"
    try:
        blas = ctypes.CDLL("libopenblas.so.0")
        blas.openblas_get_config.restype = ctypes.c_char_p
        env["openblas"] = blas.openblas_get_config().decode()
    except OSError as e:
        env["openblas"] = f"? ({e})"
    try:
        class Version(ctypes.Structure):
            _fields_ = [("major", ctypes.c_int), ("minor", ctypes.c_int), ("patch", ctypes.c_int), ("hash", ctypes.c_char_p)]
        dnnl = ctypes.CDLL("libdnnl.so.2")
        dnnl.dnnl_version.restype = ctypes.POINTER(Version)
        v = dnnl.dnnl_version().contents
        env["onednn"] = f"{v.major}.{v.minor}.{v.patch}"
    except OSError as e:
        env["onednn"] = f"? ({e})"
    for name in ("onnxruntime", "openvino", "numpy"):
        try:
            env[name] = __import__(name).__version__
        except Exception:  # noqa: BLE001
            env[name] = "not importable"
    return env


def bench_sgemm(threads, rounds, workdir):
    """Tools/bench/sgemm.c compiled and run: its output lines, or the reason it could not run."""
    cc = shutil.which("cc")
    if not cc:
        return ["skipped: no C compiler (cc)"]
    exe = workdir / "sgemm"
    r = subprocess.run([cc, "-O2", str(root / "Tools/bench/sgemm.c"), "-o", str(exe), "-lopenblas", "-ldnnl", "-lgomp", "-lpthread"],
                       capture_output=True, text=True)
    if r.returncode != 0:
        return [f"skipped: sgemm.c does not build: {r.stderr.strip().splitlines()[-1] if r.stderr.strip() else r.returncode}"]
    return sh([exe, threads, rounds]).strip().splitlines()


GEMM_OPS = {"MatMul", "Gemm", "Conv", "ConvTranspose"}


def gemm_floor_note(dump, rate):
    """The note on a model's GEMM floor: its matrix-product FLOPs at `rate` GFLOP/s."""
    flops = sum(n["flops"] for n in dump["nodes"] if n["op"] in GEMM_OPS)
    if not rate:
        return f"{flops / 1e9:.1f} GFLOP in matrix products and convolutions (no sgemm rate measured for a floor)"
    return (f"GEMM floor {flops / 1e9 / rate:.3f} s: {flops / 1e9:.1f} GFLOP in matrix products and convolutions "
            f"at oneDNN's {rate:.0f} GFLOP/s (below)")


def bench_model(exe, label, model, args, work, torch_python, gemm_rate):
    """Every figure for one model: a dict of rows name -> summary (with per-scope medians)."""
    threads, runs, warmup = args.threads, args.runs, args.warmup
    onnx_path, io = work / f"{model}.onnx", work / f"{model}-io"
    rows, notes = {}, []
    dump = json.loads(sh([exe, "dump", "-m", model, "--stage", "folded", "--format", "json"]))
    parameter_bytes = dump["summary"]["parameter_bytes"]
    notes.append(gemm_floor_note(dump, gemm_rate))
    exports = [export(exe, model, onnx_path, threads) for _ in range(runs)]
    rows["export (wall s)"] = summary([e[0] for e in exports])
    rss = summary([float(e[1]) for e in exports])
    notes.append(f"export peak RSS {rss['median'] / 2**30:.2f} GiB = {rss['median'] / parameter_bytes:.2f}× "
                 f"the {parameter_bytes / 2**20:.0f} MiB of weights")
    if io.exists():
        shutil.rmtree(io)
    run_interpreter(exe, ["-m", model], threads, 0, save=io)  # inputs for the runtimes
    feeds = {p.name[len("input."):-len(".npy")]: np.load(p) for p in io.glob("input.*.npy")}
    int8_path = work / f"{model}.int8.onnx"
    int8_seconds, _ = export(exe, model, int8_path, threads, ["--precision", "int8", "--calibrate-seeded", "2"])
    notes.append(f"int8 export (`--precision int8 --calibrate-seeded 2`, one run) {int8_seconds:.2f} s")
    sides = {"interpreter -m (onednn)": ("interp", ["-m", model, "--gemm", "onednn"]),
             "interpreter -m (openblas)": ("interp", ["-m", model, "--gemm", "openblas"]),
             "interpreter --onnx (onednn)": ("interp", ["--onnx", onnx_path]),
             "interpreter -m --precision fp16": ("interp", ["-m", model, "--precision", "fp16"]),
             "interpreter -m --precision mixed": ("interp", ["-m", model, "--precision", "mixed"]),
             "interpreter --onnx int8 file": ("interp", ["--onnx", int8_path])}
    runtimes = {}
    for kind in ("onnxruntime", "openvino"):
        reason = importable(kind)
        if reason:
            notes.append(f"{kind} skipped: {reason}")
        else:
            runtimes[f"{kind} (our file)"] = Runtime(kind, onnx_path, feeds, threads, work)
    torch_result = bench_torch(label, torch_python, args, work, notes)
    if torch_result and "file" in torch_result:
        for kind in ("onnxruntime", "openvino"):
            if not importable(kind):
                runtimes[f"{kind} (torch.onnx.export + onnxsim file)"] = Runtime(kind, pathlib.Path(torch_result["file"]), {"image": feeds["image"]}, threads, work)
    for r in runtimes.values():
        for _ in range(warmup):
            r.infer()
    wall = {k: [] for k in [*sides, *runtimes]}
    cpu = {k: [] for k in sides}
    scopes = {k: {} for k in [*sides, *runtimes]}
    for _ in range(runs):
        for name, (_, side_args) in sides.items():
            w, c, s = run_interpreter(exe, side_args, threads, warmup)
            wall[name].append(w)
            cpu[name].append(c)
            for key, v in s.items():
                scopes[name].setdefault(key, []).append(v)
        for name, r in runtimes.items():
            wall[name].append(r.time())
    for name, r in runtimes.items():
        scopes[name] = {k: [v] for k, v in r.scopes().items()}
    for kind in ("onnxruntime", "openvino"):
        # The runtime's own per-node times on both files: whether the kernels differ, apart
        # from what end-to-end timing adds (input copies, scheduling, noise).
        ours, theirs = (sum(v[0] for v in scopes.get(f"{kind} ({f} file)", {}).values())
                        for f in ("our", "torch.onnx.export + onnxsim"))
        if ours and theirs:
            notes.append(f"{kind}, node times per profiled inference summed (mean of 3): our file {ours:.3f} s, "
                         f"torch.onnx.export + onnxsim file {theirs:.3f} s ({ours / theirs:.2f}×)")
    for name in wall:
        rows[name] = summary(wall[name])
        rows[name]["scopes"] = {k: statistics.median(v) for k, v in scopes[name].items()}
        if name in cpu:
            rows[name]["cpu"] = statistics.median(cpu[name])
    if torch_result:
        rows["torch eager"] = summary(torch_result["eager"]["runs"])
        notes.append(torch_notes(torch_result))
    return rows, notes


def bench_torch(label, torch_python, args, work, notes):
    """torch_backbone.py's JSON for the backbone when the torch python has torch and timm."""
    if label != "backbone":
        return None
    if not torch_python or not pathlib.Path(torch_python).exists():
        notes.append(f"torch skipped: no python at {torch_python}")
        return None
    probe = subprocess.run([torch_python, "-c", "import torch, timm"], capture_output=True, text=True)
    if probe.returncode != 0:
        notes.append(f"torch skipped: {torch_python} cannot import torch and timm ({probe.stderr.strip().splitlines()[-1]})")
        return None
    out = sh([torch_python, root / "Tools/bench/torch_backbone.py", "--threads", args.threads, "--runs", args.runs,
              "--warmup", args.warmup, "--out", work / "torch"])
    result = json.loads(out.strip().splitlines()[-1])
    for what, reason in result["skipped"].items():
        notes.append(f"{what} skipped: {reason}")
    return result


def torch_notes(t):
    parts = [f"torch {t['torch']}, timm {t['timm']}"]
    if "export_seconds" in t:
        parts.append(f"torch.onnx.export {t['export_seconds']:.2f} s ({t['export_nodes']} nodes)")
    if "onnxsim_seconds" in t:
        parts.append(f"onnxsim {t['onnxsim_seconds']:.2f} s ({t.get('onnxsim_nodes', '?')} nodes)")
    return "; ".join(parts)


def table(label, model, rows, notes):
    """Markdown for one model: a row per side (median, spread, CPU seconds, ratios to the
    runtimes on our file, seconds per top-level scope for detectors) and the notes."""
    scoped = label == "detector"
    refs = [r for r in ("onnxruntime (our file)", "openvino (our file)") if r in rows]
    head = ["what", "median s", "spread", "CPU s/run", *[f"÷ {r.split()[0]}" for r in refs], *(SCOPES if scoped else [])]
    lines = [f"**{label}** `{model}`", "", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name, r in rows.items():
        cells = [name, f"{r['median']:.3f}", f"{100 * r['spread']:.0f}%", f"{r['cpu']:.2f}" if "cpu" in r else ""]
        cells += [f"{r['median'] / rows[ref]['median']:.2f}" if "export" not in name else "" for ref in refs]
        if scoped:
            cells += [f"{r['scopes'][s]:.3f}" if s in r.get("scopes", {}) else "" for s in SCOPES]
        lines.append("| " + " | ".join(cells) + " |")
    lines += [""] + [f"- {n}" for n in notes] + [""]
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="dino-tiny only")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--vitexport")
    ap.add_argument("--torch-python", default="/tmp/torchenv/bin/python")
    ap.add_argument("--workdir")
    ap.add_argument("--output", default=str(root / "BENCHMARKS.md"))
    ap.add_argument("--no-write", action="store_true", help="print only")
    args = ap.parse_args()
    if args.runs < 5:
        ap.error(f"--runs {args.runs}: medians need at least 5 runs")
    if args.warmup < 0 or not 1 <= args.threads <= 1024:
        ap.error("--warmup must be ≥ 0 and --threads within 1…1024")
    exe = vitexport_binary(args.vitexport)
    work = pathlib.Path(args.workdir or tempfile.mkdtemp(prefix="vitexport-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    env = environment(exe, args.threads)
    heading = (f"### {env['date']}{' (--quick)' if args.quick else ''}: {env['cpu']}, {env['cores']} cores, "
               f"{env['threads']} threads each side\n\n{env['vitexport']} at {env['commit']}; oneDNN {env['onednn']}; "
               f"OpenBLAS {env['openblas']}; onnxruntime {env['onnxruntime']}; OpenVINO {env['openvino']}; "
               f"numpy {env['numpy']}; medians of {args.runs} after {args.warmup} warm-up, spread = (max − min) / median\n")
    parts = [heading]
    print(heading, flush=True)
    sgemm = bench_sgemm(args.threads, args.runs, work)
    rates = [float(m.group(1)) for l in sgemm if l.startswith("onednn") for m in [re.search(r"([\d.]+) GFLOP/s", l)] if m]
    sgemm_part = "sgemm on a ViT-B/16-512 block's shapes (Tools/bench/sgemm.c):\n\n" + "\n".join(f"    {l}" for l in sgemm) + "\n"
    print(sgemm_part, flush=True)
    for label, model in QUICK_MODELS if args.quick else MODELS:
        rows, notes = bench_model(exe, label, model, args, work, args.torch_python, max(rates, default=None))
        parts.append(table(label, model, rows, notes))
        print(parts[-1], flush=True)
    parts.append(sgemm_part)
    if not args.no_write:
        out = pathlib.Path(args.output)
        text = out.read_text() if out.exists() else BENCHMARKS_HEADER
        out.write_text(text.rstrip("\n") + "\n\n" + "\n".join(parts))
        print(f"appended to {out}")
    return 0


BENCHMARKS_HEADER = """# Benchmarks

Rows appended by `Tools/bench.sh` (see its docstring in `Tools/bench.py`), newest last. Every
figure in one section comes from one run of the tool on one machine; compare ratios within a
section. "÷ onnxruntime" is the row's median over onnxruntime's on the same exported file.
"""


if __name__ == "__main__":
    sys.exit(main())
