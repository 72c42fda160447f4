#!/usr/bin/env python3
"""Judges exported ONNX files with the reference tools (CI only; tests never need Python).

    Tools/check_onnx.py FILE.onnx [FILE.onnx ...]

For each file: onnx.checker.check_model(path, full_check=True) (structure plus strict shape
inference; external data is resolved next to the file), then an onnxruntime.InferenceSession on
the CPU provider. Prints one line per file, `ok  <path>  (opset N, IR N, N nodes)` or
`FAIL  <path>: <reason>`, and exits 1 if any file fails, 2 on usage errors.
"""
import sys


def check(path):
    import onnx
    import onnxruntime

    onnx.checker.check_model(path, full_check=True)
    model = onnx.load(path, load_external_data=False)
    options = onnxruntime.SessionOptions()
    options.log_severity_level = 3
    onnxruntime.InferenceSession(path, sess_options=options, providers=["CPUExecutionProvider"])
    opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), "?")
    return f"opset {opset}, IR {model.ir_version}, {len(model.graph.node)} nodes"


def main(argv):
    if len(argv) < 2 or any(a in ("-h", "--help") for a in argv[1:]):
        print(__doc__.strip(), file=sys.stderr)
        return 2
    failed = 0
    for path in argv[1:]:
        try:
            summary = check(path)
            print(f"ok  {path}  ({summary})")
        except Exception as error:  # any failure of either judge fails the file
            failed += 1
            message = " ".join(str(error).split())
            print(f"FAIL  {path}: {type(error).__name__}: {message}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
