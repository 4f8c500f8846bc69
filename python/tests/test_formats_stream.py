"""Every format and compression through the client (text and dict modes): each sample comes
back byte for byte, exactly once. The corpus is Debian's licence texts split into
paragraphs, written here as JSONL (none, gzip, zstd, xz, bz2), Parquet (by DuckDB's own
writer, through the `duckdb_tool` the build makes) and WebDataset tar (Python's tarfile),
so the expected samples are the records this file wrote, not anything Mixtera produced."""

import bz2
import glob
import gzip
import io
import json
import lzma
import os
import subprocess
import tarfile
from collections import Counter

import pytest

from mixtera import ArbitraryMixture, MixteraClient, Query, QueryExecutionArgs, ResultStreamingArgs
from real_text import fingerprint

PARTS = 7  # datasets: five JSONL compressions, Parquet, WebDataset


def records():
    """The paragraphs of the machine's first licences by name (which they are differs between
    machines: the expectations are these records, whatever they hold)."""
    out = []
    paths = sorted(glob.glob("/usr/share/common-licenses/*"))[:8]
    for path in paths:
        try:
            text = open(path, encoding="utf-8").read()
        except (UnicodeDecodeError, OSError):
            continue
        for n, para in enumerate(p for p in text.split("\n\n") if p.strip()):
            out.append({"text": para, "source": os.path.basename(path), "n": n,
                        "tags": ["licence", "para" + str(n % 3)]})
    where = fingerprint(__name__, "licences", paths, out)
    # What the tests need: a few records in each dataset.
    assert len(out) >= 4 * PARTS, where
    return out


def duckdb_tool(mixtera_bin):
    tool = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(mixtera_bin))), "bench",
                        "duckdb_tool")
    assert os.path.exists(tool), f"{tool} is built with the project (make build)"
    return tool


@pytest.fixture(scope="module")
def corpus(tmp_path_factory, request):
    mixtera_bin = os.environ.get("MIXTERA_BIN") or os.path.join(
        os.path.dirname(__file__), "..", "..", "build", "bin", "mixtera")
    root = tmp_path_factory.mktemp("formats")
    recs = records()
    parts = [recs[i::PARTS] for i in range(PARTS)]
    lines = [("".join(json.dumps(r) + "\n" for r in part)).encode() for part in parts]
    writers = {"none": lambda b: b, "gzip": gzip.compress, "xz": lzma.compress, "bz2": bz2.compress,
               "zstd": lambda b: subprocess.run(["zstd", "-q", "-c"], input=b, check=True,
                                                capture_output=True).stdout}
    expected = {}  # dataset -> the records it holds
    client = MixteraClient.from_directory(root / "mx")
    for i, (compression, write) in enumerate(writers.items()):
        d = root / compression
        d.mkdir()
        (d / "part.jsonl").write_bytes(write(lines[i]))
        client.register_dataset(f"jsonl_{compression}", {
            "name": f"jsonl_{compression}", "format": "jsonl", "path": str(d / "part.jsonl"),
            "text": "text", "properties": {"source": "string"}})
        expected[f"jsonl_{compression}"] = parts[i]
    # Parquet written by DuckDB from a JSONL copy of part 5, with the columns' types given
    # (detected types would depend on what the machine's text looks like).
    src = root / "pq.jsonl"
    src.write_bytes(lines[5])
    columns = "{text: 'VARCHAR', source: 'VARCHAR', n: 'BIGINT', tags: 'VARCHAR[]'}"
    subprocess.run([duckdb_tool(mixtera_bin), ":memory:",
                    f"COPY (SELECT * FROM read_json('{src}', columns={columns})) TO '{root / 'part.parquet'}' "
                    "(FORMAT parquet)"],
                   check=True)
    client.register_dataset("parquet", {"name": "parquet", "format": "parquet",
                                        "path": str(root / "part.parquet"), "text": "text",
                                        "properties": {"source": "string"}})
    expected["parquet"] = parts[5]
    # WebDataset: per sample a .txt (the text), a .json (the rest) and a binary .bin member.
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for j, r in enumerate(parts[6]):
            meta = {k: v for k, v in r.items() if k != "text"}
            for ext, data in (("txt", r["text"].encode()), ("json", json.dumps(meta).encode()),
                              ("bin", bytes([j % 256, 0, 255, 10]))):
                info = tarfile.TarInfo(f"s{j:05d}.{ext}")
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
    (root / "part.tar").write_bytes(buf.getvalue())
    client.register_dataset("wds", {"name": "wds", "format": "webdataset", "path": str(root / "part.tar"),
                                    "text": "txt", "properties": {"source": {"type": "string", "field": "json:/source"}}})
    expected["wds"] = parts[6]
    client.execute_query(Query.for_job("all").select(None), QueryExecutionArgs(mixture=ArbitraryMixture(50)))
    return {"client": client, "expected": expected}


def test_text_mode_returns_every_text_once_byte_for_byte(corpus):
    got = Counter(t for _, _, t in corpus["client"].stream_results(ResultStreamingArgs("all")))
    want = Counter(r["text"] for part in corpus["expected"].values() for r in part)
    assert got == want


def test_dict_mode_returns_every_field(corpus):
    samples = [s for _, _, s in corpus["client"].stream_results(ResultStreamingArgs("all", mode="dict"))]
    assert len(samples) == sum(len(p) for p in corpus["expected"].values())
    canon = lambda d: json.dumps(d, sort_keys=True)
    jsonl = Counter(canon(r) for name, part in corpus["expected"].items() if name.startswith("jsonl")
                    for r in part)
    parquet = Counter(canon(r) for r in corpus["expected"]["parquet"])
    wds_expected = {}
    for j, r in enumerate(corpus["expected"]["wds"]):
        meta = {k: v for k, v in r.items() if k != "text"}
        wds_expected[f"s{j:05d}"] = {"__key__": f"s{j:05d}", "txt": r["text"].encode(),
                                     "json": json.dumps(meta).encode(), "bin": bytes([j % 256, 0, 255, 10])}
    got_jsonl, got_parquet, got_wds = Counter(), Counter(), {}
    for s in samples:
        if "__key__" in s:
            got_wds[s["__key__"]] = s
        elif "file_row_number" in s:
            row = dict(s)
            del row["file_row_number"]
            got_parquet[canon(row)] += 1
        else:
            got_jsonl[canon(s)] += 1
    assert got_jsonl == jsonl
    assert got_parquet == parquet
    assert got_wds == wds_expected
