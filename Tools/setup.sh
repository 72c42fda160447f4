#!/usr/bin/env bash
# Installs what building, testing and the CI parity checks need, idempotently:
# Debian's ONNX, protobuf and OpenBLAS development packages, and the project virtualenv .venv/
# holding exactly the versions Tools/requirements.txt pins for the Python outside judges (onnx,
# onnxruntime, numpy, jsonschema and their dependencies). Nothing is pip-installed into the
# system Python, so this works where that Python is externally managed (PEP 668).
# Safe to run repeatedly: each step is skipped when its result is already in place.
set -euo pipefail
cd "$(dirname "$0")/.."

venv=.venv
py="$venv/bin/python"

# A venv whose base Python has gone (upgraded or removed) is recreated.
if [ -x "$py" ] && ! "$py" -c "" 2>/dev/null; then
  echo "setup: $venv no longer runs (its base Python changed?); recreating it"
  rm -rf "$venv"
fi

# libturbojpeg0-dev, libpng-dev: photo decoding; libcairo2-dev: annotated detections;
# graphviz: `dump --format svg`; libdnnl-dev: oneDNN's sgemm for the interpreter.
packages=(libonnx-dev libprotobuf-dev libopenblas-dev protobuf-compiler pkg-config
          libturbojpeg0-dev libpng-dev libcairo2-dev graphviz libdnnl-dev)
# `python3 -m venv` needs ensurepip, which Debian ships separately in python3-venv.
if [ ! -x "$py" ] && ! python3 -c "import ensurepip" 2>/dev/null; then packages+=(python3-venv); fi
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

if [ ! -x "$py" ]; then
  echo "setup: creating the virtualenv $venv"
  rm -rf "$venv"
  python3 -m venv "$venv" || { rm -rf "$venv"; echo "setup: python3 -m venv $venv failed" >&2; exit 1; }
fi

# Exit 0 when the venv holds exactly every `name==version` of Tools/requirements.txt; exit 1
# naming each package that is missing or at another version; exit 2 on a line that is not pinned.
pinned_versions_installed() {
  "$py" - Tools/requirements.txt <<'EOF'
import importlib.metadata, sys
wrong = []
for line in open(sys.argv[1]):
    requirement = line.split("#", 1)[0].strip()
    if not requirement:
        continue
    name, sep, want = (s.strip() for s in requirement.partition("=="))
    if not sep or not want:
        print(f"setup: Tools/requirements.txt: '{requirement}' is not pinned with ==", file=sys.stderr)
        sys.exit(2)
    try:
        have = importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        have = "missing"
    if have != want:
        wrong.append(f"{name} {have} (pinned {want})")
if wrong:
    print("setup: " + ", ".join(wrong))
    sys.exit(1)
EOF
}

status=0
pinned_versions_installed || status=$?
if [ "$status" -eq 2 ]; then exit 2; fi
if [ "$status" -ne 0 ]; then
  echo "setup: installing the pinned Python packages of Tools/requirements.txt into $venv"
  "$py" -m pip install -q --disable-pip-version-check -r Tools/requirements.txt
  pinned_versions_installed || { echo "setup: $venv still differs from Tools/requirements.txt after pip install" >&2; exit 1; }
fi
