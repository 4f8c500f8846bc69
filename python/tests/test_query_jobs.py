"""Queries, mixtures and jobs through the Python API on real text (Debian's licence texts and
C headers, split into paragraphs). Every expectation is computed here, independently, from
the records written."""

import glob
import json
import os
import subprocess
from collections import Counter

import pytest

import mixtera
from mixtera import (ArbitraryMixture, Component, HierarchicalStaticMixture, InferringMixture,
                     MixteraClient, MixtureKey, MixtureNode, MixtureSchedule, Query,
                     QueryExecutionArgs, ScheduleEntry, StaticMixture)
from real_text import fingerprint, paragraphs

SPECIAL = ["a;b", "k:v", "x,y", "it's", 'say "hi"', "çå∂ ☃ 日本", ""]
LARGEST_CHUNK = 64  # the largest chunk_size of the mixtures here


def build_records():
    """Records from real files: licences and headers, with properties derived from each.
    Which files the machine holds (and so which are first by name) differs between machines:
    every expectation is computed from these records."""
    records = []
    sources = [("license", sorted(glob.glob("/usr/share/common-licenses/*"))[:12]),
               ("header", sorted(glob.glob("/usr/include/*.h"))[:25])]
    for source, files in sources:
        for path in files:
            if not os.path.isfile(path):
                continue
            for i, para in enumerate(paragraphs(path)[:60]):
                n = len(records)
                lines = para.count("\n") + 1
                tags = ["long" if lines > 3 else "short"]
                if any(c.isdigit() for c in para):
                    tags.append("digits")
                records.append({
                    "text": para, "source": source, "name": os.path.basename(path),
                    "tags": tags, "lines": lines, "flag": (n % 3 == 0),
                    "odd": None if n % 5 == 0 else SPECIAL[n % len(SPECIAL)],
                })
    where = fingerprint(__name__, "licences+headers", [p for _, files in sources for p in files], records)
    # What the tests need: each source fills two chunks of the largest chunk size by itself,
    # and the records take every special value.
    for source, _ in sources:
        assert sum(r["source"] == source for r in records) >= 2 * LARGEST_CHUNK, where
    assert {r["odd"] for r in records} == set(SPECIAL) | {None}, where
    return records


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("qj")
    records = build_records()
    # Two files per source, in record order, so sample ids are record positions per file.
    files = {}
    for r in records:
        files.setdefault(r["source"], []).append(r)
    layout = {}  # (file path, line) -> record
    for source, recs in files.items():
        half = len(recs) // 2
        for part, chunk in enumerate([recs[:half], recs[half:]]):
            path = str(root / "data" / f"{source}-{part}.jsonl")
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w", encoding="utf-8") as f:
                for line, r in enumerate(chunk):
                    f.write(json.dumps(r) + "\n")
                    layout[(path, line)] = r
    client = MixteraClient.from_directory(root / "mx")
    client.register_dataset("real", {
        "name": "real", "format": "jsonl", "path": str(root / "data" / "*.jsonl"), "text": "text",
        "properties": {"source": {"type": "enum", "values": ["license", "header"]},
                       "name": "string", "tags": "string_list", "lines": "int", "flag": "bool",
                       "odd": {"type": "string", "nullable": True}}})
    return {"client": client, "layout": layout, "root": root}


def drain(client, job_id):
    chunks = []
    k = 0
    while True:
        c = client.get_chunk(job_id, k)
        if c is None:
            return chunks
        assert c["index"] == k
        chunks.append(c)
        k += 1


def samples_of(chunks):
    out = []
    for c in chunks:
        for part in c["keys"]:
            for r in part["ranges"]:
                out.extend((r["file"], s) for s in range(r["begin"], r["end"]))
    return out


_job_counter = [0]


def run(client, query_builder, mixture, **args):
    _job_counter[0] += 1
    job = f"job-{_job_counter[0]}"
    summary = client.execute_query(query_builder(Query.for_job(job)), QueryExecutionArgs(mixture=mixture, **args))
    return job, summary


