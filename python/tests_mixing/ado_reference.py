"""Python test oracle for Mixtera's dynamic mixing algorithms (ADO and loss averaging).

Written from the behavioural specification in /tmp/research/ado_spec.md (a paraphrase of the
public eth-easl/mixtera sources, MIT); it re-derives the formulas and is not a copy of them.
Goal: given the same sequence of `process_losses(losses, counts, mixture_id)` calls, return the
same mixtures step by step as the original `AdoDynamicMixing` / `SimpleAveragingAlgorithm`.

Contracts shared by all classes:
  * `losses` are per-domain loss SUMS of one training step (float32 from trainers),
    `counts` are per-domain token counts of that step (int64); index = Mixtera key id.
  * Arrays may grow between calls (new key ids); they must not shrink for ADO (the original
    fails in that case, see spec §2.12 B1).
  * `process_losses` returns None ("keep the current mixture") or a probability vector over
    key ids (sums to 1).
  * dtypes follow the original on purpose (float32 accumulators, float32 prior, float32
    per-step losses, float64 policy), because they change the last bits of the result.

Only numpy and scipy are needed. Run `/usr/bin/python3 ado_reference.py` for a self-check.
"""

from __future__ import annotations

import json
import math
import multiprocessing as mp
from typing import Any

import numpy as np
from scipy.optimize import minimize
from scipy.signal import savgol_filter
from scipy.special import logsumexp

# ---- constants of the original (spec §2.4, §2.9, §2.11) --------------------------------------
HUBER_DELTA, PENALTY_WEIGHT = 1e-3, 1e3
ALPHA_MAX, ALPHA_MIN = 0.8, 0.001
LOG_BETA_MAX, LOG_EPS_MIN = 6.5, 0.5
LBFGSB_OPTIONS = {"maxiter": 200, "gtol": 1e-5}  # everything else: SciPy L-BFGS-B defaults
SAVGOL_MAX_WINDOW, SAVGOL_POLYORDER = 101, 3
NO_FIT_PARAMS = np.array([-1.0, -1.0, -1.0])  # stored when a domain has no usable point
V3_SLACK_STEPS, LOG_WRITE_EVERY = 15, 5000


# ---- scaling-law fit ---------------------------------------------------------------------------
def start_grid() -> list[tuple[Any, Any, Any]]:
    """The 384 multi-start points, in the original order.

    Each point is (log_beta, log_eps, alpha). alpha varies slowest, log_eps fastest.
    alpha values are the Python products 0.1*i (so 0.30000000000000004 etc.); log_beta is an
    integer grid; log_eps skips 0 and 0.5 on purpose (paper grid).
    """
    alphas, log_betas = np.array([0.1 * i for i in range(8)]), np.arange(-2, 6)
    log_epss = np.array([-2.0, -1.5, -1.0, -0.5, 1.0, 1.5])
    return [(lb, le, a) for a in alphas for lb in log_betas for le in log_epss]


def scaling_law_objective(params: Any, x: np.ndarray, y: np.ndarray) -> float:
    """Huber loss (delta 1e-3, mean) of log L(x) = logsumexp(log_beta - alpha*log x, log_eps)
    against log(y), plus linear penalties (weight 1e3) outside alpha in [0.001, 0.8],
    log_beta <= 6.5, log_eps >= 0.5. Returns inf for non-finite parameters.

    `y` keeps its dtype: float32 targets give float32 logs, exactly as in the original.
    """
    log_beta, log_eps, alpha = params
    if not (np.isfinite(log_beta) and np.isfinite(log_eps) and np.isfinite(alpha)):
        return np.inf
    power_term = log_beta - alpha * np.log(x)
    floor_term = log_eps + np.zeros_like(x)
    pred = logsumexp([power_term, floor_term], axis=0)
    target = np.log(y)
    if np.any(np.isnan(pred)) or np.any(np.isnan(target)):  # the original raises here too
        raise RuntimeError(f"NaN in prediction or target for params {params}")
    dist = np.abs(pred - target)
    huber = np.where(dist <= HUBER_DELTA, 0.5 * dist**2, HUBER_DELTA * (dist - 0.5 * HUBER_DELTA))
    penalty = 0.0
    penalty += max(0, alpha - ALPHA_MAX) * PENALTY_WEIGHT
    penalty += max(0, ALPHA_MIN - alpha) * PENALTY_WEIGHT
    penalty += max(0, log_beta - LOG_BETA_MAX) * PENALTY_WEIGHT
    penalty += max(0, LOG_EPS_MIN - log_eps) * PENALTY_WEIGHT
    return np.mean(huber) + penalty


