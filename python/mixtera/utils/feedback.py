"""``handle_mixtera_feedback``: a training loop's per-step report to a live Mixtera job.

    losses = torch.zeros(num_keys).index_add_(0, key_ids.flatten(), per_token_loss.flatten())
    counts = torch.zeros(num_keys, dtype=torch.long).index_add_(0, key_ids.flatten(), ones)
    handle_mixtera_feedback(dataset, step, losses, counts, dp_rank, tp_rank)

Token mode yields the key id of every token with ``ResultStreamingArgs(token_key_ids=True)``.
"""

from __future__ import annotations

from typing import Any, Optional

from ..feedback import ClientFeedback


def handle_mixtera_feedback(dataset: Any, training_steps: int, losses: Any, counts: Any, dp_rank: int,
                            tp_rank: int, *, group: Any = None, all_reduce: bool = True,
                            client: Any = None, job_id: Optional[str] = None) -> bool:
    """Sums the step's per-key ``losses`` and ``counts`` (tensors indexed by key id) over the
    data-parallel ``group`` (``torch.distributed``, when initialized and ``all_reduce``) and
    sends them once per step from the group's first rank (``dp_rank == 0 and tp_rank == 0``;
    every pipeline stage may call it — the job ignores a step it already has).

    ``dataset``: the ``MixteraTorchDataset`` (its client and job), or pass ``client`` and
    ``job_id``. Every rank of the group must call it (the sum is a collective). Returns True
    when this rank sent feedback the job accepted."""
    import torch
    import torch.distributed as dist
    losses = torch.as_tensor(losses).detach().to(torch.float32)
    counts = torch.as_tensor(counts).detach().to(torch.int64)
    if all_reduce and dist.is_available() and dist.is_initialized():
        # One collective for both: float64 holds exact integer counts up to 2**53.
        both = torch.cat([losses.to(torch.float64), counts.to(torch.float64)])
        dist.all_reduce(both, op=dist.ReduceOp.SUM, group=group)
        n = losses.numel()
        losses = both[:n].to(torch.float32)
        counts = both[n:].round().to(torch.int64)
    if dp_rank != 0 or tp_rank != 0:
        return False
    if client is None:
        client = getattr(dataset, "_client", None)
    if job_id is None:
        job_id = dataset._args.job_id
    if client is None:
        from ..errors import FailedPreconditionError
        raise FailedPreconditionError("handle_mixtera_feedback: the sending rank needs the MixteraClient "
                                      "that owns the job (pass client=...)")
    feedback = ClientFeedback(int(training_steps), mixture_id=client.current_mixture_id,
                              losses=losses.cpu().numpy(), counts=counts.cpu().numpy())
    return client.process_feedback(job_id, feedback)
