"""Streaming a job's samples (client data path, DESIGN.md §3.5-3.6) on real text: Debian's
licences and C headers split into paragraphs, in plain and zstd-compressed JSONL. Every
expectation is rebuilt here independently: chunk descriptors (get_chunk) are mapped back to
the records written, the round-robin order is recomputed from its definition, and token
windows are re-packed from the reference tokenizer's ids."""

import glob
import json
import os
import subprocess
from collections import Counter

import numpy as np
import pytest

from mixtera import (MixteraClient, MixtureKey, Query, QueryExecutionArgs, ResultStreamingArgs,
                     StaticMixture, Tokenizer)
from mixtera.errors import (FailedPreconditionError, InvalidArgumentError, MixteraError,
                            NotFoundError)
from real_text import fingerprint, paragraphs

_here = os.path.dirname(os.path.abspath(__file__))
VOCABS = os.path.join(_here, "..", "..", "third_party", "tokenizers")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("stream")
    data = root / "data"
    data.mkdir()
    layout = {}  # (file path, line) -> record
    # Which licences and headers the machine holds (and so which are first by name) differs
    # between machines: every expectation below is rebuilt from `layout`.
    sources = [("license", sorted(glob.glob("/usr/share/common-licenses/*"))[:10]),
               ("header", sorted(glob.glob("/usr/include/*.h"))[:20])]
    for source, files in sources:
        records = []
        for path in files:
            for para in paragraphs(path)[:40]:
                records.append({"text": para, "source": source, "name": os.path.basename(path)})
        where = fingerprint(__name__, source, files, records)
        # What the tests need: each source fills its share of two chunks for each of the
        # 2 x 2 consumers (dp groups x workers) of the largest split here.
        assert len(records) >= 2 * 4 * MIXTURE_COUNTS[source], where
        half = len(records) // 2
        for part, recs in enumerate([records[:half], records[half:]]):
            path = str(data / f"{source}-{part}.jsonl")
            with open(path, "w", encoding="utf-8") as f:
                for line, r in enumerate(recs):
                    f.write(json.dumps(r) + "\n")
                    layout[(path, line)] = r
    # One file compressed with zstd (the reader decodes from seek points).
    plain = str(data / "header-1.jsonl")
    subprocess.run(["zstd", "-q", "--rm", plain, "-o", plain + ".zst"], check=True)
    for (path, line), r in list(layout.items()):
        if path == plain:
            layout[(plain + ".zst", line)] = layout.pop((path, line))
    client = MixteraClient.from_directory(root / "mx")
    client.register_dataset("real", {
        "name": "real", "format": "jsonl", "path": str(data / "*.jsonl*"), "text": "text",
        "properties": {"source": {"type": "enum", "values": ["license", "header"]}, "name": "string"}})
    return {"client": client, "layout": layout, "root": root}


_jobs = [0]


def new_job(client, mixture, **args):
    _jobs[0] += 1
    job = f"stream-{_jobs[0]}"
    client.execute_query(Query.for_job(job).select(None), QueryExecutionArgs(mixture=mixture, **args))
    return job


def chunk_texts(corpus, job, k):
    """Per key part of chunk k: (key_id, [texts in range order]) from the descriptor."""
    c = corpus["client"].get_chunk(job, k)
    if c is None:
        return None
    files = corpus["client"].job_summary(job).get("files")
    parts = []
    for part in c["keys"]:
        texts = []
        for r in part["ranges"]:
            path = r["file"] if isinstance(r["file"], str) else files[r["file"]]
            texts.extend(corpus["layout"][(path, s)]["text"] for s in range(r["begin"], r["end"]))
        parts.append((part["key_id"], texts))
    return parts


def round_robin(counts):
    """The deficit rule written out: step t takes the key with the largest t*c/total - taken."""
    total = sum(counts)
    taken = [0] * len(counts)
    order = []
    for t in range(1, total + 1):
        best = max((i for i in range(len(counts)) if counts[i] > 0),
                   key=lambda i: (t * counts[i] - total * taken[i], -i))
        taken[best] += 1
        order.append(best)
    return order


MIXTURE = StaticMixture(chunk_size=24, mixture={MixtureKey({"source": ["license"]}): 0.25,
                                                 MixtureKey({"source": ["header"]}): 0.75},
                        strict=False, seed=5)
MIXTURE_COUNTS = {"license": 6, "header": 18}  # MIXTURE's samples per chunk and source


