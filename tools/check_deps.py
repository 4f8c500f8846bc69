#!/usr/bin/env python3
"""Fails when a module includes a module it may not (DESIGN.md §2).

Dependencies point downward only, layer by layer:
  base <- model <- {duckdb, tokenize, index} <- {store, formats} <- {ingest, query, mixture}
       <- chunk <- engine <- {client, server} <- {cli, python}
A module may include its own headers and those of modules in lower layers. Only the duckdb
module may include DuckDB's header; `testing` is for *_test.cc files only; public headers
under include/mixtera/ may include nothing from src/.

Usage: check_deps.py [REPO_ROOT]
"""

import os
import re
import sys

LAYERS = {
    "base": 0,
    "model": 1,
    "duckdb": 2, "tokenize": 2, "index": 2,
    "store": 3, "formats": 3,
    "ingest": 4, "query": 4, "mixture": 4,
    "chunk": 5,
    "engine": 6,
    "client": 7, "server": 7,
    "cli": 8, "python": 8,
}
INCLUDE_RE = re.compile(r'^\s*#\s*include\s*[<"]([^>"]+)[>"]')


def module_of_include(path):
    """The module an include names, or None for system and third-party headers."""
    if path.startswith("mixtera/"):
        return "base"  # the public headers (status.h, result.h) belong to base
    first = path.split("/", 1)[0]
    if "/" in path and (first in LAYERS or first == "testing"):
        return first
    return None


def check_file(path, module, errors):
    is_test = path.endswith("_test.cc")
    with open(path, encoding="utf-8", errors="replace") as f:
        for lineno, line in enumerate(f, 1):
            m = INCLUDE_RE.match(line)
            if not m:
                continue
            inc = m.group(1)
            where = f"{path}:{lineno}"
            if inc in ("duckdb.h", "duckdb.hpp") and module != "duckdb":
                errors.append(f"{where}: only the duckdb module may include {inc}")
                continue
            target = module_of_include(inc)
            if module == "public" and inc.startswith("mixtera/"):
                continue
            if target is None or target == module:
                continue
            if target == "testing":
                if not is_test and module not in ("testing",):
                    errors.append(f"{where}: '{inc}': testing helpers are for *_test.cc files only")
                continue
            if module == "public" and not inc.startswith("mixtera/"):
                errors.append(f"{where}: public header includes internal '{inc}'")
                continue
            if module == "testing":
                continue  # test helpers may use any module
            if LAYERS[target] >= LAYERS[module]:
                errors.append(
                    f"{where}: module '{module}' (layer {LAYERS[module]}) may not include "
                    f"'{inc}' from module '{target}' (layer {LAYERS[target]})")


def self_test():
    """Checks that the checker catches violations, on a throw-away tree."""
    import tempfile
    with tempfile.TemporaryDirectory() as root:
        def write(rel, text):
            os.makedirs(os.path.dirname(os.path.join(root, rel)), exist_ok=True)
            with open(os.path.join(root, rel), "w") as f:
                f.write(text)
        write("src/model/a.h", '#include "store/metadata_store.h"\n')   # upward: bad
        write("src/store/b.cc", '#include "model/a.h"\n#include <duckdb.h>\n')  # duckdb.h: bad
        write("src/ingest/c.cc", '#include "testing/test_util.h"\n')  # testing in non-test: bad
        write("src/ingest/c_test.cc", '#include "testing/test_util.h"\n#include "store/x.h"\n')  # fine
        write("include/mixtera/p.h", '#include "model/a.h"\n')  # public -> internal: bad
        errors = []
        count = scan(root, errors)
        expected = 4
        ok = count == 5 and len(errors) == expected
        print(f"check_deps self-test: {len(errors)} of {expected} planted violations found")
        return 0 if ok else 1


def scan(root, errors):
    checked = 0
    for base, module_of in ((os.path.join(root, "src"), None), (os.path.join(root, "python", "src"), "python"),
                            (os.path.join(root, "include", "mixtera"), "public")):
        for dirpath, _, files in os.walk(base):
            rel = os.path.relpath(dirpath, base)
            if rel == "." and module_of is None:
                continue
            module = module_of or rel.split(os.sep)[0]
            if module not in LAYERS and module not in ("testing", "public"):
                errors.append(f"{dirpath}: unknown module '{module}' (add it to LAYERS)")
                continue
            for name in files:
                if name.endswith((".h", ".cc")):
                    check_file(os.path.join(dirpath, name), module, errors)
                    checked += 1
    return checked


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--self-test":
        return self_test()
    root = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), ".."))
    errors = []
    checked = scan(root, errors)
    for e in errors:
        print(e)
    print(f"check_deps: {checked} files checked, {len(errors)} violations")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
