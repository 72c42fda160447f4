#!/bin/sh
# The benchmark of issue #13 in one run (see Tools/bench.py): export, the interpreter per
# top-level scope, onnxruntime, OpenVINO, torch and sgemm, appended to BENCHMARKS.md.
#   Tools/bench.sh [--quick] [--runs N] [--threads N] [--no-write] …
set -eu
here=$(cd "$(dirname "$0")" && pwd)
python="$here/../.venv/bin/python"
[ -x "$python" ] || { echo "Error: $python not found; run Tools/setup.sh first" >&2; exit 1; }
exec "$python" "$here/bench.py" "$@"
