#!/usr/bin/env python3
"""`make demo`: Mixtera end to end on real files of this machine, in a few minutes on 2 cores.

 1. builds a multi-domain corpus from files `make setup` guarantees (code with its
    programming language, man pages with their natural language, prose, licences;
    tools/demo/corpus.py) as zstd JSONL shards and a WebDataset tar;
 2. registers both (the `mixtera` CLI and the Python API);
 3. runs a query with a static token-level mixture (`unit: tokens`), token counts estimated;
 4. streams that job alone (read + tokenize + pack) and measures what each mixture key got;
 5. counts exact tokens (`mixtera count-tokens`) and executes the query again through
    MixteraTorchDataset: the shares are now exact and no token is left over;
 6. trains a tiny PyTorch language model (tools/demo/tinylm.py) on packed windows streamed
    by DataLoader workers, with held-out loss per mixture key;
 7. trains the same model again from the same weights on a live job whose mixture ADO
    changes from the per-key training losses the loop reports (MixteraDataLoader +
    handle_mixtera_feedback; intervals scaled to the run);
 8. prints per mixture key the samples and tokens delivered vs the mixture, what each run
    trained on and its held-out losses, and tokens/s; writes report.json and two PNG plots
    (mixture weights and held-out loss per key over steps).

Usage: /usr/bin/python3 tools/demo.py --build build [--out DIR] [--quick] [--steps N] [--no-ado]
`--quick` (a small corpus, 40 steps per run, about a minute) is for tests. Everything is written to OUT
(default BUILD/demo), which is deleted first; nothing is fetched from the network.
"""

import argparse
import copy
import ctypes
import json
import os
import shutil
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(HERE, "demo"))
import corpus  # noqa: E402  (tools/demo/corpus.py)

GPT2 = os.path.join(ROOT, "third_party", "tokenizers", "gpt2.json")  # fetched by tools/setup.sh

# The mixture: (label, key, weight). The weights are multiples of 0.05 and a chunk holds 320
# windows, so every key's share of a chunk is a whole number of windows.
MIXTURE = [
    ("code: Python", {"domain": ["code"], "language": ["Python"]}, 0.25),
    ("code: C, C++", {"domain": ["code"], "language": ["C", "C++"]}, 0.20),
    ("man: en", {"domain": ["manpage"], "language": ["en"]}, 0.10),
    ("man: de, fr", {"domain": ["manpage"], "language": ["de", "fr"]}, 0.15),
    ("man: ja, pl, ru", {"domain": ["manpage"], "language": ["ja", "pl", "ru"]}, 0.10),
    ("prose: en", {"domain": ["prose"]}, 0.15),
    ("licences: en", {"domain": ["license"]}, 0.05),
]
WINDOWS_PER_CHUNK = 320
# The ADO run's chunks: smaller, so that the mixture can change every 10 steps (5 in --quick).
ADO_WINDOWS_PER_CHUNK = 80
ADO_WINDOWS_PER_CHUNK_QUICK = 40
# `split` is Mixtera's deterministic hash split (5% 'holdout'); `bytes` a numeric property.
WHERE = "split == 'train' and bytes >= 256"
WHERE_HOLDOUT = "split == 'holdout' and bytes >= 256"


def tune_cpu_runtime():
    """Two settings that matter on a small, shared machine; call before torch is imported.

    - OpenMP threads sleep instead of spinning while they wait (OMP_WAIT_POLICY=PASSIVE):
      with 2 cores shared by the trainer and its DataLoader workers, spinning threads made
      each step several times slower in our runs.
    - glibc keeps freed blocks up to 32 MB instead of unmapping them: torch allocates fresh
      activations and gradients every step, and each unmapped block costs page faults again
      (~3,400 instead of ~10,000 faults per step here, 20-30% less CPU time per step).
    """
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(-3, 32 * 1024 * 1024)  # M_MMAP_THRESHOLD
        libc.mallopt(-1, 2**31 - 1)         # M_TRIM_THRESHOLD
    except (OSError, AttributeError):
        pass


