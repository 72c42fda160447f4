#!/usr/bin/env bash
# The project's test command (README, CI): builds, runs the Swift test suites, then the
# outside judges: schema validation of the model configs with Python's jsonschema.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== swift build"
swift build

echo "== model configurations against Schemas/model-config.schema.json (python jsonschema)"
python3 Tools/validate_configs.py

echo "== swift test"
swift test 2>&1 | tee /tmp/vitexport-swift-test.log
