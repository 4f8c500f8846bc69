#!/usr/bin/python3
"""Contender (c) of bench/ingest: the original Mixtera's approach to ingest.

A per-line Python parser feeds the same metadata store through our module: the module
decodes every JSONL line with json.loads and calls `parse(line_number, payload)`, which
returns the three properties. Run as its own process (timed as a whole by run.py):

  PYTHONPATH=BUILD/python /usr/bin/python3 py_register.py MIXTERA_DIR SPEC_FILE

The spec file is loaded and passed as a dict, as a user of the original would.

Prints the registration report as one JSON line.
"""

import json
import os
import sys

import yaml  # Debian's python3-yaml

from mixtera import MixteraClient


def parse(line_number, payload):
    return {"source": payload["source"], "lang": payload["lang"], "n_lines": payload["n_lines"]}


def main() -> int:
    directory, spec_path = sys.argv[1], sys.argv[2]
    with open(spec_path, "r", encoding="utf-8") as f:
        spec = yaml.safe_load(f)
    # A spec dict's relative paths resolve against the current directory: make them absolute.
    spec["path"] = os.path.join(os.path.dirname(os.path.abspath(spec_path)), spec["path"])
    report = MixteraClient.from_directory(directory).register_dataset(spec["name"], spec, parser=parse)
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
