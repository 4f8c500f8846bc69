#!/usr/bin/python3
"""Builds the ingest benchmark's corpora from real text already on a Debian machine.

Two corpora, each written as shards in five variants:

  large  >= 200 MiB of JSONL, one record per source file or per few-KB piece of a file
         (average 3-8 KB per record), 8 shards
  small  >= 100 MiB of JSONL, one record per paragraph (or group of lines) of at most
         500 bytes per JSON line, 4 shards

The text comes from /usr/share/doc (changelogs etc., .gz decompressed), /usr/share/man
(roff, .gz decompressed), /usr/include (C/C++ headers), /usr/lib/python3* (.py) and
/usr/share/perl (.pm/.pl/.pod). Every record is

  {"text": "...", "source": "doc|man|include|python|perl", "lang": "...", "n_lines": N}

i.e. the text plus exactly three property fields: `source` (string), `lang` (string: the
natural language of a man page from its path, e.g. man/de/ -> "de", else "en"; or the
programming/markup language of a file from its extension, e.g. "c", "cpp", "python",
"html", "markdown"), `n_lines` (int: lines in `text`). If the machine does not hold enough
unique text, the file list is cycled again and records of pass k >= 1 carry an extra
`"pass": k` field (not a property); the output says so.

Variants per corpus (DIR/<corpus>/...):
  jsonl/part-NNNNN.jsonl           plain JSONL
  jsonl_half/                      symlinks to the first half of the shards (memory scaling)
  zst/part-NNNNN.jsonl.zst         zstd, one frame per ~4 MiB of whole lines (seek points)
  gz/part-NNNNN.jsonl.gz           gzip CLI (-6 -n), one member
  parquet/part-NNNNN.parquet       DuckDB COPY ... (FORMAT parquet), columns text, source,
                                   lang, n_lines (needs bench/ingest/duckdb_tool)
  wds/part-NNNNN.tar               WebDataset: per sample KEY.json (the three properties) and
                                   KEY.txt (the text)

The output is deterministic for a given set of files on the machine: the file list is
sorted, then shuffled with a fixed seed. A manifest (DIR/<corpus>/manifest.json) records
the parameters and a hash of the source file list; a corpus whose manifest matches is not
rebuilt. Machines differ in what they hold, so the corpus does too: its fingerprint (the
sha256 of its JSONL shards, in order, with the file list's hash) is in the manifest and in
what describe() prints, and whoever uses the corpus takes its counts from the manifest.

  /usr/bin/python3 bench/ingest/make_corpus.py --build build [--out corpus] [--quick]
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import os
import random
import shutil
import subprocess
import sys
import time
from typing import Dict, Iterator, List, Optional, Tuple

FORMAT_VERSION = 4  # bump when the corpus layout or record construction changes
MIB = 1 << 20
SEED = 20240601
ZSTD_FRAME_BYTES = 4 * MIB
SMALL_MAX_LINE_BYTES = 500

# corpus name -> parameters. The quick corpora are tiny subsets for the smoke test.
CORPORA = {
    "large": dict(kind="large", target_bytes=200 * MIB, shards=8),
    "small": dict(kind="small", target_bytes=100 * MIB, shards=4),
}
QUICK_CORPORA = {
    "quick-large": dict(kind="large", target_bytes=6 * MIB, shards=4),
    "quick-small": dict(kind="small", target_bytes=3 * MIB, shards=2),
}

VARIANTS = ("jsonl", "zst", "gz", "parquet", "wds")

# (root, source name, accepted file-name suffixes or None for any text file)
SOURCE_ROOTS = [
    ("/usr/share/doc", "doc", None),
    ("/usr/share/man", "man", None),
    ("/usr/include", "include", None),
    ("/usr/lib/python3", "python", (".py",)),
    ("/usr/lib/python3.11", "python", (".py",)),
    ("/usr/share/perl", "perl", (".pm", ".pl", ".pod")),
]
SKIP_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".ico", ".svg", ".pdf", ".zip", ".xz",
                 ".bz2", ".zst", ".so", ".a", ".o", ".pyc", ".mo", ".woff", ".woff2", ".ttf")

DOC_LANG_BY_SUFFIX = {
    ".html": "html", ".htm": "html", ".md": "markdown", ".rst": "rst", ".c": "c", ".h": "c",
    ".cc": "cpp", ".cpp": "cpp", ".py": "python", ".sh": "shell", ".pl": "perl",
    ".js": "javascript", ".css": "css", ".xml": "xml", ".json": "json", ".tex": "tex",
}
CPP_SUFFIXES = (".hpp", ".hh", ".hxx", ".tcc", ".ipp", ".inl")


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def human(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(n) < 1024 or unit == "GiB":
            return f"{n:.1f} {unit}" if unit != "B" else f"{int(n)} B"
        n /= 1024
    return f"{n:.1f} GiB"


# ---------------------------------------------------------------------------------------
# Source files


def list_source_files() -> List[Tuple[str, str]]:
    """All candidate (path, source) pairs, sorted by path (deterministic)."""
    out = []
    seen = set()
    for root, source, suffixes in SOURCE_ROOTS:
        if not os.path.isdir(root):
            continue
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames.sort()
            for name in sorted(filenames):
                path = os.path.join(dirpath, name)
                if path in seen or name.startswith("."):
                    continue
                lower = name.lower()
                if suffixes is not None and not lower.endswith(suffixes):
                    continue
                if lower.endswith(SKIP_SUFFIXES):
                    continue
                if os.path.islink(path) or not os.path.isfile(path):
                    continue
                seen.add(path)
                out.append((path, source))
    out.sort()
    return out


def source_manifest_hash(files: List[Tuple[str, str]]) -> str:
    h = hashlib.sha256()
    for path, source in files:
        try:
            size = os.path.getsize(path)
        except OSError:
            size = -1
        h.update(f"{path}\0{source}\0{size}\n".encode())
    return h.hexdigest()[:16]


def read_text(path: str) -> Optional[str]:
    """The file's text (gzip decompressed), or None for binary / non-UTF-8 / unreadable files."""
    try:
        with open(path, "rb") as f:
            data = f.read()
        if data[:2] == b"\x1f\x8b":
            data = gzip.decompress(data)
    except (OSError, EOFError, gzip.BadGzipFile, ValueError):
        return None
    if not data or b"\0" in data:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def derive_lang(path: str, source: str) -> str:
    name = os.path.basename(path).lower()
    if name.endswith(".gz"):
        name = name[:-3]
    ext = os.path.splitext(name)[1]
    if source == "man":
        rel = os.path.relpath(path, "/usr/share/man").split(os.sep)
        # man/man1/x.1.gz -> en; man/de/man1/x.1.gz -> de; man/pt_BR/... -> pt_BR
        if len(rel) >= 3 and not rel[0].startswith("man"):
            return rel[0].split(".")[0]
        return "en"
    if source == "include":
        if "/c++/" in path or ext in CPP_SUFFIXES or ext == "":
            return "cpp"
        return "c"
    if source == "python":
        return "python"
    if source == "perl":
        return "perl"
    return DOC_LANG_BY_SUFFIX.get(ext, "en")


