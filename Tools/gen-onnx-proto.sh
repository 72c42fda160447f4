#!/usr/bin/env bash
# Regenerates Sources/ONNXProto/onnx.pb.swift from Schemas/onnx.proto.
#
#   Tools/gen-onnx-proto.sh           write the generated file
#   Tools/gen-onnx-proto.sh --check   regenerate into a temp dir, diff against the committed file;
#                                     exit 1 when they differ (CI runs this)
#
# Tools: `protoc` from PATH (Debian protobuf-compiler) and swift-protobuf's `protoc-gen-swift`
# at the version Package.resolved pins (1.39.0). Set PROTOC_GEN_SWIFT=/path/to/protoc-gen-swift
# to use a prebuilt plugin; otherwise the script builds it, first as a dependency product of this
# package, then, failing that, from a clone of swift-protobuf at the pinned tag.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PROTO_DIR="$ROOT/Schemas"
OUT_DIR="$ROOT/Sources/ONNXProto"
GENERATED="onnx.pb.swift"
SWIFT_PROTOBUF_TAG="1.39.0"
SWIFT_PROTOBUF_GIT="${SWIFT_PROTOBUF_GIT:-/opt/swift-packages/apple/swift-protobuf.git}"

mode="write"
case "${1:-}" in
  "") ;;
  --check) mode="check" ;;
  *) echo "usage: $0 [--check]" >&2; exit 2 ;;
esac

command -v protoc >/dev/null || { echo "error: protoc not found (apt-get install protobuf-compiler)" >&2; exit 2; }

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

plugin="${PROTOC_GEN_SWIFT:-}"
if [[ -z "$plugin" ]]; then
  scratch="$ROOT/.build-protoc-gen-swift"
  if (cd "$ROOT" && swift build -c release --scratch-path "$scratch" --product protoc-gen-swift >&2); then
    plugin="$scratch/release/protoc-gen-swift"
  else
    echo "note: building protoc-gen-swift from $SWIFT_PROTOBUF_GIT at $SWIFT_PROTOBUF_TAG" >&2
    git clone --quiet --depth 1 --branch "$SWIFT_PROTOBUF_TAG" "$SWIFT_PROTOBUF_GIT" "$TMP/swift-protobuf"
    (cd "$TMP/swift-protobuf" && swift build -c release --product protoc-gen-swift >&2)
    plugin="$TMP/swift-protobuf/.build/release/protoc-gen-swift"
  fi
fi
[[ -x "$plugin" ]] || { echo "error: protoc-gen-swift not executable: $plugin" >&2; exit 2; }

version="$("$plugin" --version 2>/dev/null || true)"
if [[ "$version" != *"$SWIFT_PROTOBUF_TAG"* ]]; then
  echo "error: protoc-gen-swift reports '$version', expected $SWIFT_PROTOBUF_TAG" >&2
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