def fit_scaling_law(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray | None, float, bool]:
    """Multi-start L-BFGS-B (finite-difference gradients, no bounds) over `start_grid()`.

    Keeps the first start (grid order) with the strictly lowest objective among SUCCESSFUL runs.
    Returns (params [log_beta, log_eps, alpha], best objective, success). When no run succeeds:
    (None, inf, False) — the original raises RuntimeError in that case (ReferenceAdo does too).
    """
    best_obj, best_params = np.inf, None
    with np.errstate(over="ignore"):  # exp overflow on wild line-search probes; values unaffected
        for x0 in start_grid():
            res = minimize(scaling_law_objective, x0, args=(x, y), method="L-BFGS-B", options=dict(LBFGSB_OPTIONS))
            if res.success and res.fun < best_obj:
                best_obj, best_params = res.fun, res.x
    if best_params is None:
        return None, float(np.inf), False
    return best_params, float(best_obj), True


def prepare_fit_data(count_increments: np.ndarray, step_losses: np.ndarray, *, use_same_step_size: bool,
                     ignore_initial_steps: int, savgol: bool, subsampling_interval: int,
                     count_normalizer: int | None) -> dict[str, Any]:
    """Turn one domain's per-step history (row i = i-th feedback call, 0-based) into fit data.

    Steps (spec §2.4): cumulative x; forward-fill zero losses (same-step mode) or drop them;
    Savitzky-Golay over the whole series (window min(101, n) made odd, order 3, only if > 3);
    keep x > 0; keep 0-based step index > ignore_initial_steps; every k-th point from the first;
    divide x by count_normalizer if it is > 1. Result keys: x, y, steps, counts (x before
    normalisation), window_length (None when savgol is off), applied_savgol, subsampled.
    """
    counts = np.cumsum(np.asarray(count_increments))
    losses = np.array(step_losses, copy=True)  # dtype kept (float32 from trainers)
    steps = np.arange(len(counts))
    if use_same_step_size:
        for t in range(1, len(losses)):
            if losses[t] == 0:
                losses[t] = losses[t - 1]
    else:
        keep = losses > 0
        counts, losses, steps = counts[keep], losses[keep], steps[keep]

    window, applied_savgol = None, False
    if savgol:
        window = min(SAVGOL_MAX_WINDOW, len(counts))
        if window % 2 == 0:
            window -= 1
        if window > 3:
            losses = savgol_filter(losses.copy(), window_length=window, polyorder=SAVGOL_POLYORDER)
            applied_savgol = True

    sampled = counts > 0  # drop steps before the domain was first sampled
    counts, losses, steps = counts[sampled], losses[sampled], steps[sampled]
    late = steps > ignore_initial_steps  # 0-based call index, strict ">"
    counts, losses, steps = counts[late], losses[late], steps[late]

    subsampled = subsampling_interval > 1
    if subsampled:
        counts, losses, steps = counts[::subsampling_interval], losses[::subsampling_interval], steps[::subsampling_interval]

    x = counts / float(count_normalizer) if count_normalizer is not None and count_normalizer > 1 else counts
    return {"x": x, "y": losses, "steps": steps, "counts": counts, "window_length": window,
            "applied_savgol": applied_savgol, "subsampled": subsampled}


