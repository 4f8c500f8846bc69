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
import json
import os
from typing import Any, Dict, Iterator, Optional

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
        job_file = os.path.join(self._directory, "jobs", query.job_id, "job.json")
        try:
            with open(job_file, "r", encoding="utf-8") as f:
                topology = json.load(f)["topology"]
        except FileNotFoundError:
            raise NotFoundError(f"job {query.job_id!r} does not exist in {self._directory} "
                                "(execute it first, or pass execute_query=True)") from None
        self._num_workers = max(1, int(topology["num_workers"]))
        self._args = copy.copy(result_streaming_args)
        if isinstance(self._args.tokenizer, Tokenizer):
            self._args.tokenizer = self._args.tokenizer.path  # workers load it from the file
        self._return_key_id = return_key_id
        # Per worker: chunks consumed and items taken from the current chunk (for checkpoints).
        self.progress: Dict[int, Dict[str, int]] = {}

    def __getstate__(self) -> Dict[str, Any]:
        return {"directory": self._directory, "num_workers": self._num_workers,
                "args": vars(self._args), "return_key_id": self._return_key_id}

    def __setstate__(self, state: Dict[str, Any]) -> None:
        self._directory = state["directory"]
        self._num_workers = state["num_workers"]
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
        for chunk in stream_job_chunks(self._directory, args, start=progress["chunks"]):
            if "texts" in chunk:
                items = zip(chunk["key_ids"], chunk["texts"])
            elif "samples" in chunk:
                items = zip(chunk["key_ids"], chunk["samples"])
            else:
                windows = torch.from_numpy(chunk["windows"])  # shares the chunk's memory
                items = zip(chunk["key_ids"].tolist(), windows)
            for i, (key_id, sample) in enumerate(items):
                progress["in_chunk"] = i + 1
                yield (key_id, sample) if self._return_key_id else sample
            progress["chunks"] += 1
            progress["in_chunk"] = 0
