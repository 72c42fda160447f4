#!/usr/bin/env bash
# libFuzzer runs of the readers of untrusted files (issue 10): safetensors, ONNX import (then
# verify, memory planning and, for small graphs, the interpreter), PyTorch checkpoints (the
# whole .pth, and the unpickler alone), model-config JSON, .npy, JPEG/PNG photos.
#
#   Tools/fuzz.sh [TARGET] [--seconds N] [-- libFuzzer flags…]   one target (default: all), N s each (default 600)
#   Tools/fuzz.sh --smoke                                         every target for 20 s (CI)
#
# Builds Tools/fuzz/vitfuzz (declared in Package.swift only when VITEXPORT_FUZZ=1) with
# -sanitize=fuzzer,address into .build-fuzz. Seeds are the committed Tools/fuzz/corpus/TARGET;
# new inputs go to .build-fuzz/corpus/TARGET, findings to .build-fuzz/findings/TARGET. Exits
# non-zero on the first crash, leak or allocation over the limits below.
set -euo pipefail
cd "$(dirname "$0")/.."
targets=(onnx safetensors pth pickle config npy image)
selected=() seconds=600 extra=()
while (($#)); do
  case "$1" in
    --seconds) seconds="$2"; shift 2 ;;
    --smoke) seconds=20; shift ;;
    --) shift; extra=("$@"); break ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) if [[ " ${targets[*]} " == *" $1 "* ]]; then selected+=("$1"); shift
       else echo "fuzz.sh: unknown target '$1' (targets: ${targets[*]})" >&2; exit 2; fi ;;
  esac
done
((${#selected[@]})) || selected=("${targets[@]}")

VITEXPORT_FUZZ=1 swift build --product vitfuzz --scratch-path .build-fuzz -Xswiftc -sanitize=fuzzer,address
bin="$(VITEXPORT_FUZZ=1 swift build --product vitfuzz --scratch-path .build-fuzz --show-bin-path)/vitfuzz"

for t in "${selected[@]}"; do
  mkdir -p ".build-fuzz/corpus/$t" ".build-fuzz/findings/$t"
  echo "== fuzz $t for ${seconds} s"
  VITFUZZ_TARGET="$t" "$bin" ".build-fuzz/corpus/$t" "Tools/fuzz/corpus/$t" \
    -max_total_time="$seconds" -rss_limit_mb=2048 -malloc_limit_mb=1024 -max_len=1048576 \
    -timeout=30 -print_final_stats=1 -artifact_prefix=".build-fuzz/findings/$t/" ${extra[@]+"${extra[@]}"}
done
