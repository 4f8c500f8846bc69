#!/usr/bin/python3
"""Tokenizer benchmark: Mixtera's native tokenizers against HF `tokenizers`, `tiktoken` (WASM),
`gpt-tokenizer` (pure JS) and libsentencepiece, on the same real mixed text, in one run
(see README.md next to this file).

  /usr/bin/python3 bench/tokenize/run.py [--build BUILD_DIR] [--mb 64] [--repeat 3] [--quick]

The corpus (tools/tokenizers/make_corpus.py --mb N) is generated once and cached under
corpus/tokenize/ (git-ignored). For GPT-2, cl100k, o200k, Mistral and Llama-2, --repeat
rounds run every implementation once, in turn, each as its own process
(build/bench/tokenize_bench for Mixtera and libsentencepiece, bench/tokenize/peers.js under
node for the npm peers) that reads the corpus, loads the tokenizer, warms up on the first few
MB and then times one encoding of all texts; the median over the rounds is reported. Mixtera,
HF (RAYON_NUM_THREADS) and libsentencepiece run on 1 and 2 threads, tiktoken and
gpt-tokenizer (single-threaded JavaScript / WASM) on 1; two concurrent 1-thread Mixtera
processes measure what the two cores give to independent encoders. Every
peer's ids are checked against Mixtera's on the same vocabulary (a hash over all ids; on a
difference the documents that differ are located and described). Differences are reported,
not fatal; the exit status is non-zero only when a run failed or Mixtera's ids on 2 threads
differ from those on 1.
"""

from __future__ import annotations

import argparse
import array
import hashlib
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import unicodedata
from typing import Dict, List, Optional, Tuple

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
VOCAB = os.path.join(REPO, "third_party", "tokenizers")
MODULES = os.path.join(REPO, "third_party", "tokenizer_oracles")
MAKE_CORPUS = os.path.join(REPO, "tools", "tokenizers", "make_corpus.py")
PEERS_JS = os.path.join(HERE, "peers.js")

# Targets of the issue (single-threaded ratios; 2 threads vs 1).
TARGET_VS_HF = 3.0
TARGET_VS_JS = 1.5        # vs the faster of tiktoken and gpt-tokenizer
TARGET_VS_SPM = 1.5       # vs libsentencepiece, Llama-2
TARGET_SCALING = 1.8      # Mixtera 2 threads / 1 thread

# The tokenizers. "mixtera": the files Mixtera runs on (the first is the one the HF ratio
# uses when it is the HF file, the rank file the one the tiktoken / gpt-tokenizer ratio uses);
# "hf": the tokenizer.json HF runs on; "js": the encoding tiktoken and gpt-tokenizer run on;
# "spm": the .model libsentencepiece runs on. Each peer's ids are compared with Mixtera's on
# the same file (HF, libsentencepiece) or on the rank file of the same encoding (tiktoken,
# gpt-tokenizer).
TOKENIZERS = [
    {"name": "GPT-2", "mixtera": ["gpt2.json", "r50k_base.tiktoken"], "hf": "gpt2.json",
     "js": "r50k_base", "js_file": "r50k_base.tiktoken", "targets": ["hf", "js", "scaling"]},
    {"name": "cl100k", "mixtera": ["cl100k_base.tiktoken", "cl100k_hf.json"],
     "hf": "cl100k_hf.json", "js": "cl100k_base", "js_file": "cl100k_base.tiktoken",
     "targets": ["hf", "js", "scaling"]},
    {"name": "o200k", "mixtera": ["o200k_base.tiktoken"], "hf": None,
     "hf_missing": "no HF tokenizer.json of o200k in third_party/tokenizers: HF not run",
     "js": "o200k_base", "js_file": "o200k_base.tiktoken", "targets": ["hf", "js", "scaling"]},
    {"name": "Mistral", "mixtera": ["mistral-7b.json"], "hf": "mistral-7b.json",
     "targets": ["scaling"]},
    {"name": "Llama-2", "mixtera": ["llama2.model"], "spm": "llama2.model",
     "targets": ["spm", "scaling"]},
]

MAX_SHOWN = 5          # differing documents described per mismatch
MAX_LOCATED = 2000     # differing documents whose first difference is located in the text


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def read_through(path: str) -> int:
    """Reads a file once so that it is in the page cache."""
    total = 0
    with open(path, "rb", buffering=0) as f:
        while True:
            chunk = f.read(8 << 20)
            if not chunk:
                return total
            total += len(chunk)