def count_lines(text: str) -> int:
    if not text:
        return 0
    return text.count("\n") + (0 if text.endswith("\n") else 1)


# ---------------------------------------------------------------------------------------
# Records


def encode(text: str, source: str, lang: str, pass_no: int) -> bytes:
    rec = {"text": text, "source": source, "lang": lang, "n_lines": count_lines(text)}
    if pass_no:
        rec["pass"] = pass_no
    return json.dumps(rec, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def large_pieces(text: str) -> Iterator[str]:
    """A whole file (<= 8 KB) or roughly equal pieces of ~3-6 KB cut at line boundaries."""
    n = len(text)
    if n < 1024:
        return  # too small for the large-record corpus
    if n <= 8192:
        yield text
        return
    pieces = -(-n // 6000)
    target = n / pieces
    start = 0
    while start < n:
        if n - start <= target * 1.5:
            end = n
        else:
            cut = int(start + target)
            nl = text.find("\n", cut)
            end = n if nl < 0 else nl + 1
            if end - start > 16384:  # one enormous line: cut it hard
                end = start + 16384
        yield text[start:end]
        start = end


def small_pieces(text: str, source: str, lang: str, pass_no: int) -> Iterator[bytes]:
    """Encoded records of paragraphs, or groups of lines, each JSON line <= 500 bytes."""
    limit = SMALL_MAX_LINE_BYTES

    def fits(s: str) -> bool:
        return len(encode(s, source, lang, pass_no)) <= limit

    def split_line(ln: str) -> Iterator[str]:
        # An overlong line, cut into pieces of at most 400 characters that fit.
        pos = 0
        while pos < len(ln):
            cut = 400
            while cut > 1 and not fits(ln[pos:pos + cut]):
                cut //= 2
            yield ln[pos:pos + cut]
            pos += cut

    text = text.replace("\r\n", "\n")
    for para in text.split("\n\n"):
        if not para.strip():
            continue
        if len(para) <= limit and fits(para):
            yield encode(para, source, lang, pass_no)
            continue
        # Too long: greedy groups of whole lines; an overlong line is cut in pieces.
        group: List[str] = []
        for ln in para.split("\n"):
            pieces = [ln] if len(ln) <= limit and fits(ln) else list(split_line(ln))
            for piece in pieces:
                if group and fits("\n".join(group + [piece])):
                    group.append(piece)
                    continue
                if group and "\n".join(group).strip():
                    yield encode("\n".join(group), source, lang, pass_no)
                group = [piece]
        if group and "\n".join(group).strip():
            yield encode("\n".join(group), source, lang, pass_no)


def generate_records(kind: str, files: List[Tuple[str, str]]) -> Iterator[Tuple[bytes, str, int]]:
    """Endless stream of (encoded record, source, pass number); cycles the file list if needed."""
    order = list(files)
    random.Random(SEED).shuffle(order)
    pass_no = 0
    while True:
        produced = False
        for path, source in order:
            text = read_text(path)
            if text is None:
                continue
            lang = derive_lang(path, source)
            if kind == "large":
                for piece in large_pieces(text):
                    produced = True
                    yield encode(piece, source, lang, pass_no), source, pass_no
            else:
                for line in small_pieces(text, source, lang, pass_no):
                    produced = True
                    yield line, source, pass_no
        if not produced:
            raise SystemExit("make_corpus: no usable text found under " +
                             ", ".join(r for r, _, _ in SOURCE_ROOTS))
        pass_no += 1


# ---------------------------------------------------------------------------------------
# Variants


def write_jsonl(dest: str, kind: str, target_bytes: int, shards: int,
                files: List[Tuple[str, str]]) -> Dict:
    os.makedirs(os.path.join(dest, "jsonl"), exist_ok=True)
    paths = [os.path.join(dest, "jsonl", f"part-{i:05d}.jsonl") for i in range(shards)]
    outs = [open(p, "wb", buffering=4 * MIB) for p in paths]
    total = 0
    count = 0
    max_pass = 0
    max_len = 0
    by_source: Dict[str, int] = {}
    t0 = time.time()
    next_report = 0
    try:
        for line, src, pass_no in generate_records(kind, files):
            if total >= target_bytes:
                break
            outs[count % shards].write(line + b"\n")
            total += len(line) + 1
            count += 1
            max_pass = max(max_pass, pass_no)
            max_len = max(max_len, len(line))
            by_source[src] = by_source.get(src, 0) + 1
            if total >= next_report:
                log(f"  jsonl: {human(total)} / {human(target_bytes)}, {count} records, "
                    f"{time.time() - t0:.0f} s")
                next_report += target_bytes // 4
    finally:
        for f in outs:
            f.close()
    return dict(records=count, bytes=total, passes=max_pass + 1, max_record_bytes=max_len,
                records_by_source=dict(sorted(by_source.items())))


def make_half_links(dest: str, shards: int) -> None:
    half = os.path.join(dest, "jsonl_half")
    shutil.rmtree(half, ignore_errors=True)
    os.makedirs(half)
    for i in range(max(1, shards // 2)):
        name = f"part-{i:05d}.jsonl"
        os.symlink(os.path.join("..", "jsonl", name), os.path.join(half, name))


def split_lines_into_frames(path: str, frame_bytes: int) -> Iterator[bytes]:
    with open(path, "rb") as f:
        buf = b""
        while True:
            data = f.read(frame_bytes)
            if not data:
                break
            buf += data
            if len(buf) >= frame_bytes:
                cut = buf.rfind(b"\n") + 1
                if cut == 0:
                    continue
                yield buf[:cut]
                buf = buf[cut:]
        if buf:
            yield buf


def write_zst(dest: str, shards: int) -> None:
    """Each shard as a concatenation of independent zstd frames of ~4 MiB of whole lines.

    The zstd CLI writes one frame per input (also with -T/-B), so the frames are made one
    by one and concatenated; every frame start is a seek point.
    """
    os.makedirs(os.path.join(dest, "zst"), exist_ok=True)
    for i in range(shards):
        src = os.path.join(dest, "jsonl", f"part-{i:05d}.jsonl")
        tmp = os.path.join(dest, "zst", f"part-{i:05d}.jsonl.zst.tmp")
        with open(tmp, "wb") as out:
            for chunk in split_lines_into_frames(src, ZSTD_FRAME_BYTES):
                out.write(subprocess.run(["zstd", "-q", "-3", "-c", "--no-check"], input=chunk,
                                         stdout=subprocess.PIPE, check=True).stdout)
        os.replace(tmp, tmp[:-4])


def write_gz(dest: str, shards: int) -> None:
    os.makedirs(os.path.join(dest, "gz"), exist_ok=True)
    procs = []
    for i in range(shards):
        src = os.path.join(dest, "jsonl", f"part-{i:05d}.jsonl")
        out = os.path.join(dest, "gz", f"part-{i:05d}.jsonl.gz")
        with open(src, "rb") as fin, open(out + ".tmp", "wb") as fout:
            procs.append((subprocess.Popen(["gzip", "-6", "-n", "-c"], stdin=fin, stdout=fout), out))
        if len(procs) >= 2:  # two cores
            p, o = procs.pop(0)
            if p.wait() != 0:
                raise SystemExit(f"make_corpus: gzip failed for {o}")
            os.replace(o + ".tmp", o)
    for p, o in procs:
        if p.wait() != 0:
            raise SystemExit(f"make_corpus: gzip failed for {o}")
        os.replace(o + ".tmp", o)


def sql_str(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def write_parquet(dest: str, shards: int, duckdb_tool: str) -> None:
    os.makedirs(os.path.join(dest, "parquet"), exist_ok=True)
    columns = "{text: 'VARCHAR', source: 'VARCHAR', lang: 'VARCHAR', n_lines: 'BIGINT'}"
    statements = []
    for i in range(shards):
        src = os.path.join(dest, "jsonl", f"part-{i:05d}.jsonl")
        out = os.path.join(dest, "parquet", f"part-{i:05d}.parquet")
        statements.append(
            f"COPY (SELECT text, source, lang, n_lines FROM read_json({sql_str(src)}, "
            f"format='newline_delimited', columns={columns}, maximum_object_size=67108864)) "
            f"TO {sql_str(out + '.tmp')} (FORMAT parquet)")
    subprocess.run([duckdb_tool, "--threads", "2", ":memory:"] + statements, check=True,
                   stdout=subprocess.DEVNULL)
    for i in range(shards):
        out = os.path.join(dest, "parquet", f"part-{i:05d}.parquet")
        os.replace(out + ".tmp", out)


def _ustar_template() -> bytearray:
    h = bytearray(512)
    h[100:108] = b"0000644\0"      # mode
    h[108:116] = b"0000000\0"      # uid
    h[116:124] = b"0000000\0"      # gid
    h[136:148] = b"00000000000\0"  # mtime 0
    h[156:157] = b"0"              # regular file
    h[257:265] = b"ustar\x0000"    # magic + version
    h[329:345] = b"0000000\x000000000\0"  # devmajor, devminor
    return h


_USTAR = _ustar_template()


def tar_member(name: bytes, payload: bytes) -> bytes:
    """One ustar member (header + payload padded to 512 bytes), as `tar --format=ustar`."""
    h = bytearray(_USTAR)
    h[0:len(name)] = name  # names here are short (< 100 bytes)
    h[124:136] = b"%011o\0" % len(payload)
    h[148:156] = b"        "
    h[148:156] = b"%06o\0 " % sum(h)
    pad = (-len(payload)) % 512
    return bytes(h) + payload + b"\0" * pad


def write_wds(dest: str, shards: int) -> None:
    """WebDataset tars: per sample KEY.json ({"source","lang","n_lines"}) then KEY.txt."""
    os.makedirs(os.path.join(dest, "wds"), exist_ok=True)
    for i in range(shards):
        src = os.path.join(dest, "jsonl", f"part-{i:05d}.jsonl")
        out = os.path.join(dest, "wds", f"part-{i:05d}.tar")
        with open(src, "rb") as fin, open(out + ".tmp", "wb", buffering=4 * MIB) as tar:
            for j, line in enumerate(fin):
                rec = json.loads(line)
                key = b"s%03d_%08d" % (i, j)
                props = {"source": rec["source"], "lang": rec["lang"], "n_lines": rec["n_lines"]}
                tar.write(tar_member(key + b".json", json.dumps(props, separators=(",", ":")).encode()))
                tar.write(tar_member(key + b".txt", rec["text"].encode("utf-8")))
            tar.write(b"\0" * 10240)  # end-of-archive blocks, padded to tar's 10 KiB record
        os.replace(out + ".tmp", out)


# ---------------------------------------------------------------------------------------
# Driver


def jsonl_sha256(dest: str, shards: int) -> str:
    """The corpus' fingerprint: the sha256 of its plain JSONL shards, concatenated in order."""
    h = hashlib.sha256()
    for i in range(shards):
        with open(os.path.join(dest, "jsonl", f"part-{i:05d}.jsonl"), "rb") as f:
            for block in iter(lambda: f.read(8 * MIB), b""):
                h.update(block)
    return h.hexdigest()


def variant_files(dest: str, shards: int) -> Dict[str, List[str]]:
    names = {"jsonl": "jsonl/part-{:05d}.jsonl", "zst": "zst/part-{:05d}.jsonl.zst",
             "gz": "gz/part-{:05d}.jsonl.gz", "parquet": "parquet/part-{:05d}.parquet",
             "wds": "wds/part-{:05d}.tar"}
    return {v: [os.path.join(dest, names[v].format(i)) for i in range(shards)] for v in VARIANTS}


def load_manifest(dest: str) -> Optional[Dict]:
    try:
        with open(os.path.join(dest, "manifest.json")) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def manifest_valid(manifest: Optional[Dict], params: Dict) -> bool:
    if not manifest or manifest.get("params") != params:
        return False
    dest = os.path.dirname(manifest["files"]["jsonl"][0]["path"]) if manifest.get("files") else ""
    half = os.path.join(os.path.dirname(dest), "jsonl_half")
    if not os.path.isdir(half) or len(os.listdir(half)) != max(1, params["shards"] // 2):
        return False
    for files in manifest.get("files", {}).values():
        for entry in files:
            try:
                if os.path.getsize(entry["path"]) != entry["bytes"]:
                    return False
            except OSError:
                return False
    return True


def build_corpus(out_dir: str, name: str, spec: Dict, files: List[Tuple[str, str]],
                 files_hash: str, duckdb_tool: str) -> Dict:
    dest = os.path.join(os.path.abspath(out_dir), name)
    params = dict(spec, format_version=FORMAT_VERSION, seed=SEED, source_files=files_hash)
    manifest = load_manifest(dest)
    if manifest_valid(manifest, params):
        log(f"[{name}] up to date in {dest} (cached)")
        if "jsonl_sha256" not in manifest["stats"]:  # cached by a make_corpus without it
            manifest["stats"]["jsonl_sha256"] = jsonl_sha256(dest, spec["shards"])
            with open(os.path.join(dest, "manifest.json.tmp"), "w") as f:
                json.dump(manifest, f, indent=1)
            os.replace(os.path.join(dest, "manifest.json.tmp"), os.path.join(dest, "manifest.json"))
        return manifest
    log(f"[{name}] building in {dest} ({spec['kind']} records, target {human(spec['target_bytes'])}, "
        f"{spec['shards']} shards)")
    shutil.rmtree(dest, ignore_errors=True)
    os.makedirs(dest)
    shards = spec["shards"]
    t0 = time.time()
    stats = write_jsonl(dest, spec["kind"], spec["target_bytes"], shards, files)
    stats["jsonl_sha256"] = jsonl_sha256(dest, shards)
    make_half_links(dest, shards)
    for label, fn in (("zst", lambda: write_zst(dest, shards)),
                      ("gz", lambda: write_gz(dest, shards)),
                      ("parquet", lambda: write_parquet(dest, shards, duckdb_tool)),
                      ("wds", lambda: write_wds(dest, shards))):
        t = time.time()
        fn()
        log(f"  {label}: done in {time.time() - t:.1f} s")
    manifest = dict(params=params, name=name, stats=stats, build_seconds=round(time.time() - t0, 1),
                    files={v: [dict(path=p, bytes=os.path.getsize(p)) for p in paths]
                           for v, paths in variant_files(dest, shards).items()})
    with open(os.path.join(dest, "manifest.json.tmp"), "w") as f:
        json.dump(manifest, f, indent=1)
    os.replace(os.path.join(dest, "manifest.json.tmp"), os.path.join(dest, "manifest.json"))
    return manifest


def describe(manifest: Dict) -> str:
    s = manifest["stats"]
    lines = [f"corpus {manifest['name']}: {s['records']} records, {human(s['bytes'])} JSONL "
             f"({s['bytes'] / 1e6:.1f} MB), avg {s['bytes'] / max(1, s['records']):.0f} B/record, "
             f"max {s['max_record_bytes']} B, {manifest['params']['shards']} shards"]
    lines.append(f"  fingerprint: JSONL sha256 {s.get('jsonl_sha256', '?')[:16]}, from the machine's "
                 f"source files (list hash {manifest['params']['source_files']})")
    lines.append("  by source: " + ", ".join(f"{k}={v}" for k, v in s["records_by_source"].items()))
    if s["passes"] > 1:
        lines.append(f"  NOTE: not enough unique text on this machine; the source files were cycled "
                     f"{s['passes']} times (records of pass k >= 1 carry an extra \"pass\": k field)")
    else:
        lines.append("  all records are unique text (one pass over the source files)")
    sizes = ", ".join(f"{v} {sum(e['bytes'] for e in manifest['files'][v]) / 1e6:.1f} MB"
                      for v in VARIANTS)
    lines.append("  variants on disk: " + sizes)
    return "\n".join(lines)


def find_duckdb_tool(build: Optional[str], explicit: Optional[str]) -> str:
    candidates = [explicit] if explicit else []
    if build:
        candidates += [os.path.join(build, "bench", "duckdb_tool"), os.path.join(build, "bin", "duckdb_tool")]
    for c in candidates:
        if c and os.access(c, os.X_OK):
            return os.path.abspath(c)
    raise SystemExit("make_corpus: duckdb_tool not found (build the project, pass --build BUILD_DIR "
                     "or --duckdb-tool PATH); it is needed for the Parquet variant")


def build_all(out_dir: str, duckdb_tool: str, quick: bool) -> Dict[str, Dict]:
    if shutil.which("zstd") is None or shutil.which("gzip") is None:
        raise SystemExit("make_corpus: the zstd and gzip commands are needed (apt-get install zstd gzip)")
    t0 = time.time()
    files = list_source_files()
    files_hash = source_manifest_hash(files)
    log(f"make_corpus: {len(files)} candidate source files (list hash {files_hash}), output {out_dir}")
    corpora = QUICK_CORPORA if quick else CORPORA
    result = {name: build_corpus(out_dir, name, spec, files, files_hash, duckdb_tool)
              for name, spec in corpora.items()}
    log(f"make_corpus: done in {time.time() - t0:.1f} s")
    return result


def main() -> int:
    here = os.path.dirname(os.path.abspath(__file__))
    repo = os.path.dirname(os.path.dirname(here))
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=os.path.join(repo, "corpus"), help="output folder (default: REPO/corpus)")
    ap.add_argument("--build", default=os.path.join(repo, "build"), help="build folder holding bench/duckdb_tool")
    ap.add_argument("--duckdb-tool", default=None, help="path of duckdb_tool (overrides --build)")
    ap.add_argument("--quick", action="store_true", help="build only the tiny smoke-test corpora")
    args = ap.parse_args()
    tool = find_duckdb_tool(args.build, args.duckdb_tool)
    for manifest in build_all(args.out, tool, args.quick).values():
        print(describe(manifest))
    return 0


if __name__ == "__main__":
    sys.exit(main())
