#!/usr/bin/env python3
"""Writes ONNX's node conformance cases to OUTDIR for the Swift runner.

Usage: python3 Tools/gen-conformance-cases.py OUTDIR [--filter REGEX]

Needs only the pip `onnx` package (and numpy). The onnx 1.23.2 wheel ships the case
generators (`onnx/backend/test/case/node/*.py`) but not the pre-generated
`onnx/backend/test/data/node/` directories, so the cases are produced with
`onnx.backend.test.case.node.collect_testcases(None)`; the on-disk directories are used
instead when an onnx build that ships them is installed.

Layout written, the same as onnx's own `backend-test-tools generate-data`:

    OUTDIR/<case>/model.onnx
    OUTDIR/<case>/test_data_set_<i>/input_<j>.pb    (TensorProto)
    OUTDIR/<case>/test_data_set_<i>/output_<j>.pb   (TensorProto)
    OUTDIR/<case>/meta.json                         {"op_type", "rtol", "atol"}

`op_type` is the ONNX op the case tests (for `_expanded` function cases, the op whose
function body was expanded). Cases whose inputs or outputs are sequences, maps or optionals
are skipped (the IR has tensors only) and listed on stderr. The data is not committed
(`.gitignore` has `/conformance-cases/`).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sys

import onnx
from onnx import TensorProto, numpy_helper


def write_case(outdir: str, name: str, model: onnx.ModelProto, data_sets, op_type: str,
               rtol: float, atol: float) -> bool:
    """Writes one case; returns False (writing nothing) for non-tensor inputs or outputs."""
    graph = model.graph
    for vi in list(graph.input) + list(graph.output):
        if not vi.type.HasField("tensor_type"):
            return False
    case_dir = os.path.join(outdir, name)
    if os.path.exists(case_dir):
        shutil.rmtree(case_dir)
    os.makedirs(case_dir)
    with open(os.path.join(case_dir, "model.onnx"), "wb") as f:
        f.write(model.SerializeToString())
    for i, (inputs, outputs) in enumerate(data_sets):
        ds = os.path.join(case_dir, f"test_data_set_{i}")
        os.makedirs(ds)
        for kind, values, infos in (("input", inputs, graph.input), ("output", outputs, graph.output)):
            for j, value in enumerate(values):
                if isinstance(value, TensorProto):
                    proto = value
                else:
                    proto = numpy_helper.from_array(value, infos[j].name if j < len(infos) else "")
                with open(os.path.join(ds, f"{kind}_{j}.pb"), "wb") as f:
                    f.write(proto.SerializeToString())
    with open(os.path.join(case_dir, "meta.json"), "w") as f:
        json.dump({"op_type": op_type, "rtol": rtol, "atol": atol}, f, sort_keys=True)
    return True


def base_op_types(cases) -> dict[str, str]:
    """Maps each non-expanded case name to the op type of its single node."""
    ops = {}
    for case in cases:
        if case.model is not None and len(case.model.graph.node) == 1 and "_expanded" not in case.name:
            ops[case.name] = case.model.graph.node[0].op_type
    return ops


def op_type_of(name: str, model: onnx.ModelProto, ops: dict[str, str]) -> str:
    if name in ops:
        return ops[name]
    base = re.sub(r"_expanded(_ver\d+)?$", "", name)
    if base in ops:
        return ops[base]
    if len(model.graph.node) == 1:
        return model.graph.node[0].op_type
    return "?"


def from_shipped_dirs(outdir: str, pattern: re.Pattern) -> int | None:
    """Copies `onnx/backend/test/data/node/*` when this onnx build ships it."""
    src = os.path.join(os.path.dirname(onnx.__file__), "backend", "test", "data", "node")
    if not os.path.isdir(src):
        return None
    n = 0
    for name in sorted(os.listdir(src)):
        if not pattern.search(name):
            continue
        model = onnx.load(os.path.join(src, name, "model.onnx"))
        op = model.graph.node[0].op_type if len(model.graph.node) == 1 else "?"
        dst = os.path.join(outdir, name)
        if os.path.exists(dst):
            shutil.rmtree(dst)
        shutil.copytree(os.path.join(src, name), dst)
        with open(os.path.join(dst, "meta.json"), "w") as f:
            json.dump({"op_type": op, "rtol": 1e-3, "atol": 1e-7}, f, sort_keys=True)
        n += 1
    return n


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("outdir")
    parser.add_argument("--filter", default="", help="only cases whose name matches this regex (search)")
    args = parser.parse_args()
    pattern = re.compile(args.filter)
    os.makedirs(args.outdir, exist_ok=True)

    shipped = from_shipped_dirs(args.outdir, pattern)
    if shipped is not None:
        print(f"copied {shipped} shipped cases (onnx {onnx.__version__}) to {args.outdir}")
        return 0

    from onnx.backend.test.case.node import collect_testcases

    cases = collect_testcases(None)
    ops = base_op_types(cases)
    written, skipped = 0, []
    for case in cases:
        if not pattern.search(case.name):
            continue
        op = op_type_of(case.name, case.model, ops)
        if write_case(args.outdir, case.name, case.model, case.data_sets, op, case.rtol, case.atol):
            written += 1
        else:
            skipped.append(case.name)
    if skipped:
        print(f"skipped {len(skipped)} cases with non-tensor inputs or outputs: "
              + " ".join(sorted(skipped)), file=sys.stderr)
    print(f"wrote {written} cases (onnx {onnx.__version__}) to {args.outdir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
