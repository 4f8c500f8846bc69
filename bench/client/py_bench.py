#!/usr/bin/python3
"""The Python side of bench/client (see README.md next to this file); run.py starts it with
PYTHONPATH=BUILD/python, one subcommand per process, and reads the JSON it prints last.

  py_bench.py setup --dir MX --corpus DIR --formats jsonl,zst,... --chunk-size N
      Registers one dataset per format variant and executes one job per variant
      ("job-<variant>": that dataset's samples, a StaticMixture over the `domain` property,
      best effort, num_workers=1).
  py_bench.py text --dir MX --job JOB --repeat R [--check-corpus DIR]
      MixteraClient.stream_results in text mode against a plain Python generator that yields
      the same (index_in_chunk, key_id, text) tuples from strings decoded beforehand; also
      the chunk dicts alone (no per-item loop) and the same generator decoding each text
      from its UTF-8 bytes (what getting the strings into Python costs at least).
  py_bench.py dataloader --dir MX --job JOB --corpus DIR --tokenizer FILE --steps N
                         --step-seconds S --repeat R
      A DataLoader (batch 8 x (sequence_length + 1) tokens, 1 worker) over MixteraTorchDataset
      in token mode, over the original Mixtera's style of reading (a Python loop over JSONL
      lines, json.loads, tokenizing per batch of 100 texts, packing in Python), and over a
      dataset that yields one ready-made window forever (the DataLoader's own floor: what
      moving a batch from the worker to the training process costs), each with a simulated
      training step of S seconds: the time spent waiting for each batch.
"""

from __future__ import annotations

import argparse
import gc
import glob
import json
import os
import sys
import time
from collections import Counter
from typing import Any, Dict, Iterator, List, Optional, Tuple

SEQUENCE_LENGTH = 1024
BATCH_SIZE = 8
ORIGINAL_TOKENIZE_BATCH = 100  # the original's chunk_reading_tokenization_bs default

# domain -> weight of the benchmark's mixture (the corpus' natural shares are about 0.40
# prose, 0.07 code, 0.53 other; best effort reallocates what runs out).
WEIGHTS = {"prose": 0.4, "code": 0.1, "other": 0.5}

# variant -> (format, file pattern under the corpus folder)
VARIANTS = {
    "jsonl": ("jsonl", "jsonl/*.jsonl"),
    "zst": ("jsonl", "zst/*.jsonl.zst"),
    "gz": ("jsonl", "gz/*.jsonl.gz"),
    "xz": ("jsonl", "xz/*.jsonl.xz"),
    "parquet": ("parquet", "parquet/*.parquet"),
    "wds": ("webdataset", "wds/*.tar"),
}


def out(obj: Dict[str, Any]) -> None:
    print(json.dumps(obj), flush=True)


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# --- setup ----------------------------------------------------------------------------------

def cmd_setup(a: argparse.Namespace) -> None:
    from mixtera import (MixteraClient, MixtureKey, Query, QueryExecutionArgs,
                         StaticMixture)
    client = MixteraClient.from_directory(a.dir)
    jobs = {}
    for variant in a.formats.split(","):
        fmt, pattern = VARIANTS[variant]
        spec = {"name": f"bench_{variant}", "format": fmt,
                "path": os.path.join(a.corpus, pattern),
                "text": "txt" if fmt == "webdataset" else "text",
                "properties": {"domain": "string"}}
        t0 = time.perf_counter()
        report = client.register_dataset(None, spec)
        reg_s = time.perf_counter() - t0
        mixture = StaticMixture(chunk_size=a.chunk_size, strict=False,
                                mixture={MixtureKey({"domain": [d]}): w for d, w in WEIGHTS.items()})
        job = f"job-{variant}"
        summary = client.execute_query(
            Query.for_job(job).select(("dataset", "==", f"bench_{variant}")),
            QueryExecutionArgs(mixture=mixture, num_workers=1))
        jobs[variant] = {"job": job, "samples": report["num_samples"], "files": report["num_files"],
                         "register_s": reg_s, "chunks": summary.get("num_chunks"),
                         "warnings": report.get("warnings", []) + summary.get("warnings", [])}
    out({"event": "setup", "jobs": jobs})