def _fit_domain_task(task: tuple[int, np.ndarray, np.ndarray, dict[str, Any], int]) -> tuple[int, np.ndarray, dict[str, Any]]:
    """Fit one domain; returns (domain index, params row, domain log entry). Pool-friendly."""
    k, count_col, loss_col, prep_args, total_steps = task
    data = prepare_fit_data(count_col, loss_col, **prep_args)
    if len(data["counts"]) < 1:
        return k, NO_FIT_PARAMS.copy(), {"step": total_steps, "domain_index": k,
                                         "error": "Too little data to fit scaling laws."}
    params, best_obj, ok = fit_scaling_law(data["x"], data["y"])
    if not ok:
        raise RuntimeError(f"Error while fitting scaling law for domain {k}")
    log = {"step": total_steps, "domain_index": k, "counts_k": data["counts"].tolist(),
           "losses_k": data["y"].tolist(), "x_data": data["x"].tolist(), "y_data": data["y"].tolist(),
           "steps_k": data["steps"].tolist(), "best_params": params.tolist(),
           "window_length": data["window_length"], "best_loss": best_obj,
           "applied_savgol": data["applied_savgol"], "subsampled": data["subsampled"]}
    return k, params, log


# ---- base accumulator --------------------------------------------------------------------------
class ReferenceDynamicMixingBase:
    """Cumulative per-domain loss sums (float32) and token counts (int64), growable.

    `initial_mixture` is a float32 placeholder [-1] until the owner (DynamicMixture) sets the
    key-id-indexed prior. `updated_at_client` is True iff mixture_id exceeds every id seen so far.
    """

    def __init__(self) -> None:
        self.losses = np.array([], dtype=np.float32)
        self.counts = np.array([], dtype=np.int64)
        self.initial_mixture = np.array([-1], dtype=np.float32)
        self.last_received_mixture = -1

    def process_losses(self, losses: np.ndarray, counts: np.ndarray, mixture_id: int) -> np.ndarray | None:
        updated_at_client = mixture_id > self.last_received_mixture
        if updated_at_client:
            self.last_received_mixture = mixture_id
        self._update_state(losses, counts)
        return self.calc_mixture(updated_at_client)

    def _update_state(self, losses: np.ndarray, counts: np.ndarray) -> None:
        missing = len(losses) - len(self.losses)
        if missing > 0:
            self.losses = np.concatenate([self.losses, np.zeros(missing, dtype=self.losses.dtype)])
            self.counts = np.concatenate([self.counts, np.zeros(missing, dtype=self.counts.dtype)])
        self.losses[: len(losses)] += losses  # in place: stays float32 / int64
        self.counts[: len(counts)] += counts

    def reset_state(self) -> None:
        """Clears only the accumulators (as the original; subclass state is kept)."""
        self.losses = np.array([], dtype=self.losses.dtype)
        self.counts = np.array([], dtype=self.counts.dtype)

    def calc_mixture(self, updated_at_client: bool) -> np.ndarray | None:
        raise NotImplementedError

    def write_logs(self) -> None:  # no-op in the base class
        pass


class ReferenceSimpleAveraging(ReferenceDynamicMixingBase):
    """Mixture proportional to each sampled domain's cumulative average loss (float32 result).

    Returns None until some domain has a positive count; uniform over sampled domains if all
    averages are 0. Answers on every call (no warm-up, ignores updated_at_client).
    """

    def calc_mixture(self, updated_at_client: bool) -> np.ndarray | None:
        del updated_at_client
        sampled = self.counts > 0
        if not np.any(sampled):
            return None
        averages = np.zeros_like(self.losses, dtype=np.float32)
        averages[sampled] = self.losses[sampled] / self.counts[sampled]
        total = np.sum(averages[sampled])
        mixture = np.zeros_like(self.losses, dtype=np.float32)
        mixture[sampled] = 1.0 / np.sum(sampled) if total == 0 else averages[sampled] / total
        mixture_sum = np.sum(mixture)
        if mixture_sum != 0:
            mixture /= mixture_sum
        return mixture


