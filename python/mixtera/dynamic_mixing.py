"""Dynamic mixing algorithms: training feedback in, a new mixture over key ids out.

The classes have the original Mixtera's names, constructor parameters, defaults and
attributes (``mixtera.core.algo``): ``AdoDynamicMixing``, ``SimpleAveragingAlgorithm`` and
their base ``DynamicMixingAlgorithm``. ``process_losses(losses, counts, mixture_id)`` takes one
training step's per-key loss sums (float32) and token or sample counts (int64), indexed by key
id, and returns the new distribution as a float64 numpy array, or ``None`` to keep the current
one. ADO and loss averaging run natively (``mixture/ado.h``): the same results as the
original's classes for the same calls (docs/dynamic_mixing.md lists the exceptions), with the
scaling-law refits on C++ threads instead of a process pool.

A Python subclass of ``DynamicMixingAlgorithm`` that overrides
``calc_mixture(updated_at_client)`` works in local mode (a server never runs client code).

Arrays shorter than the number of keys (a key not sampled in the step) are padded with
zeros; longer ones add keys. NaN or infinite losses, negative counts, losses and counts of
different lengths and negative mixture ids are an ``InvalidArgumentError`` and change nothing.
"""

from __future__ import annotations

from typing import Any, Optional

import numpy as np

from .errors import InvalidArgumentError


def _feedback_arrays(losses, counts, mixture_id):
    """The checked (float32 losses, int64 counts) of one step; raises InvalidArgumentError."""
    losses = np.asarray(losses, dtype=np.float32).reshape(-1)
    counts_in = np.asarray(counts)
    if counts_in.size and not np.issubdtype(counts_in.dtype, np.integer):
        if not np.all(np.equal(np.mod(counts_in, 1), 0)):
            raise InvalidArgumentError("feedback: counts must be whole numbers")
    counts = counts_in.astype(np.int64).reshape(-1)
    if len(losses) != len(counts):
        raise InvalidArgumentError(
            f"feedback: {len(losses)} losses but {len(counts)} counts (one of each per key id)")
    if not np.all(np.isfinite(losses)):
        k = int(np.argmax(~np.isfinite(losses)))
        raise InvalidArgumentError(f"feedback: the loss of key id {k} is {losses[k]} (must be finite)")
    if np.any(counts < 0):
        k = int(np.argmax(counts < 0))
        raise InvalidArgumentError(f"feedback: the count of key id {k} is {counts[k]} (must be >= 0)")
    if int(mixture_id) < 0:
        raise InvalidArgumentError(f"feedback: mixture id {mixture_id} is negative")
    return losses, counts


class DynamicMixingAlgorithm:
    """Base class of the dynamic mixing algorithms (the original's): cumulative ``losses``
    (float32 sums) and ``counts`` (int64) per key id, the ``initial_mixture`` (set by the
    mixture that uses the algorithm; ``[-1]`` until then) and ``last_received_mixture``.

    Subclass it in Python and override ``calc_mixture(updated_at_client)``: it is called after
    every step's feedback was added, with ``updated_at_client`` True when the step reported a
    larger mixture id than any before, and returns the new mixture or None.
    """

    def __init__(self) -> None:
        self.losses = np.array([], dtype=np.float32)
        self.counts = np.array([], dtype=np.int64)
        self.initial_mixture = np.array([-1], dtype=np.float32)
        self.last_received_mixture = -1
        self.next_mixture = 0

    def process_losses(self, losses, counts, mixture_id: int) -> Optional[np.ndarray]:
        losses, counts = _feedback_arrays(losses, counts, mixture_id)
        updated_at_client = int(mixture_id) > self.last_received_mixture
        if updated_at_client:
            self.last_received_mixture = int(mixture_id)
        known = max(len(losses), len(self.losses))
        if self.initial_mixture.size and self.initial_mixture[0] >= 0:
            known = max(known, len(self.initial_mixture))
        losses = np.pad(losses, (0, known - len(losses)))
        counts = np.pad(counts, (0, known - len(counts)))
        self._update_state(losses, counts)
        return self.calc_mixture(updated_at_client)

    def _update_state(self, losses: np.ndarray, counts: np.ndarray) -> None:
        """Adds one step (already padded to every known key) to the cumulative state."""
        if len(self.losses) < len(losses):
            grow = len(losses) - len(self.losses)
            self.losses = np.concatenate([self.losses, np.zeros(grow, dtype=np.float32)])
            self.counts = np.concatenate([self.counts, np.zeros(grow, dtype=np.int64)])
        self.losses[:len(losses)] += losses
        self.counts[:len(counts)] += counts

    def calc_mixture(self, updated_at_client: bool) -> Optional[np.ndarray]:
        raise NotImplementedError("a DynamicMixingAlgorithm subclass must implement calc_mixture")

    def reset_state(self) -> None:
        self.losses = np.array([], dtype=np.float32)
        self.counts = np.array([], dtype=np.int64)

    def write_logs(self) -> None:
        pass


