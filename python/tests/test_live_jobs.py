"""Live jobs through the Python API: training feedback changes the mixture of the chunks the
consumer starts next (docs/mixtures.md, "Live jobs"). Data is generated here; every expected
count follows from the mixture rules (largest remainder of chunk_size over the weights)."""

import json
import os
import time

import numpy as np
import pytest
import torch

from mixtera import (ClientFeedback, DynamicMixingAlgorithm, DynamicMixture, InvalidArgumentError,
                     MixteraClient, MixtureKey, MixtureSchedule, Query, QueryExecutionArgs,
                     ResultStreamingArgs, ScheduleEntry, SimpleAveragingAlgorithm, StaticMixture)
from mixtera.torch import MixteraDataLoader, MixteraTorchDataset

EN, DE = MixtureKey({"lang": ["en"]}), MixtureKey({"lang": ["de"]})


def make_client(root):
    os.makedirs(root / "data")
    with open(root / "data" / "a.jsonl", "w", encoding="utf-8") as f:
        for i in range(6000):
            f.write(json.dumps({"text": f"document {i} " + "word " * (i % 13), "lang": "en" if i % 2 else "de"}) + "\n")
    c = MixteraClient.from_directory(root / "mx")
    c.register_dataset("d", {"name": "d", "format": "jsonl", "path": str(root / "data" / "a.jsonl"),
                             "text": "text", "properties": {"lang": "string"}})
    return c


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    c = make_client(tmp_path_factory.mktemp("live"))
    yield c
    c.close()


def execute(client, job_id, mixture, **args):
    client.execute_query(Query.for_job(job_id).select(None), QueryExecutionArgs(mixture=mixture, **args))


def take(it, n):
    return [next(it)[1] for _ in range(n)]


def test_the_originals_scenario_five_fifty_then_eight_four(client):
    execute(client, "orig", DynamicMixture(12, StaticMixture(12, {EN: 0.5, DE: 0.5}), SimpleAveragingAlgorithm()))
    assert client.current_mixture_id is None
    assert client.job_status("orig")["horizon"] == 0  # nothing decided before a consumer starts
    it = client.stream_results(ResultStreamingArgs("orig"))
    first = take(it, 12)
    assert first.count(0) == 6 and first.count(1) == 6
    assert client.current_mixture_id == 0
    assert client.job_status("orig")["horizon"] == 1  # read-ahead waits at chunk 1
    assert client.process_feedback("orig", ClientFeedback(1, losses=np.array([12.0, 6.0]), counts=np.array([6, 6])))
    second = take(it, 12)
    assert second.count(0) == 8 and second.count(1) == 4  # averages 2:1
    assert client.current_mixture_id == 1
    log = client.mixture_log("orig")
    assert [c for c, _ in log] == [0, 1] and log[1][1] == pytest.approx([2 / 3, 1 / 3])
    # Pipeline stages may all send the same step: only the first counts.
    assert not client.process_feedback("orig", ClientFeedback(1, losses=[1.0, 9.0], counts=[6, 6]))
    assert client.job_status("orig")["feedback_records"] == 1
    # A trainer that stops sending feedback never stalls.
    rest = take(it, 36)
    assert rest.count(0) == 24 and rest.count(1) == 12


def test_lag_lets_read_ahead_run_and_moves_the_change(client):
    execute(client, "lag2", DynamicMixture(12, StaticMixture(12, {EN: 0.5, DE: 0.5}), SimpleAveragingAlgorithm(),
                                           mixture_lag_chunks=2))
    it = client.stream_results(ResultStreamingArgs("lag2"))
    take(it, 12)
    assert client.job_status("lag2")["horizon"] == 3
    client.process_feedback("lag2", ClientFeedback(1, losses=[12.0, 6.0], counts=[6, 6]))
    chunks = [take(it, 12) for _ in range(3)]
    assert [c.count(0) for c in chunks] == [6, 6, 8]


