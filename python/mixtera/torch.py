"""PyTorch integration: ``MixteraTorchDataset``, an ``IterableDataset`` over a Mixtera job.

    dataset = MixteraTorchDataset(client, Query.for_job("run1").select(None),
                                  QueryExecutionArgs(mixture=mixture, num_workers=2),
                                  ResultStreamingArgs("run1", mode="tokens", tokenizer="tokenizer.json",
                                                      sequence_length=1024, eos=True))
    loader = torch.utils.data.DataLoader(dataset, batch_size=8, num_workers=2)

The query is executed once, in the process that builds the dataset; the dataset pickles to
(directory, job, consumer settings), so DataLoader workers started with ``fork``, ``spawn`` or
``forkserver`` all stream the materialized job without opening the metadata store. Each worker
takes its own chunks (chunk k goes to worker (k div dp_groups) mod num_workers): no duplicates,
no gaps.
"""

from __future__ import annotations

import copy
import os
from typing import Any, Dict, Iterator, Optional, Tuple

import torch
from torch.utils.data import IterableDataset, get_worker_info

from .args import QueryExecutionArgs, ResultStreamingArgs
from .client import MixteraClient, stream_job_chunks
from .errors import InvalidArgumentError, NotFoundError
from .query import Query
from .tokenizer import Tokenizer


class MixteraTorchDataset(IterableDataset):
    """Streams one dp group / node's share of a job; yields samples (``str`` in text mode, a
    ``dict`` in dict mode, a ``torch.int32`` tensor of ``sequence_length + 1`` tokens in token
    mode), or ``(key_id, sample)`` with ``return_key_id``.

    ``execute_query=False`` streams a job that was executed before (by this or another
    process). Raises InvalidArgumentError when the DataLoader's ``num_workers`` differs from
    ``exec_args.num_workers`` (0 and 1 both mean one consumer per node).
    """

    def __init__(self, client: MixteraClient, query: Query, query_execution_args: QueryExecutionArgs,
                 result_streaming_args: ResultStreamingArgs, return_key_id: bool = False,
                 execute_query: bool = True) -> None:
        super().__init__()
        if not isinstance(result_streaming_args, ResultStreamingArgs):
            raise InvalidArgumentError("result_streaming_args must be a mixtera.ResultStreamingArgs")
        if query.job_id != result_streaming_args.job_id:
            raise InvalidArgumentError(
                f"the query's job id {query.job_id!r} differs from the streaming args' {result_streaming_args.job_id!r}")
        if execute_query:
            client.execute_query(query, query_execution_args)
        self._directory = client.directory
        # The consumers the job was executed for (docs/job_format.md), which the DataLoader
        # must match: fewer workers would leave chunks unread, more would find none.
        from . import _mixtera
        try:
            info = _mixtera.job_info(self._directory, query.job_id)
        except NotFoundError:
            raise NotFoundError(f"job {query.job_id!r} does not exist in {self._directory} "
                                "(execute it first, or pass execute_query=True)") from None
        topology = info["topology"]
        self._num_workers = max(1, int(topology["num_workers"]))
        self._topology = {"dp_groups": int(topology["dp_groups"]), "num_workers": self._num_workers}
        self._dynamic = bool(info["dynamic"])
        self._client: Optional[MixteraClient] = client  # the owner; never pickled
        # Set by MixteraDataLoader: workers tag each item with its position, and the loader
        # decides a live job's chunks in the main process.
        self._tag_positions = False
        self._args = copy.copy(result_streaming_args)
        if isinstance(self._args.tokenizer, Tokenizer):
            self._args.tokenizer = self._args.tokenizer.path  # workers load it from the file
        self._return_key_id = return_key_id
        # Per worker: chunks consumed and items taken from the current chunk (for checkpoints).
        self.progress: Dict[int, Dict[str, int]] = {}

    def __getstate__(self) -> Dict[str, Any]:
        return {"directory": self._directory, "num_workers": self._num_workers,
                "args": vars(self._args), "return_key_id": self._return_key_id,
                "dynamic": self._dynamic, "tag_positions": self._tag_positions,
                "topology": self._topology}

    def __setstate__(self, state: Dict[str, Any]) -> None:
        self._directory = state["directory"]
        self._num_workers = state["num_workers"]
        self._dynamic = state["dynamic"]
        self._tag_positions = state["tag_positions"]
        self._topology = state["topology"]
        self._client = None
        args = ResultStreamingArgs(state["args"]["job_id"])
        args.__dict__.update(state["args"])
        self._args = args
        self._return_key_id = state["return_key_id"]
        self.progress = {}

    def __iter__(self) -> Iterator[Any]:
        info = get_worker_info()
        loader_workers = 1 if info is None else max(1, info.num_workers)
        if loader_workers != self._num_workers:
            raise InvalidArgumentError(
                f"the DataLoader runs {0 if info is None else info.num_workers} workers but the job was "
                f"executed for num_workers={self._num_workers}; pass the same number to "
                "QueryExecutionArgs(num_workers=...) and DataLoader(num_workers=...)")
        args = copy.copy(self._args)
        args.worker_id = 0 if info is None else info.id
        progress = self.progress.setdefault(args.worker_id, {"chunks": 0, "in_chunk": 0})
        in_owner = info is None and self._client is not None
        if info is not None and self._dynamic and not self._tag_positions:
            raise InvalidArgumentError(
                "a job with a dynamic mixture decides its chunks as the training loop receives them: "
                "with DataLoader worker processes use mixtera.torch.MixteraDataLoader")
        if info is not None and self._dynamic:
            # A worker may wait at a chunk its loop has not started yet; if the loop's process
            # dies meanwhile, nothing would ever wake it.
            _exit_with_parent()
        if in_owner:
            # The training loop's own process: the stream reports the chunks it starts.
            chunks = stream_job_chunks(self._directory, args, start=progress["chunks"],
                                       engine=self._client._engine, decide=True)
        else:
            chunks = stream_job_chunks(self._directory, args, start=progress["chunks"])
        for chunk in chunks:
            if in_owner:
                self._client._note_received(args.job_id, chunk["chunk"], chunk["mixture_id"])
            if "texts" in chunk:
                items = zip(chunk["key_ids"], chunk["texts"])
            elif "samples" in chunk:
                items = zip(chunk["key_ids"], chunk["samples"])
            else:
                windows = torch.from_numpy(chunk["windows"])  # shares the chunk's memory
                items = zip(chunk["key_ids"].tolist(), windows)
            n = len(chunk["key_ids"])
            for i, (key_id, sample) in enumerate(items):
                progress["in_chunk"] = i + 1
                item = (key_id, sample) if self._return_key_id else sample
                if self._tag_positions:
                    item = _Tagged((args.worker_id, chunk["chunk"], i, n, chunk["mixture_id"]), item)
                yield item
            progress["chunks"] += 1
            progress["in_chunk"] = 0


