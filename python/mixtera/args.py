"""Argument objects of the client API (compatible with the original's names)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

from .errors import InvalidArgumentError


def check_limit(name: str, value: Any, field: Optional[str] = None) -> None:
    """Raises InvalidArgumentError unless ``value`` is an integer within the row ``name`` of
    Mixtera's table of limits (docs/reliability.md, "Limits"; the same table the C++ core,
    the mixture and spec parsers and the CLI check)."""
    from . import _mixtera
    low, high = _mixtera.limits()[name]
    field = field or name
    if not isinstance(value, int) or isinstance(value, bool):
        raise InvalidArgumentError(f"{field} must be an integer in [{low}, {high}], got {value!r}")
    if not low <= value <= high:
        raise InvalidArgumentError(f"{field} must be in [{low}, {high}], got {value}")


@dataclass
class QueryExecutionArgs:
    """How a job is executed: its mixture and the consumer topology.

    ``num_workers`` is the number of DataLoader workers per node (0 counts as 1, as in the
    original). ``tokenizer`` is a tokenizer file, needed for ``unit="tokens"`` mixtures.

    For ``unit="tokens"``, ``sequence_length``, ``overlapping``, ``bos`` and ``eos`` say how
    the client will pack windows (``bos``/``eos``: whether it adds one per document): the
    job then plans whole windows per key and chunk, and with exact token counts
    (``MixteraClient.count_tokens``) every chunk holds an exact number of windows with no
    waste. ``ResultStreamingArgs`` defaults to the job's values.
    """

    mixture: Any = None
    dp_groups: int = 1
    nodes_per_group: int = 1
    num_workers: int = 0
    tokenizer: Optional[str] = None
    sequence_length: Optional[int] = None
    overlapping: bool = False
    bos: bool = False
    eos: bool = False

    def __post_init__(self) -> None:
        for name in ("dp_groups", "nodes_per_group", "num_workers"):
            check_limit(name, getattr(self, name))
        if self.sequence_length is not None:
            check_limit("sequence_length", self.sequence_length)
            if self.sequence_length < 1:
                raise InvalidArgumentError(f"sequence_length must be None or >= 1, got {self.sequence_length!r}")
        for name in ("overlapping", "bos", "eos"):
            if not isinstance(getattr(self, name), bool):
                raise InvalidArgumentError(
                    f"QueryExecutionArgs.{name} must be True or False (whether the client adds one), "
                    f"got {getattr(self, name)!r}")


# The original's names (chunk_reading_*) for ResultStreamingArgs fields.
_STREAMING_ALIASES = {
    "chunk_reading_tokenizer": "tokenizer",
    "chunk_reading_sequence_len": "sequence_length",
    "chunk_reading_token_overlapping": "overlapping",
    "chunk_reading_tokenization_bos": "bos",
    "chunk_reading_tokenization_eos": "eos",
    "chunk_reading_prefetch_chunks": "prefetch_chunks",
}


# Arguments that only token mode reads, with their defaults (anything else given with
# mode "text" or "dict" is an error).
_TOKEN_MODE_ONLY = {"tokenizer": None, "sequence_length": None, "bos": None, "eos": None,
                    "overlapping": None, "document_starts": False, "token_key_ids": False,
                    "tokenize_threads": 0}


class ResultStreamingArgs:
    """How one consumer streams a job (``MixteraClient.stream_results``).

    ``mode``: ``"text"`` yields each sample's text; ``"dict"`` each sample whole as a dict
    (a JSONL record's object; a Parquet row's columns, plus ``file_row_number``; a WebDataset
    sample's members as ``{"__key__": key, ext: bytes}``); ``"tokens"`` yields windows of
    ``sequence_length + 1`` token ids (numpy int32 arrays), packed per key, with ``bos`` /
    ``eos`` per document (``True`` = the tokenizer's own token, an int = that id),
    ``overlapping`` windows sharing one token. ``sequence_length``, ``overlapping``,
    ``bos`` and ``eos`` left at None take the job's (``QueryExecutionArgs``; none, False).
    ``document_starts=True`` adds each window's document start offsets to the chunk dicts,
    ``token_key_ids=True`` a per-token key id array (a window holds one key's tokens, so it is
    the window's key id repeated; a zero-copy broadcast). ``tokenizer`` is a local tokenizer
    file or a ``mixtera.Tokenizer`` (never a hub name). ``prefetch_chunks`` chunks are read and
    tokenized ahead on C++ threads. The original's ``chunk_reading_*`` names are accepted
    (``chunk_reading_mixture_type="token"`` selects token mode). Token-mode arguments
    (``tokenizer``, ``sequence_length``, ``bos``, ``eos``, ``overlapping``,
    ``document_starts``, ``token_key_ids``, ``tokenize_threads``) are an error with another
    mode: token mode is never inferred, set ``mode="tokens"``.
    """

    def __init__(self, job_id: str, dp_group_id: int = 0, node_id: int = 0, worker_id: int = 0,
                 mode: str = "text", tokenizer: Any = None, sequence_length: Optional[int] = None,
                 bos: Any = None, eos: Any = None, overlapping: Optional[bool] = None,
                 prefetch_chunks: int = 2, document_starts: bool = False, tokenize_threads: int = 0,
                 token_key_ids: bool = False,
                 **aliases: Any) -> None:
        self.job_id = job_id
        self.dp_group_id = dp_group_id
        self.node_id = node_id
        self.worker_id = worker_id
        self.mode = mode
        self.tokenizer = tokenizer
        self.sequence_length = sequence_length
        self.bos = bos
        self.eos = eos
        self.overlapping = overlapping
        self.prefetch_chunks = prefetch_chunks
        self.document_starts = document_starts
        self.token_key_ids = token_key_ids
        self.tokenize_threads = tokenize_threads
        for name, value in aliases.items():
            if name == "chunk_reading_mixture_type":
                if value == "token":
                    self.mode = "tokens"
                elif value not in ("simple", "window"):
                    raise InvalidArgumentError(f"chunk_reading_mixture_type {value!r}: use 'simple' or 'token'")
                continue
            if name not in _STREAMING_ALIASES:
                raise InvalidArgumentError(
                    f"unknown ResultStreamingArgs argument {name!r} (known aliases: "
                    f"{', '.join(sorted(_STREAMING_ALIASES) + ['chunk_reading_mixture_type'])})")
            setattr(self, _STREAMING_ALIASES[name], value)
        if self.mode not in ("text", "dict", "tokens"):
            raise InvalidArgumentError(f"mode must be 'text', 'dict' or 'tokens', got {self.mode!r}")
        for name in ("dp_group_id", "node_id", "worker_id"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise InvalidArgumentError(f"{name} must be an integer >= 0, got {value!r}")
        check_limit("prefetch_chunks", self.prefetch_chunks)
        check_limit("threads", self.tokenize_threads, "tokenize_threads")
        if self.mode != "tokens":
            # Token-mode arguments with another mode would be ignored silently: refuse them.
            given = [name for name, default in _TOKEN_MODE_ONLY.items() if getattr(self, name) != default]
            if given:
                raise InvalidArgumentError(
                    f"ResultStreamingArgs: token-mode arguments ({', '.join(given)}) given with "
                    f"mode={self.mode!r}: set mode='tokens' to stream token windows, or leave them out")
        if self.mode == "tokens":
            if self.tokenizer is None:
                raise InvalidArgumentError("mode='tokens' needs a tokenizer (a local file or mixtera.Tokenizer)")
            if self.sequence_length is not None and (
                    not isinstance(self.sequence_length, int) or isinstance(self.sequence_length, bool)
                    or self.sequence_length < 1):
                raise InvalidArgumentError(
                    f"mode='tokens' needs sequence_length >= 1, got {self.sequence_length!r}")

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={v!r}" for k, v in vars(self).items())
        return f"ResultStreamingArgs({fields})"
