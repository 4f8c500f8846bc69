"""The data path of a live job: token-mode tokens/s for a dynamic job with lag 0 and lag 2
against a static job of the same data and weights (bench/dynamic/README.md).

    PYTHONPATH=build/python /usr/bin/python3 bench/dynamic/data_path.py [--rounds 3] [--chunks 60]

The corpus is generated (8 keys, Debian's licence texts cut into documents); the tokenizer is
GPT-2 (third_party/tokenizers/gpt2.json, fetched by the set-up). Each contender streams
`--chunks` chunks of 256 windows (1024 + 1 tokens) in token mode with prefetch 2; the dynamic
ones get loss-averaging feedback after every chunk, as a trainer would send. The contenders
run in turn, `--rounds` times; medians are printed with ratios.
"""

import argparse
import glob
import json
import os
import statistics
import sys
import tempfile
import time

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--chunks", type=int, default=60)
    args = p.parse_args()
    from mixtera import (ClientFeedback, DynamicMixture, MixteraClient, MixtureKey, Query, QueryExecutionArgs,
                         ResultStreamingArgs, SimpleAveragingAlgorithm, StaticMixture)
    tokenizer = os.path.join(REPO, "third_party", "tokenizers", "gpt2.json")
    texts = []
    for path in sorted(glob.glob("/usr/share/common-licenses/*")):
        if os.path.isfile(path):
            with open(path, encoding="utf-8", errors="replace") as f:
                texts.append(f.read())
    if not texts:
        sys.exit("data_path: no licence texts under /usr/share/common-licenses")
    root = tempfile.mkdtemp(prefix="mx_dyn_path_")
    os.makedirs(os.path.join(root, "data"))
    keys = 8
    seq = 1024
    chunk_tokens = 256 * (seq + 1)
    need_tokens = (args.chunks + 2) * chunk_tokens * args.rounds * 3
    with open(os.path.join(root, "data", "c.jsonl"), "w", encoding="utf-8") as f:
        n, chars = 0, 0
        while chars < need_tokens * 4 * 1.2:
            t = texts[n % len(texts)]
            start = (n * 977) % max(1, len(t) - 2000)
            doc = t[start:start + 1500 + (n % 7) * 300]
            f.write(json.dumps({"text": doc, "k": f"k{n % keys}"}) + "\n")
            chars += len(doc)
            n += 1
    client = MixteraClient.from_directory(os.path.join(root, "mx"))
    client.register_dataset("c", {"name": "c", "format": "jsonl", "path": os.path.join(root, "data", "c.jsonl"),
                                  "text": "text", "properties": {"k": "string"}})
    client.count_tokens("c", tokenizer)  # exact token quotas, as a training run would use
    weights = {MixtureKey({"k": [f"k{i}"]}): 1.0 / keys for i in range(keys)}

    def mixture(kind):
        static = StaticMixture(chunk_tokens, weights, unit="tokens", strict=False)
        if kind == "static":
            return static
        return DynamicMixture(chunk_tokens, static, SimpleAveragingAlgorithm(), unit="tokens", strict=False,
                              mixture_lag_chunks=0 if kind == "lag0" else 2)

    results = {"static": [], "lag0": [], "lag2": []}
    run = 0
    for _ in range(args.rounds):
        for kind in results:
            job = f"{kind}_{run}"
            run += 1
            client.execute_query(Query.for_job(job).select(None),
                                 QueryExecutionArgs(mixture=mixture(kind), tokenizer=tokenizer, sequence_length=seq))
            stream = client._stream_chunks(ResultStreamingArgs(job, mode="tokens", tokenizer=tokenizer,
                                                               sequence_length=seq, prefetch_chunks=2))
            tokens = 0
            start = time.perf_counter()
            for step, chunk in enumerate(stream):
                client._note_received(job, chunk["chunk"], chunk["mixture_id"])
                tokens += chunk["windows"].size
                if kind != "static":
                    key_ids = chunk["key_ids"]
                    counts = np.bincount(key_ids, minlength=keys)
                    losses = (counts * (1.0 + (np.arange(keys) % 3))).astype(np.float32)
                    client.process_feedback(job, ClientFeedback(step + 1, losses=losses, counts=counts))
                if step + 1 >= args.chunks:
                    break
            results[kind].append(tokens / (time.perf_counter() - start))
    med = {k: statistics.median(v) for k, v in results.items()}
    print(json.dumps({"bench": "data_path", "chunks": args.chunks, "rounds": args.rounds,
                      "static_Mtokens_per_s": round(med["static"] / 1e6, 3),
                      "lag0_Mtokens_per_s": round(med["lag0"] / 1e6, 3),
                      "lag2_Mtokens_per_s": round(med["lag2"] / 1e6, 3),
                      "ratio_lag0_vs_static": round(med["lag0"] / med["static"], 3),
                      "ratio_lag2_vs_static": round(med["lag2"] / med["static"], 3)}))
    client.close()


if __name__ == "__main__":
    main()
