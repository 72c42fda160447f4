#!/usr/bin/env python3
"""Lists the longest hand-written Swift functions and fails when one exceeds a limit.

A function runs from its `func`/`init` line to the closing brace at the same indentation.
Generated code (Sources/ONNXProto, files with a DO-NOT-EDIT header) is skipped.

    Tools/function_lengths.py [--limit 100] [--top 15] [DIR ...]
"""
import argparse
import pathlib
import re
import sys

DECL = re.compile(r"^(\s*)(?:@\w+(?:\([^)]*\))?\s+)*(?:(?:public|private|fileprivate|internal|static|mutating|override|final|nonisolated|@inlinable)\s+)*(?:func\s+[^\s(<]+|init[?!]?)\s*[(<]")


def functions(path):
    lines = path.read_text(encoding="utf-8").splitlines()
    if any("DO NOT EDIT" in l.upper() or "DO-NOT-EDIT" in l.upper() for l in lines[:5]):
        return
    for i, line in enumerate(lines):
        m = DECL.match(line)
        if not m or line.rstrip().endswith(")") and "{" not in line and not any("{" in l for l in lines[i + 1:i + 3]):
            continue
        indent = m.group(1)
        if line.rstrip().endswith("}") and line.count("{") == line.count("}"):
            yield 1, i + 1, line.strip()
            continue
        for j in range(i + 1, len(lines)):
            if lines[j].startswith(indent + "}") and not lines[j].startswith(indent + "} ") or lines[j] == indent + "}":
                yield j - i + 1, i + 1, line.strip()
                break


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dirs", nargs="*", default=["Sources", "Models", "Schemas"])
    ap.add_argument("--limit", type=int, default=100)
    ap.add_argument("--top", type=int, default=15)
    args = ap.parse_args()
    found = []
    for d in args.dirs:
        for path in sorted(pathlib.Path(d).rglob("*.swift")):
            if "ONNXProto" in path.parts:
                continue
            for n, line, text in functions(path):
                found.append((n, f"{path}:{line}", text[:90]))
    found.sort(reverse=True)
    for n, where, text in found[: args.top]:
        print(f"{n:5d}  {where}  {text}")
    over = [f for f in found if f[0] > args.limit]
    if over:
        print(f"function_lengths: {len(over)} function(s) over {args.limit} lines", file=sys.stderr)
        return 1
    print(f"function_lengths: every function is at most {args.limit} lines ({len(found)} functions)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
