"""MixteraTorchDataset with real DataLoader workers under fork, spawn and forkserver: every
worker streams its own chunks of the materialized job, so the union of what the DataLoader
yields is exactly the job's samples — no duplicates, no gaps."""

import json
import os
from collections import Counter

import pytest

torch = pytest.importorskip("torch")  # Debian's python3-torch, installed by `make setup`

from mixtera import (MixteraClient, MixtureKey, Query, QueryExecutionArgs, ResultStreamingArgs,
                     StaticMixture)
from mixtera.errors import InvalidArgumentError
from mixtera.torch import MixteraTorchDataset
from real_text import fingerprint

_here = os.path.dirname(os.path.abspath(__file__))
GPT2 = os.path.join(_here, "..", "..", "third_party", "tokenizers", "gpt2.json")
MOST_WORKERS = 4  # the most DataLoader workers a test here uses


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    # The machine's licence texts, split into paragraphs: which and how many there are
    # differs between machines, so every expectation below is the multiset read here.
    root = tmp_path_factory.mktemp("torch")
    texts = []
    read = []
    for path in sorted(os.listdir("/usr/share/common-licenses"))[:8]:
        full = os.path.join("/usr/share/common-licenses", path)
        if os.path.isfile(full):
            read.append(full)
            with open(full, encoding="utf-8", errors="replace") as f:
                texts.extend(p for p in f.read().split("\n\n") if p.strip())
    where = fingerprint(__name__, "licences", read, texts)
    # What the tests need: two chunks for each worker of the most workers used.
    assert len(texts) >= 2 * MOST_WORKERS * MIX.chunk_size, where
    with open(root / "d.jsonl", "w", encoding="utf-8") as f:
        for i, t in enumerate(texts):
            f.write(json.dumps({"text": t, "half": "a" if i % 2 else "b"}) + "\n")
    c = MixteraClient.from_directory(root / "mx")
    c.register_dataset("d", {"name": "d", "format": "jsonl", "path": str(root / "d.jsonl"), "text": "text",
                             "properties": {"half": "string"}})
    return c, Counter(texts)


MIX = StaticMixture(chunk_size=16, mixture={MixtureKey({"half": ["a"]}): 0.5, MixtureKey({"half": ["b"]}): 0.5},
                    strict=False)


@pytest.mark.parametrize("context", ["fork", "spawn", "forkserver"])
def test_workers_partition_the_job_under_every_start_method(client, context):
    c, expected = client
    job = f"torch-{context}"
    ds = MixteraTorchDataset(c, Query.for_job(job).select(None), QueryExecutionArgs(mixture=MIX, num_workers=2),
                             ResultStreamingArgs(job), return_key_id=True)
    loader = torch.utils.data.DataLoader(ds, batch_size=None, num_workers=2, multiprocessing_context=context)
    got = list(loader)
    assert Counter(text for _, text in got) == expected
    assert {key for key, _ in got} == {0, 1}


def test_token_windows_are_int32_tensors_and_worker_count_must_match(client):
    c, _ = client
    job = "torch-tokens"
    ds = MixteraTorchDataset(c, Query.for_job(job).select(None), QueryExecutionArgs(mixture=MIX, num_workers=2),
                             ResultStreamingArgs(job, mode="tokens", tokenizer=GPT2, sequence_length=15, eos=True))
    # Streaming the same job in this process gives the same windows, worker by worker. (It
    # also starts this process's tokenizer threads before the DataLoader forks: forked
    # workers must make their own.)
    direct = []
    for w in range(2):
        args = ResultStreamingArgs(job, worker_id=w, mode="tokens", tokenizer=GPT2, sequence_length=15, eos=True)
        direct.extend(tuple(x.tolist()) for _, _, x in c.stream_results(args))
    batches = list(torch.utils.data.DataLoader(ds, batch_size=4, num_workers=2, multiprocessing_context="fork",
                                               timeout=120))
    assert batches and all(b.dtype == torch.int32 and b.shape[1] == 16 for b in batches)
    assert Counter(tuple(r.tolist()) for b in batches for r in b) == Counter(direct)
    with pytest.raises(InvalidArgumentError, match="the DataLoader runs 1 workers but the job was executed for num_workers=2"):
        list(torch.utils.data.DataLoader(ds, batch_size=None, num_workers=1))
    with pytest.raises(InvalidArgumentError, match="runs 0 workers"):
        list(iter(ds))
    # Executing a job id twice is an error; execute_query=False streams the existing job.
    ds2 = MixteraTorchDataset(c, Query.for_job(job).select(None), QueryExecutionArgs(mixture=MIX, num_workers=0),
                              ResultStreamingArgs(job), execute_query=False)
    with pytest.raises(InvalidArgumentError, match="runs 0 workers but the job was executed for num_workers=2"):
        list(iter(ds2))
    from mixtera.errors import NotFoundError
    with pytest.raises(NotFoundError, match="does not exist"):
        MixteraTorchDataset(c, Query.for_job("never-run").select(None), QueryExecutionArgs(mixture=MIX),
                            ResultStreamingArgs("never-run"), execute_query=False)


@pytest.mark.parametrize("workers,context", [(0, None), (4, "fork"), (4, "spawn"), (4, "forkserver")])
def test_zero_and_four_workers_yield_the_single_streams_multiset(client, workers, context):
    c, expected = client
    job = f"torch-w{workers}-{context}"
    ds = MixteraTorchDataset(c, Query.for_job(job).select(None),
                             QueryExecutionArgs(mixture=MIX, num_workers=workers), ResultStreamingArgs(job))
    single = Counter()
    for w in range(max(1, workers)):
        single.update(t for _, _, t in c.stream_results(ResultStreamingArgs(job, worker_id=w)))
    assert single == expected
    got = Counter(torch.utils.data.DataLoader(ds, batch_size=None, num_workers=workers,
                                              multiprocessing_context=context))
    assert got == single


class _DyingDataset(MixteraTorchDataset):
    """Kills its own worker process (SIGKILL, as the OOM killer would) after a few samples."""

    def __iter__(self):
        for i, sample in enumerate(super().__iter__()):
            if i == 5:
                os.kill(os.getpid(), 9)
            yield sample


def test_a_killed_worker_raises_instead_of_hanging(client):
    import signal

    c, _ = client
    job = "torch-killed"
    ds = _DyingDataset(c, Query.for_job(job).select(None), QueryExecutionArgs(mixture=MIX, num_workers=2),
                       ResultStreamingArgs(job, prefetch_chunks=2))

    def hung(signum, frame):
        raise AssertionError("the DataLoader hung after its worker was killed")

    old = signal.signal(signal.SIGALRM, hung)
    signal.alarm(120)
    try:
        with pytest.raises(RuntimeError, match="DataLoader worker .* exited unexpectedly|killed by signal"):
            list(torch.utils.data.DataLoader(ds, batch_size=None, num_workers=2, multiprocessing_context="fork"))
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
