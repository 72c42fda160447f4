"""Helpers shared by the Tools/ scripts: running commands, locating or building the vitexport
binary, and reading safetensors files with numpy alone."""
import json
import pathlib
import subprocess
import sys

import numpy as np

root = pathlib.Path(__file__).resolve().parent.parent

_DTYPES = {"F32": np.float32, "F16": np.float16, "I64": np.int64, "I32": np.int32, "U8": np.uint8, "BOOL": np.bool_}


def sh(cmd, env=None):
    """Runs `cmd`; on failure exits with its output. Returns standard output."""
    r = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, env=env)
    if r.returncode != 0:
        sys.exit(f"FAIL: {' '.join(map(str, cmd))}\n{r.stdout}{r.stderr}")
    return r.stdout


def vitexport_binary(given=None, release=True):
    """`given`, or the vitexport binary built now with `swift build` (release by default)."""
    if given:
        return given
    mode = ["-c", "release"] if release else []
    sh(["swift", "build", *mode, "--package-path", root, "--product", "vitexport"])
    return sh(["swift", "build", *mode, "--package-path", root, "--show-bin-path"]).strip() + "/vitexport"


def read_safetensors(path):
    """(name -> array in the stored dtype, __metadata__) per the safetensors format."""
    data = pathlib.Path(path).read_bytes()
    n = int.from_bytes(data[:8], "little")
    header = json.loads(data[8:8 + n])
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        begin, end = e["data_offsets"]
        if e["dtype"] not in _DTYPES:
            sys.exit(f"{path}: tensor {name} has unsupported dtype {e['dtype']}")
        out[name] = np.frombuffer(data[8 + n + begin:8 + n + end], dtype=_DTYPES[e["dtype"]]).reshape(e["shape"])
    return out, header.get("__metadata__", {})
