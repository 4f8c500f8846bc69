#!/usr/bin/python3
"""ADO dynamic mixing benchmark: Mixtera's native AdoDynamicMixing against a SciPy reference of
the original Python procedure, on the same synthetic training trace (see README.md here).

  PYTHONPATH=build/python /usr/bin/python3 bench/mixing/run.py [--quick] [--json FILE] [--seed N]

What is measured, in one process, one contender after the other:
  * total     the sum of the wall times of all process_losses calls over the trace, for ours with
              fit_threads=1, ours with the default fit_threads=0 (one thread per core) and the
              reference (python/tests_mixing/ado_reference.py: ReferenceAdo, num_workers=1, one
              process: 384-start finite-difference L-BFGS-B per domain, as the original).
              Ratio reference / ours, target >= 50x; also per refit call and in process CPU
              time. Trace generation and result copies are not timed; the reference's time
              includes two tiny wrappers that record its fit data.
  * refit     one refit of all domains on 1 and on 2 threads: a fresh AdoDynamicMixing is fed
              the first start_step - 1 steps, then the start_step-th call (the first refit) is
              timed; median of --repeat runs.
  * agreement the steps that return None must be the same; every mixture must be a distribution
              (finite, >= 0, sums to 1 within 1e-6) -- otherwise the exit status is 1. Reported:
              max |ours - reference| per refit interval and overall, and for every refit and
              domain our fitted [log_beta, log_eps, alpha] evaluated with the reference's
              scaling_law_objective on the reference's own prepared (x, y) against the
              reference's best objective (worst relative excess). Attribution: the reference
              rerun with every refit replaced by our fitted laws (seconds) vs ours.

Trace (does not depend on the returned mixtures, so it is the same for every contender): per
step each domain gets a token count around 4096*8/K (seeded Dirichlet share x U(0.7, 1.3), 2 %
of (step, domain) pairs after the first step get 0 tokens) and a float32 loss sum count *
(eps_k + beta_k * (n_k/1024)^-alpha_k) * (1 + 0.02 N(0,1)), n_k the domain's cumulative tokens,
log eps_k ~ U(0.55, 1.2), log beta_k ~ U(0, 2.5), alpha_k ~ U(0.1, 0.6); mixture id = step // 50.
Full run: 22 domains, 6,000 steps, start_step 1000, ignore_initial_steps 500, refit every 1000
steps (6 refits), subsampling 10, count_normalizer 1024, vanilla, savgol, same step size.
--quick: 3 domains, 300 steps, start_step 150, ignore 20, refit every 100, subsampling 5.
Timings are printed, never asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "python", "tests_mixing"))
import ado_reference as ref  # noqa: E402  (the SciPy reference of the original)
from mixtera import AdoDynamicMixing  # noqa: E402  (PYTHONPATH=build/python)

FULL = {"domains": 22, "steps": 6000, "start_step": 1000, "ignore_initial_steps": 500,
        "scaling_law_update_interval": 1000, "subsampling_interval": 10}
QUICK = {"domains": 3, "steps": 300, "start_step": 150, "ignore_initial_steps": 20,
         "scaling_law_update_interval": 100, "subsampling_interval": 5}
COUNT_NORMALIZER = 1024
TOKENS_PER_STEP = 4096 * 8
MIXTURE_ID_EVERY = 50
TARGET_RATIO = 50.0
SUM_TOLERANCE = 1e-6


def make_trace(domains: int, steps: int, seed: int) -> dict:
    """The synthetic feedback of `steps` training steps (see the module docstring)."""
    rng = np.random.default_rng(seed)
    log_eps, log_beta = rng.uniform(0.55, 1.2, domains), rng.uniform(0.0, 2.5, domains)
    alpha = rng.uniform(0.1, 0.6, domains)
    share = rng.dirichlet(np.full(domains, 20.0))
    counts = np.rint(TOKENS_PER_STEP * share * rng.uniform(0.7, 1.3, (steps, domains))).astype(np.int64)
    counts[1:][rng.random((steps - 1, domains)) < 0.02] = 0  # a domain missing from a step now and then
    n = np.cumsum(counts, axis=0) / COUNT_NORMALIZER
    per_token = np.exp(log_eps) + np.exp(log_beta) * np.maximum(n, 1e-9) ** -alpha
    noise = 1.0 + 0.02 * rng.standard_normal((steps, domains))
    losses = (counts * per_token * noise).astype(np.float32)
    prior = share.astype(np.float32)
    prior /= prior.sum()
    return {"losses": losses, "counts": counts, "ids": np.arange(steps) // MIXTURE_ID_EVERY, "prior": prior,
            "truth": np.stack([log_beta, log_eps, alpha], axis=1)}


def ado_kwargs(cfg: dict) -> dict:
    return {k: cfg[k] for k in ("start_step", "ignore_initial_steps", "scaling_law_update_interval",
                                "subsampling_interval")} | {"count_normalizer": COUNT_NORMALIZER}


def refit_steps(cfg: dict) -> list[int]:
    """1-based call numbers (total_steps) at which ADO refits its scaling laws."""
    return list(range(cfg["start_step"], cfg["steps"] + 1, cfg["scaling_law_update_interval"]))


def feed(alg, trace: dict, steps: int, after_call=None) -> dict:
    """Feeds the trace's first `steps` steps to `alg`, timing each process_losses call (wall and
    process CPU); `after_call(t)` runs after call t (0-based), outside the timing."""
    times, results, cpu = np.zeros(steps), [], 0.0
    losses, counts, ids = trace["losses"], trace["counts"], trace["ids"]
    for t in range(steps):
        t0, c0 = time.perf_counter(), time.process_time()
        out = alg.process_losses(losses[t], counts[t], int(ids[t]))
        times[t], cpu = time.perf_counter() - t0, cpu + time.process_time() - c0
        results.append(None if out is None else np.array(out, dtype=np.float64))
        if after_call is not None:
            after_call(t)
    return {"times": times, "results": results, "cpu": cpu}


def run_ours(trace: dict, cfg: dict, fit_threads: int) -> dict:
    alg = AdoDynamicMixing(**ado_kwargs(cfg), fit_threads=fit_threads)
    alg.initial_mixture = trace["prior"]
    refits, params = set(refit_steps(cfg)), {}

    def keep_params(t):
        if t + 1 in refits:
            params[t + 1] = np.array(alg.scaling_law_params, dtype=np.float64)

    out = feed(alg, trace, cfg["steps"], keep_params)
    out["params"] = params
    return out


def run_reference(trace: dict, cfg: dict) -> dict:
    """ReferenceAdo (num_workers=1) over the trace; records each fit's (x, y, best objective)."""
    alg = ref.ReferenceAdo(**ado_kwargs(cfg), num_workers=1)
    alg.initial_mixture = trace["prior"]
    fits: dict[int, dict[int, tuple]] = {}  # total_steps -> domain -> (x, y, best objective)
    params: dict[int, np.ndarray] = {}  # total_steps -> fitted (K, 3)
    current = {"k": -1}
    orig_task, orig_fit, orig_refit = ref._fit_domain_task, ref.fit_scaling_law, alg.fit_scaling_laws

    def task(t):
        current["k"] = t[0]
        return orig_task(t)

    def fit(x, y):
        params, best, ok = orig_fit(x, y)
        fits.setdefault(alg.total_steps, {})[current["k"]] = (x, y, best)
        return params, best, ok

    n_refits, start = len(refit_steps(cfg)), time.perf_counter()

    def refit_with_progress():
        t0 = time.perf_counter()
        orig_refit()
        params[alg.total_steps] = np.array(alg.scaling_law_params, dtype=np.float64)
        done = len(params)
        print(f"  reference: refit {done}/{n_refits} (step {alg.total_steps}) took {time.perf_counter() - t0:.1f} s, "
              f"elapsed {time.perf_counter() - start:.0f} s", file=sys.stderr, flush=True)

    ref._fit_domain_task, ref.fit_scaling_law, alg.fit_scaling_laws = task, fit, refit_with_progress
    try:
        out = feed(alg, trace, cfg["steps"])
    finally:
        ref._fit_domain_task, ref.fit_scaling_law = orig_task, orig_fit
    out.update(fits=fits, params=params)
    return out


