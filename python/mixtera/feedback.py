"""ClientFeedback: one training step's report to a live job (the original's class)."""

from __future__ import annotations

from typing import Any, Optional


class ClientFeedback:
    """What a trainer reports after a step: ``training_steps`` (the step number), the
    ``mixture_id`` it trains on (``client.current_mixture_id``), and per key id the summed
    ``losses`` and the ``counts`` of tokens (or samples) behind them — both may be omitted (a
    step report, which drives a ``MixtureSchedule`` by step). ``dp_group`` names the sender's
    data-parallel group (feedback for a step the group already reported is ignored)."""

    def __init__(self, training_steps: int, mixture_id: Optional[int] = None, losses: Any = None,
                 counts: Any = None, dp_group: int = 0) -> None:
        self.training_steps = training_steps
        self.mixture_id = mixture_id
        self.losses = losses
        self.counts = counts
        self.dp_group = dp_group

    def __repr__(self) -> str:
        return (f"ClientFeedback(training_steps={self.training_steps!r}, mixture_id={self.mixture_id!r}, "
                f"losses={self.losses!r}, counts={self.counts!r})")
