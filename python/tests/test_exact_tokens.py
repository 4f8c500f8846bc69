"""Exact token counts (`mixtera count-tokens` / MixteraClient.count_tokens) and the exact
`unit="tokens"` chunks they allow (DESIGN.md §3.4, §3.6), on real text: Debian's licences and
C headers split into paragraphs. Expectations come from an independent path: every record is
tokenized here on its own, and window counts per chunk follow from the mixture by hand."""

import glob
import json
import os
import subprocess
from collections import Counter

import numpy as np
import pytest

from mixtera import (MixteraClient, MixtureKey, Query, QueryExecutionArgs, ResultStreamingArgs,
                     StaticMixture, Tokenizer)
from mixtera.errors import InvalidArgumentError, MixteraError
from real_text import fingerprint, paragraphs

_here = os.path.dirname(os.path.abspath(__file__))
VOCABS = os.path.join(_here, "..", "..", "third_party", "tokenizers")
GPT2 = os.path.join(VOCABS, "gpt2.json")
CL100K = os.path.join(VOCABS, "cl100k_base.tiktoken")
WEIGHTS = {"license": 0.3, "header": 0.7}
LARGEST_CHUNK = 8192  # tokens: the largest chunk_size of the jobs here


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    # Which licences and headers the machine holds (and so which are first by name) differs
    # between machines: every expectation below is computed from these records.
    root = tmp_path_factory.mktemp("exact")
    data = root / "data"
    data.mkdir()
    records = {"license": [], "header": []}
    files = {"license": sorted(glob.glob("/usr/share/common-licenses/*"))[:12],
             "header": sorted(glob.glob("/usr/include/*.h"))[:40]}
    for path in files["license"]:
        records["license"] += [p for p in paragraphs(path)[:60]]
    for path in files["header"]:
        records["header"] += [p for p in paragraphs(path)[:30]]
    layout = {}  # (file path, line) -> (source, text, record bytes up to the next record)
    for source, texts in records.items():
        path = str(data / f"{source}.jsonl")
        with open(path, "w", encoding="utf-8") as f:
            for line, t in enumerate(texts):
                record = json.dumps({"text": t, "source": source}) + "\n"
                f.write(record)
                layout[(path + (".zst" if source == "header" else ""), line)] = (
                    source, t, len(record.encode("utf-8")))
            f.write("\n")  # a blank line: not a sample
    # The header file compressed with zstd (exercises the seek-point reader).
    subprocess.run(["zstd", "-q", "--rm", str(data / "header.jsonl")], check=True)
    client = MixteraClient.from_directory(root / "mx")
    client.register_dataset("real", {
        "name": "real", "format": "jsonl", "path": str(data / "*.jsonl*"), "text": "text",
        "properties": {"source": {"type": "enum", "values": ["license", "header"]}}})
    tok = Tokenizer.from_file(GPT2)
    tokens = {s: [tok.encode(t) for t in texts] for s, texts in records.items()}
    where = " | ".join(fingerprint(__name__, s, files[s], records[s]) for s in records)
    # What the tests need: each source fills its share of four of the largest chunks.
    for s, ids in tokens.items():
        assert sum(len(x) for x in ids) >= 4 * WEIGHTS[s] * LARGEST_CHUNK, where
    return {"client": client, "root": root, "records": records, "tokens": tokens, "layout": layout}


def mixture(strict=False, chunk_size=4096):
    return StaticMixture(chunk_size=chunk_size, unit="tokens", strict=strict, seed=3,
                         mixture={MixtureKey({"source": [s]}): w for s, w in WEIGHTS.items()})


def delivered_records(corpus, job, num_chunks):
    """Per source, the (text, record bytes) of the samples chunks 0..num_chunks-1 hold, and
    the number of sample ranges they came in, from the chunks' descriptors."""
    files = corpus["client"].job_summary(job).get("files")
    out = {s: [] for s in WEIGHTS}
    ranges = Counter()
    for k in range(num_chunks):
        for part in corpus["client"].get_chunk(job, k)["keys"]:
            for r in part["ranges"]:
                path = r["file"] if isinstance(r["file"], str) else files[r["file"]]
                for line in range(r["begin"], r["end"]):
                    source, text, size = corpus["layout"][(path, line)]
                    out[source].append((text, size))
                ranges[source] += 1
    return out, ranges


