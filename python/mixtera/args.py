"""Argument objects of the client API (compatible with the original's names)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

from .errors import InvalidArgumentError


@dataclass
class QueryExecutionArgs:
    """How a job is executed: its mixture and the consumer topology.

    ``num_workers`` is the number of DataLoader workers per node (0 counts as 1, as in the
    original). ``tokenizer`` is a tokenizer file, needed for ``unit="tokens"`` mixtures.
    """

    mixture: Any = None
    dp_groups: int = 1
    nodes_per_group: int = 1
    num_workers: int = 0
    tokenizer: Optional[str] = None

    def __post_init__(self) -> None:
        for name in ("dp_groups", "nodes_per_group"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise InvalidArgumentError(f"{name} must be a positive integer, got {value!r}")
        if not isinstance(self.num_workers, int) or isinstance(self.num_workers, bool) or self.num_workers < 0:
            raise InvalidArgumentError(f"num_workers must be >= 0, got {self.num_workers!r}")
