"""MixteraClient: the entry point of the Python API (DESIGN.md §1)."""

from __future__ import annotations

import json
import os
import stat
from typing import Any, Callable, Dict, Iterator, List, Mapping, Optional, Tuple, Union

from . import _mixtera
from .errors import InvalidArgumentError

SpecLike = Union[str, "os.PathLike[str]", Mapping[str, Any]]


class MixteraClient:
    """A client of one Mixtera directory (local mode).

    Use :meth:`from_directory`; the directory and its metadata store are created when missing.
    Only one process may open a directory at a time (the store is locked until :meth:`close`,
    or the end of a ``with`` block). Not thread-safe.
    """

    def __init__(self, engine: "_mixtera.Engine") -> None:
        self._native: Optional["_mixtera.Engine"] = engine
        self._directory = engine.directory
        # Per job: what this process's consumers have received (positions counted where the
        # training loop receives items): {"started": chunks started (the next chunk's
        # index), "mixture_id": the largest mixture id received}.
        self._received: Dict[str, Dict[str, int]] = {}
        self._algorithms: Dict[str, Any] = {}

    @property
    def _engine(self) -> "_mixtera.Engine":
        if self._native is None:
            from .errors import FailedPreconditionError
            raise FailedPreconditionError(f"this MixteraClient of {self._directory} is closed")
        return self._native

    def close(self) -> None:
        """Releases the metadata store and its lock (so the CLI or another process can open
        the directory). Streaming a materialized job still works afterwards
        (``mixtera.client.stream_job_chunks``); other calls raise FailedPreconditionError.
        Closing twice is a no-op."""
        if self._native is not None:
            self._native.close()
            self._native = None

    def __enter__(self) -> "MixteraClient":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    @staticmethod
    def from_directory(directory: Union[str, "os.PathLike[str]"]) -> "MixteraClient":
        """Opens (creating if missing) the Mixtera directory ``directory``."""
        return MixteraClient(_mixtera.Engine.open(os.fspath(directory)))

    @property
    def directory(self) -> str:
        return self._directory

    def register_dataset(
        self,
        name: Optional[str],
        spec: SpecLike,
        parser: Optional[Callable[[int, Any], Mapping[str, Any]]] = None,
        num_threads: int = 0,
    ) -> Dict[str, Any]:
        """Registers a dataset atomically and returns its report.

        ``spec`` is a path to a YAML/JSON spec file or a dict with the same keys
        (docs/dataset_spec.md); relative paths in a dict resolve against the current
        directory. ``name`` must equal the spec's ``name`` when both are given (a dict
        without ``name`` takes ``name``). ``parser`` (JSONL only) is a callable
        ``parser(line_number, payload) -> dict`` or an object with the original Mixtera's
        ``parse(line_number, payload)`` method; it receives the JSON-decoded line and returns
        the values of the declared properties.

        Returns a dict with ``name``, ``num_files``, ``num_samples``, ``num_skipped``,
        ``bytes``, ``seconds``, ``skipped_examples`` and ``warnings``.
        Raises AlreadyExistsError, InvalidArgumentError, NotFoundError, CorruptionError, ...
        """
        if isinstance(spec, Mapping):
            spec_dict = dict(spec)
            if name is not None:
                if "name" in spec_dict and spec_dict["name"] != name:
                    raise InvalidArgumentError(
                        f"name {name!r} differs from the spec's name {spec_dict['name']!r}")
                spec_dict["name"] = name
            text, base_dir, origin = json.dumps(spec_dict), os.getcwd(), ""
        else:
            path = os.path.abspath(os.fspath(spec))
            try:
                info = os.stat(path)
                # A device (/dev/zero), pipe or folder in place of a spec: an error, not a hang.
                if not stat.S_ISREG(info.st_mode):
                    raise InvalidArgumentError(f"spec file '{path}' is not a regular file (a folder, device or pipe)")
                if info.st_size > 16 << 20:
                    raise InvalidArgumentError(
                        f"spec file '{path}' has {info.st_size} bytes; at most {16 << 20} are read")
                with open(path, "r", encoding="utf-8") as f:
                    text = f.read()
            except FileNotFoundError:
                from .errors import NotFoundError
                raise NotFoundError(f"spec file '{path}' does not exist") from None
            base_dir, origin = os.path.dirname(path), path
            if name is not None:
                import yaml  # Debian's python3-yaml
                declared = (yaml.safe_load(text) or {}).get("name")
                if declared is not None and str(declared) != name:
                    raise InvalidArgumentError(
                        f"{path}: name {name!r} differs from the spec's name {declared!r}")
        report = self._engine.register(text, base_dir, origin, parser, num_threads)
        return json.loads(report)

    def list_datasets(self) -> List[str]:
        """Names of the registered datasets, sorted."""
        return [json.loads(d)["name"] for d in self._engine.list_datasets_json()]

    def dataset_info(self, name: str) -> Dict[str, Any]:
        """The description of dataset ``name`` (as ``mixtera datasets --json``). Raises NotFoundError."""
        return json.loads(self._engine.dataset_info_json(name))

    def check_dataset_exists(self, name: str) -> bool:
        return name in self.list_datasets()

    def remove_dataset(self, name: str) -> bool:
        """Removes dataset ``name`` (the data files stay). Raises NotFoundError."""
        self._engine.remove_dataset(name)
        return True

    def verify(self, name: Optional[str] = None) -> Dict[str, Any]:
        """Reports files whose size or mtime changed since registration."""
        return json.loads(self._engine.verify_json(name))

    # --- queries and jobs -------------------------------------------------------------

    def execute_query(self, query: "Query", args: "QueryExecutionArgs") -> Dict[str, Any]:
        """Executes ``query`` with ``args.mixture`` and materializes the job in the Mixtera
        directory, so every process that streams it (DataLoader workers, other nodes) reads
        the job files instead of the metadata store.

        Returns the job summary (``num_samples``, ``num_chunks``, ``keys`` with their
        samples per chunk, ``warnings``...). ``args.mixture`` may be None: an
        ArbitraryMixture with chunk_size 1024. Raises AlreadyExistsError for a job id in use,
        InvalidArgumentError for a bad query or mixture.
        """
        from .args import QueryExecutionArgs
        from .mixture import ArbitraryMixture, Mixture
        from .query import Query
        if not isinstance(query, Query):
            raise InvalidArgumentError(f"execute_query takes a mixtera.Query, got {type(query).__name__}")
        if not isinstance(args, QueryExecutionArgs):
            raise InvalidArgumentError("execute_query takes a mixtera.QueryExecutionArgs")
        mix = args.mixture if args.mixture is not None else ArbitraryMixture(1024)
        if isinstance(mix, Mixture):
            mixture_json = mix.to_json()
        elif isinstance(mix, Mapping):
            mixture_json = json.dumps(dict(mix))
        elif isinstance(mix, (str, os.PathLike)):
            with open(os.fspath(mix), "r", encoding="utf-8") as f:
                mixture_json = f.read()
        else:
            raise InvalidArgumentError(f"unsupported mixture {mix!r}")
        if args.tokenizer is not None and not os.path.exists(os.fspath(args.tokenizer)):
            from .errors import NotFoundError
            raise NotFoundError(f"tokenizer file '{args.tokenizer}' does not exist")
        tokenizer = os.path.abspath(os.fspath(args.tokenizer)) if args.tokenizer is not None else ""
        summary = self._engine.execute_query(query.job_id, query.branches, mixture_json, args.dp_groups,
                                             args.nodes_per_group, args.num_workers, tokenizer,
                                             args.sequence_length or 0, args.overlapping, args.bos, args.eos)
        from .dynamic_mixing import attach_mixing_algorithm
        attach_mixing_algorithm(self._engine, query.job_id, mix)
        if isinstance(mix, Mixture) and getattr(mix, "mixing_alg", None) is not None:
            self._algorithms[query.job_id] = mix.mixing_alg
        return json.loads(summary)

    def count_tokens(self, dataset: str, tokenizer: Union[str, "os.PathLike[str]"], threads: int = 0) -> Dict[str, Any]:
        """Counts every sample's tokens of ``dataset`` with the tokenizer file ``tokenizer``
        and stores them in the Mixtera directory (``mixtera count-tokens``). Later
        ``unit="tokens"`` jobs with that tokenizer then plan exact tokens: each chunk holds
        an exact number of windows and wastes nothing. Returns the report (``num_tokens``,
        ``num_samples``, ``already_counted``...); counting again is a no-op.
        """
        if not os.path.exists(os.fspath(tokenizer)):
            from .errors import NotFoundError
            raise NotFoundError(f"tokenizer file '{tokenizer}' does not exist")
        return json.loads(self._engine.count_tokens(dataset, os.path.abspath(os.fspath(tokenizer)), int(threads)))

    def get_chunk(self, job_id: str, index: int) -> Optional[Dict[str, Any]]:
        """Chunk ``index`` of job ``job_id`` as plain data, by random access:
        ``{"index", "mixture_id", "partial", "keys": [{"key", "key_id", "num_samples",
        "ranges": [{"file", "begin", "end"}]}]}``; None after the last chunk. A dynamic
        mixture whose decision for this chunk is pending raises UnavailableError (retry later).
        """
        reply = self._engine.get_chunk(job_id, int(index))
        status = reply.pop("status")
        if status == "end":
            return None
        if status == "not_yet":
            from .errors import UnavailableError
            raise UnavailableError(f"chunk {index} of job {job_id!r} is not decided yet")
        return reply

    def job_summary(self, job_id: str) -> Dict[str, Any]:
        """The summary execute_query returned, for a job of this directory."""
        return json.loads(self._engine.job_summary_json(job_id))

    # --- live jobs ----------------------------------------------------------------------

    def process_feedback(self, job_id: str, feedback: "ClientFeedback") -> bool:
        """Reports one training step to job ``job_id`` (a DynamicMixture's algorithm turns it
        into a new mixture; docs/mixtures.md, "Live jobs"). With the job's default lag of 0,
        the first chunk this process's consumers start after this call follows the new
        mixture. The position sent with the feedback is what this process's consumers have
        received. Feedback for a step this dp group already reported is ignored (returns
        False). Raises InvalidArgumentError for NaN or infinite losses, negative counts, a key
        id beyond the job's keys, losses and counts of different lengths; nothing is recorded
        then. Feedback to a job without a dynamic mixture is accepted and changes nothing."""
        import numpy as np
        from .feedback import ClientFeedback
        if not isinstance(feedback, ClientFeedback):
            raise InvalidArgumentError("process_feedback takes a mixtera.ClientFeedback")
        step = feedback.training_steps
        if not isinstance(step, (int, np.integer)) or isinstance(step, bool):
            raise InvalidArgumentError(f"ClientFeedback.training_steps must be an integer, got {step!r}")
        losses = np.zeros(0, dtype=np.float32) if feedback.losses is None else _as_numpy(feedback.losses)
        counts = np.zeros(0, dtype=np.int64) if feedback.counts is None else _as_numpy(feedback.counts)
        if (feedback.losses is None) != (feedback.counts is None):
            raise InvalidArgumentError("ClientFeedback needs both losses and counts, or neither")
        losses = np.asarray(losses, dtype=np.float32).reshape(-1)
        if counts.size and not np.issubdtype(counts.dtype, np.integer):
            if not np.all(np.equal(np.mod(counts, 1), 0)):
                raise InvalidArgumentError("ClientFeedback.counts must be whole numbers")
        counts = np.asarray(counts).astype(np.int64).reshape(-1)
        received = self._received.get(job_id, {})
        mixture_id = feedback.mixture_id
        if mixture_id is None:
            mixture_id = received.get("mixture_id", -1)
        result = self._engine.process_feedback(job_id, int(step), int(mixture_id), losses, counts,
                                               int(feedback.dp_group), int(received.get("started", -1)))
        return not (result["duplicate"] or result["ignored"])

    @property
    def current_mixture_id(self) -> Optional[int]:
        """The largest mixture id among the chunks whose items this process's consumers have
        received (``None`` before the first)."""
        ids = [r["mixture_id"] for r in self._received.values() if r.get("mixture_id", -1) >= 0]
        return max(ids) if ids else None

    def mixture_log(self, job_id: str) -> List[Tuple[int, List[float]]]:
        """The job's mixture changes so far: ``(start_chunk, weights per key id)``; mixture id
        = position in the list."""
        return [(int(c), list(w)) for c, w in self._engine.mixture_log(job_id)]

    def job_status(self, job_id: str) -> Dict[str, Any]:
        """The live job's state: ``horizon`` (first undecided chunk, -1: all decided),
        ``num_mixtures``, ``feedback_records``, ``pending_feedback``, ``lag_chunks``,
        ``driver_errors`` / ``last_driver_error`` (the algorithm's failures; the mixture then
        stays), ``writer`` (this process writes the job's state)."""
        return dict(self._engine.job_status(job_id))

    def wait_for_feedback(self, job_id: str) -> None:
        """Blocks until the job's algorithm has processed every feedback sent so far."""
        self._engine.drain(job_id)

    def _note_received(self, job_id: str, chunk: int, mixture_id: int) -> None:
        """A consumer of this process received an item of global chunk ``chunk``."""
        r = self._received.setdefault(job_id, {"started": 0, "mixture_id": -1})
        r["started"] = max(r["started"], int(chunk) + 1)
        r["mixture_id"] = max(r["mixture_id"], int(mixture_id))

    # --- streaming ----------------------------------------------------------------------

    def stream_results(self, args: "ResultStreamingArgs") -> Iterator[Tuple[int, int, Any]]:
        """Streams one consumer's share of job ``args.job_id``: yields
        ``(index_in_chunk, key_id, sample)`` — the sample's text in text mode, a dict of all
        its fields in dict mode (see ResultStreamingArgs), a numpy int32
        array of ``sequence_length + 1`` tokens in token mode — chunk after chunk, in each
        chunk's round-robin order across keys. Reads the materialized job only (never the
        metadata store). Raises NotFoundError for an unknown job, InvalidArgumentError for
        a consumer outside the job's topology, and the reading errors (a changed or missing
        data file, named) when they happen.
        """
        for chunk in self._stream_chunks(args):
            self._note_received(args.job_id, chunk["chunk"], chunk["mixture_id"])
            if "texts" in chunk:
                for i, (key_id, text) in enumerate(zip(chunk["key_ids"], chunk["texts"])):
                    yield i, key_id, text
            elif "samples" in chunk:
                for i, (key_id, sample) in enumerate(zip(chunk["key_ids"], chunk["samples"])):
                    yield i, key_id, sample
            else:
                windows, key_ids = chunk["windows"], chunk["key_ids"]
                for i in range(len(key_ids)):
                    yield i, int(key_ids[i]), windows[i]

    def _stream_chunks(self, args: "ResultStreamingArgs", start: int = 0, decide: bool = True) -> Iterator[Dict[str, Any]]:
        return stream_job_chunks(self.directory, args, start, engine=self._engine, decide=decide)