def run_reference_with_laws(trace: dict, cfg: dict, laws: dict) -> list:
    """ReferenceAdo over the trace with every refit replaced by the given (K, 3) laws: isolates the
    mixture differences that do not come from the fits (no fits run, so it takes seconds)."""
    alg = ref.ReferenceAdo(**ado_kwargs(cfg), num_workers=1)
    alg.initial_mixture = trace["prior"]
    alg.fit_scaling_laws = lambda: setattr(alg, "scaling_law_params", laws[alg.total_steps].copy())
    out = [alg.process_losses(trace["losses"][t], trace["counts"][t], int(trace["ids"][t])) for t in range(cfg["steps"])]
    return [None if m is None else np.array(m, dtype=np.float64) for m in out]


def time_one_refit(trace: dict, cfg: dict, fit_threads: int, repeat: int) -> float:
    """Median wall time of the first refit call (call number start_step) of a fresh instance."""
    s, samples = cfg["start_step"], []
    for _ in range(repeat):
        alg = AdoDynamicMixing(**ado_kwargs(cfg), fit_threads=fit_threads)
        alg.initial_mixture = trace["prior"]
        for t in range(s - 1):
            alg.process_losses(trace["losses"][t], trace["counts"][t], int(trace["ids"][t]))
        t0 = time.perf_counter()
        alg.process_losses(trace["losses"][s - 1], trace["counts"][s - 1], int(trace["ids"][s - 1]))
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples)