class Favourite(DynamicMixingAlgorithm):
    """A Python subclass: all weight on the key with the largest summed loss."""

    def __init__(self):
        super().__init__()
        self.seen = []

    def calc_mixture(self, updated_at_client):
        self.seen.append((self.losses.copy(), updated_at_client))
        out = np.full(len(self.losses), 0.1)
        out[int(np.argmax(self.losses))] = 0.9
        return out / out.sum()


def test_a_python_subclass_drives_the_job(client):
    alg = Favourite()
    execute(client, "py", DynamicMixture(10, StaticMixture(10, {EN: 0.5, DE: 0.5}), alg))
    np.testing.assert_allclose(alg.initial_mixture, [0.5, 0.5])
    it = client.stream_results(ResultStreamingArgs("py"))
    take(it, 10)
    client.process_feedback("py", ClientFeedback(1, losses=[1.0, 5.0], counts=[5, 5]))
    nxt = take(it, 10)
    assert nxt.count(1) == 9 and nxt.count(0) == 1
    assert len(alg.seen) == 1 and list(alg.seen[0][0]) == [1.0, 5.0]


def test_bad_feedback_is_refused_and_nothing_is_recorded(client):
    execute(client, "bad", DynamicMixture(10, StaticMixture(10, {EN: 0.5, DE: 0.5}), SimpleAveragingAlgorithm()))
    it = client.stream_results(ResultStreamingArgs("bad"))
    take(it, 10)
    log = os.path.join(client.directory, "jobs", "bad", "state.log")
    size = os.path.getsize(log)
    cases = [(ClientFeedback(1, losses=[float("nan"), 1.0], counts=[1, 1]), "not finite"),
             (ClientFeedback(1, losses=[1.0, 1.0], counts=[1, -1]), "negative"),
             (ClientFeedback(1, losses=[1.0, 1.0, 1.0], counts=[1, 1, 1]), "key id 2 is beyond the job's 2 keys"),
             (ClientFeedback(1, losses=[1.0], counts=[1, 1]), "1 losses but 2 counts"),
             (ClientFeedback(1, losses=[1.0, 1.0]), "both losses and counts"),
             (ClientFeedback("x"), "must be an integer")]
    for feedback, message in cases:
        with pytest.raises(InvalidArgumentError, match=message):
            client.process_feedback("bad", feedback)
    assert os.path.getsize(log) == size
    status = client.job_status("bad")
    assert status["feedback_records"] == 0 and status["num_mixtures"] == 1


def consume_with_feedback(client, job_id, prefetch, sleep_s, chunks=8, chunk_size=20):
    """Streams `chunks` chunks of a fresh job with feedback after every one (sleeping before
    it), and returns the key ids streamed."""
    execute(client, job_id, DynamicMixture(chunk_size, StaticMixture(chunk_size, {EN: 0.5, DE: 0.5}),
                                           SimpleAveragingAlgorithm()))
    it = client.stream_results(ResultStreamingArgs(job_id, prefetch_chunks=prefetch))
    out = []
    for step in range(chunks):
        ids = take(it, chunk_size)
        out.extend(ids)
        time.sleep(sleep_s)
        losses = np.array([1.0 + step % 3, 2.0], dtype=np.float32) * chunk_size
        client.process_feedback(job_id, ClientFeedback(step + 1, losses=losses, counts=[chunk_size, chunk_size]))
    return out


def test_the_stream_does_not_depend_on_prefetch_or_timing(client):
    a = consume_with_feedback(client, "det1", prefetch=1, sleep_s=0.0)
    b = consume_with_feedback(client, "det4", prefetch=4, sleep_s=0.05)
    assert a == b
    assert client.mixture_log("det1") == client.mixture_log("det4")
    # One change per chunk after the first; the last feedback waits for chunk 8 to start.
    assert [c for c, _ in client.mixture_log("det1")] == list(range(8))