# --- text mode: stream_results vs a loop over pre-decoded strings ---------------------------

def consume(items: Iterator[Tuple[int, int, str]]) -> int:
    """The loop both sides are timed with: takes every tuple, keeps nothing."""
    n = 0
    for _i, _key, _text in items:
        n += 1
    return n


def plain_loop(chunks: List[Tuple[List[int], List[str]]]) -> Iterator[Tuple[int, int, str]]:
    """The baseline: the same tuples stream_results yields, from strings already in memory."""
    for key_ids, texts in chunks:
        for i, (key_id, text) in enumerate(zip(key_ids, texts)):
            yield i, key_id, text


def decoding_loop(chunks: List[Tuple[List[int], List[bytes]]]) -> Iterator[Tuple[int, int, str]]:
    """As plain_loop, but each text is decoded from its UTF-8 bytes on the way."""
    for key_ids, texts in chunks:
        for i, (key_id, text) in enumerate(zip(key_ids, texts)):
            yield i, key_id, text.decode("utf-8")


def corpus_texts(corpus: str) -> Counter:
    texts: Counter = Counter()
    for path in sorted(glob.glob(os.path.join(corpus, "jsonl", "*.jsonl"))):
        with open(path, encoding="utf-8") as f:
            for line in f:
                texts[json.loads(line)["text"]] += 1
    return texts


def cmd_text(a: argparse.Namespace) -> None:
    from mixtera import MixteraClient, ResultStreamingArgs
    client = MixteraClient.from_directory(a.dir)
    args = ResultStreamingArgs(a.job, mode="text")
    # Warm-up, and the pre-decoded strings of the baseline (split into chunks where
    # index_in_chunk restarts at 0).
    chunks: List[Tuple[List[int], List[str]]] = []
    for i, key_id, text in client.stream_results(args):
        if i == 0:
            chunks.append(([], []))
        chunks[-1][0].append(key_id)
        chunks[-1][1].append(text)
    items = sum(len(k) for k, _ in chunks)
    encoded = [(k, [t.encode("utf-8") for t in ts]) for k, ts in chunks]
    text_bytes = sum(len(b) for _, bs in encoded for b in bs)
    check = {"ok": True, "detail": ""}
    if a.check_corpus:
        expected = corpus_texts(a.check_corpus)
        got = Counter(t for _, ts in chunks for t in ts)
        if got != expected:
            check = {"ok": False, "detail": f"stream_results yields {sum(got.values())} texts, the "
                                            f"corpus has {sum(expected.values())}; "
                                            f"{len(got - expected)} differ"}
    reps = []
    for rep in range(a.repeat):
        gc.collect()
        t0 = time.perf_counter()
        n_stream = consume(client.stream_results(args))
        t_stream = time.perf_counter() - t0
        gc.collect()
        t0 = time.perf_counter()
        n_plain = consume(plain_loop(chunks))
        t_plain = time.perf_counter() - t0
        # Where stream_results' time goes: the chunk dicts alone (reading in C++ behind the
        # prefetch, and the UTF-8 decode into str), without the per-item loop.
        gc.collect()
        t0 = time.perf_counter()
        n_chunks = sum(len(c["texts"]) for c in client._stream_chunks(args))
        t_chunks = time.perf_counter() - t0
        # The least it costs to get these strings into Python from UTF-8 bytes: the same
        # loop, decoding each text from bytes already in memory.
        gc.collect()
        t0 = time.perf_counter()
        n_decode = consume(decoding_loop(encoded))
        t_decode = time.perf_counter() - t0
        if not n_stream == n_plain == n_chunks == n_decode == items:
            check = {"ok": False, "detail": f"items: stream {n_stream}, plain {n_plain}, chunks {n_chunks}, "
                                            f"decode {n_decode}"}
        reps.append({"rep": rep, "stream_s": t_stream, "plain_s": t_plain, "chunks_s": t_chunks,
                     "decode_s": t_decode})
    out({"event": "text", "items": items, "bytes": text_bytes, "chunks": len(chunks), "check": check,
         "reps": reps})


