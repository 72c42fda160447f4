#!/usr/bin/env python3
"""Validates every Models/configs/*.json against Schemas/model-config.schema.json with the
reference `jsonschema` implementation: an outside check of the Swift validator's verdicts."""
import json
import pathlib
import sys

import jsonschema

root = pathlib.Path(__file__).resolve().parent.parent
schema = json.loads((root / "Schemas/model-config.schema.json").read_text())
jsonschema.Draft202012Validator.check_schema(schema)
validator = jsonschema.Draft202012Validator(schema)
failed = 0
for path in sorted((root / "Models/configs").glob("*.json")):
    errors = sorted(validator.iter_errors(json.loads(path.read_text())), key=lambda e: list(e.path))
    for e in errors:
        print(f"{path.relative_to(root)}: {'.'.join(map(str, e.path)) or '<root>'}: {e.message}")
    failed += bool(errors)
    print(f"{path.relative_to(root)}: {'invalid' if errors else 'ok'}")
sys.exit(1 if failed else 0)