def section(title):
    print(f"\n== {title} ==", flush=True)


def run(cmd):
    print("$ " + " ".join(cmd).replace(ROOT + "/", ""), flush=True)
    subprocess.run(cmd, check=True)


def table(header, rows, align=None, groups=None):
    """Prints rows (lists of str) under header, columns padded, the first left-aligned; groups
    [(title, first column, number of columns)] are centred over their columns."""
    widths = [max(len(str(r[i])) for r in [header] + rows) for i in range(len(header))]
    align = align or ["<"] + [">"] * (len(header) - 1)
    fmt = "  ".join(f"{{:{a}{w}}}" for a, w in zip(align, widths))
    if groups:
        line = ""
        for title, first, n in groups:
            start = sum(w + 2 for w in widths[:first])
            span = sum(widths[first:first + n]) + 2 * (n - 1)
            line = line.ljust(start) + title.center(span, "-")
        print("  " + line)
    print("  " + fmt.format(*header).rstrip())
    for r in rows:
        print("  " + fmt.format(*[str(x) for x in r]).rstrip())


class Phases:
    """Wall time per phase of the demo."""

    def __init__(self):
        self.t0 = time.perf_counter()
        self.done = []

    def lap(self, name):
        now = time.perf_counter()
        self.done.append((name, now - self.t0))
        self.t0 = now


# ---------------------------------------------------------------------------------------------
# Mixtera calls

def execution_args(mixtera, mixture, workers, seq):
    """QueryExecutionArgs of a unit: tokens job that plans whole windows of seq + 1 tokens,
    one EOS per document (the packing the trainer streams with)."""
    return mixtera.QueryExecutionArgs(mixture=mixture, num_workers=workers, tokenizer=GPT2,
                                      sequence_length=seq, eos=True)


def streaming_args(mixtera, job, seq, worker=0, tokenizer=GPT2):
    return mixtera.ResultStreamingArgs(job, worker_id=worker, mode="tokens", tokenizer=tokenizer,
                                       sequence_length=seq, eos=True)


def count_tokens(mixtera_bin, mx, datasets):
    """The one step that makes `unit: tokens` exact: store every sample's GPT-2 token count."""
    for name in datasets:
        run([mixtera_bin, "count-tokens", mx, name, "--tokenizer", GPT2])


def stream_whole_job(mixtera, client, job, seq, workers, num_keys, tokenizer):
    """Streams every chunk of `job` in this process (each DataLoader worker's share in turn),
    exactly as the workers will, and accounts per key id: windows, tokens left over in a
    partial window (waste) and samples (from the chunk descriptors)."""
    from mixtera.client import stream_job_chunks
    windows = np.zeros(num_keys, dtype=np.int64)
    wasted = np.zeros(num_keys, dtype=np.int64)
    chunks = 0
    t0 = time.perf_counter()
    for w in range(max(1, workers)):
        for chunk in stream_job_chunks(client.directory, streaming_args(mixtera, job, seq, w, tokenizer)):
            chunks += 1
            windows += np.bincount(chunk["key_ids"], minlength=num_keys)
            for k, n in zip(chunk["part_key_ids"], chunk["wasted_tokens"]):
                wasted[int(k)] += int(n)
    seconds = time.perf_counter() - t0
    # Samples: the distinct samples each key's chunk ranges name (with exact token counts a
    # sample may be split across two chunks; it counts once).
    samples = [set() for _ in range(num_keys)]
    k = 0
    while (c := client.get_chunk(job, k)) is not None:
        for part in c["keys"]:
            for r in part["ranges"]:
                samples[part["key_id"]].update((r["file"], i) for i in range(r["begin"], r["end"]))
        k += 1
    tokens = windows * (seq + 1)
    return {"job": job, "chunks": chunks, "windows": windows, "tokens": tokens, "seconds": seconds,
            "wasted": wasted, "wasted_total": int(wasted.sum()),
            "samples": np.array([len(s) for s in samples]),
            "share": tokens / max(1, tokens.sum())}


