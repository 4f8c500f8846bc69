"""A tiny causal language model over the full GPT-2 vocabulary (50,257 ids) that trains on two
CPU cores: 2 pre-norm transformer layers of width 64, learned positions, and an adaptive
softmax output (torch.nn.AdaptiveLogSoftmaxWithLoss: the 1,024 lowest ids — GPT-2's bytes and
earliest, most frequent merges — in the head, the rest in three tail clusters of decreasing
width) instead of a 50,257-way projection: about 40x fewer multiply-adds per token. The loss
is still the exact cross-entropy of a normalized distribution over the whole vocabulary, in
nats per token.
"""

import math

import torch
from torch import nn


class TinyLM(nn.Module):
    def __init__(self, vocab_size, context, d_model=64, layers=2, heads=4, cutoffs=(1024, 4096, 16384)):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, d_model)
        self.pos = nn.Embedding(context, d_model)
        layer = nn.TransformerEncoderLayer(d_model, heads, 4 * d_model, dropout=0.0, batch_first=True,
                                           norm_first=True)
        self.blocks = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(d_model)
        self.out = nn.AdaptiveLogSoftmaxWithLoss(d_model, vocab_size, cutoffs=list(cutoffs), div_value=4.0)
        causal = torch.triu(torch.full((context, context), float("-inf")), diagonal=1)
        self.register_buffer("causal", causal, persistent=False)
        nn.init.normal_(self.embed.weight, std=0.02)
        nn.init.normal_(self.pos.weight, std=0.02)

    def hidden(self, tokens):
        t = tokens.shape[1]
        h = self.embed(tokens) + self.pos.weight[:t]
        return self.norm(self.blocks(h, mask=self.causal[:t, :t]))

    def loss(self, window):
        """Mean next-token cross-entropy (nats) of a batch of windows [B, T+1] (int)."""
        window = window.long()
        h = self.hidden(window[:, :-1])
        return self.out(h.reshape(-1, h.shape[-1]), window[:, 1:].reshape(-1)).loss

    def token_losses(self, window):
        """Next-token cross-entropy (nats) of every position of windows [B, T+1]: [B, T]. Their
        mean is loss(window)."""
        window = window.long()
        h = self.hidden(window[:, :-1])
        log_prob = self.out(h.reshape(-1, h.shape[-1]), window[:, 1:].reshape(-1)).output
        return -log_prob.view(window.shape[0], -1)

    @torch.no_grad()
    def eval_loss(self, windows, batch=16):
        """Mean cross-entropy over windows [N, T+1], in nats per token."""
        self.eval()
        total, n = 0.0, 0
        for i in range(0, len(windows), batch):
            w = windows[i:i + batch]
            total += self.loss(w).item() * w.shape[0]
            n += w.shape[0]
        self.train()
        return total / max(n, 1)


def num_parameters(model):
    return sum(p.numel() for p in model.parameters())


def blas_library():
    """The BLAS shared library torch's matrix products run on (Debian's python3-torch uses
    whichever libblas.so.3 the alternatives system selects), or None if not found."""
    torch.ones(64, 64) @ torch.ones(64, 64)
    try:
        with open("/proc/self/maps", "r") as f:
            libs = {line.split()[-1] for line in f if "blas" in line.lower() and ".so" in line}
    except OSError:
        return None
    return sorted(libs)[0] if libs else None


def uniform_loss(vocab_size):
    return math.log(vocab_size)