def fmt_rate(x: Optional[float]) -> str:
    if x is None:
        return "-"
    if x >= 1e6:
        return f"{x / 1e6:.2f}M"
    if x >= 1e3:
        return f"{x / 1e3:.1f}k"
    return f"{x:.0f}"


# --- the corpus ---------------------------------------------------------------------------

def ensure_corpus(path: str, mb: float, timeout: float) -> Tuple[str, bool]:
    """Generates the corpus at `path` unless it exists; returns (path, cached)."""
    if os.path.isfile(path) and os.path.getsize(path) > 0:
        return path, True
    if not os.path.isfile(MAKE_CORPUS):
        raise SystemExit(f"run.py: {MAKE_CORPUS} not found")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = path + ".tmp"
    log(f"generating {path} ({mb:g} MB) ...")
    r = subprocess.run([sys.executable, MAKE_CORPUS, "--out", tmp, "--mb", f"{mb:g}"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=timeout)
    if r.returncode != 0:
        raise SystemExit(f"run.py: make_corpus.py failed (exit {r.returncode}):\n{r.stderr[-3000:]}")
    log(r.stderr.strip().splitlines()[0] if r.stderr.strip() else "generated")
    os.replace(tmp, path)
    return path, False


class Corpus:
    """Texts and kinds, read only when a difference must be described."""

    def __init__(self, path: str):
        self.path = path
        # The corpus is partly this machine's files (/usr/include, /usr/lib/python3.11), so it
        # differs between machines: its sha256 names it wherever the conditions are printed.
        h = hashlib.sha256()
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(8 << 20), b""):
                h.update(block)
        self.sha256 = h.hexdigest()
        self._texts: Optional[List[str]] = None
        self._kinds: Optional[List[str]] = None

    def load(self) -> None:
        if self._texts is not None:
            return
        texts, kinds = [], []
        with open(self.path, encoding="utf-8") as f:
            for line in f:
                if line.strip():
                    d = json.loads(line)
                    texts.append(d["text"])
                    kinds.append(str(d.get("kind", "?")))
        self._texts, self._kinds = texts, kinds

    @property
    def texts(self) -> List[str]:
        self.load()
        return self._texts  # type: ignore[return-value]

    @property
    def kinds(self) -> List[str]:
        self.load()
        return self._kinds  # type: ignore[return-value]


def read_ids(path: str) -> List[array.array]:
    """The --dump-ids file: per document a uint32 count, then that many int32 ids."""
    a = array.array("i")
    with open(path, "rb") as f:
        a.frombytes(f.read())
    if sys.byteorder != "little":
        a.byteswap()
    docs, k = [], 0
    while k < len(a):
        n = a[k]
        docs.append(a[k + 1:k + 1 + n])
        k += 1 + n
    return docs


def unusual_char(window: str) -> Optional[str]:
    """The first character of `window` that regex engines are known to disagree on: outside
    printable ASCII, tab, CR and LF, and a separator, control or format character."""
    for c in window:
        if c in "\t\n\r" or " " <= c <= "~":
            continue
        if unicodedata.category(c)[0] in "ZC":
            return c
    return None


def char_name(c: Optional[str]) -> str:
    if c is None:
        return "none"
    return f"U+{ord(c):04X} {unicodedata.name(c, unicodedata.category(c))}"


def load_decoder(file: str):
    """Mixtera's own tokenizer (the Python module in BUILD/python) to locate differences in
    the text, or None when it is not importable."""
    try:
        import mixtera  # noqa: F401  (BUILD/python is put on sys.path in main)
        return mixtera.Tokenizer.from_file(os.path.join(VOCAB, file))
    except Exception:  # pylint: disable=broad-except
        return None