def describe_stream(acc, weights):
    total = int(acc["tokens"].sum())
    dev = np.max(np.abs(acc["share"] - np.array(weights)))
    print(f"  job '{acc['job']}': {total:,} tokens in {int(acc['windows'].sum()):,} windows of {acc['chunks']} chunks "
          f"in {acc['seconds']:.2f} s = {total / acc['seconds'] / 1e6:.2f} M tokens/s; "
          f"{acc['wasted_total']:,} tokens ({100 * acc['wasted_total'] / max(1, total + acc['wasted_total']):.2f}%) "
          f"left over in partial windows; largest deviation from the weights {100 * dev:.2f} percentage points")


def describe_job(summary, labels):
    print(f"    job '{summary['job_id']}': {summary['num_samples']:,} samples in {summary['num_components']} "
          f"components, {summary['num_chunks']} chunks ({summary['end_reason']}); "
          f"exact token counts: {summary['exact_tokens']}; per chunk: " +
          ", ".join(f"{labels[k['key_id']]} {k['per_chunk']:,}" for k in summary["keys"]) +
          f" {summary['plan_unit']}")


def holdout_windows(mixtera, client, keys, seq, per_key, tokenizer):
    """Up to `per_key` windows per mixture key (index into `keys`) from the held-out split,
    which training never sees. The job mixes the held-out components in their natural
    proportions; each component counts for the first mixture key it matches."""
    job = "holdout"
    mix = mixtera.InferringMixture(chunk_size=64 * (seq + 1), unit="tokens", strict=False,
                                   group_by=["domain", "language"])
    summary = client.execute_query(mixtera.Query.for_job(job).where(WHERE_HOLDOUT),
                                   execution_args(mixtera, mix, 1, seq))
    owner = {}  # the job's key id (a component) -> index of the mixture key it belongs to
    for part in summary["keys"]:
        for i, (_, key, _) in enumerate(keys):
            if all(any(v in values for v in part["key"].get(p, [])) for p, values in key.items()):
                owner[part["key_id"]] = i
                break
    got = {}
    for _, key_id, window in client.stream_results(streaming_args(mixtera, job, seq, tokenizer=tokenizer)):
        i = owner.get(key_id)
        if i is not None and len(got.setdefault(i, [])) < per_key:
            got[i].append(np.array(window))
        if len(got) == len(keys) and all(len(v) >= per_key for v in got.values()):
            break
    return {i: np.stack(v) for i, v in sorted(got.items())}