def test_a_schedule_by_training_step_switches_on_feedback(client):
    en_only, de_only = StaticMixture(10, {EN: 1.0}), StaticMixture(10, {DE: 1.0})
    execute(client, "sched", MixtureSchedule(10, [ScheduleEntry(0, en_only), ScheduleEntry(5, de_only)]))
    it = client.stream_results(ResultStreamingArgs("sched"))
    assert set(take(it, 10)) == {0}
    client.process_feedback("sched", ClientFeedback(4))
    assert set(take(it, 10)) == {0}
    client.process_feedback("sched", ClientFeedback(5))
    assert set(take(it, 10)) == {1}


def loader_run(client, job_id, workers, lag=0):
    """Trains nothing: iterates a MixteraDataLoader and sends feedback per batch; returns the
    key ids in the order the loop received them."""
    mixture = DynamicMixture(16, StaticMixture(16, {EN: 0.5, DE: 0.5}), SimpleAveragingAlgorithm(),
                             mixture_lag_chunks=lag)
    ds = MixteraTorchDataset(client, Query.for_job(job_id).select(None),
                             QueryExecutionArgs(mixture=mixture, num_workers=workers),
                             ResultStreamingArgs(job_id), return_key_id=True)
    loader = MixteraDataLoader(ds, batch_size=4, num_workers=workers)
    seen = []
    for step, (key_ids, _texts) in enumerate(loader):
        seen.extend(key_ids.tolist())
        losses = np.array([3.0 if step % 4 else 1.0, 1.0], dtype=np.float32)
        client.process_feedback(job_id, ClientFeedback(step + 1, losses=losses, counts=[1, 1]))
        if len(seen) >= 16 * 12:
            break
    return seen, loader.positions


def test_dataloader_workers_follow_the_live_job_deterministically(client):
    a, positions = loader_run(client, "dl_a", workers=2)
    b, _ = loader_run(client, "dl_b", workers=2)
    assert a == b
    assert client.mixture_log("dl_a") == client.mixture_log("dl_b")
    assert len(client.mixture_log("dl_a")) > 2
    assert set(positions) == {0, 1} and all(p["in_chunk"] >= 1 for p in positions.values())


@pytest.mark.parametrize("leave", ["close", "ctrl_c"])
def test_leaving_the_loop_ends_workers_waiting_at_an_undecided_chunk(client, leave):
    import multiprocessing
    job_id = f"leave_{leave}"
    mixture = DynamicMixture(16, StaticMixture(16, {EN: 0.5, DE: 0.5}), SimpleAveragingAlgorithm())
    ds = MixteraTorchDataset(client, Query.for_job(job_id).select(None),
                             QueryExecutionArgs(mixture=mixture, num_workers=2), ResultStreamingArgs(job_id))
    # A chunk is 2 batches: each worker prefetches its first chunk, then waits for its next one,
    # which stays undecided until the loop comes near it.
    it = iter(MixteraDataLoader(ds, batch_size=8, num_workers=2, multiprocessing_context="fork"))
    next(it)
    deadline = time.time() + 10
    while client.job_status(job_id)["horizon"] < 2 and time.time() < deadline:
        time.sleep(0.01)
    time.sleep(0.3)  # the workers are now blocked in their wait
    workers = [p for p in multiprocessing.active_children() if p.is_alive()]
    assert len(workers) >= 2
    t0 = time.monotonic()
    if leave == "close":
        it.close()
    else:
        with pytest.raises(KeyboardInterrupt):
            it.throw(KeyboardInterrupt)
    # Without ending them, the DataLoader waits 5 s per worker before terminating it.
    assert time.monotonic() - t0 < 4.0
    assert not any(p.is_alive() for p in workers)