def describe_difference(corpus: Corpus, ref_path: str, other_path: str, decoder) -> Dict:
    """Compares two id dumps document by document; with a decoder (Mixtera's tokenizer of the
    reference) also finds the text where each document first differs."""
    ref, other = read_ids(ref_path), read_ids(other_path)
    out: Dict = {"docs": len(ref), "other_docs": len(other), "differing": 0, "examples": [],
                 "first_difference_near": {}}
    if len(ref) != len(other):
        return out
    texts, kinds = corpus.texts, corpus.kinds
    near: Dict[str, int] = {}
    for i, (a, b) in enumerate(zip(ref, other)):
        if a == b:
            continue
        out["differing"] += 1
        text = texts[i]
        k = next((j for j, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
        window = None
        if decoder is not None and out["differing"] <= MAX_LOCATED:
            # The text the common ids cover (cut back to a prefix of the text: the last common
            # token may end inside a character), then the next few characters.
            pre = decoder.decode(list(a[:k]))
            while pre and not text.startswith(pre):
                pre = pre[:-1]
            start = len(pre)
            window = text[start:start + 24]
            # The characters where the two sides disagree: what the next few tokens of
            # either side cover (the first disagreement is in there), else a wider window.
            span = max(len(decoder.decode(list(a[k:k + 4]))), len(decoder.decode(list(b[k:k + 4]))))
            key = char_name(unusual_char(text[start:start + span + 1])
                            or unusual_char(text[start:start + 200]))
            near[key] = near.get(key, 0) + 1
        if len(out["examples"]) < MAX_SHOWN:
            e = {"doc": i, "kind": kinds[i], "bytes": len(text.encode("utf-8")),
                 "mixtera_tokens": len(a), "peer_tokens": len(b), "first_diff_token": k,
                 "mixtera_ids": list(a[k:k + 4]), "peer_ids": list(b[k:k + 4])}
            if window is not None:
                e["text_at_difference"] = window
            out["examples"].append(e)
    if decoder is not None:
        out["first_difference_near"] = dict(sorted(near.items(), key=lambda x: -x[1]))
        out["located"] = min(out["differing"], MAX_LOCATED)
    return out


# --- running one implementation ---------------------------------------------------------

class Bench:
    def __init__(self, args: argparse.Namespace, corpus: Corpus):
        self.args = args
        self.corpus = corpus
        self.build = os.path.abspath(args.build)
        self.binary = os.path.join(self.build, "bench", "tokenize_bench")
        self.node = shutil.which("node")
        self.work = tempfile.mkdtemp(prefix="bench_tokenize_")
        self.results: List[Dict] = []   # one per run: tokenizer, impl, file, threads, medians
        self.failures: List[str] = []
        self.notes: List[str] = []
        self.mismatches: List[Dict] = []
        self.peers_reason = self.probe_peers()

    def probe_peers(self) -> Optional[str]:
        if self.args.skip_peers:
            return "skipped (--skip-peers)"
        if not self.node:
            return "node not found"
        for m in ("tokenizers", "tiktoken", "gpt-tokenizer"):
            if not os.path.isdir(os.path.join(MODULES, "node_modules", m)):
                return f"{MODULES}/node_modules/{m} missing (make setup installs it)"
        return None

    # -- jobs: one implementation on one tokenizer file and thread count --------------------

    def job(self, t: Dict, impl: str, label: str, file: str, threads: int, cmd: List[str],
            env: Optional[Dict[str, str]] = None, procs: int = 1) -> Dict:
        return {"tokenizer": t["name"], "impl": impl, "label": label, "file": file,
                "threads": threads, "cmd": cmd + self.common(), "env": env, "procs": procs,
                "dump": None if procs > 1 else self.dump_path(f"{impl}-{file}-{threads}"),
                "rounds": [], "loads": [], "failed": False}

    def common(self) -> List[str]:
        return ["--corpus", self.corpus.path, "--repeat", "1",
                "--warmup-mb", f"{self.args.warmup_mb:g}"]

    def mixtera_job(self, t: Dict, file: str, threads: int, library_sp: bool = False,
                    procs: int = 1) -> Dict:
        cmd = [self.binary, "--tokenizer", os.path.join(VOCAB, file), "--threads", str(threads)]
        if library_sp:
            cmd.append("--library-sentencepiece")
            return self.job(t, "libsentencepiece", f"libsentencepiece ({file})", file, threads, cmd)
        if procs > 1:
            return self.job(t, "mixtera-2proc", f"{procs} procs x mixtera ({file})", file, procs,
                            cmd, procs=procs)
        return self.job(t, "mixtera", f"mixtera ({file})", file, threads, cmd)

    def peer_job(self, t: Dict, peer: str, arg: str, threads: int) -> Dict:
        tok = os.path.join(VOCAB, arg) if peer == "hf" else arg
        cmd = [self.node, PEERS_JS, "--peer", peer, "--tokenizer", tok, "--modules", MODULES]
        env = {"RAYON_NUM_THREADS": str(threads)} if peer == "hf" else None
        impl = {"hf": "hf-tokenizers"}.get(peer, peer)
        return self.job(t, impl, f"{impl} ({arg})", arg, threads, cmd, env=env)

    def execute(self, job: Dict, dump: bool) -> None:
        """Runs one round of a job: `procs` processes at the same time, each encoding the
        corpus once after its warm-up; records the round or the failure."""
        if job["failed"]:
            return
        name = f"{job['tokenizer']} / {job['label']} / " + (
            "1 thread each" if job["procs"] > 1 else
            f"{job['threads']} thread" + ("s" if job["threads"] > 1 else ""))
        env = dict(os.environ)
        env.update(job["env"] or {})
        cmd = job["cmd"] + (["--dump-ids", job["dump"]] if dump and job["dump"] else [])
        procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                  env=env, stdin=subprocess.DEVNULL) for _ in range(job["procs"])]
        reps, loads, problem = [], [], None
        for p in procs:
            try:
                out, err = p.communicate(timeout=self.args.timeout)
            except subprocess.TimeoutExpired:
                p.kill()
                out, err = p.communicate()
                problem = problem or f"{name}: timed out after {self.args.timeout:.0f} s"
                continue
            lines = [json.loads(x) for x in out.splitlines() if x.startswith("{")]
            rep = [x for x in lines if x.get("event") == "rep"]
            if p.returncode != 0 or not rep:
                problem = problem or f"{name}: exit {p.returncode}: {err.strip()[-2000:]}"
                continue
            reps.append(rep[-1])
            loads.append(next((x for x in lines if x.get("event") == "load"), {}))
        if problem:
            job["failed"] = True
            self.failures.append(problem)
            log("FAILED " + problem)
            return
        job["rounds"].append(reps)
        job["loads"].extend(loads)
        mb_s = sum(r["mb_per_s"] for r in reps)
        per_proc = ", ".join(f"{r['mb_per_s']:.2f}" for r in reps)
        extra = f" (together; per process {per_proc})" if len(reps) > 1 else ""
        log(f"  {name}: {mb_s:.2f} MB/s{extra}, {reps[0]['tokens']} tokens, "
            f"load {loads[0].get('load_s', 0):.2f} s")

    def finish(self, job: Dict) -> Optional[Dict]:
        """The result of a job: medians over its rounds (the summed rate of its processes)."""
        if job["failed"] or not job["rounds"]:
            return None
        rounds = job["rounds"]
        hashes = {r["ids_hash"] for reps in rounds for r in reps}
        tokens = {r["tokens"] for reps in rounds for r in reps}
        if len(hashes) != 1 or len(tokens) != 1:
            self.failures.append(f"{job['tokenizer']} / {job['label']} / {job['threads']} "
                                 f"threads: runs disagree (tokens {sorted(tokens)}, hashes "
                                 f"{sorted(hashes)})")
        last = rounds[-1][0]
        res = {
            "tokenizer": job["tokenizer"], "impl": job["impl"], "label": job["label"],
            "file": job["file"], "threads": job["threads"], "processes": job["procs"],
            "mb_per_s": statistics.median(sum(r["mb_per_s"] for r in reps) for reps in rounds),
            "tokens_per_s": statistics.median(sum(r["tokens_per_s"] for r in reps)
                                              for reps in rounds),
            "seconds": statistics.median(max(r["seconds"] for r in reps) for reps in rounds),
            "tokens": last["tokens"], "ids_hash": last["ids_hash"], "mb": last["mb"],
            "texts": last["texts"],
            "load_s": statistics.median(x.get("load_s", 0.0) for x in job["loads"]),
            "rounds_mb_per_s": [sum(r["mb_per_s"] for r in reps) for reps in rounds],
            "dump": job["dump"],
        }
        if "fingerprint" in job["loads"][-1]:
            res["fingerprint"] = job["loads"][-1]["fingerprint"]
        self.results.append(res)
        return res

    # -- one tokenizer ------------------------------------------------------------------

    def dump_path(self, name: str) -> str:
        return os.path.join(self.work, name.replace("/", "_") + ".ids")

    def check(self, t: Dict, ref: Optional[Dict], other: Optional[Dict], fatal: bool) -> None:
        """Compares other's ids with ref's (Mixtera on the same vocabulary)."""
        if not ref or not other:
            return
        if ref["ids_hash"] == other["ids_hash"] and ref["tokens"] == other["tokens"]:
            other["ids_match"] = ref["label"]
            return
        what = (f"{t['name']}: {other['label']} on {other['threads']} thread(s) gives "
                f"{other['tokens']} tokens (ids hash {other['ids_hash']}), {ref['label']} on "
                f"{ref['threads']} thread(s) {ref['tokens']} (hash {ref['ids_hash']})")
        entry = {"tokenizer": t["name"], "mixtera": ref["label"], "peer": other["label"],
                 "peer_threads": other["threads"], "mixtera_tokens": ref["tokens"],
                 "peer_tokens": other["tokens"], "message": what}
        other["ids_match"] = False
        if ref.get("dump") and other.get("dump") and os.path.isfile(ref["dump"]) \
                and os.path.isfile(other["dump"]):
            entry["detail"] = describe_difference(self.corpus, ref["dump"], other["dump"],
                                                  load_decoder(ref["file"]))
        self.mismatches.append(entry)
        log("MISMATCH " + what)
        if fatal:
            self.failures.append(what)

    def measure(self, t: Dict) -> None:
        """Runs --repeat rounds; in each, every implementation encodes the corpus once in a
        process of its own (alternating, so that load changes on a shared machine hit all of
        them alike); then compares the ids."""
        name = t["name"]
        log(f"{name}:")
        jobs: List[Dict] = []
        mx: Dict[Tuple[str, int], Dict] = {}
        for file in t["mixtera"]:
            path = os.path.join(VOCAB, file)
            if not os.path.isfile(path):
                self.failures.append(f"{name}: {path} missing (make setup fetches it)")
                continue
            for threads in self.args.threads:
                mx[(file, threads)] = self.mixtera_job(t, file, threads)
                jobs.append(mx[(file, threads)])
            if file == t["mixtera"][0] and self.args.threads == [1, 2] \
                    and not self.args.skip_ceiling:
                jobs.append(self.mixtera_job(t, file, 1, procs=2))
        checks: List[Tuple[Tuple[str, int], Dict, bool]] = []   # (reference, job, fatal)
        for file in t["mixtera"]:
            for threads in self.args.threads[1:]:
                if (file, threads) in mx:
                    checks.append(((file, self.args.threads[0]), mx[(file, threads)], True))
        if t.get("spm"):
            for threads in self.args.threads:
                j = self.mixtera_job(t, t["spm"], threads, library_sp=True)
                jobs.append(j)
                checks.append(((t["spm"], self.args.threads[0]), j, False))
        if self.peers_reason is None:
            if t.get("hf"):
                for threads in self.args.threads:
                    j = self.peer_job(t, "hf", t["hf"], threads)
                    jobs.append(j)
                    checks.append(((t["hf"], self.args.threads[0]), j, False))
            elif t.get("hf_missing"):
                self.notes.append(f"{name}: {t['hf_missing']}")
            if t.get("js"):
                for peer in ("tiktoken", "gpt-tokenizer"):
                    j = self.peer_job(t, peer, t["js"], 1)
                    jobs.append(j)
                    checks.append(((t["js_file"], self.args.threads[0]), j, False))
        for rnd in range(self.args.repeat):
            log(f" round {rnd + 1}/{self.args.repeat}")
            for j in jobs:
                self.execute(j, dump=rnd == self.args.repeat - 1)
        results = {id(j): self.finish(j) for j in jobs}
        for ref_key, j, fatal in checks:
            ref = mx.get(ref_key)
            self.check(t, results.get(id(ref)) if ref else None, results[id(j)], fatal)
        for f in os.listdir(self.work):
            if f.endswith(".ids"):
                os.remove(os.path.join(self.work, f))

    # -- output -------------------------------------------------------------------------

    def find(self, tokenizer: str, impl: str, threads: int, file: Optional[str] = None
             ) -> Optional[Dict]:
        for r in self.results:
            if r["tokenizer"] == tokenizer and r["impl"] == impl and r["threads"] == threads \
                    and (file is None or r.get("file") == file):
                return r
        return None

    def table(self) -> List[str]:
        lines = [f"{'tokenizer':<9} {'implementation':<41} {'thr':>3} {'MB/s':>8} "
                 f"{'tokens/s':>9} {'tokens':>11} {'load s':>6}  ids"]
        for r in self.results:
            match = r.get("ids_match")
            if r["impl"] == "mixtera" and r["threads"] == self.args.threads[0]:
                ids = "ref"
            elif r["impl"] == "mixtera-2proc":
                ids = "(ceiling)"
            else:
                ids = "same" if match else ("-" if match is None else "DIFFER")
            lines.append(f"{r['tokenizer']:<9} {r['label']:<41} {r['threads']:>3} "
                         f"{r['mb_per_s']:>8.2f} {fmt_rate(r['tokens_per_s']):>9} "
                         f"{r['tokens']:>11} {r['load_s'] or 0:>6.2f}  {ids}")
        return lines

    def ratios(self) -> Tuple[List[str], List[str], List[Dict]]:
        """Ratio lines, misses, and the ratios as data."""
        lines: List[str] = []
        misses: List[str] = []
        data: List[Dict] = []

        def add(tok: str, what: str, num: Optional[Dict], den: Optional[Dict],
                target: Optional[float], den_label: Optional[str] = None,
                num_label: str = "Mixtera") -> None:
            if not num or not den:
                missing = num_label if not num else (den_label or "the peer")
                lines.append(f"{tok:<9} {what:<52} n/a ({missing} not measured)")
                data.append({"tokenizer": tok, "ratio": what, "value": None, "target": target})
                return
            x = num["mb_per_s"] / den["mb_per_s"]
            verdict = ""
            if target is not None:
                ok = x >= target
                verdict = f"  (target >= {target:g}x) {'met' if ok else 'MISSED'}"
                if not ok:
                    misses.append(f"{tok} {what} {x:.2f}x")
            else:
                verdict = "  (no target)"
            lines.append(f"{tok:<9} {what:<52} {x:6.2f}x{verdict}")
            data.append({"tokenizer": tok, "ratio": what, "value": x, "target": target,
                         "met": (x >= target) if target is not None else None,
                         "numerator": num["label"], "denominator": den["label"]})

        for t in TOKENIZERS:
            if t["name"] not in self.args.only:
                continue
            n = t["name"]
            targets = t["targets"]
            if t.get("hf") or "hf" in targets:
                hf_file = t.get("hf")
                target = TARGET_VS_HF if "hf" in targets else None
                if hf_file:
                    add(n, f"mixtera({hf_file}, 1) / HF(1)", self.find(n, "mixtera", 1, hf_file),
                        self.find(n, "hf-tokenizers", 1), target, "HF")
                    add(n, f"mixtera({hf_file}, 2) / HF(2)", self.find(n, "mixtera", 2, hf_file),
                        self.find(n, "hf-tokenizers", 2), None, "HF")
                else:
                    lines.append(f"{n:<9} {'mixtera(1) / HF(1)':<52} n/a (no HF tokenizer.json "
                                 f"of {n} here; target >= {TARGET_VS_HF:g}x not checkable)")
                    data.append({"tokenizer": n, "ratio": "mixtera(1) / HF(1)", "value": None,
                                 "target": TARGET_VS_HF, "why": "no HF file"})
            if t.get("js"):
                tt, gt = self.find(n, "tiktoken", 1), self.find(n, "gpt-tokenizer", 1)
                faster = max([x for x in (tt, gt) if x], key=lambda x: x["mb_per_s"], default=None)
                which = faster["impl"] if faster else "-"
                add(n, f"mixtera({t['js_file']}, 1) / max(tiktoken, gpt-tok.) [{which}]",
                    self.find(n, "mixtera", 1, t["js_file"]), faster,
                    TARGET_VS_JS if "js" in targets else None, "tiktoken / gpt-tokenizer")
            if t.get("spm"):
                add(n, f"mixtera({t['spm']}, 1) / libsentencepiece(1)",
                    self.find(n, "mixtera", 1, t["spm"]), self.find(n, "libsentencepiece", 1),
                    TARGET_VS_SPM, "libsentencepiece")
                add(n, f"mixtera({t['spm']}, 2) / libsentencepiece(2)",
                    self.find(n, "mixtera", 2, t["spm"]), self.find(n, "libsentencepiece", 2),
                    None, "libsentencepiece")
            if 2 in self.args.threads and 1 in self.args.threads:
                for f in t["mixtera"]:
                    add(n, f"mixtera({f}) 2 threads / 1 thread", self.find(n, "mixtera", 2, f),
                        self.find(n, "mixtera", 1, f), TARGET_SCALING, "1 thread")
                    if self.find(n, "mixtera-2proc", 2, f):
                        add(n, "2 concurrent 1-thread processes / 1 (machine ceiling)",
                            self.find(n, "mixtera-2proc", 2, f), self.find(n, "mixtera", 1, f),
                            None, "1 thread")
                if t.get("hf"):
                    add(n, "HF 2 threads / 1 thread", self.find(n, "hf-tokenizers", 2),
                        self.find(n, "hf-tokenizers", 1), None, "HF", num_label="HF")
        return lines, misses, data

    def mismatch_lines(self) -> List[str]:
        out = []
        for m in self.mismatches:
            out.append(m["message"])
            d = m.get("detail")
            if not d:
                continue
            if d["docs"] != d["other_docs"]:
                out.append(f"    different document counts ({d['docs']} vs {d['other_docs']})")
                continue
            out.append(f"    {d['differing']} of {d['docs']} documents differ")
            if d.get("first_difference_near"):
                out.append(f"    first difference (of {d['located']} located) near: " + "; ".join(
                    f"{c}: {n} docs" for c, n in d["first_difference_near"].items()))
            for e in d["examples"]:
                at = f" at {e['text_at_difference']!r}" if "text_at_difference" in e else ""
                out.append(f"    doc {e['doc']} ({e['kind']}, {e['bytes']} B): mixtera "
                           f"{e['mixtera_tokens']} tokens, peer {e['peer_tokens']}; first "
                           f"difference at token {e['first_diff_token']}{at}: mixtera "
                           f"{e['mixtera_ids']}... peer {e['peer_ids']}...")
        return out