# ---- ADO ---------------------------------------------------------------------------------------
class ReferenceAdo(ReferenceDynamicMixingBase):
    """Adaptive Data Optimization as implemented by Mixtera's `AdoDynamicMixing` (start_step version).

    Same constructor parameters and defaults as the original; `num_workers` is an oracle-only
    extra (parallel per-domain fits; results do not depend on it). `scaling_law_params` is a
    (K, 3) float64 array of rows [log_beta, log_eps, alpha], [-1, -1, -1] for unfit domains.
    The first call is total_steps == 1; mixtures are returned from total_steps == start_step on
    (every call for vanilla/v1/v2, gated for adjusted_v3).
    """

    def __init__(self, variant: str = "vanilla", gamma1: float = 0.1, gamma2: float = 0.1, s: float = 0.5,
                 delta_min: float = 0.01, scaling_law_update_interval: int = 1000, subsampling_interval: int = 10,
                 ignore_initial_steps: int = 500, start_step: int = 1000, savgol: bool = True,
                 use_same_step_size: bool = True, count_normalizer: int | None = None,
                 logging_path: str | None = None, *, num_workers: int = 1) -> None:
        super().__init__()
        if start_step <= ignore_initial_steps:
            raise ValueError("start step must be bigger than ignore initial steps!")
        self.variant, self.gamma1, self.gamma2, self.s, self.delta_min = variant, gamma1, gamma2, s, delta_min
        self.scaling_law_update_interval, self.subsampling_interval = scaling_law_update_interval, subsampling_interval
        self.ignore_initial_steps, self.start_step, self.savgol = ignore_initial_steps, start_step, savgol
        self.use_same_step_size, self.count_normalizer = use_same_step_size, count_normalizer
        self.logging_path, self.num_workers = logging_path, num_workers

        self.total_steps = 0  # number of process_losses calls so far (first call: 1)
        self.last_update_step = 0  # total_steps of the last h_t update (adjusted_v2)
        # Per-domain vectors: prior mu, credit h, policy pi, history pi_bar, preference rho.
        self.mu_k = self.h_t = self.pi_t = self.pi_bar_t_minus_1 = self.rho_t = None
        self.scaling_law_params: np.ndarray | None = None
        self.per_step_counts: list[np.ndarray] = []  # row per call: count increments
        self.per_step_losses: list[np.ndarray] = []  # row per call: average loss (0 = no tokens)
        self.next_continue_at: int | None = None  # adjusted_v3 only
        self.handed_out_first_update = False

        self.log_counts: list[Any] | None = None
        if logging_path is not None:
            self.log_config = {"variant": variant, "gamma1": gamma1, "gamma2": gamma2, "s": s,
                               "delta_min": delta_min, "scaling_law_update_interval": scaling_law_update_interval,
                               "subsampling_interval": subsampling_interval,
                               "ignore_initial_steps": ignore_initial_steps, "savgol": savgol}
            self.log_entries: list[Any] = []
            self.log_scaling_laws: list[Any] = []
            self.log_counts = []  # raw incoming counts of every call

    # -- state ------------------------------------------------------------------------------
    def _update_state(self, losses: np.ndarray, counts: np.ndarray) -> None:
        """Accumulate, grow per-domain vectors, append this step's history rows (spec §2.2)."""
        incoming, internal = len(losses), len(self.losses)
        if self.log_counts is not None:
            self.log_counts.append(counts.tolist())
        super()._update_state(losses, counts)
        if internal < incoming:
            pad = incoming - internal
            for name in ("h_t", "mu_k", "pi_t", "pi_bar_t_minus_1"):
                vec = getattr(self, name)
                if vec is not None:
                    setattr(self, name, np.concatenate([vec, np.zeros(pad, dtype=vec.dtype)]))
        for i, row in enumerate(self.per_step_counts):
            if len(row) < incoming:
                pad = incoming - len(row)
                self.per_step_counts[i] = np.concatenate([row, np.zeros(pad, dtype=row.dtype)])
                old = self.per_step_losses[i]
                self.per_step_losses[i] = np.concatenate([old, np.zeros(pad, dtype=old.dtype)])

        step_loss = np.zeros_like(losses, dtype=losses.dtype)
        np.divide(losses, counts, out=step_loss, where=counts != 0)
        self.per_step_losses.append(step_loss)

        if not self.use_same_step_size:
            self.per_step_counts.append(counts.copy())
            return
        ever_sampled = self.counts > 0
        assert np.sum(ever_sampled) > 0, "first feedback must sample some domain"
        increment = np.zeros_like(counts, dtype=counts.dtype)
        increment[ever_sampled] = int(counts.sum())  # every ever-sampled domain advances by the batch
        self.per_step_counts.append(increment)

    # -- main step --------------------------------------------------------------------------
    def calc_mixture(self, updated_at_client: bool) -> np.ndarray | None:
        """One ADO step (spec §2.3). Returns pi_t (float64) or None."""
        self.total_steps += 1
        num_domains = len(self.counts)
        if self.mu_k is None:
            prior = self.initial_mixture.copy()
            pad = num_domains - len(prior)
            assert pad >= 0, f"initial mixture longer than feedback ({pad})"
            if pad > 0:
                prior = np.concatenate([prior, np.zeros(pad, dtype=prior.dtype)])
            assert np.isclose(1, np.sum(prior)), "initial_mixture was not set to a distribution"
            self.mu_k = prior

        if self.total_steps < self.start_step:
            if self.logging_path is not None:
                self.log_entries.append({"step": self.total_steps, "counts": self.counts.tolist(),
                                         "losses": self.losses.tolist()})
                if self.total_steps % LOG_WRITE_EVERY == 0:
                    self.write_logs()
            return None

        if self.h_t is None:
            self.h_t = self.mu_k.copy()

        refit = (self.total_steps - self.start_step) % self.scaling_law_update_interval == 0
        if refit:
            self.fit_scaling_laws()

        force_log = False
        if self.variant == "adjusted_v3" and self.handed_out_first_update:
            if updated_at_client:
                self.next_continue_at = self.total_steps + V3_SLACK_STEPS
            if not (refit or self.next_continue_at == self.total_steps):
                return None
            force_log = True

        assert self.scaling_law_params is not None
        dL_dn = self.compute_loss_derivative()
        self.compute_rho_t(dL_dn)
        self.update_pi_t()
        self.enforce_min_probability()

        if self.variant in ("vanilla", "adjusted_v3"):
            self.update_h_t()
        elif self.variant in ("adjusted_v1", "adjusted_v2"):
            if updated_at_client:  # only when the client reports a new mixture id
                self.update_h_t(elapsed_steps=self.total_steps - self.last_update_step)
        else:
            raise ValueError(f"Unknown variant '{self.variant}' specified.")

        self.update_pi_bar_t()

        if self.logging_path is not None:
            self.log_entries.append({
                "step": self.total_steps, "counts": self.counts.tolist(), "losses": self.losses.tolist(),
                "h_t": self.h_t.tolist(), "pi_t": self.pi_t.tolist(),
                "pi_bar_t_minus_1": self.pi_bar_t_minus_1.tolist(), "rho_t": self.rho_t.tolist(),
                "dL_dn": dL_dn.tolist(), "scaling_law_params": self.scaling_law_params.tolist()})
        self.handed_out_first_update = True
        if self.total_steps % LOG_WRITE_EVERY == 0 or force_log:
            self.write_logs()
        return self.pi_t

    # -- pieces -----------------------------------------------------------------------------
    def fit_scaling_laws(self) -> None:
        """Refit every domain on the full per-step history (spec §2.4)."""
        counts_hist, losses_hist = np.array(self.per_step_counts), np.array(self.per_step_losses)
        prep_args = {"use_same_step_size": self.use_same_step_size, "ignore_initial_steps": self.ignore_initial_steps,
                     "savgol": self.savgol, "subsampling_interval": self.subsampling_interval,
                     "count_normalizer": self.count_normalizer}
        num_domains = len(self.counts)
        tasks = [(k, counts_hist[:, k].copy(), losses_hist[:, k].copy(), prep_args, self.total_steps)
                 for k in range(num_domains)]
        if self.num_workers > 1:
            with mp.Pool(min(self.num_workers, num_domains)) as pool:
                results = pool.map(_fit_domain_task, tasks)
        else:
            results = [_fit_domain_task(t) for t in tasks]
        self.scaling_law_params = np.zeros((num_domains, 3))
        for k, params, log in results:
            self.scaling_law_params[k] = params
            if self.logging_path is not None:
                self.log_scaling_laws.append(log)

    def compute_loss_derivative(self) -> np.ndarray:
        """dL_k/dn at the domain's current n (0 where n == 0), float64 (spec §2.5)."""
        n = np.sum(np.array(self.per_step_counts), axis=0) if self.use_same_step_size else self.counts.copy()
        if self.count_normalizer is not None and self.count_normalizer > 1:
            n = n / self.count_normalizer
        log_beta, log_eps, alpha = self.scaling_law_params.T
        beta, eps = np.exp(log_beta), np.exp(log_eps)
        m = n > 0
        loss_at_n = np.zeros_like(n, dtype=np.float64)
        loss_at_n[m] = eps[m] + beta[m] * n[m] ** (-alpha[m])
        dL_dn = np.zeros_like(n, dtype=np.float64)
        dL_dn[m] = -(1 / n[m]) * alpha[m] * (loss_at_n[m] - eps[m])
        return dL_dn

    def compute_rho_t(self, dL_dn: np.ndarray) -> None:
        """rho ∝ max(0, mu * h^s * (-dL/dn)); unnormalised fallback mu/K (spec §2.6)."""
        weighted = self.mu_k * self.h_t**self.s  # float32 * float32 first, as in the original
        numerator = np.maximum(weighted * (-dL_dn), 0)
        denominator = np.sum(numerator)
        self.rho_t = numerator / denominator if denominator > 0 else self.mu_k.copy() / len(self.counts)

    def update_pi_t(self) -> None:
        if self.pi_bar_t_minus_1 is None:
            self.pi_bar_t_minus_1 = self.mu_k.copy()
        pi = self.gamma2 * self.rho_t + (1 - self.gamma2) * self.pi_bar_t_minus_1
        pi /= np.sum(pi)
        self.pi_t = pi

    def enforce_min_probability(self) -> None:
        """Clip ever-sampled domains (actual counts > 0) to >= delta_min, renormalise once."""
        pi = self.pi_t.copy()
        sampled = self.counts > 0
        pi[sampled] = np.maximum(pi[sampled], self.delta_min)
        total = np.sum(pi)
        self.pi_t = pi / total if total > 0 else self.mu_k.copy() / len(self.counts)

    def update_h_t(self, elapsed_steps: int = 1) -> None:
        """h = g*pi + (1-g)*h; adjusted_v2 uses g = 1-(1-gamma1)^elapsed for elapsed > 1."""
        g = self.gamma1
        if self.variant == "adjusted_v2" and elapsed_steps > 1:
            g = 1 - (1 - g) ** elapsed_steps
        self.h_t = g * self.pi_t + (1 - g) * self.h_t
        self.last_update_step = self.total_steps

    def update_pi_bar_t(self) -> None:
        w = 1.0 / (self.total_steps + 1.0)
        pi_bar = w * self.rho_t + (1 - w) * self.pi_bar_t_minus_1
        pi_bar /= np.sum(pi_bar)
        self.pi_bar_t_minus_1 = pi_bar

    def write_logs(self) -> None:
        """JSON debug log with keys config, entries, scaling_laws, log_counts, mu_k (spec §2.11)."""
        if self.logging_path is None:
            return
        data = {"config": self.log_config, "entries": self.log_entries, "scaling_laws": self.log_scaling_laws,
                "log_counts": self.log_counts, "mu_k": self.mu_k.tolist() if self.mu_k is not None else None}
        with open(self.logging_path, "w+", encoding="utf-8") as f:
            json.dump(data, f, indent=4)


