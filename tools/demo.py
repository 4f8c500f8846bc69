#!/usr/bin/env python3
"""`make demo`: the registration part of Mixtera's story on real files of this machine.

Builds a small multi-domain corpus from files every Debian machine has (C headers with their
language, man pages with their natural language, licence texts), writes it as zstd-compressed
JSONL and as a WebDataset tar, registers both with the `mixtera` CLI and through the Python
API, and shows what the metadata store now knows. Queries, mixtures and streaming into a
PyTorch training loop come with the next issues.

Usage: /usr/bin/python3 tools/demo.py --build build [--out DIR]
"""

import argparse
import gzip
import io
import json
import os
import subprocess
import sys
import tarfile
import time
from collections import Counter

MAX_FILE_BYTES = 64 * 1024


def read_text(path):
    try:
        with open(path, "rb") as f:
            raw = f.read(MAX_FILE_BYTES + 1)
        if path.endswith(".gz"):
            raw = gzip.decompress(raw) if len(raw) <= MAX_FILE_BYTES else None
        if raw is None or len(raw) > MAX_FILE_BYTES or not raw:
            return None
        return raw.decode("utf-8")
    except (OSError, UnicodeDecodeError, EOFError, gzip.BadGzipFile):
        return None


def collect(limit_per_domain):
    """Yields (text, properties) records from real files, deterministically."""
    records = []
    count = Counter()
    for root, _, files in sorted(os.walk("/usr/include")):
        for name in sorted(files):
            if count["code"] >= limit_per_domain:
                break
            ext = os.path.splitext(name)[1]
            lang = {".h": "C", ".hpp": "C++", ".hh": "C++", ".tcc": "C++"}.get(ext)
            text = read_text(os.path.join(root, name)) if lang else None
            if text:
                records.append({"text": text, "domain": "code", "language": lang, "source": "usr/include"})
                count["code"] += 1
    man_root = "/usr/share/man"
    for entry in sorted(os.listdir(man_root)):
        natural = "en" if entry.startswith("man") else entry
        base = os.path.join(man_root, entry)
        for root, _, files in sorted(os.walk(base)):
            for name in sorted(files):
                if count["man:" + natural] >= max(20, limit_per_domain // 10):
                    break
                text = read_text(os.path.join(root, name))
                if text:
                    records.append({"text": text, "domain": "manpage", "language": natural,
                                    "source": "usr/share/man"})
                    count["man:" + natural] += 1
    lic_root = "/usr/share/common-licenses"
    for name in sorted(os.listdir(lic_root)):
        text = read_text(os.path.join(lic_root, name))
        if text:
            records.append({"text": text, "domain": "license", "language": "en", "source": name})
    return records


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--out", default=None, help="work folder (default: BUILD/demo)")
    ap.add_argument("--per-domain", type=int, default=1500)
    args = ap.parse_args()
    build = os.path.abspath(args.build)
    out = os.path.abspath(args.out or os.path.join(build, "demo"))
    mixtera_bin = os.path.join(build, "bin", "mixtera")
    sys.path.insert(0, os.path.join(build, "python"))
    import mixtera  # noqa: E402

    print("== Mixtera demo: a real multi-domain corpus, registered, queried and mixed ==")
    t0 = time.time()
    records = collect(args.per_domain)
    data = os.path.join(out, "data")
    subprocess.run(["rm", "-rf", out], check=True)
    os.makedirs(os.path.join(data, "jsonl"))
    shards = 4
    for s in range(shards):
        path = os.path.join(data, "jsonl", f"part-{s:02d}.jsonl")
        with open(path, "w", encoding="utf-8") as f:
            for r in records[s::shards]:
                f.write(json.dumps(r, ensure_ascii=False) + "\n")
        subprocess.run(["zstd", "-q", "--rm", "-f", path], check=True)
    with tarfile.open(os.path.join(data, "corpus.tar"), "w") as tar:
        for i, r in enumerate(records):
            for ext, payload in (("txt", r["text"].encode()),
                                 ("json", json.dumps({k: v for k, v in r.items() if k != "text"}).encode())):
                info = tarfile.TarInfo(f"{i:06d}.{ext}")
                info.size = len(payload)
                tar.addfile(info, io.BytesIO(payload))
    size = sum(len(r["text"].encode()) for r in records)
    print(f"corpus: {len(records)} documents, {size / 1e6:.1f} MB of real text from /usr/include, "
          f"/usr/share/man and /usr/share/common-licenses ({time.time() - t0:.1f} s)")

    spec = os.path.join(out, "web.yaml")
    with open(spec, "w") as f:
        f.write("name: debian_text\nformat: jsonl\npath: data/jsonl/*.jsonl.zst\ntext: text\n"
                "properties:\n  domain: {type: enum, values: [code, manpage, license]}\n"
                "  language: string\n  source: string\n")
    mx = os.path.join(out, "mx")
    print(f"\n$ mixtera register {mx} {spec}")
    subprocess.run([mixtera_bin, "register", mx, spec], check=True)

    client = mixtera.MixteraClient.from_directory(mx)
    print("\n>>> client.register_dataset('debian_wds', {...format: 'webdataset'...})")
    report = client.register_dataset("debian_wds", {
        "format": "webdataset", "path": os.path.join(data, "corpus.tar"), "text": "txt",
        "properties": {"domain": {"type": "enum", "values": ["code", "manpage", "license"]},
                       "language": "string"}})
    print(f"registered {report['num_samples']} samples from {report['num_files']} tar file in "
          f"{report['seconds']:.2f} s")
    info = client.dataset_info("debian_text")
    print(f">>> client.list_datasets() -> {client.list_datasets()}")
    print(f">>> client.dataset_info('debian_text') -> {info['num_samples']} samples in {info['num_files']} "
          f"files, properties {[(p['name'], p['type']) for p in info['properties']]}")
    del client

    print(f"\n$ mixtera datasets {mx}")
    subprocess.run([mixtera_bin, "datasets", mx], check=True)
    by = Counter((r["domain"], r["language"]) for r in records)
    print("\nper (domain, language) in the corpus: " +
          ", ".join(f"{d}/{l}: {n}" for (d, l), n in sorted(by.items(), key=lambda x: -x[1])[:8]) + ", ...")

    print("\n== A query with a static mixture: 50% code, 30% man pages, 20% licences ==")
    mix = os.path.join(out, "mix.yaml")
    with open(mix, "w") as f:
        f.write("type: static\nchunk_size: 256\nstrict: false\nseed: 7\nshuffle: {block: 8}\n"
                "weights:\n"
                "  - {key: {domain: [code]}, weight: 0.5}\n"
                "  - {key: {domain: [manpage]}, weight: 0.3}\n"
                "  - {key: {domain: [license]}, weight: 0.2, repeat: 3}\n")
    where = "dataset == 'debian_text' and language != 'C++'"
    print(f"$ mixtera query {mx} --where \"{where}\" --mixture {mix}")
    subprocess.run([mixtera_bin, "query", mx, "--where", where, "--mixture", mix], check=True)
    print(f"\n$ mixtera chunks {mx} --where ... --mixture {mix} --dp-groups 2 --dp-group 1 --limit 2")
    subprocess.run([mixtera_bin, "chunks", mx, "--where", where, "--mixture", mix, "--dp-groups", "2",
                    "--dp-group", "1", "--limit", "2"], check=True)

    client = mixtera.MixteraClient.from_directory(mx)
    q = mixtera.Query.for_job("demo").where(where)
    summary = client.execute_query(q, mixtera.QueryExecutionArgs(mixture=mix, dp_groups=2, num_workers=2))
    print(f"\n>>> client.execute_query(Query.for_job('demo').where(...), QueryExecutionArgs(mixture=..., "
          f"dp_groups=2, num_workers=2))\n    -> {summary['num_samples']} samples, {summary['num_chunks']} chunks, "
          f"per chunk: " + ", ".join(f"{list(k['key'].values())[0][0]} {k['per_chunk']}" for k in summary["keys"]))
    # Drain the job by random access and compare what each domain got with the mixture.
    delivered = Counter()
    k = 0
    while True:
        chunk = client.get_chunk("demo", k)
        if chunk is None:
            break
        for part in chunk["keys"]:
            delivered[list(part["key"].values())[0][0]] += part["num_samples"]
        k += 1
    total = sum(delivered.values())
    print(f"drained {k} chunks by random access: " + ", ".join(
        f"{d} {n} ({100 * n / total:.1f}%)" for d, n in sorted(delivered.items())))
    print(f"the job lives in {client.directory}/jobs/demo/ (job.json, index.bin): workers open it "
          "without the metadata store")
    del client

    print("\nComing next: native tokenizers, token-unit mixtures, and streaming packed token "
          "windows into a PyTorch training loop (`make demo` will train a tiny model on this corpus).")

if __name__ == "__main__":
    main()
