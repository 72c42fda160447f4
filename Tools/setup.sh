#!/usr/bin/env bash
# Installs what building, testing and the CI parity checks need, idempotently:
# Debian's ONNX, protobuf and OpenBLAS development packages, and the pip packages the Python
# outside judges use (onnx, onnxruntime, numpy, jsonschema). Safe to run repeatedly.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(libonnx-dev libprotobuf-dev libopenblas-dev protobuf-compiler pkg-config)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  echo "setup: installing ${missing[*]}"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if ! python3 -c "import onnx, onnxruntime, numpy, jsonschema" 2>/dev/null; then
  echo "setup: installing Python packages from Tools/requirements.txt"
  python3 -m pip install -q -r Tools/requirements.txt
fi
