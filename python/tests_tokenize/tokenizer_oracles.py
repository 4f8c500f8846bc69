"""Helpers of the tokenizer exactness tests: where things are, the corpus, and the reference
("oracle") encoders run in the background.

The oracles (tools/tokenizers/oracle_encode.js under node, tools/tokenizers/oracle_spm.py) are
run one at a time on a background thread, in the order the tests need them, so the next oracle
encodes while a test compares the previous one with Mixtera (two cores: one each). Their output
is cached in BUILD/tokenizer_oracle_cache, keyed by the sha256 of the corpus, the tokenizer
file, the oracle script and the oracle package lock; a first run computes everything.
"""
import hashlib
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
TOK_DIR = ROOT / "third_party" / "tokenizers"
ORACLE_MODULES = ROOT / "third_party" / "tokenizer_oracles"
TOOLS = ROOT / "tools" / "tokenizers"
CORPUS = Path(os.environ.get("MIXTERA_TOKENIZER_CORPUS", ROOT / "corpus" / "tokenize" / "exactness.jsonl"))
PYTHON = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable
SETUP_HINT = "run `make setup` (tools/setup.sh) first"

REPORT = []          # lines for the terminal summary


def report(line):
    REPORT.append(line)


def need_file(path, what):
    if not Path(path).is_file():
        pytest.fail(f"{what} {path} is missing: {SETUP_HINT}", pytrace=False)
    return Path(path)


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def build_dir():
    env = os.environ.get("MIXTERA_BUILD_DIR")
    if env:
        return Path(env)
    try:
        import mixtera
        pkg = Path(mixtera.__file__).resolve().parent          # BUILD/python/mixtera
        if pkg.parent.name == "python":
            return pkg.parent.parent
    except ImportError:
        pass
    return ROOT / "build"


class Corpus:
    def __init__(self, path):
        data = need_file(path, "the tokenizer test corpus").read_bytes()
        self.path = Path(path)
        self.sha256 = hashlib.sha256(data).hexdigest()
        self.texts, self.kinds = [], []
        for line in data.split(b"\n"):
            if line:
                doc = json.loads(line)
                self.texts.append(doc["text"])
                self.kinds.append(doc["kind"])
        self.bytes = len(data)
        self.text_bytes = sum(len(t.encode("utf-8")) for t in self.texts)

    def __len__(self):
        return len(self.texts)


class OracleIds:
    """The ids of one oracle run: ids(i) is document i's ids as an int32 array."""

    def __init__(self, path, ndocs, roundtrip_path=None):
        self.flat = np.fromfile(path, dtype="<i4")
        self.start = np.empty(ndocs, dtype=np.int64)
        self.count = np.empty(ndocs, dtype=np.int64)
        pos = 0
        flat = self.flat
        for i in range(ndocs):
            if pos >= len(flat):
                raise AssertionError(f"{path}: output ends after {i} of {ndocs} documents")
            n = int(flat[pos])
            self.start[i] = pos + 1
            self.count[i] = n
            pos += 1 + n
        if pos != len(flat):
            raise AssertionError(f"{path}: {len(flat) - pos} trailing ints after {ndocs} documents")
        self.tokens = int(self.count.sum())
        self.roundtrip = {}
        if roundtrip_path:
            with open(roundtrip_path, encoding="utf-8") as f:
                for line in f:
                    if line.strip():
                        row = json.loads(line)
                        self.roundtrip[row["i"]] = row["decoded"]

    def ids(self, i):
        s = self.start[i]
        return self.flat[s:s + self.count[i]]

    def decoded(self, i, text):
        """What the oracle's decode gives for its own ids of document i."""
        return self.roundtrip.get(i, text)


class OracleJob:
    def __init__(self, name, argv_fn, key_parts, corpus_path):
        self.name = name
        self.argv_fn = argv_fn
        self.key_parts = key_parts
        self.corpus_path = corpus_path
        self.done = threading.Event()
        self.error = None
        self.result = None
        self.seconds = None
        self.cached = False
        self.stderr = ""