def test_text_mode_delivers_each_chunk_in_round_robin_order(corpus):
    client = corpus["client"]
    job = new_job(client, MIXTURE)
    streamed = list(client._stream_chunks(ResultStreamingArgs(job)))
    assert streamed, "the job has chunks"
    for position, chunk in enumerate(streamed):
        k = chunk["chunk"]
        assert k == position  # one consumer takes every chunk in order
        parts = chunk_texts(corpus, job, k)
        order = round_robin([len(texts) for _, texts in parts])
        expected = []
        next_of = [0] * len(parts)
        for p in order:
            expected.append((parts[p][0], parts[p][1][next_of[p]]))
            next_of[p] += 1
        assert list(zip(chunk["key_ids"], chunk["texts"])) == expected
    assert chunk_texts(corpus, job, len(streamed)) is None  # nothing after the last chunk
    # The tuple interface of the original.
    items = list(client.stream_results(ResultStreamingArgs(job, prefetch_chunks=0)))
    assert [text for _, _, text in items] == [t for c in streamed for t in c["texts"]]
    assert items[0][0] == 0 and all(isinstance(i, int) for i, _, _ in items)


def test_every_matching_sample_once_and_consumers_partition_the_stream(corpus):
    client = corpus["client"]
    job = new_job(client, MIXTURE, dp_groups=2, num_workers=2)
    seen = Counter()
    for g in range(2):
        for w in range(2):
            chunks = list(client._stream_chunks(ResultStreamingArgs(job, dp_group_id=g, worker_id=w)))
            for t, c in enumerate(chunks):
                assert c["chunk"] == 2 * (2 * t + w) + g  # k mod G = g, (k div G) mod W = w
                seen.update(c["texts"])
    expected = Counter(r["text"] for r in corpus["layout"].values())
    assert seen == expected  # best effort: every sample exactly once


def test_token_mode_windows_match_an_independent_packing(corpus):
    client = corpus["client"]
    path = os.path.join(VOCABS, "gpt2.json")
    assert os.path.exists(path), "run `make setup` (fetches the GPT-2 vocabulary)"
    tok = Tokenizer.from_file(path)
    job = new_job(client, MIXTURE)
    L = 33
    for overlapping in (False, True):
        args = ResultStreamingArgs(job, mode="tokens", tokenizer=path, sequence_length=L - 1,
                                   eos=True, overlapping=overlapping)
        for chunk in client._stream_chunks(args):
            parts = chunk_texts(corpus, job, chunk["chunk"])
            stride = L - 1 if overlapping else L
            windows, waste = [], []
            for key_id, texts in parts:
                stream = [t for text in texts for t in tok.encode(text) + [tok.eos_id]]
                n = 0 if len(stream) < L else (len(stream) - L) // stride + 1
                windows.append([(key_id, stream[i * stride:i * stride + L]) for i in range(n)])
                waste.append(len(stream) - (0 if n == 0 else (n - 1) * stride + L))
            order = round_robin([len(w) for w in windows])
            next_of = [0] * len(windows)
            expected = []
            for p in order:
                expected.append(windows[p][next_of[p]])
                next_of[p] += 1
            got = chunk["windows"]
            assert got.dtype == np.int32 and got.shape == (len(expected), L)
            assert [(int(k), list(map(int, w))) for k, w in zip(chunk["key_ids"], got)] == expected
            assert list(chunk["wasted_tokens"]) == waste
    # The tuple interface yields one window (numpy row) at a time.
    first = next(iter(client.stream_results(ResultStreamingArgs(
        job, mode="tokens", tokenizer=tok, sequence_length=L - 1, eos=True))))
    assert first[0] == 0 and first[2].shape == (L,)
    # Per-token key ids on request: every token of a window carries the window's key id.
    chunk = next(iter(client._stream_chunks(ResultStreamingArgs(
        job, mode="tokens", tokenizer=tok, sequence_length=L - 1, eos=True, token_key_ids=True))))
    per_token = chunk["token_key_ids"]
    assert per_token.shape == chunk["windows"].shape
    assert (per_token == chunk["key_ids"][:, None]).all()


