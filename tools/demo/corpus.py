"""The demo's corpus: real text this machine has after `make setup`, with its properties.

Every source is either part of any Debian 12 installation with the packages tools/setup.sh
installs, or unpacked by tools/setup.sh from the Debian / npm registries:

  domain   language         source                   where
  code     Python           python3.11               /usr/lib/python3.11/**/*.py
  code     C, C++           usr/include              /usr/include (libc6-dev, libstdc++, ...)
  manpage  en               usr/share/man            /usr/share/man/man[1-8] of this machine
  manpage  de fr ja pl ru   manpages-LANG            corpus/tokenize/src/deb/usr/share/man/LANG
  prose    en               sotu, moby-dick          corpus/tokenize/src/npm/{sotu,moby-dick}
  license  en               common-licenses,         /usr/share/common-licenses,
                            copyright                /usr/share/doc/*/copyright

Man pages are roff, stripped to text with tools/tokenizers/make_corpus.py's stripper. Each
source contributes files in a seeded shuffle of its sorted file list until its byte budget is
reached, so the corpus is the same on every run of the same machine.

The corpus is written as two datasets in two formats: `code` as zstd-compressed JSONL shards,
`docs` (man pages, prose, licences) as a WebDataset tar (`.txt` text, `.json` properties).
"""

import gzip
import hashlib
import io
import json
import os
import random
import subprocess
import sys
import tarfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tools", "tokenizers"))
from make_corpus import strip_roff, walk_files as _walk  # noqa: E402  (the tokenizer corpus's helpers)

SETUP_SRC = os.path.join(ROOT, "corpus", "tokenize", "src")  # unpacked by tools/setup.sh
MAX_DOC = 128 * 1024   # bytes; larger files are skipped (a few giant headers and man pages)
MIN_DOC = 64           # bytes; smaller ones (stubs, `.so` redirects) are skipped
MAN_LANGS = ("de", "fr", "ja", "pl", "ru")
MB = 1_000_000

# source name -> byte budget at scale 1 (about 22 MB of text in all).
BUDGETS = {
    "python3.11": 5 * MB, "usr/include": 5 * MB, "usr/share/man": 3 * MB,
    **{f"manpages-{lang}": 1 * MB for lang in MAN_LANGS},
    "sotu": 2 * MB, "moby-dick": 1 * MB, "common-licenses": 1 * MB, "copyright": 1 * MB,
}


def _read(path, gz=False):
    try:
        with open(path, "rb") as f:
            raw = f.read(4 * MAX_DOC + 1 if gz else MAX_DOC + 1)
        if gz:
            raw = gzip.decompress(raw)
        if len(raw) > MAX_DOC:
            return None
        return raw.decode("utf-8")
    except (OSError, UnicodeDecodeError, EOFError, gzip.BadGzipFile):
        return None


def _c_language(path):
    if "/c++/" in path or path.endswith((".hpp", ".hh", ".hxx", ".tcc")):
        return "C++"
    return "C" if path.endswith(".h") else None


def _sources():
    """(source, domain, files, path -> (language, text) or None)."""
    def plain(language):
        return lambda p: (language, _read(p))

    def man(language):
        def load(p):
            text = _read(p, gz=p.endswith(".gz"))
            if text is None or text.startswith(".so "):
                return None
            return language, strip_roff(text)
        return load

    yield ("python3.11", "code", _walk("/usr/lib/python3.11", lambda p: p.endswith(".py")), plain("Python"))
    yield ("usr/include", "code", _walk("/usr/include", lambda p: _c_language(p) is not None),
           lambda p: (_c_language(p), _read(p)))
    yield ("usr/share/man", "manpage",
           [p for d in sorted(os.listdir("/usr/share/man")) if d.startswith("man")
            for p in _walk(os.path.join("/usr/share/man", d), lambda p: p.endswith(".gz"))]
           if os.path.isdir("/usr/share/man") else [], man("en"))
    for lang in MAN_LANGS:
        yield (f"manpages-{lang}", "manpage",
               _walk(os.path.join(SETUP_SRC, "deb/usr/share/man", lang), lambda p: p.endswith(".gz")), man(lang))
    for name in ("sotu", "moby-dick"):
        yield (name, "prose", _walk(os.path.join(SETUP_SRC, "npm", name, "data"), lambda p: p.endswith(".txt")),
               plain("en"))
    yield ("common-licenses", "license", _walk("/usr/share/common-licenses", lambda p: True), plain("en"))
    yield ("copyright", "license",
           sorted(p for p in (os.path.join("/usr/share/doc", d, "copyright") for d in os.listdir("/usr/share/doc"))
                  if os.path.isfile(p)) if os.path.isdir("/usr/share/doc") else [], plain("en"))