# --- DataLoader ------------------------------------------------------------------------------

def original_style_dataset(files: List[str], tokenizer_path: str):
    """An IterableDataset in the original Mixtera's style: a Python loop reads JSONL lines,
    json.loads each, tokenizes per batch of ORIGINAL_TOKENIZE_BATCH texts and packs the ids in
    a Python list into windows of SEQUENCE_LENGTH + 1 tokens (EOS after each document)."""
    import torch
    from torch.utils.data import IterableDataset

    class OriginalStyle(IterableDataset):
        def __iter__(self):
            from mixtera import Tokenizer
            tok = Tokenizer.from_file(tokenizer_path)
            eos = tok.eos_id
            window = SEQUENCE_LENGTH + 1
            buf: List[int] = []
            pos = 0
            texts: List[str] = []
            for path in files:
                with open(path, encoding="utf-8") as f:
                    for line in f:
                        texts.append(json.loads(line)["text"])
                        if len(texts) < ORIGINAL_TOKENIZE_BATCH:
                            continue
                        for ids in tok.encode_batch(texts):
                            buf.extend(ids)
                            buf.append(eos)
                        texts = []
                        while len(buf) - pos >= window:
                            yield torch.tensor(buf[pos:pos + window], dtype=torch.int32)
                            pos += window
                        del buf[:pos]
                        pos = 0

    return OriginalStyle()


def floor_dataset():
    """An IterableDataset that yields the same ready-made window forever: no reading, no
    tokenizing, so its waits are the DataLoader's own cost of handing over a batch."""
    import torch
    from torch.utils.data import IterableDataset

    class Floor(IterableDataset):
        def __iter__(self):
            window = torch.arange(SEQUENCE_LENGTH + 1, dtype=torch.int32)
            while True:
                yield window

    return Floor()


def int_floor_dataset():
    """An IterableDataset that yields the int 1 forever, read with batch_size=None: no tensor
    crosses the process boundary, so its waits are the DataLoader's bare per-batch cost (the
    index and result queues, the worker loop)."""
    from torch.utils.data import IterableDataset

    class IntFloor(IterableDataset):
        def __iter__(self):
            while True:
                yield 1

    return IntFloor()