def test_original_argument_names_are_accepted():
    args = ResultStreamingArgs("j", chunk_reading_mixture_type="token", chunk_reading_tokenizer="t.json",
                               chunk_reading_sequence_len=7, chunk_reading_token_overlapping=True)
    assert (args.mode, args.tokenizer, args.sequence_length, args.overlapping) == ("tokens", "t.json", 7, True)
    with pytest.raises(InvalidArgumentError, match="unknown ResultStreamingArgs argument 'chunk_reading_x'"):
        ResultStreamingArgs("j", chunk_reading_x=1)
    with pytest.raises(InvalidArgumentError, match="needs a tokenizer"):
        ResultStreamingArgs("j", mode="tokens", sequence_length=4)
    with pytest.raises(InvalidArgumentError, match="sequence_length"):
        ResultStreamingArgs("j", mode="tokens", tokenizer="t.json", sequence_length=0)


def test_token_mode_arguments_with_another_mode_are_an_error():
    # Token mode is never inferred: a tokenizer or sequence length with the default text mode
    # (or dict mode) would otherwise be ignored silently.
    with pytest.raises(InvalidArgumentError, match=r"token-mode arguments \(tokenizer, sequence_length\) given with mode='text': set mode='tokens'"):
        ResultStreamingArgs("j", tokenizer="t.json", sequence_length=8)
    with pytest.raises(InvalidArgumentError, match=r"\(eos\) given with mode='dict'"):
        ResultStreamingArgs("j", mode="dict", eos=True)
    with pytest.raises(InvalidArgumentError, match=r"\(tokenizer\) given"):
        ResultStreamingArgs("j", chunk_reading_mixture_type="simple", chunk_reading_tokenizer="t.json")
    assert ResultStreamingArgs("j", mode="text", prefetch_chunks=3).mode == "text"


def test_errors(corpus, tmp_path):
    client = corpus["client"]
    job = new_job(client, MIXTURE, num_workers=2)
    with pytest.raises(InvalidArgumentError, match="worker_id 2 is outside the job's 2 workers"):
        list(client.stream_results(ResultStreamingArgs(job, worker_id=2)))
    with pytest.raises(NotFoundError):
        list(client.stream_results(ResultStreamingArgs("no-such-job")))
    with pytest.raises(NotFoundError, match="does not download tokenizers"):
        list(client.stream_results(ResultStreamingArgs(job, mode="tokens", tokenizer="gpt2", sequence_length=8)))
    gpt2 = os.path.join(VOCABS, "gpt2.json")
    with pytest.raises(InvalidArgumentError, match="bos=True but the tokenizer defines no BOS"):
        list(client.stream_results(ResultStreamingArgs(job, mode="tokens", tokenizer=gpt2,
                                                       sequence_length=8, bos=True)))


def test_a_changed_data_file_is_an_error_naming_it(tmp_path):
    data = tmp_path / "d.jsonl"
    data.write_text("".join(json.dumps({"text": f"sample {i}", "g": "a"}) + "\n" for i in range(50)))
    client = MixteraClient.from_directory(tmp_path / "mx")
    client.register_dataset("d", {"name": "d", "format": "jsonl", "path": str(data), "text": "text",
                                  "properties": {"g": "string"}})
    job = "changed"
    client.execute_query(Query.for_job(job).select(None),
                         QueryExecutionArgs(mixture=StaticMixture(chunk_size=10, mixture={MixtureKey({"g": ["a"]}): 1.0})))
    assert len(list(client.stream_results(ResultStreamingArgs(job)))) == 50
    with open(data, "a", encoding="utf-8") as f:
        f.write(json.dumps({"text": "late", "g": "a"}) + "\n")
    with pytest.raises(MixteraError, match="d.jsonl.*changed since registration"):
        list(client.stream_results(ResultStreamingArgs(job)))
    os.remove(data)
    with pytest.raises(NotFoundError, match="d.jsonl.*missing"):
        list(client.stream_results(ResultStreamingArgs(job)))


def test_close_releases_the_store_for_the_cli(tmp_path, mixtera_bin):
    data = tmp_path / "d.jsonl"
    data.write_text("".join(json.dumps({"text": f"sample {i}"}) + "\n" for i in range(5)))
    with MixteraClient.from_directory(tmp_path / "mx") as client:
        client.register_dataset("d", {"name": "d", "format": "jsonl", "path": str(data), "text": "text"})
        locked = subprocess.run([mixtera_bin, "datasets", str(tmp_path / "mx"), "--json"], capture_output=True, text=True)
        assert locked.returncode != 0 and "lock" in locked.stderr.lower()
    out = subprocess.run([mixtera_bin, "datasets", str(tmp_path / "mx"), "--json"], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert [d["name"] for d in json.loads(out.stdout)] == ["d"]
    with pytest.raises(FailedPreconditionError, match="is closed"):
        client.list_datasets()
    client.close()  # twice is fine