class _NativeAlgorithm(DynamicMixingAlgorithm):
    """An algorithm computed by the native core; ``self._native`` holds its state."""

    _native = None

    def process_losses(self, losses, counts, mixture_id: int) -> Optional[np.ndarray]:
        losses, counts = _feedback_arrays(losses, counts, mixture_id)
        return self._native.process_losses(losses, counts, int(mixture_id))

    def calc_mixture(self, updated_at_client: bool) -> Optional[np.ndarray]:
        raise InvalidArgumentError(f"{type(self).__name__} computes its mixtures natively: call "
                                   "process_losses(losses, counts, mixture_id)")

    @property
    def losses(self) -> np.ndarray:
        return self._native.losses

    @losses.setter
    def losses(self, value) -> None:  # the base constructor's initial empty state
        if len(value):
            raise InvalidArgumentError("the losses of a native algorithm are read-only")

    @property
    def counts(self) -> np.ndarray:
        return self._native.counts

    @counts.setter
    def counts(self, value) -> None:
        if len(value):
            raise InvalidArgumentError("the counts of a native algorithm are read-only")

    @property
    def initial_mixture(self) -> np.ndarray:
        m = self._native.initial_mixture
        return m if m.size else np.array([-1], dtype=np.float32)

    @initial_mixture.setter
    def initial_mixture(self, value) -> None:
        value = np.asarray(value, dtype=np.float64).reshape(-1)
        self._native.initial_mixture = value if not (value.size == 1 and value[0] < 0) else np.array([])

    @property
    def last_received_mixture(self) -> int:
        return self._native.last_received_mixture

    @last_received_mixture.setter
    def last_received_mixture(self, value) -> None:
        if value != -1:
            raise InvalidArgumentError("last_received_mixture of a native algorithm is read-only")

    def reset_state(self) -> None:
        self._native.reset_state()


class SimpleAveragingAlgorithm(_NativeAlgorithm):
    """The mixture is proportional to each sampled key's average loss (cumulative loss sum /
    count), uniform over the sampled keys when all averages are 0; ``None`` while no key has
    been sampled. As the original's ``SimpleAveragingAlgorithm``."""

    def __init__(self) -> None:
        from . import _mixtera
        self._native = _mixtera.simple_averaging_algorithm()
        super().__init__()


