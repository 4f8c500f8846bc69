"""Helpers shared by the tests that build corpora from this machine's real files.

The files differ from machine to machine (another Debian with a few more packages holds other
headers, other licences, other versions), so such a test expects nothing of them beyond what
it computes from the records it built, and states what it needs of them (enough records for
its chunks) as a precondition. Every such corpus is named by `fingerprint()`: conftest.py
adds the fingerprints of a failing test's module to its report."""

import hashlib
import json
import os
import sys

# Test module name -> the fingerprint lines of the corpora it built (see conftest.py).
FINGERPRINTS = {}


def paragraphs(path):
    """The non-blank paragraphs (split at blank lines) of a UTF-8 text file; [] when the
    file cannot be read as UTF-8."""
    try:
        with open(path, "r", encoding="utf-8") as f:
            text = f.read()
    except (UnicodeDecodeError, OSError):
        return []
    return [p for p in text.split("\n\n") if p.strip()]


def fingerprint(module, name, paths, records):
    """Registers for `module` (a test module's __name__), prints to stderr and returns the
    fingerprint of its corpus `name`: the sha256 of `records` (JSON-serializable, in order)
    and of the files it was built from (`paths`: each path and its bytes, in order), with
    each file's size, so that two machines' corpora can be told apart and compared."""
    files = hashlib.sha256()
    listing = []
    for path in paths:
        try:
            with open(path, "rb") as f:
                data = f.read()
            files.update(f"{path}\0{hashlib.sha256(data).hexdigest()}\n".encode())
            listing.append(f"{path} ({len(data)} B)")
        except OSError as e:
            files.update(f"{path}\0unreadable\n".encode())
            listing.append(f"{path} (unreadable: {e.strerror})")
    recs = hashlib.sha256()
    for r in records:
        recs.update(json.dumps(r, sort_keys=True, ensure_ascii=False).encode("utf-8") + b"\n")
    line = (f"corpus {name}: {len(records)} records, sha256 {recs.hexdigest()[:16]}; from "
            f"{len(paths)} files of this machine, sha256 {files.hexdigest()[:16]}: "
            + ", ".join(listing))
    FINGERPRINTS.setdefault(module, []).append(line)
    print(line, file=sys.stderr, flush=True)
    return line
