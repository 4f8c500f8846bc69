"""The dynamic mixing algorithms' Python API (mixtera.dynamic_mixing): the original's names,
defaults and attributes, loss averaging against an independent reference, feedback checks, a
Python subclass, ADO's warm-up and log, and the schedule by training steps. The comparisons of
ADO with a SciPy reference of the whole procedure are in python/tests_mixing."""

import json
import os
import sys
from types import SimpleNamespace

import numpy as np
import pytest

from mixtera import (AdoDynamicMixing, DynamicMixingAlgorithm, InvalidArgumentError, MixtureKey,
                     MixtureSchedule, ScheduleEntry, SimpleAveragingAlgorithm, StaticMixture)

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests_mixing"))
import ado_reference  # noqa: E402  (numpy + scipy, written from the formulas)


def test_original_names_defaults_and_attributes():
    ado = AdoDynamicMixing()
    want = {"variant": "vanilla", "gamma1": 0.1, "gamma2": 0.1, "s": 0.5, "delta_min": 0.01,
            "scaling_law_update_interval": 1000, "subsampling_interval": 10, "ignore_initial_steps": 500,
            "start_step": 1000, "savgol": True, "use_same_step_size": True, "count_normalizer": None,
            "logging_path": None}
    assert {k: getattr(ado, k) for k in want} == want
    assert ado.scaling_law_params is None and ado.mu_k is None and ado.total_steps == 0
    assert list(ado.initial_mixture) == [-1] and ado.losses.dtype == np.float32 and ado.counts.dtype == np.int64
    assert isinstance(ado, DynamicMixingAlgorithm) and isinstance(SimpleAveragingAlgorithm(), DynamicMixingAlgorithm)
    with pytest.raises(InvalidArgumentError, match="must be bigger than ignore_initial_steps"):
        AdoDynamicMixing(start_step=10, ignore_initial_steps=10)
    with pytest.raises(InvalidArgumentError, match="variant 'greedy'"):
        AdoDynamicMixing(variant="greedy")


def test_loss_averaging_two_to_one_as_in_the_originals_integration_test():
    alg = SimpleAveragingAlgorithm()
    mixture = alg.process_losses(np.array([2.0 * 6, 1.0 * 6], np.float32), np.array([6, 6]), 0)
    assert mixture.dtype == np.float64
    np.testing.assert_allclose(mixture, [2 / 3, 1 / 3], rtol=1e-6)
    assert list(alg.counts) == [6, 6] and alg.last_received_mixture == 0