def sql_eq(v, x):  # SQL three-valued: None when v is NULL
    return None if v is None else v == x


@pytest.mark.parametrize("build,predicate", [
    (lambda q: q.select(("source", "==", "license")), lambda r: r["source"] == "license"),
    (lambda q: q.select([("source", "==", "header"), ("lines", ">", 3)]),
     lambda r: r["source"] == "header" and r["lines"] > 3),
    # Chained selects are a union.
    (lambda q: q.select(("source", "==", "license")).select(("lines", "<=", 1)),
     lambda r: r["source"] == "license" or r["lines"] <= 1),
    (lambda q: q.select(("tags", "==", "digits")), lambda r: "digits" in r["tags"]),
    (lambda q: q.select(("lines", "==", [1, 2, 5])), lambda r: r["lines"] in (1, 2, 5)),
    (lambda q: q.select(("odd", "==", None)), lambda r: r["odd"] is None),
    (lambda q: q.select(("odd", "!=", "a;b")), lambda r: r["odd"] is not None and r["odd"] != "a;b"),
    (lambda q: q.where("not odd == 'it''s' and flag == true"),
     lambda r: r["odd"] is not None and r["odd"] != "it's" and r["flag"]),
    (lambda q: q.where("odd in ('k:v', 'x,y', '') or lines >= 10"),
     lambda r: r["odd"] in ("k:v", "x,y", "") or r["lines"] >= 10),
    (lambda q: q.where("tags contains 'long' and source != 'header'"),
     lambda r: "long" in r["tags"] and r["source"] != "header"),
    (lambda q: q.where("odd is not null and odd < 'k'"), lambda r: r["odd"] is not None and r["odd"] < "k"),
])
def test_queries_select_exactly_the_matching_samples(corpus, build, predicate):
    client, layout = corpus["client"], corpus["layout"]
    job, summary = run(client, build, ArbitraryMixture(chunk_size=50))
    got = samples_of(drain(client, job))
    assert len(got) == len(set(got)), "a sample was delivered twice"
    expected = {key for key, r in layout.items() if predicate(r)}
    assert set(got) == expected
    assert summary["num_samples"] == len(expected)


