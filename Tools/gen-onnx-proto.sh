#!/usr/bin/env bash
# Regenerates Sources/ONNXProto/onnx.pb.swift from Schemas/onnx.proto.
#
#   Tools/gen-onnx-proto.sh           write the generated file
#   Tools/gen-onnx-proto.sh --check   regenerate into a temp dir, diff against the committed file;
#                                     exit 1 when they differ (CI runs this)
#
# Tools: `protoc` from PATH (Debian protobuf-compiler) and swift-protobuf's `protoc-gen-swift`,
# built from the swift-protobuf package this package pins (Package.swift, Package.resolved).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PROTO_DIR="$ROOT/Schemas"
OUT_DIR="$ROOT/Sources/ONNXProto"
GENERATED="onnx.pb.swift"
# The swift-protobuf version Package.swift pins exactly; the committed file is its output.
SWIFT_PROTOBUF_VERSION="1.39.0"

mode="write"
case "${1:-}" in
  "") ;;
  --check) mode="check" ;;
  *) echo "usage: $0 [--check]" >&2; exit 2 ;;
esac

command -v protoc >/dev/null || { echo "error: protoc not found (apt-get install protobuf-compiler)" >&2; exit 2; }

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

# Built in this package's own build directory, so CI's `swift build` has already compiled
# SwiftProtobuf and only the plugin's targets are added.
if ! (cd "$ROOT" && swift build --product protoc-gen-swift) >"$TMP/build.log" 2>&1; then
  tail -n 20 "$TMP/build.log" >&2
  echo "error: cannot build protoc-gen-swift from the pinned swift-protobuf package (swift build --product protoc-gen-swift failed)" >&2
  exit 2
fi
plugin="$(cd "$ROOT" && swift build --show-bin-path)/protoc-gen-swift"
[[ -x "$plugin" ]] || { echo "error: swift build --product protoc-gen-swift left no executable at $plugin" >&2; exit 2; }

version="$("$plugin" --version 2>/dev/null || true)"
if [[ "$version" != *"$SWIFT_PROTOBUF_VERSION"* ]]; then
  echo "error: protoc-gen-swift reports '$version', expected $SWIFT_PROTOBUF_VERSION (Package.resolved pins another swift-protobuf?)" >&2
  exit 2
fi

mkdir -p "$TMP/out"
protoc --plugin=protoc-gen-swift="$plugin" \
       --proto_path="$PROTO_DIR" \
       --swift_out="$TMP/out" \
       --swift_opt=Visibility=Public \
       "$PROTO_DIR/onnx.proto"

if [[ "$mode" == "check" ]]; then
  if diff -u "$OUT_DIR/$GENERATED" "$TMP/out/$GENERATED"; then
    echo "$GENERATED is up to date"
  else
    echo "error: $OUT_DIR/$GENERATED is stale; run Tools/gen-onnx-proto.sh" >&2
    exit 1
  fi
else
  mkdir -p "$OUT_DIR"
  cp "$TMP/out/$GENERATED" "$OUT_DIR/$GENERATED"
  echo "wrote $OUT_DIR/$GENERATED"
fi