def _as_numpy(values: Any) -> Any:
    import numpy as np
    if hasattr(values, "detach"):  # a torch tensor
        values = values.detach().cpu().numpy()
    return np.asarray(values)


def stream_job_chunks(directory: str, args: "ResultStreamingArgs", start: int = 0, *, engine: Any = None,
                      decide: bool = False) -> Iterator[Dict[str, Any]]:
    """The consumer's chunks of job ``args.job_id`` in Mixtera directory ``directory`` as
    dicts (``chunk``, ``position``, ``key_ids`` and ``texts`` or ``windows`` /
    ``wasted_tokens`` per key part, whose key ids are ``part_key_ids``), starting at the consumer's chunk number ``start``. Reads only the
    materialized job and the data files — never the metadata store — so any number of
    processes (DataLoader workers) may stream while another process owns the store; a live
    job's changes reach them through its state log. ``engine``: stream the live job of the
    client's native engine instead (in its process); ``decide``: the stream reports the chunks
    it starts, which decides a dynamic job's chunks (the owner's own consumer)."""
    from .args import ResultStreamingArgs
    from .tokenizer import Tokenizer
    if not isinstance(args, ResultStreamingArgs):
        raise InvalidArgumentError("stream_results takes a mixtera.ResultStreamingArgs")
    tokenizer = None
    bos = eos = None
    sequence_length, overlapping = args.sequence_length, args.overlapping
    if args.tokenizer is not None:
        tokenizer = args.tokenizer if isinstance(args.tokenizer, Tokenizer) else Tokenizer.from_file(args.tokenizer)
    if args.mode == "tokens":
        packing = _job_packing(directory, args.job_id)
        if sequence_length is None:
            sequence_length = packing.get("sequence_length") or None
        if sequence_length is None:
            raise InvalidArgumentError(
                "mode='tokens' needs sequence_length (ResultStreamingArgs or QueryExecutionArgs)")
        if overlapping is None:
            overlapping = bool(packing.get("overlapping", False))
        bos = _special_id("bos", packing.get("bos", False) if args.bos is None else args.bos, tokenizer.bos_id)
        eos = _special_id("eos", packing.get("eos", False) if args.eos is None else args.eos, tokenizer.eos_id)
    stream = _mixtera.SampleStream.open(
        os.fspath(directory), args.job_id, args.dp_group_id, args.node_id, args.worker_id, args.mode,
        tokenizer._native if tokenizer is not None else None, sequence_length or 0,
        bool(overlapping), bos, eos, bool(args.document_starts), args.prefetch_chunks,
        args.tokenize_threads, int(start), engine, bool(decide))
    token_key_ids = args.mode == "tokens" and getattr(args, "token_key_ids", False)
    while True:
        chunk = stream.next_chunk()
        if chunk is None:
            return
        if token_key_ids:
            import numpy as np
            chunk["token_key_ids"] = np.broadcast_to(chunk["key_ids"][:, None], chunk["windows"].shape)
        yield chunk


def _job_packing(directory: str, job_id: str) -> Dict[str, Any]:
    """The job's token packing (QueryExecutionArgs), {} when the job is missing or unreadable
    (SampleStream.open then reports why)."""
    from .errors import MixteraError
    try:
        return _mixtera.job_info(os.fspath(directory), job_id)["packing"]
    except MixteraError:
        return {}


def _special_id(name: str, value: Any, tokenizer_id: Optional[int]) -> Optional[int]:
    """bos/eos argument -> id: False/None = none, True = the tokenizer's, int = that id."""
    if value is None or value is False:
        return None
    if value is True:
        if tokenizer_id is None:
            raise InvalidArgumentError(
                f"{name}=True but the tokenizer defines no {name.upper()} token (no post-processor "
                f"template and none of the known names); pass {name}=<token id>")
        return tokenizer_id
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    raise InvalidArgumentError(f"{name} must be True, False or a token id, got {value!r}")