def collect(scale=1.0, seed=0):
    """Real documents as dicts {text, domain, language, source, bytes}, deterministic for a
    machine. Raises RuntimeError naming a source that set-up should have provided but did not."""
    records = []
    for source, domain, files, load in _sources():
        if not files and source not in ("usr/share/man", "copyright"):
            raise RuntimeError(f"no files for source {source!r}: run `make setup` (tools/setup.sh) first")
        budget = int(BUDGETS[source] * scale)
        random.Random(f"{seed}:{source}").shuffle(files)
        used = 0
        for path in files:
            if used >= budget:
                break
            loaded = load(path)
            if loaded is None or loaded[1] is None:
                continue
            language, text = loaded
            size = len(text.encode("utf-8"))
            if size < MIN_DOC or not text.strip():
                continue
            records.append({"text": text, "domain": domain, "language": language, "source": source,
                            "bytes": size})
            used += size
    return records


def fingerprint(records):
    """sha256 of the documents and their properties, in order: names the corpus (it depends on
    the machine's files) in the demo's report and in test failures."""
    h = hashlib.sha256()
    for r in records:
        h.update(json.dumps(r, ensure_ascii=False, sort_keys=True).encode("utf-8"))
        h.update(b"\n")
    return h.hexdigest()


PROPERTIES = {
    "domain": {"type": "enum", "values": ["code", "manpage", "prose", "license"]},
    "language": "string",
    "source": "string",
    "bytes": "int",
}


def write(records, data_dir, shards=4):
    """Writes `code` as zstd JSONL shards and the rest as one WebDataset tar; returns the two
    dataset specs (dicts, absolute paths) and a summary {(domain, language): (documents, bytes,
    sources)}."""
    os.makedirs(os.path.join(data_dir, "code"))
    code = [r for r in records if r["domain"] == "code"]
    docs = [r for r in records if r["domain"] != "code"]
    for s in range(shards):
        path = os.path.join(data_dir, "code", f"part-{s:02d}.jsonl")
        with open(path, "w", encoding="utf-8") as f:
            for r in code[s::shards]:
                f.write(json.dumps(r, ensure_ascii=False) + "\n")
        subprocess.run(["zstd", "-q", "--rm", "-f", path], check=True)
    with tarfile.open(os.path.join(data_dir, "docs.tar"), "w") as tar:
        for i, r in enumerate(docs):
            meta = {k: v for k, v in r.items() if k != "text"}
            for ext, payload in (("txt", r["text"].encode("utf-8")), ("json", json.dumps(meta).encode())):
                info = tarfile.TarInfo(f"{i:06d}.{ext}")
                info.size = len(payload)
                tar.addfile(info, io.BytesIO(payload))
    code_spec = {"name": "code", "format": "jsonl", "path": os.path.join(data_dir, "code", "*.jsonl.zst"),
                 "text": "text", "properties": PROPERTIES}
    docs_spec = {"name": "docs", "format": "webdataset", "path": os.path.join(data_dir, "docs.tar"),
                 "text": "txt", "properties": PROPERTIES}
    summary = {}
    for r in records:
        entry = summary.setdefault((r["domain"], r["language"]), [0, 0, set()])
        entry[0] += 1
        entry[1] += r["bytes"]
        entry[2].add(r["source"])
    return code_spec, docs_spec, {k: (n, b, ", ".join(sorted(s))) for k, (n, b, s) in summary.items()}