@pytest.mark.parametrize("samples,workers", [(160, 2), (170, 2), (150, 3), (96, 3), (8, 2), (333, 2)])
def test_a_live_job_runs_to_its_end_through_dataloader_workers(tmp_path, samples, workers):
    """Chunks of 16 samples, batches of 4: workers whose data ends first (or that get no chunk
    at all) must not leave the others waiting at an undecided chunk."""
    import signal
    os.makedirs(tmp_path / "data")
    with open(tmp_path / "data" / "a.jsonl", "w", encoding="utf-8") as f:
        for i in range(samples):
            f.write(json.dumps({"text": f"doc {i}", "lang": "en" if i % 2 else "de"}) + "\n")
    c = MixteraClient.from_directory(tmp_path / "mx")
    c.register_dataset("d", {"name": "d", "format": "jsonl", "path": str(tmp_path / "data" / "a.jsonl"),
                             "text": "text", "properties": {"lang": "string"}})
    mixture = DynamicMixture(16, StaticMixture(16, {EN: 0.5, DE: 0.5}), SimpleAveragingAlgorithm(), strict=False)
    ds = MixteraTorchDataset(c, Query.for_job("end").select(None),
                             QueryExecutionArgs(mixture=mixture, num_workers=workers), ResultStreamingArgs("end"))

    def hang(signum, frame):
        raise TimeoutError("the loop waited 60 s for a batch")

    previous = signal.signal(signal.SIGALRM, hang)
    signal.alarm(60)
    try:
        seen = []
        loader = MixteraDataLoader(ds, batch_size=4, num_workers=workers, multiprocessing_context="fork")
        for step, texts in enumerate(loader):
            seen.extend(texts)
            c.process_feedback("end", ClientFeedback(step + 1, losses=[1.0, 2.0], counts=[1, 1]))
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    assert sorted(seen) == sorted(f"doc {i}" for i in range(samples))
    c.close()


def test_a_plain_dataloader_with_workers_refuses_a_dynamic_job(client):
    mixture = DynamicMixture(16, StaticMixture(16, {EN: 0.5, DE: 0.5}), SimpleAveragingAlgorithm())
    ds = MixteraTorchDataset(client, Query.for_job("plain").select(None),
                             QueryExecutionArgs(mixture=mixture, num_workers=1), ResultStreamingArgs("plain"))
    with pytest.raises(Exception, match="MixteraDataLoader"):
        next(iter(torch.utils.data.DataLoader(ds, batch_size=2, num_workers=1)))


def _feedback_worker(rank, init_file, directory, out_file):
    import torch.distributed as dist
    from mixtera.utils.feedback import handle_mixtera_feedback
    dist.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank, world_size=2)
    client = None
    if rank == 0:
        # The training process that executes the job owns it (and its algorithm).
        client = MixteraClient.from_directory(directory)
        execute(client, "gloo", DynamicMixture(10, StaticMixture(10, {EN: 0.5, DE: 0.5}), SimpleAveragingAlgorithm()))
        it = client.stream_results(ResultStreamingArgs("gloo"))
        take(it, 10)
    losses = torch.tensor([1.0 + rank, 2.0 * (rank + 1)])
    counts = torch.tensor([3 + rank, 5])
    sent = handle_mixtera_feedback(None, 1, losses, counts, dp_rank=rank, tp_rank=0, client=client, job_id="gloo")
    dist.barrier()
    if rank == 0:
        client.wait_for_feedback("gloo")
        take(it, 1)  # starts chunk 1, where the change applies
        with open(out_file, "w") as f:
            json.dump({"sent": sent, "log": client.mixture_log("gloo"),
                       "status": client.job_status("gloo")}, f)
        client.close()
    dist.destroy_process_group()


def test_handle_mixtera_feedback_sums_over_two_gloo_processes(tmp_path):
    client = make_client(tmp_path / "corpus")
    directory = client.directory
    client.close()  # the rank-0 process owns the directory now
    out = tmp_path / "out.json"
    torch.multiprocessing.spawn(_feedback_worker, args=(str(tmp_path / "init"), directory, str(out)),
                                nprocs=2, join=True)
    result = json.loads(out.read_text())
    assert result["sent"] is True and result["status"]["feedback_records"] == 1
    # Summed: losses [1+2, 2+4] = [3, 6], counts [3+4, 5+5] = [7, 10]; averages 3/7 and 6/10.
    want = np.array([3 / 7, 6 / 10])
    np.testing.assert_allclose(result["log"][1][1], want / want.sum(), rtol=1e-6)