def test_static_best_effort_exact_counts_and_every_sample_once(corpus):
    client, layout = corpus["client"], corpus["layout"]
    mix = StaticMixture(chunk_size=64, mixture={MixtureKey({"source": ["license"]}): 0.25,
                                                MixtureKey({"source": ["header"]}): 0.75},
                        strict=False, seed=3, shuffle_block=4)
    job, summary = run(client, lambda q: q.select(None), mix)
    # Largest remainder by hand: 0.25 * 64 = 16, 0.75 * 64 = 48.
    assert [k["per_chunk"] for k in summary["keys"]] == [16, 48]
    chunks = drain(client, job)
    got = samples_of(chunks)
    assert Counter(got) == Counter(layout.keys())  # every sample exactly once
    counts_license = sum(1 for r in layout.values() if r["source"] == "license")
    full_license_chunks = counts_license // 16
    counts_header = len(layout) - counts_license
    for c in chunks[:min(full_license_chunks, counts_header // 48)]:
        per_key = {p["key_id"]: sum(r["end"] - r["begin"] for r in p["ranges"]) for p in c["keys"]}
        assert per_key == {0: 16, 1: 48}
        for p in c["keys"]:
            want = "license" if p["key_id"] == 0 else "header"
            for r in p["ranges"]:
                for s in range(r["begin"], r["end"]):
                    assert layout[(r["file"], s)]["source"] == want
    for c in chunks[:-1]:
        assert not c["partial"] and sum(p["num_samples"] for p in c["keys"]) == 64


def test_same_seed_same_stream_and_dp_groups_partition_it(corpus):
    client = corpus["client"]
    def mix(seed):
        return StaticMixture(chunk_size=32, mixture={MixtureKey({"flag": [True]}): 0.5,
                                                     MixtureKey({"flag": [False]}): 0.5},
                             strict=False, seed=seed, shuffle_block=2)
    j1, _ = run(client, lambda q: q.select(None), mix(7))
    j2, _ = run(client, lambda q: q.select(None), mix(7))
    j3, _ = run(client, lambda q: q.select(None), mix(8))
    a, b, c = drain(client, j1), drain(client, j2), drain(client, j3)
    assert a == [dict(x) for x in b]
    assert samples_of(a) != samples_of(c)
    assert Counter(samples_of(a)) == Counter(samples_of(c))
    # Random access equals the sequential walk, in any order.
    for k in reversed(range(len(a))):
        assert client.get_chunk(j1, k) == a[k]


def test_cli_chunks_union_of_dp_groups_is_the_single_group_stream(corpus, tmp_path, mixtera_bin):
    mixfile = tmp_path / "mix.yaml"
    mixfile.write_text("type: inferring\nchunk_size: 40\nstrict: false\ngroup_by: [source, flag]\n")
    directory = str(corpus["root"] / "mx")
    # The Python client holds the store open (DuckDB locks it), so the CLI runs on a copy.
    copy = tmp_path / "mx"
    subprocess.run(["cp", "-r", directory, str(copy)], check=True)
    def chunks(*extra):
        out = subprocess.run([mixtera_bin, "chunks", str(copy), "--mixture", str(mixfile), "--json", *extra],
                             check=True, capture_output=True, text=True).stdout
        return [json.loads(line) for line in out.splitlines()]
    single = chunks()
    assert single and all(c["index"] == i for i, c in enumerate(single))
    for G in (2, 4):
        union = []
        for g in range(G):
            part = chunks("--dp-groups", str(G), "--dp-group", str(g))
            assert all(c["index"] % G == g for c in part)
            union.extend(part)
        assert sorted(union, key=lambda c: c["index"]) == single
    limited = chunks("--limit", "3")
    assert limited == single[:3]
    q = subprocess.run([mixtera_bin, "query", str(copy), "--where", "source == 'license'", "--json",
                        "--mixture", str(mixfile)], check=True, capture_output=True, text=True)
    report = json.loads(q.stdout)
    expected = sum(1 for r in corpus["layout"].values() if r["source"] == "license")
    assert report["num_samples"] == expected
    assert sum(c["num_samples"] for c in report["components"]) == expected
    assert report["bytes"] > 0


def test_component_keys_keep_special_values_intact(corpus):
    client, layout = corpus["client"], corpus["layout"]
    job, summary = run(client, lambda q: q.select(("odd", "!=", None)), InferringMixture(chunk_size=16, strict=False, group_by=["odd"]))
    keys = {json.dumps(k["key"]["odd"]) for k in summary["keys"]}
    natural = Counter(r["odd"] for r in layout.values() if r["odd"] is not None)
    assert keys == {json.dumps([v]) for v in natural}
    for k in summary["keys"]:
        assert k["available"] == natural[k["key"]["odd"][0]]


def test_hierarchical_and_schedule_mixtures(corpus):
    client, layout = corpus["client"], corpus["layout"]
    tree = MixtureNode("source", [
        Component(["license"], 0.5, MixtureNode("flag", [Component([True], 0.5), Component([False], 0.5)])),
        Component(["header"], 0.5)])
    job, summary = run(client, lambda q: q.select(None), HierarchicalStaticMixture(chunk_size=20, mixture=tree, strict=True))
    # Leaf weights 0.25, 0.25, 0.5 of 20 -> 5, 5, 10.
    assert [k["per_chunk"] for k in summary["keys"]] == [5, 5, 10]
    sched = MixtureSchedule(chunk_size=10, schedule=[
        ScheduleEntry(start_chunk=0, mixture=StaticMixture(10, {MixtureKey({"source": ["license"]}): 1.0})),
        ScheduleEntry(start_chunk=2, mixture=StaticMixture(10, {MixtureKey({"source": ["header"]}): 1.0}))], strict=True)
    job, summary = run(client, lambda q: q.select(None), sched)
    c0, c2 = client.get_chunk(job, 0), client.get_chunk(job, 2)
    assert c0["mixture_id"] == 0 and c2["mixture_id"] == 1
    assert [p["key_id"] for p in c0["keys"]] == [0] and [p["key_id"] for p in c2["keys"]] == [1]


def test_errors(corpus):
    client = corpus["client"]
    with pytest.raises(mixtera.InvalidArgumentError) as e:
        run(client, lambda q: q.select(("nope", "==", 1)), ArbitraryMixture(10))
    assert "nope" in str(e.value) and "known properties" in str(e.value)
    with pytest.raises(mixtera.InvalidArgumentError):
        run(client, lambda q: q.select(("lines", "==", "three")), ArbitraryMixture(10))
    with pytest.raises(mixtera.InvalidArgumentError):
        Query.for_job("x").select(("lines", "~", 3))
    with pytest.raises(mixtera.InvalidArgumentError):
        Query.for_job("x").select(("lines", "==", []))
    with pytest.raises(mixtera.InvalidArgumentError):
        run(client, lambda q: q.where("lines == "), ArbitraryMixture(10))
    job, _ = run(client, lambda q: q.select(None), ArbitraryMixture(10))
    with pytest.raises(mixtera.AlreadyExistsError):
        client.execute_query(Query.for_job(job).select(None), QueryExecutionArgs(mixture=ArbitraryMixture(10)))
    with pytest.raises(mixtera.InvalidArgumentError):
        StaticMixture(10, {MixtureKey({"source": ["license"]}): 0.5})  # weights checked at execute
        run(client, lambda q: q.select(None), StaticMixture(10, {MixtureKey({"source": ["license"]}): 0.5}))


def test_token_units_use_the_jobs_tokenizer(tmp_path):
    # Every "a" text has 12 bytes and every "b" text 30; the test tokenizer makes one token
    # per byte: 12 and 30 tokens per sample.
    path = tmp_path / "d.jsonl"
    with open(path, "w") as f:
        for i in range(60):
            f.write(json.dumps({"text": ("a" * 12) if i % 3 else ("b" * 30), "g": "a" if i % 3 else "b"}) + "\n")
    tok = tmp_path / "bytes.json"
    tok.write_text('{"mixtera_test_tokenizer": "bytes"}')
    client = MixteraClient.from_directory(tmp_path / "mx")
    client.register_dataset("d", {"name": "d", "format": "jsonl", "path": str(path), "text": "text",
                                  "properties": {"g": "string"}})
    mix = StaticMixture(chunk_size=120, unit="tokens", strict=False,
                        mixture={MixtureKey({"g": ["a"]}): 0.5, MixtureKey({"g": ["b"]}): 0.5})
    with pytest.raises(mixtera.InvalidArgumentError) as e:
        client.execute_query(Query.for_job("no-tok").select(None), QueryExecutionArgs(mixture=mix))
    assert "tokenizer" in str(e.value)
    summary = client.execute_query(Query.for_job("tok").select(None),
                                   QueryExecutionArgs(mixture=mix, tokenizer=str(tok)))
    # 60 tokens per key per chunk, estimated from record bytes: about 60 / 12 = 5 samples of
    # "a" and 60 / 30 = 2 samples of "b" (each within one sample, by rounding).
    assert [k["per_chunk"] for k in summary["keys"]] == [60, 60]
    assert summary["plan_unit"] == "tokens" and not summary["exact_tokens"]
    chunks = drain(client, "tok")
    for c in chunks[:5]:
        n = {p["key"]["g"][0]: p["num_samples"] for p in c["keys"]}
        assert 4 <= n["a"] <= 6 and 1 <= n["b"] <= 3, n
    got = samples_of(chunks)
    assert sorted(got) == sorted((str(path), i) for i in range(60))
