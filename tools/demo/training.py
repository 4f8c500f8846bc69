"""The demo's training loop, shared by its static and its ADO run: AdamW with linear warm-up
and cosine decay, gradient clipping, held-out loss per mixture key at every log point, and the
time the loop waits for data. `on_step` sees every step's per-window key ids and per-token
losses (the ADO run sends them to its live job as feedback)."""

import math
import time

import numpy as np
import torch


def heldout_losses(model, heldout):
    """{mixture key index: mean held-out loss in nats per token}."""
    return {k: model.eval_loss(v) for k, v in heldout.items()}


def train_run(model, loader, steps, heldout, num_keys, lr, on_step=None, log=print):
    """Trains `model` on the (key_ids, windows) batches of `loader` for up to `steps` steps.

    Returns a dict: steps (done), windows (per key id, trained), losses (per step), seconds
    (training only, held-out evaluations excluded), first_wait and wait (seconds the loop
    waited for the first batch and for all others), heldout ([(step, {key: loss})], from step
    0 on) and chunk_steps ({global chunk index: the step that first trained on it}, when the
    loader is a MixteraDataLoader)."""
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    warmup = max(1, steps // 10)  # linear warm-up, then cosine decay to 0
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / warmup) * 0.5 * (1 + math.cos(math.pi * min(s, steps) / steps)))
    log_every = max(5, steps // 12)
    held = [(0, heldout_losses(model, heldout))]
    trained = np.zeros(num_keys, dtype=np.int64)
    losses = []
    chunk_steps = {}
    wait = first_wait = eval_seconds = 0.0
    steps_done = 0
    t_train = time.perf_counter()
    it = iter(loader)
    for step in range(1, steps + 1):
        t0 = time.perf_counter()
        try:
            key_ids, windows = next(it)
        except StopIteration:
            log(f"  the job ran out after {steps_done} steps")
            break
        waited = time.perf_counter() - t0
        if step == 1:
            first_wait = waited  # worker start-up: fork, tokenizer load, first chunk
        else:
            wait += waited
        for position in getattr(loader, "positions", {}).values():
            chunk_steps.setdefault(position["chunk"], step)
        trained += np.bincount(key_ids.numpy(), minlength=num_keys)
        token_losses = model.token_losses(windows)
        loss = token_losses.mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        losses.append(loss.item())
        steps_done = step
        if on_step is not None:
            on_step(step, key_ids, token_losses.detach())
        if step % log_every == 0 or step == steps:
            t_eval = time.perf_counter()
            held.append((step, heldout_losses(model, heldout)))
            eval_seconds += time.perf_counter() - t_eval
            log(f"  step {step:4d}  train loss {np.mean(losses[-log_every:]):6.3f}  held-out loss "
                f"{np.mean(list(held[-1][1].values())):6.3f}  ({time.perf_counter() - t_train - eval_seconds:5.1f} s)")
    seconds = time.perf_counter() - t_train - eval_seconds
    del it
    return {"steps": steps_done, "windows": trained, "losses": losses, "seconds": seconds,
            "first_wait": first_wait, "wait": wait, "eval_seconds": eval_seconds, "heldout": held, "chunk_steps": chunk_steps}


def per_key_feedback(key_ids, token_losses, num_keys):
    """One step's feedback: per key id, the summed per-token loss and the number of tokens."""
    per_window = token_losses.sum(dim=1).to(torch.float64)
    losses = torch.zeros(num_keys, dtype=torch.float64).index_add_(0, key_ids.long(), per_window)
    counts = torch.zeros(num_keys, dtype=torch.long).index_add_(
        0, key_ids.long(), torch.full_like(key_ids, token_losses.shape[1], dtype=torch.long))
    return losses, counts