# ---------------------------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default="build")
    ap.add_argument("--out", default=None, help="work folder, deleted first (default: BUILD/demo)")
    ap.add_argument("--quick", action="store_true", help="small corpus, 40 steps (about 30 s; for tests)")
    ap.add_argument("--steps", type=int, default=None, help="training steps (default 300, --quick 40)")
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--seq", type=int, default=128, help="sequence length (a window holds seq + 1 tokens)")
    ap.add_argument("--workers", type=int, default=2, help="DataLoader workers (= the job's num_workers)")
    ap.add_argument("--threads", type=int, default=2, help="torch threads")
    ap.add_argument("--lr", type=float, default=1e-2)
    ap.add_argument("--no-exact", action="store_true",
                    help="skip count-tokens: train on the job with estimated token counts")
    ap.add_argument("--no-ado", action="store_true", help="skip the second training run, with ADO")
    args = ap.parse_args()
    steps = args.steps or (40 if args.quick else 300)
    scale = 0.15 if args.quick else 1.0
    seq, batch = args.seq, args.batch
    build = os.path.abspath(args.build)
    out = os.path.abspath(args.out or os.path.join(build, "demo"))
    mixtera_bin = os.path.join(build, "bin", "mixtera")
    for path, what in ((mixtera_bin, "the mixtera CLI (make build)"), (GPT2, "the GPT-2 tokenizer (make setup)"),
                       (os.path.join(build, "python", "mixtera"), "the Python package (make build)")):
        if not os.path.exists(path):
            sys.exit(f"demo: {path} is missing: {what}")
    sys.path.insert(0, os.path.join(build, "python"))
    tune_cpu_runtime()
    import mixtera  # noqa: E402
    import torch  # noqa: E402
    from mixtera.torch import MixteraDataLoader, MixteraTorchDataset  # noqa: E402
    from mixtera.utils.feedback import handle_mixtera_feedback  # noqa: E402
    import tinylm  # noqa: E402  (tools/demo/tinylm.py)
    import training  # noqa: E402  (tools/demo/training.py)
    import plots as demo_plots  # noqa: E402  (tools/demo/plots.py)

    t_start = time.perf_counter()
    phases = Phases()
    torch.manual_seed(0)
    torch.set_num_threads(args.threads)
    print("Mixtera demo: real multi-domain corpus -> register -> query with a token-level mixture -> "
          "packed windows -> a tiny PyTorch LM")

    # 1. Corpus --------------------------------------------------------------------------------
    section("1. A real multi-domain corpus from this machine's files")
    shutil.rmtree(out, ignore_errors=True)
    data = os.path.join(out, "data")
    records = corpus.collect(scale)
    code_spec, docs_spec, by_kind = corpus.write(records, data)
    table(["domain / language", "documents", "MB", "from"],
          [[f"{d} / {l}", f"{n:,}", f"{b / 1e6:.1f}", s] for (d, l), (n, b, s) in sorted(by_kind.items())],
          ["<", ">", ">", "<"])
    corpus_sha256 = corpus.fingerprint(records)
    print(f"  {len(records):,} documents, {sum(r['bytes'] for r in records) / 1e6:.1f} MB: code as 4 zstd JSONL "
          f"shards (data/code/), the rest as a WebDataset tar (data/docs.tar: .txt text, .json properties)")
    print(f"  corpus sha256 {corpus_sha256} (it depends on this machine's files)")
    phases.lap("corpus")

    # 2. Register ------------------------------------------------------------------------------
    section("2. Register both datasets (metadata only: the files stay where they are)")
    mx = os.path.join(out, "mx")
    spec_file = os.path.join(out, "code.json")
    with open(spec_file, "w") as f:
        json.dump(code_spec, f, indent=1)
    run([mixtera_bin, "register", mx, spec_file])
    client = mixtera.MixteraClient.from_directory(mx)
    print(">>> client = MixteraClient.from_directory(mx)")
    print(">>> client.register_dataset('docs', {'format': 'webdataset', 'path': 'data/docs.tar', 'text': 'txt', "
          "'properties': {'domain': {'type': 'enum', ...}, 'language': 'string', 'source': 'string', "
          "'bytes': 'int'}})")
    report = client.register_dataset("docs", docs_spec)
    print(f"    {report['num_samples']:,} samples from {report['num_files']} tar file in {report['seconds']:.2f} s")
    phases.lap("register")

    # 3. Query + mixture -----------------------------------------------------------------------
    section("3. A query with a static token-level mixture (token counts estimated)")
    keys = [m for m in MIXTURE if any(all(r[p] in v for p, v in m[1].items()) for r in records)]
    if len(keys) < len(MIXTURE):
        total_w = sum(w for _, _, w in keys)
        print(f"  note: no documents for {[m[0] for m in MIXTURE if m not in keys]} on this machine; "
              "their weight is spread over the other keys")
        keys = [(lab, k, w / total_w) for lab, k, w in keys]
    labels = [lab for lab, _, _ in keys]
    weights = [w for _, _, w in keys]
    chunk_tokens = WINDOWS_PER_CHUNK * (seq + 1)
    mixture = mixtera.StaticMixture(chunk_size=chunk_tokens, unit="tokens", strict=True, seed=7, shuffle_block=4,
                                    mixture={mixtera.MixtureKey(k): w for _, k, w in keys})
    print(f">>> q = Query.for_job('estimated').where(\"{WHERE}\")")
    print(f">>> mix = StaticMixture(chunk_size={chunk_tokens}, unit='tokens', strict=True, seed=7, shuffle_block=4, "
          f"mixture={{   # {WINDOWS_PER_CHUNK} windows of {seq}+1 tokens")
    for _, k, w in keys:
        print(f"        MixtureKey({k}): {w:.2f},")
    print("    })")
    print(f">>> client.execute_query(q, QueryExecutionArgs(mixture=mix, num_workers={args.workers}, "
          f"tokenizer='gpt2.json', sequence_length={seq}, eos=True))")
    tokenizer = mixtera.Tokenizer.from_file(GPT2)
    summary = client.execute_query(mixtera.Query.for_job("estimated").where(WHERE),
                                   execution_args(mixtera, mixture, args.workers, seq))
    describe_job(summary, labels)
    phases.lap("execute 'estimated'")

    # 4. Data path alone -----------------------------------------------------------------------
    section("4. Stream the whole job alone: read + tokenize + pack, as the DataLoader workers will")
    acc_est = stream_whole_job(mixtera, client, "estimated", seq, args.workers, len(keys), tokenizer)
    describe_stream(acc_est, weights)
    phases.lap("stream 'estimated'")

    # 5. Exact counts --------------------------------------------------------------------------
    section("5. Exact token counts: one step before execute_query")
    exact = not args.no_exact
    query_args = execution_args(mixtera, mixture, args.workers, seq)
    acc_exact = None
    if exact:
        train_job = "exact"
        client.close()  # the CLI opens the metadata store: one process at a time
        count_tokens(mixtera_bin, mx, ["code", "docs"])
        phases.lap("count-tokens")
        client = mixtera.MixteraClient.from_directory(mx)
        print(f">>> ds = MixteraTorchDataset(client, Query.for_job('{train_job}').where(...), "
              f"QueryExecutionArgs(<as above>), ResultStreamingArgs('{train_job}', mode='tokens', "
              f"tokenizer='gpt2.json', sequence_length={seq}, eos=True), return_key_id=True)")
        dataset = MixteraTorchDataset(client, mixtera.Query.for_job(train_job).where(WHERE), query_args,
                                      streaming_args(mixtera, train_job, seq), return_key_id=True)
        describe_job(client.job_summary(train_job), labels)
        acc_exact = stream_whole_job(mixtera, client, train_job, seq, args.workers, len(keys), tokenizer)
        describe_stream(acc_exact, weights)
        phases.lap("execute + stream 'exact'")
    else:
        train_job = "estimated"
        print("  skipped (--no-exact): training streams job 'estimated'")
        dataset = MixteraTorchDataset(client, mixtera.Query.for_job(train_job).where(WHERE), query_args,
                                      streaming_args(mixtera, train_job, seq), return_key_id=True,
                                      execute_query=False)

    # 6. Train (static) ------------------------------------------------------------------------
    section(f"6. Train a tiny LM on job '{train_job}' for {steps} steps (the static mixture)")
    per_key_eval = 4 if args.quick else 8
    heldout = holdout_windows(mixtera, client, keys, seq, per_key_eval, tokenizer)
    heldout = {k: torch.from_numpy(v) for k, v in heldout.items()}
    phases.lap("held-out windows")
    model = tinylm.TinyLM(tokenizer.vocab_size, seq)
    initial_state = copy.deepcopy(model.state_dict())  # the ADO run starts from the same weights
    blas = tinylm.blas_library()
    print(f"  model: {tinylm.num_parameters(model) / 1e6:.2f} M parameters (2 transformer layers, d_model 64, "
          f"adaptive softmax over all {tokenizer.vocab_size:,} GPT-2 ids); batch {batch} x {seq} tokens; AdamW, "
          f"peak lr {args.lr:g}; {args.threads} torch threads; BLAS: {blas or 'unknown'}")
    if blas and not any(fast in blas for fast in ("openblas", "blis", "mkl")):
        print("  note: torch runs on Debian's reference BLAS (libblas3, not multithreaded); with "
              "libopenblas0-pthread installed the matrix products are several times faster")
    print(f">>> loader = DataLoader(ds, batch_size={batch}, num_workers={args.workers})")
    print(f">>> for key_ids, windows in loader: loss = model(windows)...   (train loss: mean of the last "
          f"{max(5, steps // 12)} steps; held-out loss: {sum(len(v) for v in heldout.values())} windows of "
          f"\"{WHERE_HOLDOUT}\", in nats per token)")
    print(f"  step    0                     held-out loss "
          f"{np.mean(list(training.heldout_losses(model, heldout).values())):6.3f}  "
          f"(uniform over the vocabulary: {tinylm.uniform_loss(tokenizer.vocab_size):.3f})")
    fork = "fork" if args.workers > 0 else None
    loader = torch.utils.data.DataLoader(dataset, batch_size=batch, num_workers=args.workers,
                                         multiprocessing_context=fork)
    static_run = training.train_run(model, loader, steps, heldout, len(keys), args.lr,
                                    log=lambda line: print(line, flush=True))
    del loader
    phases.lap("train static")

    # 7. Train with ADO (a live job) -----------------------------------------------------------
    ado_run = ado_log = ado_options = None
    if not args.no_ado:
        section(f"7. The same model, from the same initial weights, trained with ADO for {steps} steps")
        ado_chunk_windows = ADO_WINDOWS_PER_CHUNK_QUICK if args.quick else ADO_WINDOWS_PER_CHUNK
        # ADO's intervals, scaled from the original's defaults for runs of ~10k steps.
        ado_options = {"ignore_initial_steps": max(2, steps // 10), "start_step": max(4, steps // 5),
                       "scaling_law_update_interval": max(2, steps // 10), "subsampling_interval": 1}
        ado_mixture = mixtera.DynamicMixture(
            chunk_size=ado_chunk_windows * (seq + 1), unit="tokens", strict=True, seed=7, shuffle_block=4,
            initial_mixture=mixture, mixing_alg=mixtera.AdoDynamicMixing(**ado_options))
        print(">>> mix = DynamicMixture(chunk_size={}, unit='tokens', initial_mixture=<the static mixture>, "
              "mixing_alg=AdoDynamicMixing({}))   # {} windows per chunk".format(
                  ado_chunk_windows * (seq + 1), ", ".join(f"{k}={v}" for k, v in ado_options.items()),
                  ado_chunk_windows))
        print(">>> ds = MixteraTorchDataset(client, Query.for_job('ado').where(...), QueryExecutionArgs(mixture=mix, "
              "...), ...)")
        print(f">>> loader = MixteraDataLoader(ds, batch_size={batch}, num_workers={args.workers})")
        print(">>> for step, (key_ids, windows) in enumerate(loader, 1): ...; "
              "handle_mixtera_feedback(ds, step, per_key_loss_sums, per_key_tokens, dp_rank=0, tp_rank=0)")
        ado_dataset = MixteraTorchDataset(client, mixtera.Query.for_job("ado").where(WHERE),
                                          execution_args(mixtera, ado_mixture, args.workers, seq),
                                          streaming_args(mixtera, "ado", seq), return_key_id=True)
        model.load_state_dict(initial_state)
        loader = MixteraDataLoader(ado_dataset, batch_size=batch, num_workers=args.workers,
                                   multiprocessing_context=fork)
        feedback_seconds = [0.0]

        def send_feedback(step, key_ids, token_losses):
            t0 = time.perf_counter()
            losses, counts = training.per_key_feedback(key_ids, token_losses, len(keys))
            handle_mixtera_feedback(ado_dataset, step, losses, counts, dp_rank=0, tp_rank=0)
            feedback_seconds[0] += time.perf_counter() - t0

        ado_run = training.train_run(model, loader, steps, heldout, len(keys), args.lr, on_step=send_feedback,
                                     log=lambda line: print(line, flush=True))
        del loader
        ado_run["feedback_seconds"] = feedback_seconds[0]
        ado_log = client.mixture_log("ado")
        status = client.job_status("ado")
        # The step from which each mixture applies: the first step that trained on its chunk.
        chunk_steps = ado_run["chunk_steps"]
        ado_run["schedule"] = [(chunk_steps.get(c, steps) if c > 0 else 0, list(w)) for c, w in ado_log
                               if c == 0 or c in chunk_steps]
        print(f"  {len(ado_log) - 1} mixture changes over {len(chunk_steps)} chunks started; "
              f"{status['feedback_records']} feedback records in the job's log; feedback took "
              f"{1000 * feedback_seconds[0] / max(1, ado_run['steps']):.2f} ms per step in the loop")
        shown = ado_run["schedule"] if len(ado_run["schedule"]) <= 6 else (
            ado_run["schedule"][:3] + ado_run["schedule"][-3:])
        table(["from step"] + labels, [[f"{s}"] + [f"{w:.3f}" for w in ws] for s, ws in shown],
              [">"] * (len(labels) + 1))
        phases.lap("train ADO")

    # 8. Report --------------------------------------------------------------------------------
    section(f"{8 if ado_run else 7}. Delivered vs the mixture")
    jobs = [a for a in (acc_exact, acc_est) if a is not None]
    header = ["mixture key", "weight"]
    groups = []
    for a in jobs:
        groups.append((f" job '{a['job']}' ", len(header), 4))
        header += ["samples", "tokens", "share", "dev (pp)"]
    rows = []
    for i, lab in enumerate(labels):
        row = [lab, f"{weights[i]:.2f}"]
        for a in jobs:
            row += [f"{a['samples'][i]:,}", f"{a['tokens'][i]:,}", f"{100 * a['share'][i]:.2f}%",
                    f"{100 * (a['share'][i] - weights[i]):+.2f}"]
        rows.append(row)
    row = ["total", "1.00"]
    for a in jobs:
        row += [f"{int(a['samples'].sum()):,}", f"{int(a['tokens'].sum()):,}", "", ""]
    rows.append(row)
    print(f"  every chunk of the job{'s' if len(jobs) > 1 else ''}, streamed alone (tokens: in windows of "
          f"{seq}+1; samples: distinct samples the chunks name):")
    table(header, rows, groups=groups)
    for a in jobs:
        print(f"  '{a['job']}': {a['wasted_total']:,} tokens left over in partial windows (not delivered)")

    runs = [("static", static_run)] + ([("ADO", ado_run)] if ado_run else [])
    header = ["mixture key", "weight"]
    groups = []
    for name, run_ in runs:
        groups.append((f" {name} ", len(header), 3))
        header += ["windows", "share", "held-out loss"]
    rows = []
    for i, lab in enumerate(labels):
        row = [lab, f"{weights[i]:.2f}"]
        for _, run_ in runs:
            share = run_["windows"][i] / max(1, int(run_["windows"].sum()))
            before, after = run_["heldout"][0][1], run_["heldout"][-1][1]
            row += [f"{run_['windows'][i]:,}", f"{100 * share:.2f}%",
                    f"{before[i]:.2f} -> {after[i]:.2f}" if i in after else "(none)"]
        rows.append(row)
    row = ["mean", ""]
    for _, run_ in runs:
        before, after = run_["heldout"][0][1], run_["heldout"][-1][1]
        row += [f"{int(run_['windows'].sum()):,}", "",
                f"{np.mean(list(before.values())):.2f} -> {np.mean(list(after.values())):.2f}"]
    rows.append(row)
    source = (f"{args.workers} DataLoader worker{'s' if args.workers > 1 else ''}" if args.workers
              else "the DataLoader's main process")
    print(f"\n  what the model trained on ({steps} steps x {batch} windows of {seq}+1 tokens from {source}), and "
          f"held-out loss per key (nats/token) before -> after:")
    table(header, rows, groups=groups)

    plots = {}
    if ado_run:
        plots = {"mixture_weights": os.path.join(out, "mixture_weights.png"),
                 "heldout_loss": os.path.join(out, "heldout_loss.png")}
        demo_plots.mixture_weights(plots["mixture_weights"], labels, weights, ado_run["schedule"], steps)
        demo_plots.heldout_loss(plots["heldout_loss"], labels,
                                {"static": static_run["heldout"], "ADO": ado_run["heldout"]})
        print("  plots: " + ", ".join(os.path.relpath(p, os.getcwd()) for p in plots.values()))

    section("Throughput (2 cores shared by everything)" if os.cpu_count() == 2 else "Throughput")
    print("  data path alone: " + ", ".join(f"'{a['job']}' {a['tokens'].sum() / a['seconds'] / 1e6:.2f} M tokens/s"
                                            for a in reversed(jobs)) +
          " (read + decompress + GPT-2 tokenize + pack on the client's C++ threads, one process)")
    for name, run_ in runs:
        trained_tokens = run_["steps"] * batch * (seq + 1)
        print(f"  training ({name}): {trained_tokens:,} tokens in {run_['seconds']:.1f} s = "
              f"{trained_tokens / run_['seconds']:,.0f} tokens/s ({run_['seconds'] / max(1, run_['steps']):.2f} s per "
              f"step); waiting for data: {run_['first_wait']:.2f} s for the first batch (worker start-up), then "
              f"{run_['wait']:.2f} s over the other {max(0, run_['steps'] - 1)} steps "
              f"({100 * run_['wait'] / run_['seconds']:.1f}%)")
    print("  wall time per phase: " + ", ".join(f"{n} {s:.1f} s" for n, s in phases.done))

    def run_report(run_, job):
        return {"job": job, "steps": run_["steps"], "batch": batch, "sequence_length": seq,
                "windows": run_["windows"].tolist(), "losses": run_["losses"], "seconds": run_["seconds"],
                "tokens_per_s": run_["steps"] * batch * (seq + 1) / run_["seconds"],
                "first_batch_wait_s": run_["first_wait"], "data_wait_s": run_["wait"],
                "heldout": [[s, {labels[k]: v for k, v in h.items()}] for s, h in run_["heldout"]],
                "heldout_before": {labels[k]: v for k, v in run_["heldout"][0][1].items()},
                "heldout_after": {labels[k]: v for k, v in run_["heldout"][-1][1].items()}}

    # The numbers above as JSON, for tests and for comparing runs.
    report = {
        "corpus": {"sha256": corpus_sha256, "documents": len(records)},
        "keys": [{"label": lab, "key": k, "weight": w} for lab, k, w in keys],
        "jobs": {a["job"]: {"samples": a["samples"].tolist(), "tokens": a["tokens"].tolist(),
                            "share": a["share"].tolist(), "wasted_tokens": a["wasted_total"],
                            "wasted_per_key": a["wasted"].tolist(),
                            "chunks": a["chunks"], "tokens_per_s": a["tokens"].sum() / a["seconds"]}
                 for a in jobs},
        "train": run_report(static_run, train_job),
        "phases": dict(phases.done), "total_s": time.perf_counter() - t_start, "plots": plots,
    }
    if ado_run:
        report["ado"] = dict(run_report(ado_run, "ado"), options=ado_options,
                             chunk_windows=ado_chunk_windows, feedback_seconds=ado_run["feedback_seconds"],
                             mixture_log=[[c, list(w)] for c, w in ado_log],
                             chunk_steps={str(c): s for c, s in sorted(ado_run["chunk_steps"].items())},
                             schedule=ado_run["schedule"])
    with open(os.path.join(out, "report.json"), "w") as f:
        json.dump(report, f, indent=1)
    print(f"  total {time.perf_counter() - t_start:.0f} s; the corpus, the Mixtera directory, its jobs, the report "
          f"and the plots are in {out}")


if __name__ == "__main__":
    main()