def is_distribution(m: np.ndarray) -> bool:
    return bool(np.all(np.isfinite(m)) and np.all(m >= 0) and abs(m.sum() - 1.0) <= SUM_TOLERANCE)


def compare(a: list, b: list, cfg: dict) -> dict:
    """None agreement, distribution check and max |a - b| per refit interval (1-based steps)."""
    none_diff = [t + 1 for t, (x, y) in enumerate(zip(a, b)) if (x is None) != (y is None)]
    bad = [t + 1 for t, x in enumerate(a + b) if x is not None and not is_distribution(x)]
    per_interval = []
    for r in refit_steps(cfg):
        hi = min(r + cfg["scaling_law_update_interval"], cfg["steps"] + 1)
        diffs = [float(np.max(np.abs(a[t - 1] - b[t - 1]))) for t in range(r, hi)
                 if a[t - 1] is not None and b[t - 1] is not None]
        per_interval.append({"from": r, "to": hi, "max_abs_diff": max(diffs, default=0.0)})
    return {"none_mismatch_steps": none_diff, "not_distribution": len(bad),
            "returned": sum(x is not None for x in a),
            "per_interval": per_interval, "max_abs_diff": max(p["max_abs_diff"] for p in per_interval)}


def fit_quality(ours_params: dict, fits: dict) -> dict:
    """Our fitted params under the reference's objective on its (x, y) vs its best objective."""
    rows = []
    with np.errstate(over="ignore"):
        for step, per_domain in sorted(fits.items()):
            for k, (x, y, best) in sorted(per_domain.items()):
                p = ours_params[step][k]
                ours = float(ref.scaling_law_objective(p, x, y))
                rel = (ours - best) / best if best > 0 else ours - best
                rows.append({"step": step, "domain": k, "ours": ours, "reference": best, "rel_excess": rel})
    worst = max(rows, key=lambda r: r["rel_excess"])
    return {"fits": len(rows), "worst": worst, "ours_lower": sum(r["rel_excess"] < -1e-9 for r in rows),
            "within_1e-6": sum(abs(r["rel_excess"]) <= 1e-6 for r in rows),
            "over_1pct": sum(r["rel_excess"] > 0.01 for r in rows),
            "median_rel_excess": statistics.median(r["rel_excess"] for r in rows), "rows": rows}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="smoke test: 3 domains, 300 steps")
    ap.add_argument("--json", metavar="FILE", help="write the numbers here")
    ap.add_argument("--seed", type=int, default=20240611)
    ap.add_argument("--repeat", type=int, default=3, help="runs of the single-refit timing (median)")
    args = ap.parse_args()
    cfg = dict(QUICK if args.quick else FULL)
    cores = len(os.sched_getaffinity(0))
    load_start = os.getloadavg()
    trace = make_trace(cfg["domains"], cfg["steps"], args.seed)
    refits = refit_steps(cfg)
    K = cfg["domains"]
    print(f"ADO vanilla, {K} domains x {cfg['steps']} steps, start_step {cfg['start_step']}, ignore "
          f"{cfg['ignore_initial_steps']}, refit every {cfg['scaling_law_update_interval']} ({len(refits)} refits), "
          f"subsampling {cfg['subsampling_interval']}, count_normalizer {COUNT_NORMALIZER}; {cores} cores, "
          f"load average {' '.join(f'{v:.2f}' for v in load_start)}; {platform.python_implementation()} "
          f"{platform.python_version()}, numpy {np.__version__}", flush=True)

    ours1 = run_ours(trace, cfg, fit_threads=1)
    oursd = run_ours(trace, cfg, fit_threads=0)
    refit_1 = time_one_refit(trace, cfg, 1, args.repeat)
    refit_2 = time_one_refit(trace, cfg, 2, args.repeat)
    print(f"ours done: 1 thread {ours1['times'].sum():.3f} s, {cores} threads {oursd['times'].sum():.3f} s; "
          f"running the reference ({len(refits)} refits x {K} domains) ...", file=sys.stderr, flush=True)
    reference = run_reference(trace, cfg)
    load_end = os.getloadavg()

    t1, td, tr = ours1["times"].sum(), oursd["times"].sum(), reference["times"].sum()
    idx = np.array(refits) - 1
    r1, rd, rr = ours1["times"][idx].sum(), oursd["times"][idx].sum(), reference["times"][idx].sum()
    ratio1, ratiod = tr / t1, tr / td
    verdict = "met" if min(ratio1, ratiod) >= TARGET_RATIO else "MISSED"
    cmp_ref = compare(ours1["results"], reference["results"], cfg)
    cmp_laws = compare(ours1["results"], run_reference_with_laws(trace, cfg, ours1["params"]), cfg)
    cmp_threads = compare(ours1["results"], oursd["results"], cfg)
    quality = fit_quality(ours1["params"], reference["fits"])
    param_diff = {s: np.max(np.abs(ours1["params"][s] - reference["params"][s]), axis=0).tolist() for s in refits}
    params_threads = max(float(np.max(np.abs(ours1["params"][s] - oursd["params"][s]))) for s in refits)

    print(f"ado total: ours 1 thread {t1:.3f} s, ours {cores} threads {td:.3f} s, scipy reference {tr:.1f} s "
          f"-> ratio {ratio1:.0f}x / {ratiod:.0f}x (target >= {TARGET_RATIO:.0f}x: {verdict})")
    print(f"  of which the {len(refits)} refit calls: ours 1 thread {r1:.3f} s, ours {cores} threads {rd:.3f} s, "
          f"reference {rr:.1f} s; the other {cfg['steps'] - len(refits)} calls: {t1 - r1:.3f} s / {td - rd:.3f} s / "
          f"{tr - rr:.3f} s ({(t1 - r1) / (cfg['steps'] - len(refits)) * 1e6:.1f} / "
          f"{(tr - rr) / (cfg['steps'] - len(refits)) * 1e6:.1f} us per call, ours 1 thread / reference)")
    print("per refit call: " + ", ".join(f"step {s} ours {ours1['times'][s - 1]:.3f} s / reference "
                                         f"{reference['times'][s - 1]:.1f} s ({reference['times'][s - 1] / ours1['times'][s - 1]:.0f}x)"
                                         for s in refits) + " (ours 1 thread)")
    print(f"cpu time (process, all threads): ours 1 thread {ours1['cpu']:.3f} s, ours {cores} threads "
          f"{oursd['cpu']:.3f} s, reference {reference['cpu']:.1f} s -> ratio {reference['cpu'] / ours1['cpu']:.0f}x "
          f"/ {reference['cpu'] / oursd['cpu']:.0f}x")
    print(f"refit of {K} domains: 1 thread {refit_1:.3f} s, 2 threads {refit_2:.3f} s "
          f"(speed-up {refit_1 / refit_2:.2f}x; median of {args.repeat}, at step {cfg['start_step']})")
    intervals = ", ".join(f"[{p['from']},{p['to']}) {p['max_abs_diff']:.2e}" for p in cmp_ref["per_interval"])
    print(f"mixtures: {cmp_ref['returned']} returned, None on the same steps: "
          f"{'yes' if not cmp_ref['none_mismatch_steps'] else 'NO ' + str(cmp_ref['none_mismatch_steps'][:10])}, "
          f"not a distribution: {cmp_ref['not_distribution']}; max |ours - reference| {cmp_ref['max_abs_diff']:.2e} "
          f"overall, per refit interval: {intervals}")
    w = quality["worst"]
    print(f"scaling-law fits: {quality['fits']} (refit x domain); our params under the reference objective vs its "
          f"best loss: worst relative excess {w['rel_excess']:.2e} (step {w['step']}, domain {w['domain']}: "
          f"{w['ours']:.4e} vs {w['reference']:.4e}), median {quality['median_rel_excess']:.1e}; within 1e-6: "
          f"{quality['within_1e-6']}, ours lower: {quality['ours_lower']}, over 1 %: {quality['over_1pct']}")
    print("max |ours - reference| of [log_beta, log_eps, alpha] per refit: " + ", ".join(
        f"step {s} [{d[0]:.1e} {d[1]:.1e} {d[2]:.1e}]" for s, d in param_diff.items()))
    print(f"reference driven by our fitted laws (no fits of its own) vs ours: max mixture diff "
          f"{cmp_laws['max_abs_diff']:.1e}, None on the same steps: {'yes' if not cmp_laws['none_mismatch_steps'] else 'NO'}"
          + (" (so the differences above come from the fits)" if cmp_laws["max_abs_diff"] < 1e-6 else ""))
    print(f"ours 1 thread vs {cores} threads: None on the same steps: "
          f"{'yes' if not cmp_threads['none_mismatch_steps'] else 'NO'}, max mixture diff "
          f"{cmp_threads['max_abs_diff']:.1e}, max parameter diff {params_threads:.1e}")
    print(f"load average at the end: {' '.join(f'{v:.2f}' for v in load_end)}")

    failed = bool(cmp_ref["none_mismatch_steps"] or cmp_ref["not_distribution"] or cmp_threads["none_mismatch_steps"]
                  or cmp_threads["not_distribution"])
    if args.json:
        out = {"config": cfg | {"count_normalizer": COUNT_NORMALIZER, "seed": args.seed, "quick": args.quick},
               "cores": cores, "load_average_start": load_start, "load_average_end": load_end,
               "total_s": {"ours_1_thread": t1, "ours_default": td, "reference": tr},
               "cpu_s": {"ours_1_thread": ours1["cpu"], "ours_default": oursd["cpu"], "reference": reference["cpu"]},
               "per_refit_s": {s: {"ours_1_thread": ours1["times"][s - 1], "ours_default": oursd["times"][s - 1],
                                   "reference": reference["times"][s - 1]} for s in refits},
               "non_refit_call_median_us_last_interval": {
                   name: 1e6 * float(np.median(np.delete(r["times"], idx)[-cfg["scaling_law_update_interval"]:]))
                   for name, r in (("ours_1_thread", ours1), ("reference", reference))},
               "mixtures_with_our_laws_max_abs_diff": cmp_laws["max_abs_diff"],
               "refit_calls_s": {"ours_1_thread": r1, "ours_default": rd, "reference": rr},
               "ratio": {"ours_1_thread": ratio1, "ours_default": ratiod, "target": TARGET_RATIO},
               "one_refit_s": {"1_thread": refit_1, "2_threads": refit_2, "repeat": args.repeat},
               "mixtures": {k: v for k, v in cmp_ref.items()},
               "threads_agree": {"max_abs_diff": cmp_threads["max_abs_diff"], "max_param_diff": params_threads,
                                 "none_mismatch_steps": cmp_threads["none_mismatch_steps"]},
               "fit_quality": quality, "param_max_abs_diff": param_diff, "failed": failed,
               "params": {"truth": trace["truth"].tolist(),
                          "ours": {s: ours1["params"][s].tolist() for s in refits},
                          "reference": {s: reference["params"][s].tolist() for s in refits}}}
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(out, f, indent=1)
    if failed:
        print("FAILED: the implementations disagree on which steps return None, or a mixture is not a distribution",
              file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