class _Tagged:
    """An item and its position (worker, global chunk, index in chunk, chunk items, mixture
    id), from a worker to MixteraDataLoader's collate wrapper."""

    __slots__ = ("position", "item")

    def __init__(self, position: Tuple[int, int, int, int, int], item: Any) -> None:
        self.position = position
        self.item = item


class _PositionCollate:
    """Wraps a collate function: returns (positions of the batch's items, collated batch)."""

    def __init__(self, collate: Any) -> None:
        self.collate = collate

    def __call__(self, batch: Any) -> Any:
        if isinstance(batch, _Tagged):  # batch_size=None: one item at a time
            return [batch.position], self.collate(batch.item)
        return [t.position for t in batch], self.collate([t.item for t in batch])


class MixteraDataLoader(torch.utils.data.DataLoader):
    """A ``torch.utils.data.DataLoader`` over a :class:`MixteraTorchDataset` that counts
    positions where the training loop receives the items — in the main process, also with
    worker processes — and, for a job with a dynamic mixture, decides each chunk when the loop
    is about to start it (docs/mixtures.md, "Live jobs").

    ``positions``: per DataLoader worker, ``{"chunk": global chunk index, "in_chunk": items
    received from it}`` of the last item handed to the loop. Takes the DataLoader's arguments.
    With worker processes and lag 0 every chunk should hold at least one batch (else set
    ``DynamicMixture(mixture_lag_chunks=...)``). Leaving the loop (``break``, an exception,
    Ctrl-C) ends a live job's workers at once, also those waiting at a chunk the loop never
    started; they only follow the job's state log, so nothing is lost.
    """

    def __init__(self, dataset: MixteraTorchDataset, *args: Any, **kwargs: Any) -> None:
        if not isinstance(dataset, MixteraTorchDataset):
            raise InvalidArgumentError("MixteraDataLoader takes a mixtera.torch.MixteraTorchDataset")
        from torch.utils.data.dataloader import default_collate, default_convert
        batch_size = kwargs.get("batch_size", args[0] if args else 1)
        collate = kwargs.pop("collate_fn", None)
        if collate is None:
            collate = default_collate if batch_size is not None else default_convert
        dataset._tag_positions = True
        super().__init__(dataset, *args, collate_fn=_PositionCollate(collate), **kwargs)
        self.positions: Dict[int, Dict[str, int]] = {}

    def __iter__(self) -> Iterator[Any]:
        ds: MixteraTorchDataset = self.dataset  # type: ignore[assignment]
        client, job_id = ds._client, ds._args.job_id
        G, W = ds._topology["dp_groups"], ds._num_workers
        g = ds._args.dp_group_id
        B = self.batch_size or 1
        decide = client is not None and ds._dynamic and self.num_workers > 0
        it = super().__iter__()
        try:
            yield from self._decide_and_count(it, decide, client, job_id, G, W, g, B)
        finally:
            if ds._dynamic and self.num_workers > 0:
                _stop_waiting_workers(it)
                if self.persistent_workers:
                    self._iterator = None  # its workers are gone; the next epoch starts new ones

    def _decide_and_count(self, it: Any, decide: bool, client: Any, job_id: str, G: int, W: int, g: int,
                          B: int) -> Iterator[Any]:
        # The DataLoader hands out batches of its workers in turn, skipping workers whose data
        # ended. Before each batch, the worker that produces it is predicted and, when that
        # batch crosses into the worker's next chunk, the chunk is decided (StartChunk).
        # Per worker: [current global chunk, items received in it, its items] (None: none yet).
        state: Dict[int, Optional[list]] = {w: None for w in range(W)}
        ended = set()    # workers whose data ended: the DataLoader no longer asks them
        last_batch = set()  # workers whose next batch is their last (their next chunk is the end)
        nxt = 0  # the worker of the next batch, unless it ended
        while True:
            if decide:
                for _ in range(W):
                    w = nxt
                    if w in ended:
                        nxt = (nxt + 1) % W
                        continue
                    if w in last_batch:
                        break
                    s = state[w]
                    if s is None:
                        k = g + G * w  # the worker's first chunk (ConsumerChunk, t = 0)
                    elif s[1] + B > s[2]:
                        k = s[0] + G * W  # the next batch crosses into the worker's next chunk
                    else:
                        break
                    client._engine.start_chunk(job_id, k)
                    if client._engine.get_chunk(job_id, k)["status"] != "end":
                        break
                    if s is not None and s[1] < s[2]:
                        last_batch.add(w)  # the rest of its chunk, then its data ends
                        break
                    ended.add(w)
                    nxt = (nxt + 1) % W
            try:
                positions, batch = next(it)
            except StopIteration:
                return
            for (w, chunk, i, n, mixture_id) in positions:
                state[w] = [chunk, i + 1, n]
                self.positions[w] = {"chunk": chunk, "in_chunk": i + 1}
                if client is not None:
                    client._note_received(job_id, chunk, mixture_id)
            if decide:
                w = positions[-1][0]
                if w in last_batch:
                    last_batch.discard(w)
                    ended.add(w)
                nxt = (w + 1) % W
            yield batch


def _stop_waiting_workers(it: Any) -> None:
    """Ends the worker processes of a live job's DataLoader iterator that the loop leaves (end
    of data, break, an exception, Ctrl-C). A worker may be waiting at a chunk the loop will
    never start; the DataLoader would wait 5 s per worker before terminating it. Workers only
    follow the job's state log, so ending them loses nothing."""
    for worker in getattr(it, "_workers", None) or []:
        if worker.is_alive():
            worker.terminate()
    shutdown = getattr(it, "_shutdown_workers", None)
    if shutdown is not None:
        shutdown()


def _exit_with_parent() -> None:
    """Asks Linux to end this process (SIGTERM) when the process that started it exits."""
    import ctypes
    import signal
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        PR_SET_PDEATHSIG = 1
        libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0)
    except (OSError, AttributeError):
        return
    if os.getppid() == 1:  # the parent already exited before prctl
        os._exit(0)