def test_count_tokens_stores_every_samples_exact_count(corpus):
    client = corpus["client"]
    report = client.count_tokens("real", GPT2)
    expected = sum(len(ids) for per in corpus["tokens"].values() for ids in per)
    assert report["num_tokens"] == expected
    assert report["num_samples"] == sum(len(t) for t in corpus["records"].values())
    assert not report["already_counted"]
    again = client.count_tokens("real", GPT2)
    assert again["already_counted"] and again["num_tokens"] == expected
    # An unknown dataset is an error naming it.
    with pytest.raises(MixteraError, match="nope"):
        client.count_tokens("nope", GPT2)


def test_exact_chunks_hold_whole_windows_and_every_token_once(corpus):
    client = corpus["client"]
    client.count_tokens("real", GPT2)
    job = "exact-1"
    summary = client.execute_query(Query.for_job(job).select(None), QueryExecutionArgs(
        mixture=mixture(), tokenizer=GPT2, sequence_length=127, eos=True))
    assert summary["exact_tokens"] and summary["plan_unit"] == "tokens"
    assert not any("estimates" in w for w in summary["warnings"])
    # 4096 tokens = 32 windows of 128; 0.3 / 0.7 -> 9.6 / 22.4 -> 10 / 22 windows.
    per_key = {k["key"]["source"][0]: k for k in summary["keys"]}
    assert per_key["license"]["per_chunk"] == 10 * 128 and per_key["header"]["per_chunk"] == 22 * 128
    eos = Tokenizer.from_file(GPT2).eos_id
    expected = {s: Counter() for s in ("license", "header")}
    total = {s: 0 for s in expected}
    for s, docs in corpus["tokens"].items():
        for ids in docs:
            expected[s].update(ids + [eos])
            total[s] += len(ids) + 1
    assert per_key["license"]["available"] == total["license"]
    key_source = {k["key_id"]: k["key"]["source"][0] for k in summary["keys"]}

    got = {s: Counter() for s in expected}
    delivered = {s: 0 for s in expected}
    wasted = {s: 0 for s in expected}
    chunks = list(client._stream_chunks(ResultStreamingArgs(job, mode="tokens", tokenizer=GPT2)))
    windows_per_chunk = []
    for chunk in chunks:
        windows, key_ids = chunk["windows"], chunk["key_ids"]
        assert windows.shape[1] == 128
        counts = Counter(key_source[int(k)] for k in key_ids)
        windows_per_chunk.append((counts["license"], counts["header"]))
        for w, k in zip(windows, key_ids):
            got[key_source[int(k)]].update(w.tolist())
            delivered[key_source[int(k)]] += len(w)
        for k, n in zip(chunk["part_key_ids"], chunk["wasted_tokens"]):
            wasted[key_source[int(k)]] += int(n)
    # Until a key runs out, every chunk holds exactly 10 + 22 windows and wastes nothing; a
    # key runs out at the first chunk its tokens cannot fill.
    first_out = min(k["runs_out_at_chunk"] for k in summary["keys"])
    assert first_out == min(total[s] // per_key[s]["per_chunk"] for s in total)
    assert windows_per_chunk[:first_out] == [(10, 22)] * first_out
    for s in expected:
        assert delivered[s] + wasted[s] == total[s], s
        assert wasted[s] < 128, s  # at most one partial window, at the key's very end
        assert not (got[s] - expected[s]), s  # nothing delivered that is not in the data
        assert sum((expected[s] - got[s]).values()) == wasted[s], s


def test_text_mode_on_an_exact_job_delivers_each_document_once(corpus):
    client = corpus["client"]
    client.count_tokens("real", GPT2)
    job = "exact-text"
    client.execute_query(Query.for_job(job).select(None), QueryExecutionArgs(
        mixture=mixture(chunk_size=3000), tokenizer=GPT2))
    texts = Counter(t for _, _, t in client.stream_results(ResultStreamingArgs(job)))
    assert texts == Counter(corpus["records"]["license"] + corpus["records"]["header"])


def test_streaming_must_match_the_planned_tokenizer_and_packing(corpus):
    client = corpus["client"]
    client.count_tokens("real", GPT2)
    job = "exact-mismatch"
    client.execute_query(Query.for_job(job).select(None), QueryExecutionArgs(
        mixture=mixture(), tokenizer=GPT2, sequence_length=63, eos=True))
    with pytest.raises(InvalidArgumentError, match="planned with bos=False, eos=True"):
        next(client.stream_results(ResultStreamingArgs(job, mode="tokens", tokenizer=GPT2, eos=False)))
    with pytest.raises(InvalidArgumentError, match="planned with sequence_length 63"):
        next(client.stream_results(ResultStreamingArgs(job, mode="tokens", tokenizer=GPT2,
                                                       sequence_length=64)))
    with pytest.raises(InvalidArgumentError, match="exact token counts of tokenizer hf:"):
        next(client.stream_results(ResultStreamingArgs(job, mode="tokens", tokenizer=CL100K)))


def test_without_counts_quotas_are_filled_in_estimated_tokens(corpus):
    client = corpus["client"]
    job = "estimated"
    summary = client.execute_query(Query.for_job(job).select(None), QueryExecutionArgs(
        mixture=mixture(strict=True, chunk_size=LARGEST_CHUNK), tokenizer=CL100K, sequence_length=127))
    assert not summary["exact_tokens"]
    assert any("token quotas are estimates" in w and "count-tokens" in w for w in summary["warnings"])
    key_source = {k["key_id"]: k["key"]["source"][0] for k in summary["keys"]}
    quota = {key_source[k["key_id"]]: k["per_chunk"] for k in summary["keys"]}
    with open(corpus["root"] / "mx" / "jobs" / job / "job.json") as f:
        per_byte = {key_source[k]: r for k, r in enumerate(json.load(f)["key_tokens_per_byte"])}
    windows = Counter()
    wasted = Counter()
    chunks = list(client._stream_chunks(ResultStreamingArgs(job, mode="tokens", tokenizer=CL100K)))
    for chunk in chunks:
        windows.update(key_source[int(k)] for k in chunk["key_ids"])
        for k, n in zip(chunk["part_key_ids"], chunk["wasted_tokens"]):
            wasted[key_source[int(k)]] += int(n)
    assert len(chunks) == summary["num_chunks"] >= 1
    # A sample's estimated tokens are its record bytes times its key's measured tokens per
    # byte (job.json). What holds for any corpus: each key's samples in the job's chunks are
    # those whose first estimated token lies in its quotas, so their estimated tokens add up
    # to the quotas plus what the last one reaches past them (give or take the flooring at
    # each range's ends), and the tokens the stream delivers (its windows and its wasted
    # partial windows) are exactly theirs.
    tok = Tokenizer.from_file(CL100K)
    delivered, ranges = delivered_records(corpus, job, len(chunks))
    shares = {}
    for source, samples in delivered.items():
        estimated = per_byte[source] * sum(size for _, size in samples)
        planned = quota[source] * len(chunks)
        largest = per_byte[source] * max(size for _, size in samples)
        slack = ranges[source] + 1
        assert planned - slack <= estimated < planned + largest + slack, (
            source, estimated, planned, largest, slack)
        actual = sum(len(tok.encode(text)) for text, _ in samples)
        assert windows[source] * 128 + wasted[source] == actual, source
        shares[source] = actual
    # How close each key's share of the delivered tokens comes to its weight depends on how
    # well its measured tokens per byte fits the samples it delivers, i.e. on the corpus: it
    # is reported, not bounded.
    for source, weight in WEIGHTS.items():
        print(f"{source}: weight {weight}, share of the delivered tokens "
              f"{shares[source] / sum(shares.values()):.4f}")