def conditions(b: Bench, corpus_bytes: int, texts: int, load_start: str) -> List[str]:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    usable = len(os.sched_getaffinity(0))
    a = b.args
    busy = os.getloadavg()[0] > usable * 0.5
    node = "-"
    if b.node:
        node = subprocess.run([b.node, "--version"], capture_output=True, text=True).stdout.strip()
    return [
        f"machine: {usable} usable cores ({os.cpu_count()} online), {cpu}; load average at start "
        f"{load_start}" + (" (BUSY: other work competes for the cores; ratios are more "
                           "trustworthy than absolute numbers)" if busy else ""),
        f"corpus: {os.path.relpath(a.corpus, REPO)} (sha256 {b.corpus.sha256[:16]}), {texts} documents, "
        f"{corpus_bytes / 1e6:.1f} MB of UTF-8 text (make_corpus.py --mb {a.mb:g}); MB = 10^6 bytes of text",
        f"timing: only encoding is timed (not reading the corpus, not loading the tokenizer: "
        f"'load s' is reported apart); {a.repeat} round(s): in each, every implementation of a "
        f"tokenizer in turn starts a process that warms up on the first {a.warmup_mb:g} MB and "
        f"encodes all texts once; median of {a.repeat} rounds; page cache warm (the corpus is "
        f"read before the runs)",
        "mixtera / libsentencepiece: build/bench/tokenize_bench, Tokenizer::EncodeBatch(texts, "
        "threads) (allow_special false); libsentencepiece = LoadSentencePieceWithLibrary, the "
        "same EncodeBatch (Debian's libsentencepiece, called from C++)",
        f"hf-tokenizers: npm tokenizers (native addon) under node {node}, encodeBatch(batch, "
        f"{{addSpecialTokens: false}}) on batches of <= 1000 texts / 4 MB, getIds(); threads = "
        f"RAYON_NUM_THREADS",
        "tiktoken: npm tiktoken (WASM), encode_ordinary; gpt-tokenizer: encoding/<enc>.encode("
        "text, {disallowedSpecial: new Set()}); both single-threaded (1 thread only)",
        "2 procs x mixtera: two 1-thread Mixtera processes started together, their MB/s "
        "summed: what the 2 cores give to two independent encoders (the ceiling of the "
        "2-thread / 1-thread ratio on this machine)",
        "ids: every peer's ids are compared with Mixtera's on the same vocabulary (HF, "
        "libsentencepiece: the same file; tiktoken, gpt-tokenizer: the rank file); "
        "Mixtera's 2-thread ids with its 1-thread ids",
    ]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default=os.path.join(REPO, "build"),
                    help="build folder with bench/tokenize_bench (default: REPO/build)")
    ap.add_argument("--mb", type=float, default=None,
                    help="corpus size in MB for make_corpus.py (default 64; 2 with --quick)")
    ap.add_argument("--corpus", default=None,
                    help="corpus JSONL (default: REPO/corpus/tokenize/bench_<mb>mb.jsonl, "
                         "generated when missing)")
    ap.add_argument("--repeat", type=int, default=None,
                    help="rounds (each implementation encodes the corpus once per round; the "
                         "median is reported; default 3, 1 with --quick)")
    ap.add_argument("--warmup-mb", type=float, default=None,
                    help="MB encoded before timing (default 4; 0.5 with --quick)")
    ap.add_argument("--threads", default="1,2", help="thread counts (default 1,2)")
    ap.add_argument("--only", default=",".join(t["name"] for t in TOKENIZERS),
                    help="comma-separated tokenizers (GPT-2,cl100k,o200k,Mistral,Llama-2)")
    ap.add_argument("--quick", action="store_true",
                    help="smoke test: 2 MB corpus, 1 repetition (numbers say nothing about "
                         "the targets)")
    ap.add_argument("--skip-peers", action="store_true", help="do not run the npm peers")
    ap.add_argument("--skip-ceiling", action="store_true",
                    help="do not measure two concurrent 1-thread Mixtera processes")
    ap.add_argument("--timeout", type=float, default=1800, help="seconds before a run is killed")
    ap.add_argument("--json-out", default=None,
                    help="write all results as JSON here (default: BUILD/bench_tokenize.json; "
                         "BUILD/bench_tokenize_quick.json with --quick)")
    args = ap.parse_args()
    if args.mb is None:
        args.mb = 2 if args.quick else 64
    if args.repeat is None:
        args.repeat = 1 if args.quick else 3
    if args.warmup_mb is None:
        args.warmup_mb = 0.5 if args.quick else 4
    if args.corpus is None:
        args.corpus = os.path.join(REPO, "corpus", "tokenize", f"bench_{args.mb:g}mb.jsonl")
    args.corpus = os.path.abspath(args.corpus)
    args.threads = sorted({int(x) for x in args.threads.split(",") if x.strip()})
    args.only = [x.strip() for x in args.only.split(",") if x.strip()]
    known = [t["name"] for t in TOKENIZERS]
    for x in args.only:
        if x not in known:
            ap.error(f"unknown tokenizer {x!r} (known: {', '.join(known)})")
    if args.repeat < 1 or not args.threads or args.threads[0] < 1:
        ap.error("--repeat and --threads must be >= 1")
    if args.json_out is None:
        args.json_out = os.path.join(os.path.abspath(args.build), "bench_tokenize_quick.json"
                                     if args.quick else "bench_tokenize.json")

    # Mixtera's Python module (BUILD/python) decodes ids to locate differences in the text.
    sys.path.insert(0, os.path.join(os.path.abspath(args.build), "python"))
    load_start = " ".join(f"{x:.2f}" for x in os.getloadavg())
    t_start = time.time()
    path, cached = ensure_corpus(args.corpus, args.mb, args.timeout)
    corpus = Corpus(path)
    b = Bench(args, corpus)
    if not os.access(b.binary, os.X_OK):
        raise SystemExit(f"run.py: {b.binary} not found: build it first "
                         f"(ninja -C {args.build} tokenize_bench)")
    read_through(path)
    # Size and document count as the implementations see them (every non-empty line).
    corpus_bytes, texts = 0, 0
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                corpus_bytes += len(json.loads(line)["text"].encode("utf-8"))
                texts += 1

    print("== bench/tokenize: Mixtera's native tokenizers vs HF tokenizers, tiktoken, "
          "gpt-tokenizer, libsentencepiece ==")
    for line in conditions(b, corpus_bytes, texts, load_start):
        print("   " + line)
    if cached:
        print("   corpus: cached")
    if args.quick:
        print("   QUICK: a smoke test on a small corpus, 1 repetition; its numbers say nothing "
              "about the targets")
    if b.peers_reason:
        print(f"   npm peers unavailable: {b.peers_reason}")
    sys.stdout.flush()

    for t in TOKENIZERS:
        if t["name"] in args.only:
            b.measure(t)

    print()
    for line in b.table():
        print(line)
    print()
    print("== ratios (MB/s; single-threaded targets, 2 threads vs 1) ==")
    ratio_lines, misses, ratio_data = b.ratios()
    for line in ratio_lines:
        print(line)
    if b.notes:
        print("notes:")
        for n in b.notes:
            print("  " + n)
    if b.mismatches:
        print("ID MISMATCHES (peer ids differ from Mixtera's on the same vocabulary):")
        for line in b.mismatch_lines():
            print("  " + line)
    else:
        print("ids: every implementation measured produced exactly Mixtera's ids")
    if b.failures:
        print("problems:")
        for f in b.failures:
            print("  " + f.replace("\n", "\n    "))
    print(f"targets: {'all met' if not misses else 'MISSED: ' + '; '.join(misses)}")
    print(f"total bench time {time.time() - t_start:.0f} s; load average at end "
          + " ".join(f"{x:.2f}" for x in os.getloadavg()))
    if args.json_out:
        os.makedirs(os.path.dirname(os.path.abspath(args.json_out)), exist_ok=True)
        with open(args.json_out, "w") as f:
            results = [{k: v for k, v in r.items() if k != "dump"} for r in b.results]
            json.dump(dict(results=results, ratios=ratio_data, misses=misses,
                           mismatches=b.mismatches, failures=b.failures, notes=b.notes,
                           conditions=conditions(b, corpus_bytes, texts, load_start),
                           corpus=dict(path=path, bytes=corpus_bytes, texts=texts),
                           repeat=args.repeat, threads=args.threads), f, indent=1)
        print(f"results: {args.json_out}")
    shutil.rmtree(b.work, ignore_errors=True)
    return 1 if b.failures else 0


if __name__ == "__main__":
    sys.exit(main())
