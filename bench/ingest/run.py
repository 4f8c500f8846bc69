#!/usr/bin/python3
"""Ingest benchmark: `mixtera register` against DuckDB's own JSON ingest and a per-line
Python parser, on two corpora of real text, in one run (see README.md next to this file).

  /usr/bin/python3 bench/ingest/run.py --build BUILD_DIR [--corpus DIR] [--runs 3] [--quick]

For each corpus (large records, small records) and each variant (JSONL, .zst, .gz, Parquet,
WebDataset) every contender runs --runs times as a separate process, timed as a whole
(process start included), with a fresh Mixtera directory / DuckDB file per run and a warm
page cache (inputs and binaries are read once before timing). One line per (corpus,
variant, contender) gives the median seconds, MB/s, samples/s and the median peak RSS
(getrusage of the child via wait4). Ratio lines compare with the targets of the issue.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import multiprocessing
import os
import platform
import shutil
import statistics
import subprocess
import sys
import threading
import time
from typing import Dict, List, Optional, Tuple

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import make_corpus  # noqa: E402

PYTHON = "/usr/bin/python3"
PROPS_YAML = """properties:
  source: {type: string}
  lang: {type: string}
  n_lines: {type: int}
"""
DUCKDB_COLUMNS = "{source: 'VARCHAR', lang: 'VARCHAR', n_lines: 'BIGINT'}"

# variant -> (spec format, path glob relative to the corpus folder, spec text line)
VARIANT_SPECS = {
    "jsonl": ("jsonl", "jsonl/*.jsonl", "text: text"),
    "jsonl_half": ("jsonl", "jsonl_half/*.jsonl", "text: text"),
    "jsonl_x4": ("jsonl", "jsonl_x4/*.jsonl", "text: text"),
    "zst": ("jsonl", "zst/*.jsonl.zst", "text: text"),
    "gz": ("jsonl", "gz/*.jsonl.gz", "text: text"),
    "parquet": ("parquet", "parquet/*.parquet", "text: text"),
    "wds": ("webdataset", "wds/*.tar", "text: txt"),
}

# Targets from the issue: (numerator contender, denominator contender, corpus kind) -> ratio
TARGETS = {
    ("mixtera", "duckdb", "large"): 2.0,
    ("mixtera", "duckdb", "small"): 2.0,
    ("mixtera", "python", "large"): 5.0,
    ("mixtera", "python", "small"): 20.0,
}
MEMORY_GROWTH_LIMIT = 1.2  # peak RSS (all shards) / peak RSS (half the shards), and x4 / all

CONTENDER_LABELS = {
    "mixtera": "(a) mixtera register",
    "duckdb": "(b) duckdb read_json+INSERT",
    "duckdb_parquet": "(b') duckdb read_parquet+INSERT",
    "python": "(c) python json.loads parser",
}


class RunResult:
    def __init__(self, seconds: float, max_rss_kb: int, samples: Optional[int]):
        self.seconds = seconds
        self.max_rss_kb = max_rss_kb
        self.samples = samples


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def read_through(paths: List[str]) -> int:
    """Reads files once so that they are in the page cache; returns the bytes read."""
    total = 0
    for p in paths:
        with open(p, "rb", buffering=0) as f:
            while True:
                b = f.read(8 << 20)
                if not b:
                    break
                total += len(b)
    return total


def build_corpora_in_child(corpus_root: str, duckdb_tool: str, quick: bool) -> Dict:
    """make_corpus.build_all in a child process. Building reads and writes hundreds of MB; had
    this process grown that much, every contender started later would report it as its own
    peak RSS (Linux carries the high-water mark of the process that exec()s into the child)."""
    ctx = multiprocessing.get_context("fork")
    with concurrent.futures.ProcessPoolExecutor(1, mp_context=ctx) as pool:
        return pool.submit(make_corpus.build_all, corpus_root, duckdb_tool, quick).result()


def run_timed(cmd: List[str], env: Optional[Dict[str, str]], timeout: float) -> Tuple[int, float, int, str, str]:
    """Runs cmd as a child process; returns (rc, wall seconds incl. process start, peak RSS KiB,
    stdout, stderr). The peak RSS is the child's own ru_maxrss from wait4."""
    out_path = os.path.join(WORK, "stdout.txt")
    err_path = os.path.join(WORK, "stderr.txt")
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, env=env, stdin=subprocess.DEVNULL)
        killer = threading.Timer(timeout, proc.kill)
        killer.start()
        try:
            _, status, rusage = os.wait4(proc.pid, 0)
        finally:
            killer.cancel()
        seconds = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
    with open(out_path, "r", errors="replace") as f:
        stdout = f.read()
    with open(err_path, "r", errors="replace") as f:
        stderr = f.read()
    return proc.returncode, seconds, rusage.ru_maxrss, stdout, stderr