def test_loss_averaging_equals_the_reference_step_by_step():
    rng = np.random.default_rng(3)
    ours, ref = SimpleAveragingAlgorithm(), ado_reference.ReferenceSimpleAveraging()
    keys = 3
    for step in range(300):
        if step in (50, 120):
            keys += 2  # new key ids appear
        counts = rng.integers(0, 50, keys) * (rng.random(keys) < 0.7)
        losses = (counts * rng.uniform(0.5, 4.0, keys)).astype(np.float32)
        got = ours.process_losses(losses, counts, step // 7)
        want = ref.process_losses(losses, counts.astype(np.int64), step // 7)
        assert (got is None) == (want is None), step
        if got is not None:
            np.testing.assert_allclose(got, want, rtol=2e-6, atol=1e-7, err_msg=f"step {step}")
            assert got.sum() == pytest.approx(1.0)
    np.testing.assert_array_equal(ours.counts, ref.counts)


def test_short_feedback_is_padded_and_long_feedback_adds_keys():
    alg = SimpleAveragingAlgorithm()
    alg.process_losses([3.0, 3.0], [3, 1], 0)
    mixture = alg.process_losses([2.0], [1], 0)  # key 1 not sampled this step
    np.testing.assert_allclose(mixture, [(5 / 4) / (5 / 4 + 3), 3 / (5 / 4 + 3)], rtol=1e-6)
    mixture = alg.process_losses([0, 0, 8.0], [0, 0, 2], 1)
    assert len(mixture) == 3 and list(alg.counts) == [4, 1, 2]


def test_bad_feedback_is_an_error_and_changes_nothing():
    for alg in (SimpleAveragingAlgorithm(), AdoDynamicMixing(start_step=3, ignore_initial_steps=1)):
        alg.initial_mixture = np.array([0.5, 0.5])
        alg.process_losses([1.0, 2.0], [1, 1], 0)
        before = (alg.losses.copy(), alg.counts.copy(), alg.last_received_mixture)
        for losses, counts, mixture_id, match in (([np.nan, 1], [1, 1], 1, "loss of key id 0 is nan"),
                                                  ([1, np.inf], [1, 1], 1, "loss of key id 1"),
                                                  ([1, 1], [1, -4], 1, "count of key id 1 is -4"),
                                                  ([1, 1, 1], [1, 1], 1, "3 losses but 2 counts"),
                                                  ([1, 1], [1, 1], -1, "mixture id -1"),
                                                  ([1, 1], [1.5, 1], 1, "whole numbers")):
            with pytest.raises(InvalidArgumentError, match=match):
                alg.process_losses(losses, counts, mixture_id)
        after = (alg.losses, alg.counts, alg.last_received_mixture)
        np.testing.assert_array_equal(before[0], after[0])
        np.testing.assert_array_equal(before[1], after[1])
        assert before[2] == after[2]


def test_a_python_subclass_drives_its_own_mixture():
    class InverseCount(DynamicMixingAlgorithm):
        """Favours the keys seen least; keeps the mixture unless the client saw a new one."""

        def calc_mixture(self, updated_at_client):
            if not updated_at_client:
                return None
            inverse = 1.0 / np.maximum(self.counts, 1)
            return inverse / inverse.sum()

    alg = InverseCount()
    np.testing.assert_allclose(alg.process_losses([1, 1], [1, 3], 0), [0.75, 0.25])
    assert alg.process_losses([1, 1], [1, 1], 0) is None  # same mixture id: not updated
    # counts (1, 3) + (1, 1) + (2, 0, 1) = (4, 4, 1): inverses 1/4, 1/4, 1 over 1.5.
    np.testing.assert_allclose(alg.process_losses([1, 1, 1], [2, 0, 1], 1), [1 / 6, 1 / 6, 2 / 3])
    with pytest.raises(NotImplementedError):
        DynamicMixingAlgorithm().process_losses([1], [1], 0)


def power_law_step(step, keys=3):
    counts = np.full(keys, 200, dtype=np.int64) + 10 * np.arange(keys)
    n = (step + 1) * counts / 64.0
    losses = (counts * (2.0 + 3.0 * n ** -0.3)).astype(np.float32)
    return losses, counts


def test_ado_warms_up_until_start_step_then_mixes_every_step(tmp_path):
    log = tmp_path / "ado.json"
    ado = AdoDynamicMixing(start_step=30, ignore_initial_steps=5, scaling_law_update_interval=20,
                           subsampling_interval=2, count_normalizer=64, logging_path=str(log), fit_threads=1)
    with pytest.raises(Exception, match="initial mixture"):
        ado.process_losses(*power_law_step(0), 0)
    ado = AdoDynamicMixing(start_step=30, ignore_initial_steps=5, scaling_law_update_interval=20,
                           subsampling_interval=2, count_normalizer=64, logging_path=str(log), fit_threads=1)
    ado.initial_mixture = np.array([0.5, 0.3, 0.2], dtype=np.float32)
    results = [ado.process_losses(*power_law_step(step), step // 10) for step in range(45)]
    assert all(r is None for r in results[:29]), "calls 1..29 are before start_step 30"
    assert all(r is not None and r.sum() == pytest.approx(1.0) for r in results[29:])
    assert ado.total_steps == 45 and ado.scaling_law_params.shape == (3, 3)
    np.testing.assert_allclose(ado.mu_k, [0.5, 0.3, 0.2], rtol=1e-6)
    # Every sampled key keeps at least about delta_min.
    assert min(results[-1]) > 0.0099
    ado.write_logs()
    written = json.loads(log.read_text())
    assert set(written) == {"config", "entries", "scaling_laws", "log_counts", "mu_k"}
    assert written["config"]["variant"] == "vanilla" and written["config"]["savgol"] is True
    assert len(written["entries"]) == 45 and len(written["log_counts"]) == 45
    assert written["entries"][0].keys() == {"step", "counts", "losses"}
    assert "pi_t" in written["entries"][-1] and written["entries"][-1]["step"] == 45
    assert len(written["scaling_laws"]) == 3  # one refit (call 30; the next is 50) of 3 keys
    assert written["scaling_laws"][0]["best_params"] == pytest.approx(list(ado.scaling_law_params[0]), abs=0)


def test_schedule_by_training_step_switches_as_the_original():
    js, html = (StaticMixture(5, {MixtureKey({"language": [lang]}): 1.0}) for lang in ("JavaScript", "HTML"))
    sched = MixtureSchedule(5, [ScheduleEntry(200, html), ScheduleEntry(0, js)])
    assert sched.by_step and sched.current_step == 0 and sched.current_mixture is js
    sched.process_client_feedback(SimpleNamespace(training_steps=199))
    assert sched.current_mixture is js
    sched.process_client_feedback(SimpleNamespace(training_steps=200))
    assert sched.current_mixture is html
    sched.process_client_feedback(SimpleNamespace(training_steps=150))  # steps never go back
    assert sched.current_step == 200 and sched.current_mixture is html
    # Before every start: the first entry; of equal starts, the one given last.
    late = MixtureSchedule(5, [ScheduleEntry(10, js), ScheduleEntry(10, html)])
    assert late.current_mixture is js
    late.process_client_feedback(SimpleNamespace(training_steps=10))
    assert late.current_mixture is html
    # As a job: a dynamic mixture over every entry's keys (sorted by start), starting with
    # the first entry's weights; feedback switches them (python/tests/test_live_jobs.py).
    d = sched.to_dict()
    assert d["type"] == "dynamic"
    assert d["weights"] == [{"key": {"language": ["JavaScript"]}, "weight": 1.0},
                            {"key": {"language": ["HTML"]}, "weight": 0.0}]
    assert sched.step_weights(199) == [1.0, 0.0] and sched.step_weights(200) == [0.0, 1.0]
    with pytest.raises(InvalidArgumentError, match="cannot be mixed"):
        MixtureSchedule(5, [ScheduleEntry(0, js), ScheduleEntry(start_chunk=3, mixture=html)])
    with pytest.raises(InvalidArgumentError, match="either start_step"):
        ScheduleEntry(mixture=js)
    by_chunk = MixtureSchedule(5, [ScheduleEntry(start_chunk=0, mixture=js)])
    assert by_chunk.to_dict()["schedule"][0]["start_chunk"] == 0