# ---- helpers for the surrounding mixture objects (spec §4) -------------------------------------
def static_mixture_rows(chunk_size: int, weights: list[float]) -> list[int]:
    """Rows per key of StaticMixture(chunk_size, weights) in key (insertion) order.

    Weights must sum to 1 within rel 1e-3; renormalised; floor + largest remainder, ties in
    insertion order (stable sort), cycling when more rows than keys are missing. DynamicMixture
    passes only the weights > 0 (in key-id order); do the same to mirror it exactly.
    """
    total = sum(weights)
    if not math.isclose(total, 1.0, rel_tol=1e-3):
        raise ValueError(f"Your mixture sums up to {total} != 1.0")
    ideal = [chunk_size * (w / total) for w in weights]
    rows = [int(v) for v in ideal]
    missing = chunk_size - sum(rows)
    assert missing >= 0
    order = sorted(range(len(weights)), key=lambda i: ideal[i] - rows[i], reverse=True)
    for j in range(missing):
        rows[order[j % len(order)]] += 1
    return rows


def prior_from_rows(rows_by_id: dict[int, int], num_ids: int) -> np.ndarray:
    """The float32 prior DynamicMixture.process_id_map hands to the algorithm."""
    prior = np.zeros(num_ids, dtype=np.float32)
    for key_id, rows in rows_by_id.items():
        prior[key_id] = rows
    return prior / np.sum(prior)