WORK = ""  # set in main(): scratch folder for Mixtera directories and DuckDB files


def fresh_dir(name: str) -> str:
    path = os.path.join(WORK, name)
    shutil.rmtree(path, ignore_errors=True)
    if os.path.exists(path):
        os.remove(path)
    return path


def write_spec(corpus_dir: str, corpus: str, variant: str) -> str:
    fmt, glob, text_line = VARIANT_SPECS[variant]
    name = f"{corpus}_{variant}".replace("-", "_")
    spec_path = os.path.join(corpus_dir, f"spec_{variant}.yaml")
    with open(spec_path, "w") as f:
        f.write(f"name: {name}\nformat: {fmt}\npath: \"{glob}\"\n{text_line}\n{PROPS_YAML}")
    return spec_path


def sql_str(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


class Bench:
    def __init__(self, args: argparse.Namespace):
        self.args = args
        self.build = os.path.abspath(args.build)
        self.mixtera = os.path.join(self.build, "bin", "mixtera")
        self.duckdb_tool = make_corpus.find_duckdb_tool(self.build, None)
        self.pythonpath = os.path.join(self.build, "python")
        self.threads = args.threads
        self.results: List[Dict] = []
        self.failures: List[str] = []
        self.notes: List[str] = []

    # -- contenders -------------------------------------------------------------------

    def cmd_mixtera(self, spec: str, mx_dir: str) -> Tuple[List[str], Optional[Dict[str, str]]]:
        cmd = [self.mixtera, "register", mx_dir, spec, "--json"]
        if self.threads:
            cmd += ["--threads", str(self.threads)]
        return cmd, None

    def cmd_python(self, spec: str, mx_dir: str) -> Tuple[List[str], Optional[Dict[str, str]]]:
        env = dict(os.environ, PYTHONPATH=self.pythonpath)
        return [PYTHON, os.path.join(HERE, "py_register.py"), mx_dir, spec], env

    def cmd_duckdb(self, glob: str, db_file: str, reader: str) -> Tuple[List[str], Optional[Dict[str, str]]]:
        # The fastest reasonable formulation: an explicit typed schema (columns=) of just the
        # three properties, so DuckDB neither samples to detect types nor keeps the text; the
        # file name is kept. read_json cannot report per-file row numbers or byte offsets.
        if reader == "json":
            source = (f"read_json({sql_str(glob)}, format='newline_delimited', columns={DUCKDB_COLUMNS}, "
                      f"filename=true, maximum_object_size=67108864)")
        else:
            source = f"read_parquet({sql_str(glob)}, filename=true)"
        sql = [
            "CREATE TABLE samples (filename VARCHAR, source VARCHAR, lang VARCHAR, n_lines BIGINT)",
            f"INSERT INTO samples SELECT filename, source, lang, n_lines FROM {source}",
            "SELECT count(*) FROM samples",
        ]
        cmd = [self.duckdb_tool]
        if self.threads:
            cmd += ["--threads", str(self.threads)]
        return cmd + [db_file] + sql, None

    @staticmethod
    def parse_samples(contender: str, stdout: str) -> Optional[int]:
        try:
            if contender in ("mixtera", "python"):
                return int(json.loads(stdout.strip().splitlines()[-1])["num_samples"])
            return int(stdout.strip().splitlines()[-1])
        except (ValueError, KeyError, IndexError):
            return None

    def run_once(self, corpus: str, variant: str, contender: str, corpus_dir: str, spec: str,
                 expected_samples: int, first: bool) -> Optional[RunResult]:
        """One timed run of one contender in a fresh Mixtera directory / DuckDB file."""
        if contender in ("mixtera", "python"):
            target = fresh_dir("mx")
            cmd, env = (self.cmd_mixtera if contender == "mixtera" else self.cmd_python)(spec, target)
        else:
            target = fresh_dir("baseline.duckdb")
            fresh_dir("baseline.duckdb.wal")
            glob = os.path.join(corpus_dir, VARIANT_SPECS[variant][1])
            cmd, env = self.cmd_duckdb(glob, target, "parquet" if variant == "parquet" else "json")
        rc, seconds, rss, stdout, stderr = run_timed(cmd, env, self.args.timeout)
        if rc != 0:
            msg = f"{corpus}/{variant} {contender}: exit {rc}: {stderr.strip()[-2000:]}"
            log("FAILED " + msg)
            self.failures.append(msg)
            return None
        samples = self.parse_samples(contender, stdout)
        if samples != expected_samples:
            msg = (f"{corpus}/{variant} {contender}: reported {samples} samples, "
                   f"the corpus has {expected_samples}")
            log("WARNING " + msg)
            self.failures.append(msg)
        if first and contender in ("mixtera", "python"):
            try:
                warnings = json.loads(stdout.strip().splitlines()[-1]).get("warnings") or []
            except (ValueError, IndexError, AttributeError):
                warnings = []
            for w in warnings[:3]:
                self.notes.append(f"{corpus}/{variant} {contender}: warning: {w}")
            if len(warnings) > 3:
                self.notes.append(f"{corpus}/{variant} {contender}: ... {len(warnings) - 3} more warnings")
        log(f"  {corpus}/{variant} {contender}: {seconds:.3f} s, peak RSS {rss / 1024:.1f} MiB")
        return RunResult(seconds, rss, samples)

    def measure(self, corpus: str, variant: str, contenders: List[str], corpus_dir: str,
                expected_samples: int) -> Dict[str, List[RunResult]]:
        """--runs rounds; each round runs every contender once, so that changes in the load
        of a shared machine hit all contenders alike. A contender that fails is dropped."""
        spec = write_spec(corpus_dir, corpus, variant)
        runs: Dict[str, List[RunResult]] = {c: [] for c in contenders}
        failed = set()
        for i in range(self.args.runs):
            for contender in contenders:
                if contender in failed:
                    continue
                r = self.run_once(corpus, variant, contender, corpus_dir, spec, expected_samples, i == 0)
                if r is None:
                    failed.add(contender)
                else:
                    runs[contender].append(r)
        shutil.rmtree(os.path.join(WORK, "mx"), ignore_errors=True)
        for f in ("baseline.duckdb", "baseline.duckdb.wal"):
            if os.path.exists(os.path.join(WORK, f)):
                os.remove(os.path.join(WORK, f))
        return {c: r for c, r in runs.items() if c not in failed}

    # -- reporting --------------------------------------------------------------------

    def record(self, corpus: str, kind: str, variant: str, contender: str, runs: List[RunResult],
               jsonl_bytes: int, disk_bytes: int, samples: int) -> Dict:
        secs = [r.seconds for r in runs]
        med = statistics.median(secs)
        rss = statistics.median([r.max_rss_kb for r in runs]) / 1024
        row = dict(corpus=corpus, kind=kind, variant=variant, contender=contender,
                   median_s=med, runs_s=secs, mb_per_s=jsonl_bytes / 1e6 / med,
                   disk_mb_per_s=disk_bytes / 1e6 / med, samples_per_s=samples / med,
                   peak_rss_mib=rss, max_peak_rss_mib=max(r.max_rss_kb for r in runs) / 1024,
                   jsonl_mb=jsonl_bytes / 1e6, disk_mb=disk_bytes / 1e6, samples=samples)
        self.results.append(row)
        print(f"{corpus + '/' + variant:<22} {CONTENDER_LABELS[contender]:<32} {row['disk_mb']:>8.1f} "
              f"{med:>8.3f} {row['mb_per_s']:>8.1f} {row['disk_mb_per_s']:>8.1f} "
              f"{row['samples_per_s']:>11,.0f} {rss:>8.1f}   " + " ".join(f"{s:.3f}" for s in secs),
              flush=True)
        return row

    def find(self, corpus: str, variant: str, contender: str) -> Optional[Dict]:
        for r in self.results:
            if (r["corpus"], r["variant"], r["contender"]) == (corpus, variant, contender):
                return r
        return None


def conditions(bench: Bench, runs: int) -> List[str]:
    cpu = platform.processor() or "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = "?"
    try:
        with open("/proc/meminfo") as f:
            mem = f"{int(f.readline().split()[1]) / 1024 / 1024:.1f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    usable = len(os.sched_getaffinity(0))
    duck = subprocess.run([bench.duckdb_tool, ":memory:", "SELECT version()"], capture_output=True,
                          text=True).stdout.strip()
    threads = str(bench.threads) if bench.threads else f"default (all {usable} cores)"
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    return [
        f"machine: {usable} usable cores ({os.cpu_count()} online), {cpu}, {mem} RAM; "
        f"load average at start {load}" + (" (BUSY: other work competes for the cores; "
                                           "ratios are more trustworthy than absolute numbers)"
                                           if os.getloadavg()[0] > usable * 0.75 else ""),
        f"timing: each contender is a separate process timed as a whole, process start included; "
        f"median of {runs} runs",
        "page cache: warm (inputs, binaries and libraries read once before timing each variant)",
        f"state: fresh Mixtera directory / DuckDB file per run, under {WORK}",
        f"threads: {threads} for mixtera and DuckDB {duck}; the Python parser path is one "
        f"interpreter ({PYTHON})",
        "peak RSS: ru_maxrss of the child process (wait4), median over runs",
        "MB/s: MB (1e6 B) of the plain-JSONL corpus per second, whatever the variant; "
        "disk MB/s: bytes of the variant's own files per second",
        "(b) DuckDB: CREATE TABLE + INSERT INTO samples SELECT filename, source, lang, n_lines "
        "FROM read_json(glob, format='newline_delimited', columns={typed schema}, filename=true); "
        "it produces no per-file row numbers and no byte offsets, so (a) does more work",
        "(c) Python: register_dataset(name, spec_dict, parser=f); the module json.loads every "
        "line and calls f(line_number, payload) -> {source, lang, n_lines}",
    ]


def main() -> int:
    global WORK
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", required=True, help="build folder (bin/mixtera, python/, bench/duckdb_tool)")
    ap.add_argument("--corpus", default=os.path.join(REPO, "corpus"),
                    help="corpus folder, built by make_corpus.py when missing (default: REPO/corpus)")
    ap.add_argument("--runs", type=int, default=None,
                    help="runs per contender (median; default 3, or 1 with --quick)")
    ap.add_argument("--quick", action="store_true", help="tiny corpora: a smoke test in well under a minute")
    ap.add_argument("--threads", type=int, default=0, help="threads for mixtera and DuckDB (default: their default)")
    ap.add_argument("--timeout", type=float, default=900, help="seconds per run before it is killed")
    ap.add_argument("--only", default="", help="comma-separated corpora to run (e.g. large)")
    ap.add_argument("--json-out", default="", help="also write all results as JSON to this file")
    args = ap.parse_args()
    if args.runs is None:
        args.runs = 1 if args.quick else 3
    if args.runs < 1:
        ap.error("--runs must be >= 1")

    bench = Bench(args)
    for path in (bench.mixtera, os.path.join(bench.pythonpath, "mixtera")):
        if not os.path.exists(path):
            raise SystemExit(f"run.py: {path} not found: build first (make build, BUILD_DIR={args.build})")
    corpus_root = os.path.abspath(args.corpus)
    WORK = os.path.join(corpus_root, "_work")
    shutil.rmtree(WORK, ignore_errors=True)
    os.makedirs(WORK)

    t_start = time.time()
    manifests = build_corpora_in_child(corpus_root, bench.duckdb_tool, args.quick)
    if args.only:
        wanted = {w.strip() for w in args.only.split(",")}
        manifests = {k: v for k, v in manifests.items() if k in wanted or k.replace("quick-", "") in wanted}

    print("== bench/ingest: mixtera register vs DuckDB read_json + INSERT vs a Python json.loads parser ==")
    for line in conditions(bench, args.runs):
        print("   " + line)
    if args.quick:
        print("   QUICK: a smoke test on tiny corpora; fixed per-process costs dominate, so its "
              "ratios say nothing about the targets")
    for m in manifests.values():
        print("   " + make_corpus.describe(m).replace("\n", "\n   "))
    print()
    print(f"{'corpus/variant':<22} {'contender':<32} {'disk MB':>8} {'median s':>8} {'MB/s':>8} "
          f"{'disk MB/s':>8} {'samples/s':>11} {'peak MiB':>8}   runs (s)")

    # Binaries and libraries into the page cache too.
    libs = [bench.mixtera, bench.duckdb_tool,
            os.path.join(REPO, "third_party", "duckdb", "lib", "libduckdb.so")]
    libs += [os.path.join(bench.pythonpath, "mixtera", f) for f in os.listdir(os.path.join(bench.pythonpath, "mixtera"))
             if os.path.isfile(os.path.join(bench.pythonpath, "mixtera", f))]
    read_through([p for p in libs if os.path.isfile(p)])

    for corpus, manifest in manifests.items():
        kind = manifest["params"]["kind"]
        corpus_dir = os.path.join(corpus_root, corpus)
        jsonl_bytes = manifest["stats"]["bytes"]
        samples = manifest["stats"]["records"]
        plan = [("jsonl", ["mixtera", "duckdb", "python"]),
                ("zst", ["mixtera", "duckdb"]),
                ("gz", ["mixtera", "duckdb"]),
                ("parquet", ["mixtera", "duckdb_parquet"]),
                ("wds", ["mixtera"])]
        for variant, contenders in plan:
            files = [e["path"] for e in manifest["files"][variant]]
            disk_bytes = read_through(files)  # warm page cache
            measured = bench.measure(corpus, variant, contenders, corpus_dir, samples)
            for contender in contenders:
                if contender in measured:
                    bench.record(corpus, kind, variant, contender, measured[contender], jsonl_bytes,
                                 disk_bytes, samples)

        # Peak memory scaling: half the shards vs all shards (plain JSONL).
        half_files = sorted(os.path.join(corpus_dir, "jsonl_half", n) for n in os.listdir(os.path.join(corpus_dir, "jsonl_half")))
        half_bytes = read_through(half_files)
        half_samples = 0
        for p in half_files:
            with open(p, "rb") as f:
                half_samples += sum(1 for _ in f)
        measured = bench.measure(corpus, "jsonl_half", ["mixtera"], corpus_dir, half_samples)
        if "mixtera" in measured:
            bench.record(corpus, kind, "jsonl_half", "mixtera", measured["mixtera"], half_bytes, half_bytes,
                         half_samples)
        # ... and every shard four times (hard links): a cost per row that stays in memory
        # shows here even where the half/all ratio hides it.
        x4_dir = os.path.join(corpus_dir, "jsonl_x4")
        shutil.rmtree(x4_dir, ignore_errors=True)
        os.makedirs(x4_dir)
        full_files = [e["path"] for e in manifest["files"]["jsonl"]]
        for path in full_files:
            stem = os.path.basename(path)[: -len(".jsonl")]
            for k in range(4):
                link = os.path.join(x4_dir, f"{stem}-{k}.jsonl")
                try:
                    os.link(path, link)
                except OSError:
                    os.symlink(os.path.abspath(path), link)
        read_through(full_files)
        measured = bench.measure(corpus, "jsonl_x4", ["mixtera"], corpus_dir, 4 * samples)
        if "mixtera" in measured:
            bench.record(corpus, kind, "jsonl_x4", "mixtera", measured["mixtera"], 4 * jsonl_bytes,
                         4 * jsonl_bytes, 4 * samples)
        shutil.rmtree(x4_dir, ignore_errors=True)
        print(flush=True)

    # Ratios against the targets.
    print("== ratios (median time of the baseline / median time of mixtera; higher is better) ==")
    misses = []
    for corpus, manifest in manifests.items():
        kind = manifest["params"]["kind"]
        mx = bench.find(corpus, "jsonl", "mixtera")
        for other, label in (("duckdb", "duckdb read_json+INSERT"), ("python", "python json.loads parser")):
            base = bench.find(corpus, "jsonl", other)
            if not mx or not base:
                print(f"{corpus}/jsonl: mixtera vs {label}: n/a (a contender failed)")
                misses.append(f"{corpus}/jsonl vs {other}: n/a")
                continue
            ratio = base["median_s"] / mx["median_s"]
            target = TARGETS[("mixtera", other, kind)]
            ok = ratio >= target
            if not ok:
                misses.append(f"{corpus}/jsonl vs {other}: {ratio:.2f}x < {target:g}x")
            print(f"{corpus}/jsonl: mixtera vs {label}: {ratio:.2f}x (target >= {target:g}x) "
                  f"{'met' if ok else 'MISSED'}")
        for variant, other, label in (("zst", "duckdb", "duckdb read_json+INSERT"),
                                      ("gz", "duckdb", "duckdb read_json+INSERT"),
                                      ("parquet", "duckdb_parquet", "duckdb read_parquet+INSERT")):
            a, b = bench.find(corpus, variant, "mixtera"), bench.find(corpus, variant, other)
            if a and b:
                print(f"{corpus}/{variant}: mixtera vs {label}: {b['median_s'] / a['median_s']:.2f}x "
                      f"(no target)")
        for variant in ("zst", "gz", "parquet", "wds"):
            a = bench.find(corpus, variant, "mixtera")
            if a and mx:
                print(f"{corpus}/{variant}: mixtera {a['mb_per_s']:.0f} MB/s (JSONL-equivalent) vs "
                      f"plain JSONL {mx['mb_per_s']:.0f} MB/s: {a['median_s'] / mx['median_s']:.2f}x the time")
    print()
    print("== peak memory (mixtera register, plain JSONL; target: does not grow with corpus size, "
          f"all/half and x4/all <= {MEMORY_GROWTH_LIMIT:g}) ==")
    for corpus, manifest in manifests.items():
        half = bench.find(corpus, "jsonl_half", "mixtera")
        full = bench.find(corpus, "jsonl", "mixtera")
        if not half or not full:
            print(f"{corpus}: n/a (a run failed)")
            misses.append(f"{corpus} memory: n/a")
            continue
        ratio = full["peak_rss_mib"] / half["peak_rss_mib"]
        ok = ratio <= MEMORY_GROWTH_LIMIT
        if not ok:
            misses.append(f"{corpus} memory: all/half {ratio:.2f}")
        n_all = manifest["params"]["shards"]
        print(f"{corpus}: half the shards ({n_all // 2} files, {half['jsonl_mb']:.0f} MB) "
              f"{half['peak_rss_mib']:.1f} MiB vs all ({n_all} files, {full['jsonl_mb']:.0f} MB) "
              f"{full['peak_rss_mib']:.1f} MiB: ratio {ratio:.2f} {'met' if ok else 'MISSED'}")
        x4 = bench.find(corpus, "jsonl_x4", "mixtera")
        if not x4:
            print(f"{corpus}: x4: n/a (a run failed)")
            misses.append(f"{corpus} memory x4: n/a")
        else:
            ratio4 = x4["peak_rss_mib"] / full["peak_rss_mib"]
            ok4 = ratio4 <= MEMORY_GROWTH_LIMIT
            if not ok4:
                misses.append(f"{corpus} memory: x4/all {ratio4:.2f}")
            print(f"{corpus}: every shard four times ({4 * n_all} files, {x4['jsonl_mb']:.0f} MB) "
                  f"{x4['peak_rss_mib']:.1f} MiB vs all {full['peak_rss_mib']:.1f} MiB: ratio "
                  f"{ratio4:.2f} {'met' if ok4 else 'MISSED'}")
        for variant in ("zst", "gz", "parquet", "wds"):
            a = bench.find(corpus, variant, "mixtera")
            if a:
                print(f"{corpus}/{variant}: mixtera peak RSS {a['peak_rss_mib']:.1f} MiB")
    print()
    if bench.notes:
        print("notes (warnings in the registration reports):")
        for n in bench.notes:
            print("  " + n)
    if bench.failures:
        print("problems:")
        for f in bench.failures:
            print("  " + f.replace("\n", "\n    "))
    print(f"targets: {'all met' if not misses else 'MISSED: ' + '; '.join(misses)}")
    print(f"total bench time {time.time() - t_start:.0f} s; load average at end "
          + " ".join(f"{x:.2f}" for x in os.getloadavg()))
    if args.json_out:
        with open(args.json_out, "w") as f:
            json.dump(dict(results=bench.results, failures=bench.failures, misses=misses,
                           conditions=conditions(bench, args.runs)), f, indent=1)
    shutil.rmtree(WORK, ignore_errors=True)
    return 1 if bench.failures else 0


if __name__ == "__main__":
    sys.exit(main())
