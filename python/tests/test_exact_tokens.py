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
from real_text import paragraphs

_here = os.path.dirname(os.path.abspath(__file__))
VOCABS = os.path.join(_here, "..", "..", "third_party", "tokenizers")
GPT2 = os.path.join(VOCABS, "gpt2.json")
CL100K = os.path.join(VOCABS, "cl100k_base.tiktoken")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("exact")
    data = root / "data"
    data.mkdir()
    records = {"license": [], "header": []}
    for path in sorted(glob.glob("/usr/share/common-licenses/*"))[:12]:
        records["license"] += [p for p in paragraphs(path)[:60]]
    for path in sorted(glob.glob("/usr/include/*.h"))[:40]:
        records["header"] += [p for p in paragraphs(path)[:30]]
    for source, texts in records.items():
        assert len(texts) > 300, f"expected real text for {source}"
        with open(data / f"{source}.jsonl", "w", encoding="utf-8") as f:
            for t in texts:
                f.write(json.dumps({"text": t, "source": source}) + "\n")
            f.write("\n")  # a blank line: not a sample
    # The header file compressed with zstd (exercises the seek-point reader).
    subprocess.run(["zstd", "-q", "--rm", str(data / "header.jsonl")], check=True)
    client = MixteraClient.from_directory(root / "mx")
    client.register_dataset("real", {
        "name": "real", "format": "jsonl", "path": str(data / "*.jsonl*"), "text": "text",
        "properties": {"source": {"type": "enum", "values": ["license", "header"]}}})
    tok = Tokenizer.from_file(GPT2)
    tokens = {s: [tok.encode(t) for t in texts] for s, texts in records.items()}
    return {"client": client, "root": root, "records": records, "tokens": tokens}


def mixture(strict=False, chunk_size=4096):
    return StaticMixture(chunk_size=chunk_size, unit="tokens", strict=strict, seed=3,
                         mixture={MixtureKey({"source": ["license"]}): 0.3,
                                  MixtureKey({"source": ["header"]}): 0.7})


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
    # Until a key runs out, every chunk holds exactly 10 + 22 windows and wastes nothing.
    first_out = min(k["runs_out_at_chunk"] for k in summary["keys"])
    assert first_out > 5
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


def test_without_counts_quotas_are_estimates_within_3_percent(corpus):
    client = corpus["client"]
    job = "estimated"
    summary = client.execute_query(Query.for_job(job).select(None), QueryExecutionArgs(
        mixture=mixture(strict=True, chunk_size=8192), tokenizer=CL100K, sequence_length=127))
    assert not summary["exact_tokens"]
    assert any("token quotas are estimates" in w and "count-tokens" in w for w in summary["warnings"])
    key_source = {k["key_id"]: k["key"]["source"][0] for k in summary["keys"]}
    windows = Counter()
    wasted = Counter()
    for chunk in client._stream_chunks(ResultStreamingArgs(job, mode="tokens", tokenizer=CL100K)):
        windows.update(key_source[int(k)] for k in chunk["key_ids"])
        for k, n in zip(chunk["part_key_ids"], chunk["wasted_tokens"]):
            wasted[key_source[int(k)]] += int(n)
    # The tokens each key delivered (its windows and its wasted partial windows) are its
    # weight's share within 3% (relative): the estimate is record bytes x measured tokens per
    # byte, so only the ratio's sampling error remains.
    tokens = {s: windows[s] * 128 + wasted[s] for s in windows}
    for source, weight in (("license", 0.3), ("header", 0.7)):
        share = tokens[source] / sum(tokens.values())
        print(source, share)
        assert abs(share - weight) <= 0.03 * weight, (source, share)
