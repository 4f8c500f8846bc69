#!/usr/bin/python3
"""Index benchmark: Mixtera's query + index build + plan against the original Mixtera's
approach (gaps-and-islands SQL in DuckDB, then a hash map keyed by "prop:value;..." strings),
on synthetic stores, in one run (see README.md next to this file).

  /usr/bin/python3 bench/index/run.py [--build BUILD_DIR] [--sizes 10M,100M] [--quick]

For each size, layout (clustered, interleaved) and component count (20, 1000, 10000) the
store is generated once (cached under corpus/index/, git-ignored), its file is read once
(warm page cache), then --runs rounds each run the baseline (build/bench/index_baseline) and
Mixtera (`build/bin/mixtera query DIR --mixture MIX --json`) once, each as a separate process
timed as a whole (process start included); medians are reported. The chunk rate comes from
`build/bench/index_chunk_rate DIR --mixture MIX --chunk-size 1024`. When the Mixtera side is
not built yet, the baseline is still measured and the Mixtera columns say so.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from typing import Dict, List, Optional

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))

SIZES = {"200k": 200_000, "1M": 1_000_000, "10M": 10_000_000, "100M": 100_000_000}
LAYOUTS = ["clustered", "interleaved"]
COMPONENTS = [20, 1000, 10000]
CHUNK_SIZE = 1024
NUM_FILES = 100
BIG_STORE = 100_000_000  # from here on the baseline runs once unless --baseline-runs says otherwise

# The mixture every Mixtera run uses: inferred from the query result (one component per
# property combination, weights = their shares of the samples).
MIXTURE_YAML = f"type: inferring\nchunk_size: {CHUNK_SIZE}\n"

# Targets of the issue (2 cores).
TARGET_RATIO = 5.0                 # baseline time / mixtera time
TARGET_SAMPLES_PER_S = 20e6        # query start to ready job
TARGET_CHUNKS_PER_S = 10_000       # interleaved, 1,000 components, chunk size 1024
TARGET_BYTES_PER_RANGE = 32.0      # index memory, clustered
TARGET_BYTES_PER_SAMPLE = 2.0      # index memory, interleaved


# --- the Mixtera side: adjust here when its output changes ------------------------------

def mixtera_query_cmd(b: "Bench", store: str) -> List[str]:
    """`mixtera query` from query start to a ready job (query + index build + plan)."""
    # --no-bytes: the synthetic stores have no data files or offsets to count bytes from.
    return [b.mixtera, "query", store, "--mixture", b.mixture_file, "--json", "--no-bytes"]


def chunk_rate_cmd(b: "Bench", store: str) -> List[str]:
    return [b.chunk_rate, store, "--mixture", b.mixture_file, "--chunk-size", str(CHUNK_SIZE)]


def parse_mixtera_query(stdout: str) -> Dict:
    """The contract: one JSON object (the last line of stdout) with num_samples, components
    (a list), timings {total_s, ...}, index_bytes and num_ranges."""
    j = json.loads(stdout.strip().splitlines()[-1])
    comps = j.get("components")
    return {
        "num_samples": int(j["num_samples"]),
        "components": len(comps) if isinstance(comps, list) else int(comps),
        "total_s": float(j["timings"]["total_s"]),
        "timings": j.get("timings", {}),
        "index_bytes": int(j["index_bytes"]) if "index_bytes" in j else None,
        "num_ranges": int(j["num_ranges"]) if "num_ranges" in j else None,
    }


def parse_chunk_rate(stdout: str) -> Dict:
    j = json.loads(stdout.strip().splitlines()[-1])
    # chunks_per_s: increasing indices from a random start (a consumer's walk);
    # random_chunks_per_s: uniformly random indices. Both compute each chunk by random access.
    return {"chunks_per_s": float(j["chunks_per_s"]),
            "random_chunks_per_s": float(j.get("random_chunks_per_s", 0.0)), "raw": j}


# --- plumbing ---------------------------------------------------------------------------

def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def read_through(paths: List[str]) -> int:
    """Reads files once so that they are in the page cache; returns the bytes read."""
    total = 0
    for p in paths:
        if not os.path.isfile(p):
            continue
        with open(p, "rb", buffering=0) as f:
            while True:
                chunk = f.read(8 << 20)
                if not chunk:
                    break
                total += len(chunk)
    return total


class Run:
    """One finished child process."""

    def __init__(self, rc: int, seconds: float, rss_kib: int, stdout: str, stderr: str,
                 timed_out: bool):
        self.rc = rc
        self.seconds = seconds
        self.rss_kib = rss_kib
        self.stdout = stdout
        self.stderr = stderr
        self.timed_out = timed_out


def run_timed(cmd: List[str], timeout: float, work: str) -> Run:
    """Runs cmd as a child; wall seconds include process start; peak RSS is the child's own
    ru_maxrss (wait4). A child still running after `timeout` seconds is killed."""
    out_path = os.path.join(work, "stdout.txt")
    err_path = os.path.join(work, "stderr.txt")
    timed_out = [False]
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, stdin=subprocess.DEVNULL)

        def kill() -> None:
            timed_out[0] = True
            proc.kill()

        killer = threading.Timer(timeout, kill)
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
    return Run(proc.returncode, seconds, rusage.ru_maxrss, stdout, stderr, timed_out[0])


def median(xs: List[float]) -> float:
    return statistics.median(xs)


def fmt_s(x: Optional[float]) -> str:
    return "-" if x is None else (f"{x:.3f}" if x < 100 else f"{x:.1f}")


def fmt_rate(x: Optional[float]) -> str:
    if x is None:
        return "-"
    if x >= 1e6:
        return f"{x / 1e6:.1f}M"
    if x >= 1e3:
        return f"{x / 1e3:.1f}k"
    return f"{x:.0f}"


class Bench:
    def __init__(self, args: argparse.Namespace):
        self.args = args
        self.build = os.path.abspath(args.build)
        self.make_store = os.path.join(self.build, "bench", "index_make_store")
        self.baseline = os.path.join(self.build, "bench", "index_baseline")
        self.mixtera = os.path.join(self.build, "bin", "mixtera")
        self.chunk_rate = os.path.join(self.build, "bench", "index_chunk_rate")
        self.work = tempfile.mkdtemp(prefix="bench_index_")
        self.mixture_file = os.path.join(self.work, "mixture.yaml")
        with open(self.mixture_file, "w") as f:
            f.write(MIXTURE_YAML)
        self.failures: List[str] = []
        self.notes: List[str] = []
        self.results: List[Dict] = []
        self.mixtera_reason = self.probe_mixtera()
        self.chunk_rate_reason = self.probe_chunk_rate()

    # -- availability of the Mixtera side ---------------------------------------------

    def probe_mixtera(self) -> Optional[str]:
        """None when `mixtera query` exists, else why the Mixtera side is unavailable."""
        if self.args.skip_mixtera:
            return "skipped (--skip-mixtera)"
        if not os.access(self.mixtera, os.X_OK):
            return f"{self.mixtera} not built"
        r = subprocess.run([self.mixtera, "query", "--help"], capture_output=True, text=True)
        if r.returncode != 0:
            return "`mixtera query` does not exist in this build"
        return None

    def probe_chunk_rate(self) -> Optional[str]:
        if self.args.skip_mixtera:
            return "skipped (--skip-mixtera)"
        if not os.access(self.chunk_rate, os.X_OK):
            return f"{self.chunk_rate} not built"
        return None

    def baseline_runs(self, samples: int) -> int:
        """--baseline-runs, or by default --runs, but 1 from 100M samples on (the baseline
        takes 4-12 minutes per run there)."""
        if self.args.baseline_runs is not None:
            return min(self.args.baseline_runs, self.args.runs)
        return 1 if samples >= BIG_STORE else self.args.runs

    # -- stores -------------------------------------------------------------------------

    def ensure_store(self, size: str, layout: str, components: int) -> Optional[Dict]:
        store = os.path.join(self.args.store_root, f"{size}_{layout}_{components}")
        cmd = [self.make_store, store, "--samples", str(SIZES[size]), "--components",
               str(components), "--layout", layout, "--files", str(NUM_FILES)]
        r = run_timed(cmd, self.args.timeout, self.work)
        if r.rc != 0:
            self.failures.append(f"{store}: index_make_store exit {r.rc}: {r.stderr.strip()[-2000:]}")
            log("FAILED " + self.failures[-1])
            return None
        report = json.loads(r.stdout.strip().splitlines()[-1])
        report["path"] = store
        return report

    # -- one configuration --------------------------------------------------------------

    def measure(self, size: str, layout: str, components: int) -> None:
        name = f"{size}/{layout}/{components}"
        store = self.ensure_store(size, layout, components)
        if store is None:
            return
        n = store["samples"]
        gen = ("cached" if store["cached"] else "generated") + f" in {store['generate_s']:.1f} s"
        # The stores are synthetic, a pure function of these parameters (no file of the
        # machine is read): they name the corpus.
        log(f"{name}: store {store['store_bytes'] / 1e6:.1f} MB ({gen}), "
            f"{store['num_ranges']} ranges; generated from samples={n} components={components} "
            f"layout={layout} files={NUM_FILES} seed={store.get('seed', '?')}")
        read_through([os.path.join(store["path"], "mixtera.duckdb")])

        base_runs: List[Run] = []
        base_json: List[Dict] = []
        mx_runs: List[Run] = []
        mx_json: List[Dict] = []
        base_timed_out = False
        mx_reason = self.mixtera_reason
        for i in range(self.args.runs):
            # Baseline (fewer runs with --baseline-runs; a timeout stops its runs).
            if i < self.baseline_runs(n) and not base_timed_out and not self.args.skip_baseline:
                r = run_timed([self.baseline, store["path"]], self.args.baseline_timeout, self.work)
                if r.timed_out:
                    base_timed_out = True
                    log(f"  {name} baseline: timed out after {r.seconds:.0f} s")
                elif r.rc != 0:
                    self.failures.append(f"{name} baseline: exit {r.rc}: {r.stderr.strip()[-2000:]}")
                    log("FAILED " + self.failures[-1])
                    break
                else:
                    j = json.loads(r.stdout.strip().splitlines()[-1])
                    base_runs.append(r)
                    base_json.append(j)
                    log(f"  {name} baseline: {r.seconds:.2f} s (query {j['query_s']:.2f} s, map "
                        f"{j['build_s']:.2f} s), peak RSS {r.rss_kib / 1024:.0f} MiB")
            # Mixtera.
            if mx_reason is None:
                r = run_timed(mixtera_query_cmd(self, store["path"]), self.args.timeout, self.work)
                if r.rc != 0:
                    mx_reason = f"mixtera query failed (exit {r.rc}): {r.stderr.strip()[-500:]}"
                    self.failures.append(f"{name}: {mx_reason}")
                    log("FAILED " + self.failures[-1])
                else:
                    try:
                        j = parse_mixtera_query(r.stdout)
                    except (ValueError, KeyError, IndexError, TypeError) as e:
                        mx_reason = f"mixtera query output does not match the contract ({e!r})"
                        self.failures.append(f"{name}: {mx_reason}: {r.stdout.strip()[-500:]}")
                        log("FAILED " + self.failures[-1])
                    else:
                        mx_runs.append(r)
                        mx_json.append(j)
                        log(f"  {name} mixtera: {r.seconds:.3f} s (internal {j['total_s']:.3f} s), "
                            f"peak RSS {r.rss_kib / 1024:.0f} MiB")

        # Chunk rate (median of --runs).
        rates: List[float] = []
        random_rates: List[float] = []
        cr_reason = self.chunk_rate_reason
        if cr_reason is None:
            for _ in range(self.args.runs):
                r = run_timed(chunk_rate_cmd(self, store["path"]), self.args.timeout, self.work)
                if r.rc != 0:
                    cr_reason = f"index_chunk_rate failed (exit {r.rc}): {r.stderr.strip()[-500:]}"
                    self.failures.append(f"{name}: {cr_reason}")
                    break
                try:
                    parsed = parse_chunk_rate(r.stdout)
                    rates.append(parsed["chunks_per_s"])
                    random_rates.append(parsed["random_chunks_per_s"])
                except (ValueError, KeyError, IndexError) as e:
                    cr_reason = f"index_chunk_rate output does not match the contract ({e!r})"
                    self.failures.append(f"{name}: {cr_reason}")
                    break

        # Checks of what each side reports against what the store holds.
        expect = {"components": components, "ranges": store["num_ranges"], "samples": n}
        for j in base_json[:1]:
            got = {"components": j["components"], "ranges": j["intervals"], "samples": j["samples"]}
            if got != expect:
                self.failures.append(f"{name} baseline: reported {got}, the store holds {expect}")
        for j in mx_json[:1]:
            got = {"components": j["components"], "samples": j["num_samples"]}
            want = {k: expect[k] for k in got}
            if got != want:
                self.failures.append(f"{name} mixtera: reported {got}, the store holds {want}")
            # Ranges may legitimately be counted differently (e.g. merged across files), so a
            # difference is a note; B/range always uses the store's count.
            if j["num_ranges"] is not None and j["num_ranges"] != expect["ranges"]:
                self.notes.append(f"{name} mixtera: num_ranges {j['num_ranges']}, the store has "
                                  f"{expect['ranges']} (maximal runs per file)")

        res: Dict = dict(config=name, size=size, layout=layout, components=components, samples=n,
                         ranges=store["num_ranges"], store_bytes=store["store_bytes"],
                         generate_s=store["generate_s"], store_cached=store["cached"])
        if base_runs:
            res["baseline"] = dict(
                median_s=median([r.seconds for r in base_runs]),
                runs_s=[r.seconds for r in base_runs],
                query_s=median([j["query_s"] for j in base_json]),
                build_s=median([j["build_s"] for j in base_json]),
                internal_s=median([j["total_s"] for j in base_json]),
                peak_rss_mib=median([r.rss_kib / 1024 for r in base_runs]),
                timed_out=base_timed_out)
        elif base_timed_out:
            res["baseline"] = dict(median_s=None, lower_bound_s=self.args.baseline_timeout,
                                   timed_out=True)
        if mx_runs:
            idx = [j["index_bytes"] for j in mx_json if j["index_bytes"] is not None]
            index_bytes = median(idx) if idx else None
            res["mixtera"] = dict(
                median_s=median([r.seconds for r in mx_runs]),
                runs_s=[r.seconds for r in mx_runs],
                internal_s=median([j["total_s"] for j in mx_json]),
                timings=mx_json[len(mx_json) // 2]["timings"],
                peak_rss_mib=median([r.rss_kib / 1024 for r in mx_runs]),
                index_bytes=index_bytes,
                bytes_per_range=index_bytes / store["num_ranges"] if index_bytes is not None else None,
                bytes_per_sample=index_bytes / n if index_bytes is not None else None)
        else:
            res["mixtera_unavailable"] = mx_reason
        if rates:
            res["chunks_per_s"] = median(rates)
            res["random_chunks_per_s"] = median(random_rates)
        else:
            res["chunk_rate_unavailable"] = cr_reason
        self.results.append(res)
        self.print_row(res)

    # -- output -------------------------------------------------------------------------

    HEADER = (f"{'size/layout/components':<24} {'ranges':>10} {'base s':>8} {'(query':>7} "
              f"{'map)':>6} {'mixtera s':>9} {'(intern)':>8} {'ratio':>7} {'mx samples/s':>12} "
              f"{'base MiB':>8} {'mx MiB':>7} {'B/range':>7} {'B/sample':>8} {'chunks/s':>9}")

    def print_row(self, r: Dict) -> None:
        b = r.get("baseline")
        m = r.get("mixtera")
        if b and b.get("median_s") is not None:
            base_s, q, mp, base_mib = fmt_s(b["median_s"]), fmt_s(b["query_s"]), fmt_s(b["build_s"]), \
                f"{b['peak_rss_mib']:.0f}"
        elif b and b.get("timed_out"):
            base_s, q, mp, base_mib = f">{b['lower_bound_s']:.0f}", "-", "-", "-"
        else:
            base_s, q, mp, base_mib = "-", "-", "-", "-"
        if m:
            mx_s, intern = fmt_s(m["median_s"]), fmt_s(m["internal_s"])
            rate = fmt_rate(r["samples"] / m["internal_s"]) if m["internal_s"] > 0 else "-"
            mx_mib = f"{m['peak_rss_mib']:.0f}"
            bpr = f"{m['bytes_per_range']:.1f}" if m["bytes_per_range"] is not None else "-"
            bps = f"{m['bytes_per_sample']:.2f}" if m["bytes_per_sample"] is not None else "-"
        else:
            mx_s = intern = rate = mx_mib = bpr = bps = "-"
        ratio = "-"
        if m and b and b.get("median_s") is not None:
            ratio = f"{b['median_s'] / m['median_s']:.1f}x"
        elif m and b and b.get("timed_out"):
            ratio = f">{b['lower_bound_s'] / m['median_s']:.0f}x"
        chunks = fmt_rate(r.get("chunks_per_s"))
        print(f"{r['config']:<24} {r['ranges']:>10} {base_s:>8} {q:>7} {mp:>6} {mx_s:>9} {intern:>8} "
              f"{ratio:>7} {rate:>12} {base_mib:>8} {mx_mib:>7} {bpr:>7} {bps:>8} {chunks:>9}",
              flush=True)
        if not m and r.get("mixtera_unavailable") != self.mixtera_reason:
            print(f"{'':<24} mixtera side unavailable: {r.get('mixtera_unavailable')}", flush=True)

    def check_targets(self) -> List[str]:
        """Prints one line per target and configuration; returns the misses."""
        misses: List[str] = []

        def verdict(ok: bool, what: str) -> str:
            if not ok:
                misses.append(what)
            return "met" if ok else "MISSED"

        for r in self.results:
            m, b, name = r.get("mixtera"), r.get("baseline"), r["config"]
            if not m:
                continue
            if b and b.get("median_s") is not None:
                ratio = b["median_s"] / m["median_s"]
                print(f"{name}: build {ratio:.1f}x the baseline (target >= {TARGET_RATIO:g}x) "
                      f"{verdict(ratio >= TARGET_RATIO, f'{name} ratio {ratio:.1f}x')}")
            elif b and b.get("timed_out"):
                ratio = b["lower_bound_s"] / m["median_s"]
                print(f"{name}: build > {ratio:.0f}x the baseline (baseline timed out; target >= "
                      f"{TARGET_RATIO:g}x) {verdict(ratio >= TARGET_RATIO, f'{name} ratio >{ratio:.1f}x')}")
            rate = r["samples"] / m["internal_s"] if m["internal_s"] > 0 else float("inf")
            print(f"{name}: {rate / 1e6:.1f}M samples/s query start to ready job (target >= "
                  f"{TARGET_SAMPLES_PER_S / 1e6:g}M) "
                  f"{verdict(rate >= TARGET_SAMPLES_PER_S, f'{name} {rate / 1e6:.1f}M samples/s')}")
            if r["layout"] == "clustered" and m["bytes_per_range"] is not None:
                x = m["bytes_per_range"]
                print(f"{name}: index {x:.1f} B per range (target <= {TARGET_BYTES_PER_RANGE:g}) "
                      f"{verdict(x <= TARGET_BYTES_PER_RANGE, f'{name} {x:.1f} B/range')}")
            if r["layout"] == "interleaved" and m["bytes_per_sample"] is not None:
                x = m["bytes_per_sample"]
                print(f"{name}: index {x:.2f} B per sample (target <= {TARGET_BYTES_PER_SAMPLE:g}) "
                      f"{verdict(x <= TARGET_BYTES_PER_SAMPLE, f'{name} {x:.2f} B/sample')}")
            if r["layout"] == "interleaved" and r["components"] == 1000 and "chunks_per_s" in r:
                x = r["chunks_per_s"]
                print(f"{name}: {x:.0f} chunks/s at chunk size {CHUNK_SIZE}, a consumer's increasing "
                      f"indices (target >= {TARGET_CHUNKS_PER_S}) "
                      f"{verdict(x >= TARGET_CHUNKS_PER_S, f'{name} {x:.0f} chunks/s')}")
                y = r.get("random_chunks_per_s", 0.0)
                print(f"{name}: {y:.0f} chunks/s at uniformly random indices (reported, not a target)")
        return misses


def baseline_runs_text(a: argparse.Namespace) -> str:
    if a.baseline_runs is not None:
        return f"{min(a.runs, a.baseline_runs)} runs"
    return f"{a.runs} runs, 1 from {BIG_STORE // 1_000_000}M samples on"


def conditions(b: Bench, duckdb_version: str) -> List[str]:
    cpu = platform.processor() or platform.machine()
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
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    busy = os.getloadavg()[0] > usable * 0.75
    a = b.args
    return [
        f"machine: {usable} usable cores ({os.cpu_count()} online), {cpu}, {mem} RAM; load average "
        f"at start {load}" + (" (BUSY: other work competes for the cores; ratios are more "
                              "trustworthy than absolute numbers)" if busy else ""),
        f"timing: each side is a separate process timed as a whole, process start and opening "
        f"DuckDB included; rounds alternate baseline and mixtera; median of {a.runs} runs "
        f"(baseline: {baseline_runs_text(a)}, killed after {a.baseline_timeout:.0f} s)",
        "page cache: warm (the store file is read once before timing each configuration)",
        f"stores: one dataset, {NUM_FILES} files, properties lang/topic (string), source (enum), "
        f"score (float); cached under {a.store_root}",
        f"baseline: original gaps-and-islands SQL over the decoded samples view (DuckDB "
        f"{duckdb_version}, default threads = all cores, memory limit 66% of RAM as the original), "
        f"grouped by dataset, file_id and the 3 "
        f"categorical properties (the original groups by every property; it supports no numeric "
        f"ones), fetched into Arrow-like batches, then per-thread unordered_maps keyed by "
        f"'prop:value;...' strings, merged; the original's Python dict conversion is not "
        f"included (a lower bound of the original's cost)",
        f"mixtera: {' '.join(mixtera_query_cmd(b, 'DIR')).replace(b.build + '/', '').replace(b.mixture_file, 'MIX')} "
        f"with an inferring mixture (chunk size {CHUNK_SIZE}); samples/s from mixtera's own "
        f"timings.total_s (query start to ready job); ratio = median process times",
        "peak MiB: ru_maxrss of each child (wait4), median over runs; B/range and B/sample: "
        "mixtera's index_bytes over the store's ranges / samples",
        f"chunk rate: index_chunk_rate DIR --mixture MIX --chunk-size {CHUNK_SIZE}, median chunks/s",
    ]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default=os.path.join(REPO, "build"),
                    help="build folder with bench/index_* and bin/mixtera (default: REPO/build)")
    ap.add_argument("--sizes", default="10M,100M",
                    help=f"comma-separated sizes out of {', '.join(SIZES)} (default 10M,100M)")
    ap.add_argument("--layouts", default=",".join(LAYOUTS), help="comma-separated layouts")
    ap.add_argument("--components", default=",".join(map(str, COMPONENTS)),
                    help="comma-separated component counts (default 20,1000,10000)")
    ap.add_argument("--runs", type=int, default=None, help="runs per side (median; default 3, 1 with --quick)")
    ap.add_argument("--baseline-runs", type=int, default=None,
                    help="at most this many baseline runs (default: --runs, but 1 from 100M "
                         "samples on, where one baseline run takes 4-12 minutes)")
    ap.add_argument("--baseline-timeout", type=float, default=1800,
                    help="seconds before a baseline run is killed; the ratio is then a lower bound")
    ap.add_argument("--timeout", type=float, default=1800, help="seconds before any other run is killed")
    ap.add_argument("--quick", action="store_true",
                    help="smoke test: 200k samples, 1 run (ratios say nothing about the targets)")
    ap.add_argument("--store-root", default=os.path.join(REPO, "corpus", "index"),
                    help="where the synthetic stores are cached (default REPO/corpus/index)")
    ap.add_argument("--skip-baseline", action="store_true", help="measure only the Mixtera side")
    ap.add_argument("--skip-mixtera", action="store_true", help="measure only the baseline")
    ap.add_argument("--json-out", default="", help="also write all results as JSON to this file")
    args = ap.parse_args()
    if args.quick:
        args.sizes = "200k"
    if args.runs is None:
        args.runs = 1 if args.quick else 3
    if args.runs < 1 or (args.baseline_runs is not None and args.baseline_runs < 0):
        ap.error("--runs must be >= 1 and --baseline-runs >= 0")
    sizes = [s.strip() for s in args.sizes.split(",") if s.strip()]
    for s in sizes:
        if s not in SIZES:
            ap.error(f"unknown size {s!r} (known: {', '.join(SIZES)})")
    layouts = [s.strip() for s in args.layouts.split(",") if s.strip()]
    for s in layouts:
        if s not in LAYOUTS:
            ap.error(f"unknown layout {s!r}")
    components = [int(c) for c in args.components.split(",") if c.strip()]
    args.store_root = os.path.abspath(args.store_root)

    b = Bench(args)
    for path in (b.make_store, b.baseline):
        if not os.access(path, os.X_OK):
            raise SystemExit(f"run.py: {path} not found: build it first "
                             f"(ninja -C {args.build} index_make_store index_baseline)")
    os.makedirs(args.store_root, exist_ok=True)
    r = subprocess.run([b.baseline, "--version"], capture_output=True, text=True)
    duckdb_version = r.stdout.strip() or "?"

    t_start = time.time()
    print("== bench/index: mixtera query + index build + plan vs the original's gaps-and-islands "
          "SQL + string-keyed hash map ==")
    for line in conditions(b, duckdb_version):
        print("   " + line)
    if args.quick:
        print("   QUICK: a smoke test on tiny stores; fixed per-process costs dominate, so its "
              "numbers say nothing about the targets")
    if b.mixtera_reason:
        print(f"   mixtera side unavailable: {b.mixtera_reason}")
    if b.chunk_rate_reason:
        print(f"   chunk rate unavailable: {b.chunk_rate_reason}")
    read_through([b.make_store, b.baseline, b.mixtera, b.chunk_rate,
                  os.path.join(REPO, "third_party", "duckdb", "lib", "libduckdb.so")])
    print()
    print(Bench.HEADER)
    for size in sizes:
        for layout in layouts:
            for c in components:
                b.measure(size, layout, c)
    print()
    print("== targets ==")
    misses = b.check_targets()
    if not any("mixtera" in r for r in b.results):
        print("(no Mixtera numbers: the targets cannot be checked)")
    if b.notes:
        print("notes:")
        for n in b.notes:
            print("  " + n)
    if b.failures:
        print("problems:")
        for f in b.failures:
            print("  " + f.replace("\n", "\n    "))
    print(f"targets: {'all met' if not misses else 'MISSED: ' + '; '.join(misses)}"
          if any("mixtera" in r for r in b.results) else "targets: not checked")
    print(f"total bench time {time.time() - t_start:.0f} s; load average at end "
          + " ".join(f"{x:.2f}" for x in os.getloadavg()))
    if args.json_out:
        with open(args.json_out, "w") as f:
            json.dump(dict(results=b.results, failures=b.failures, misses=misses,
                           conditions=conditions(b, duckdb_version)), f, indent=1)
    shutil.rmtree(b.work, ignore_errors=True)
    return 1 if b.failures else 0


if __name__ == "__main__":
    sys.exit(main())