# ---- self-check --------------------------------------------------------------------------------
def _self_check(num_domains: int = 22, steps: int = 1500, samples_per_step: int = 256, seq_len: int = 1024) -> None:
    """(1) fit_scaling_law on a clean law over a wide x range; (2) a closed-loop noise-free trace:
    domain k's per-token loss is eps_k + beta_k * n^-alpha_k in its own cumulative samples n, each
    batch (samples_per_step x seq_len tokens) follows the current mixture, and a returned mixture
    gets a new mixture id (seen by the next feedback) when its 1024-row chunk split changes."""
    import os
    import time

    x = np.geomspace(1e2, 1e6, 60)
    params, obj, ok = fit_scaling_law(x, 2.5 + 4.0 * x**-0.3)
    print(f"clean fit: {np.round(params, 4)} (truth [1.3863 0.9163 0.3]), objective {obj:.2e}, ok={ok}")

    rng = np.random.default_rng(1234)
    eps, beta = rng.uniform(1.8, 3.0, num_domains), np.exp(rng.uniform(0.5, 2.5, num_domains))
    alpha = rng.uniform(0.1, 0.6, num_domains)
    ado = ReferenceAdo(start_step=1000, scaling_law_update_interval=250, count_normalizer=seq_len,
                       num_workers=max(1, min(num_domains, (os.cpu_count() or 2) - 1)))
    chunk_rows = static_mixture_rows(1024, rng.dirichlet(np.ones(num_domains)).tolist())
    ado.initial_mixture = prior_from_rows(dict(enumerate(chunk_rows)), num_domains)

    current, mixture_id, samples = ado.initial_mixture.astype(np.float64).tolist(), 0, np.zeros(num_domains)
    reported_id, last, num_results, t0 = 0, None, 0, time.time()
    for _ in range(steps):
        rows = np.array(static_mixture_rows(samples_per_step, [w / sum(current) for w in current]))
        samples += rows
        counts = (rows * seq_len).astype(np.int64)
        per_token = np.where(rows > 0, eps + beta * np.maximum(samples, 1) ** -alpha, 0.0)
        result = ado.process_losses((per_token * counts).astype(np.float32), counts, reported_id)
        if result is not None:
            num_results, last = num_results + 1, result.copy()
            if static_mixture_rows(1024, result.tolist()) != chunk_rows:
                chunk_rows, mixture_id = static_mixture_rows(1024, result.tolist()), mixture_id + 1
            current = result.tolist()
        reported_id = mixture_id
    print(f"{steps} steps: {num_results} mixtures returned, {mixture_id} new mixture ids, {time.time() - t0:.0f}s")
    print("fitted [log_beta, log_eps, alpha] of domains 0-2:", np.round(ado.scaling_law_params[:3], 3).tolist())
    print("last mixture:", np.array2string(last, precision=5, max_line_width=110))
    assert ok and last is not None and np.isclose(last.sum(), 1.0) and np.all(last[ado.counts > 0] > 0)


if __name__ == "__main__":
    import sys

    _self_check(*(int(a) for a in sys.argv[1:3]))  # optional: num_domains steps