class AdoDynamicMixing(_NativeAlgorithm):
    """ADO, Adaptive Data Optimization, with the original's parameters and defaults
    (reference: docs/dynamic_mixing.md).

    ``fit_threads`` (not in the original) is the number of threads a refit of the scaling laws
    uses (0: one per core). ``logging_path`` writes the original's JSON debug log there every
    5,000 steps, on adjusted_v3's forced updates and on ``write_logs()``.
    """

    def __init__(self, variant: str = "vanilla", gamma1: float = 0.1, gamma2: float = 0.1, s: float = 0.5,
                 delta_min: float = 0.01, scaling_law_update_interval: int = 1000,
                 subsampling_interval: int = 10, ignore_initial_steps: int = 500, start_step: int = 1000,
                 savgol: bool = True, use_same_step_size: bool = True, count_normalizer: Optional[float] = None,
                 logging_path: Optional[str] = None, *, fit_threads: int = 0) -> None:
        from . import _mixtera
        for name, value in (("scaling_law_update_interval", scaling_law_update_interval),
                            ("subsampling_interval", subsampling_interval),
                            ("ignore_initial_steps", ignore_initial_steps), ("start_step", start_step),
                            ("fit_threads", fit_threads)):
            if not isinstance(value, (int, np.integer)) or isinstance(value, bool):
                raise InvalidArgumentError(f"AdoDynamicMixing: {name} must be an integer, got {value!r}")
        self._native = _mixtera.AdoAlgorithm(
            variant=variant, gamma1=float(gamma1), gamma2=float(gamma2), s=float(s),
            delta_min=float(delta_min), scaling_law_update_interval=int(scaling_law_update_interval),
            subsampling_interval=int(subsampling_interval), ignore_initial_steps=int(ignore_initial_steps),
            start_step=int(start_step), savgol=bool(savgol), use_same_step_size=bool(use_same_step_size),
            count_normalizer=None if count_normalizer is None else float(count_normalizer),
            fit_threads=int(fit_threads), keep_log=logging_path is not None)
        super().__init__()
        self.variant = variant
        self.gamma1 = gamma1
        self.gamma2 = gamma2
        self.s = s
        self.delta_min = delta_min
        self.scaling_law_update_interval = scaling_law_update_interval
        self.subsampling_interval = subsampling_interval
        self.ignore_initial_steps = ignore_initial_steps
        self.start_step = start_step
        self.savgol = savgol
        self.use_same_step_size = use_same_step_size
        self.count_normalizer = count_normalizer
        self.logging_path = logging_path
        self.fit_threads = fit_threads

    def process_losses(self, losses, counts, mixture_id: int) -> Optional[np.ndarray]:
        result = super().process_losses(losses, counts, mixture_id)
        if self.logging_path is not None and self._native.log_due:
            self.write_logs()
        return result

    def write_logs(self) -> None:
        if self.logging_path is not None:
            with open(self.logging_path, "w+", encoding="utf-8") as f:
                f.write(self._native.log_json())

    @property
    def scaling_law_params(self) -> Optional[np.ndarray]:
        """(keys x 3) float64: log beta, log epsilon, alpha per key id; None before the first fit."""
        return self._native.scaling_law_params

    @property
    def total_steps(self) -> int:
        return self._native.total_steps

    @property
    def mu_k(self) -> Optional[np.ndarray]:
        return self._native.mu_k

    @property
    def h_t(self) -> Optional[np.ndarray]:
        return self._native.h_t

    @property
    def pi_t(self) -> Optional[np.ndarray]:
        return self._native.pi_t

    @property
    def pi_bar_t_minus_1(self) -> Optional[np.ndarray]:
        return self._native.pi_bar_t_minus_1

    @property
    def rho_t(self) -> Optional[np.ndarray]:
        return self._native.rho_t

    @property
    def fit_failures(self) -> list:
        """Key ids whose last refit converged from none of its starts (their law is (-1, -1, -1))."""
        return self._native.fit_failures


def attach_mixing_algorithm(engine: "Any", job_id: str, mixture: "Any") -> None:
    """Makes the live job ``job_id`` of the native ``engine`` follow ``mixture``'s feedback: a
    DynamicMixture's algorithm (native ones run without the GIL on the job manager's pool;
    Python subclasses are called with it), or a MixtureSchedule by training step. Other
    mixtures take no algorithm."""
    from .mixture import DynamicMixture, MixtureSchedule
    if isinstance(mixture, MixtureSchedule) and mixture.by_step:
        def start(initial: np.ndarray) -> None:
            pass

        def on_step(step: int, mixture_id: int, losses: np.ndarray, counts: np.ndarray):
            mixture.process_client_feedback(_Step(step))
            return np.asarray(mixture.step_weights(mixture.current_step), dtype=np.float64)

        engine.set_mixing_algorithm(job_id, None, start, on_step)
        return
    if not isinstance(mixture, DynamicMixture) or mixture.mixing_alg is None:
        return
    alg = mixture.mixing_alg
    if isinstance(alg, _NativeAlgorithm):
        engine.set_mixing_algorithm(job_id, alg._native, None, None)
        return
    if not isinstance(alg, DynamicMixingAlgorithm):
        raise InvalidArgumentError(
            f"DynamicMixture.mixing_alg must be a mixtera.DynamicMixingAlgorithm, got {type(alg).__name__}")

    def start_python(initial: np.ndarray) -> None:
        alg.initial_mixture = np.asarray(initial, dtype=np.float32)

    def on_feedback(step: int, mixture_id: int, losses: np.ndarray, counts: np.ndarray):
        if len(losses) == 0:
            return None
        out = alg.process_losses(losses, counts, max(int(mixture_id), 0))
        return None if out is None else np.asarray(out, dtype=np.float64)

    engine.set_mixing_algorithm(job_id, None, start_python, on_feedback)


class _Step:
    """The part of a ClientFeedback a MixtureSchedule reads."""

    def __init__(self, step: int) -> None:
        self.training_steps = step