_ORPHAN_TRAINER = r"""
import multiprocessing, sys, time
sys.path.insert(0, sys.argv[3])
from test_live_jobs import EN, DE, make_client
from mixtera import DynamicMixture, Query, QueryExecutionArgs, ResultStreamingArgs, SimpleAveragingAlgorithm, StaticMixture
from mixtera.torch import MixteraDataLoader, MixteraTorchDataset
import pathlib
client = make_client(pathlib.Path(sys.argv[1]))
mixture = DynamicMixture(16, StaticMixture(16, {EN: 0.5, DE: 0.5}), SimpleAveragingAlgorithm())
ds = MixteraTorchDataset(client, Query.for_job("orphan").select(None),
                         QueryExecutionArgs(mixture=mixture, num_workers=2), ResultStreamingArgs("orphan"))
it = iter(MixteraDataLoader(ds, batch_size=8, num_workers=2, multiprocessing_context="fork"))
next(it)
time.sleep(0.5)
with open(sys.argv[2], "w") as f:
    f.write(" ".join(str(p.pid) for p in multiprocessing.active_children()))
time.sleep(600)
"""


def _running(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_workers_waiting_at_an_undecided_chunk_end_when_the_trainer_is_killed(tmp_path):
    import signal
    import subprocess
    import sys
    pids_file = tmp_path / "pids"
    trainer = subprocess.Popen([sys.executable, "-c", _ORPHAN_TRAINER, str(tmp_path / "corpus"), str(pids_file),
                                os.path.dirname(os.path.abspath(__file__))])
    try:
        deadline = time.time() + 120
        while not (pids_file.exists() and pids_file.read_text()) and time.time() < deadline:
            assert trainer.poll() is None, "the trainer exited early"
            time.sleep(0.05)
        pids = [int(p) for p in pids_file.read_text().split()]
        assert len(pids) >= 2 and all(_running(p) for p in pids)
    finally:
        trainer.send_signal(signal.SIGKILL)
        trainer.wait()
    deadline = time.time() + 10
    while any(_running(p) for p in pids) and time.time() < deadline:
        time.sleep(0.05)
    assert not any(_running(p) for p in pids), "DataLoader workers outlived their killed trainer"


_BLOCKED_FOLLOWER = r"""
import json, os, sys
sys.path.insert(0, sys.argv[2])
from test_live_jobs import EN, DE, make_client
from mixtera import DynamicMixture, Query, QueryExecutionArgs, ResultStreamingArgs, SimpleAveragingAlgorithm, StaticMixture
from mixtera.client import stream_job_chunks
import pathlib
client = make_client(pathlib.Path(sys.argv[1]))
client.execute_query(Query.for_job("blocked").select(None), QueryExecutionArgs(
    mixture=DynamicMixture(16, StaticMixture(16, {EN: 0.5, DE: 0.5}), SimpleAveragingAlgorithm())))
# A follower (as in a DataLoader worker): chunk 0 is undecided until the owner starts it,
# which it never does here.
chunks = stream_job_chunks(client.directory, ResultStreamingArgs("blocked"))
print("waiting", flush=True)
try:
    next(chunks)
    print("got a chunk", flush=True)
except KeyboardInterrupt:
    print("interrupted", flush=True)
"""


def test_ctrl_c_ends_a_wait_for_an_undecided_chunk(tmp_path):
    # Issue: hardening, 12: such a wait ignored Ctrl-C.
    import signal
    import subprocess
    import sys
    p = subprocess.Popen([sys.executable, "-c", _BLOCKED_FOLLOWER, str(tmp_path / "c"),
                          os.path.dirname(os.path.abspath(__file__))], stdout=subprocess.PIPE, text=True)
    try:
        assert p.stdout.readline().strip() == "waiting"
        time.sleep(0.5)  # now blocked in the wait
        p.send_signal(signal.SIGINT)
        out, _ = p.communicate(timeout=30)
    finally:
        if p.poll() is None:
            p.kill()
    assert out.strip() == "interrupted"