def worker_cpu_seconds(it: Any) -> Optional[float]:
    """CPU seconds (user + system, all threads) of the DataLoader's worker processes so far."""
    try:
        total = 0.0
        for w in it._workers:  # torch's _MultiProcessingDataLoaderIter
            with open(f"/proc/{w.pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        return total
    except Exception:  # pylint: disable=broad-except
        return None


def run_loader(dataset: Any, steps: int, step_seconds: float, workers: int = 1,
               batched: bool = True) -> Dict[str, Any]:
    """`steps` batches through a DataLoader with `workers` workers (1 by default); per step,
    the wait for the batch and then a simulated training step (sleep). The first batch
    (worker start, first chunk) is reported on its own. With `batched` false the loader has
    batch_size=None and the items are not checked (the int floor)."""
    import torch
    loader = torch.utils.data.DataLoader(dataset, batch_size=BATCH_SIZE if batched else None,
                                         num_workers=workers, timeout=600 if workers > 0 else 0)
    waits, steps_s = [], []
    t_start = time.perf_counter()
    it = iter(loader)
    shapes_ok = True
    for _ in range(steps):
        t0 = time.perf_counter()
        batch = next(it)
        t1 = time.perf_counter()
        if batched and (tuple(batch.shape) != (BATCH_SIZE, SEQUENCE_LENGTH + 1) or
                        batch.dtype != torch.int32):
            shapes_ok = False
        if step_seconds > 0:
            time.sleep(step_seconds)
        waits.append(t1 - t0)
        steps_s.append(time.perf_counter() - t0)
    total = time.perf_counter() - t_start
    cpu = worker_cpu_seconds(it)
    del it
    steady_wait, steady_step = sum(waits[1:]), sum(steps_s[1:])
    steady_tokens = (steps - 1) * BATCH_SIZE * (SEQUENCE_LENGTH + 1)
    sorted_waits = sorted(waits[1:]) or [0.0]
    return {"steps": steps, "first_batch_s": waits[0], "wait_s": steady_wait, "step_s": steady_step,
            "wait_fraction": steady_wait / steady_step if steady_step > 0 else None,
            "wait_p50_ms": 1e3 * sorted_waits[len(sorted_waits) // 2],
            "wait_p99_ms": 1e3 * sorted_waits[min(len(sorted_waits) - 1, int(len(sorted_waits) * 0.99))],
            "wait_max_ms": 1e3 * sorted_waits[-1], "total_s": total,
            "tokens_per_s": steady_tokens / steady_step if steady_step > 0 else None,
            "worker_cpu_s": cpu, "shapes_ok": shapes_ok}


def cmd_dataloader(a: argparse.Namespace) -> None:
    from mixtera import MixteraClient, Query, QueryExecutionArgs, ResultStreamingArgs
    from mixtera.torch import MixteraTorchDataset
    client = MixteraClient.from_directory(a.dir)
    mixtera_ds = MixteraTorchDataset(
        client, Query.for_job(a.job).select(None), QueryExecutionArgs(num_workers=1),
        ResultStreamingArgs(a.job, mode="tokens", tokenizer=a.tokenizer, sequence_length=SEQUENCE_LENGTH,
                            eos=True),
        execute_query=False)
    files = sorted(glob.glob(os.path.join(a.corpus, "jsonl", "*.jsonl")))
    contenders = (("mixtera", mixtera_ds), ("original", original_style_dataset(files, a.tokenizer)),
                  ("floor", floor_dataset()))
    reps = []
    for rep in range(a.repeat):
        for name, ds in contenders:
            r = run_loader(ds, a.steps, a.step_seconds)
            r.update(rep=rep, impl=name, step_seconds=a.step_seconds)
            reps.append(r)
            log(f"  dataloader {name} rep {rep}: wait {100 * (r['wait_fraction'] or 0):.3f}% of step time, "
                f"first batch {r['first_batch_s']:.3f} s")
        r = run_loader(int_floor_dataset(), a.steps, a.step_seconds, batched=False)
        r.update(rep=rep, impl="int_floor", step_seconds=a.step_seconds)
        reps.append(r)
        # No DataLoader worker: Mixtera's own C++ prefetch thread reads and tokenizes ahead in
        # this process, so no batch crosses a process boundary.
        r = run_loader(mixtera_ds, a.steps, a.step_seconds, workers=0)
        r.update(rep=rep, impl="mixtera_0workers", step_seconds=a.step_seconds)
        reps.append(r)
    # Without the simulated step: how fast each side can feed batches at all.
    for name, ds in contenders:
        r = run_loader(ds, a.free_steps, 0.0)
        r.update(rep=0, impl=name + "_nostep", step_seconds=0.0)
        reps.append(r)
    out({"event": "dataloader", "reps": reps})


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("setup")
    s.add_argument("--dir", required=True)
    s.add_argument("--corpus", required=True)
    s.add_argument("--formats", required=True)
    s.add_argument("--chunk-size", type=int, default=1024)
    t = sub.add_parser("text")
    t.add_argument("--dir", required=True)
    t.add_argument("--job", required=True)
    t.add_argument("--repeat", type=int, default=3)
    t.add_argument("--check-corpus")
    d = sub.add_parser("dataloader")
    d.add_argument("--dir", required=True)
    d.add_argument("--job", required=True)
    d.add_argument("--corpus", required=True)
    d.add_argument("--tokenizer", required=True)
    d.add_argument("--steps", type=int, default=200)
    d.add_argument("--free-steps", type=int, default=200)
    d.add_argument("--step-seconds", type=float, default=0.05)
    d.add_argument("--repeat", type=int, default=3)
    a = p.parse_args()
    {"setup": cmd_setup, "text": cmd_text, "dataloader": cmd_dataloader}[a.cmd](a)
    return 0


if __name__ == "__main__":
    sys.exit(main())