class OracleRunner:
    """Runs oracle jobs one after another on a background thread, with an on-disk cache."""

    def __init__(self, cache_dir):
        self.cache_dir = Path(cache_dir)
        self.jobs = {}
        self.order = []
        self.lock = threading.Lock()
        self.thread = None
        self.current = None
        self.stopped = False

    def add(self, job):
        with self.lock:
            if job.name not in self.jobs:
                self.jobs[job.name] = job
                self.order.append(job)

    def start(self):
        if self.thread is None:
            self.thread = threading.Thread(target=self._run_all, name="oracles", daemon=True)
            self.thread.start()

    def get(self, name, ndocs):
        job = self.jobs[name]
        self.start()
        job.done.wait()
        if job.error:
            pytest.fail(f"oracle {name} failed: {job.error}", pytrace=False)
        if job.result is None:
            job.result = OracleIds(job.out, ndocs, job.rt)
        return job

    def _run_all(self):
        while True:
            with self.lock:
                pending = [j for j in self.order if not j.done.is_set()]
                if self.stopped:
                    for j in pending:
                        j.error = "stopped"
                        j.done.set()
                    return
            if not pending:
                return
            job = pending[0]
            try:
                self._run(job)
            except Exception as e:  # reported by get()
                job.error = f"{type(e).__name__}: {e}"
            job.done.set()

    def _run(self, job):
        h = hashlib.sha256()
        for part in job.key_parts:
            h.update(part.encode() if isinstance(part, str) else part)
            h.update(b"\0")
        key = h.hexdigest()[:24]
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        base = f"{self.cache_dir / job.name}--{key}"
        job.out, job.rt, meta = Path(f"{base}.bin"), Path(f"{base}.rt"), Path(f"{base}.meta.json")
        if job.out.is_file() and job.rt.is_file() and meta.is_file():
            job.cached = True
            info = json.loads(meta.read_text())
            job.seconds, job.stderr = info.get("seconds"), info.get("stderr", "")
            return
        for old in self.cache_dir.glob(f"{job.name}--*"):     # earlier keys of this job
            old.unlink()
        part_out, part_rt = Path(f"{base}.bin.part"), Path(f"{base}.rt.part")
        argv = job.argv_fn(str(part_out), str(part_rt))
        t0 = time.perf_counter()
        # HF tokenizers encodes batches on all cores only when asked to.
        env = dict(os.environ, TOKENIZERS_PARALLELISM="true")
        with self.lock:
            if self.stopped:
                raise RuntimeError("stopped")
            self.current = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                            text=True, env=env)
        _, err = self.current.communicate()
        returncode = self.current.returncode
        with self.lock:
            self.current = None
        job.seconds = time.perf_counter() - t0
        job.stderr = err.strip()
        if returncode != 0:
            for p in (part_out, part_rt):
                if p.exists():
                    p.unlink()
            raise RuntimeError(f"{' '.join(argv)} exited with {returncode}:\n{err[-3000:]}")
        part_out.replace(job.out)
        part_rt.replace(job.rt)
        meta.write_text(json.dumps({"seconds": job.seconds, "stderr": job.stderr}))

    def stop(self):
        """Ends the oracle run in progress (at the end of the session) and runs no more."""
        with self.lock:
            self.stopped = True
            if self.current is not None:
                self.current.terminate()
        if self.thread is not None:
            self.thread.join(timeout=30)


# ---------------------------------------------------------------------------------------------
# Oracle definitions

def node_binary():
    node = shutil.which("node")
    if not node:
        pytest.fail(f"node is not installed: {SETUP_HINT}", pytrace=False)
    return node


def oracle_common_key(script):
    lock = ORACLE_MODULES / "package-lock.json"
    return [sha256_file(script), sha256_file(lock) if lock.is_file() else "no-lock"]


def make_job(oracle, arg, corpus_path, corpus_sha, allow_special=False, name=None):
    """oracle: 'hf' (arg = tokenizer.json), 'gpt-tokenizer' / 'tiktoken' (arg = encoding
    name), 'spm' (arg = .model)."""
    if oracle == "spm":
        script = TOOLS / "oracle_spm.py"
        model = need_file(TOK_DIR / arg, "the SentencePiece model")

        def argv(out, rt):
            return [PYTHON, str(script), str(model), "--corpus", str(corpus_path), "--out", out,
                    "--roundtrip", rt]
        key = [oracle, sha256_file(model), corpus_sha] + oracle_common_key(script)
    else:
        script = TOOLS / "oracle_encode.js"
        if not (ORACLE_MODULES / "node_modules").is_dir():
            pytest.fail(f"the oracle npm packages ({ORACLE_MODULES}/node_modules) are missing: "
                        f"{SETUP_HINT}", pytrace=False)
        node = node_binary()
        target = arg
        file_sha = arg
        if oracle == "hf":
            target = str(need_file(TOK_DIR / arg, "the tokenizer file"))
            file_sha = sha256_file(target)
        extra = ["--allow-special"] if allow_special else []

        def argv(out, rt):
            return [node, str(script), oracle, target, "--corpus", str(corpus_path), "--out", out,
                    "--roundtrip", rt, "--modules", str(ORACLE_MODULES)] + extra
        key = [oracle, file_sha, corpus_sha, str(allow_special)] + oracle_common_key(script)
    name = name or f"{oracle}-{arg}" + ("-special" if allow_special else "")
    return OracleJob(name, argv, key, corpus_path)
