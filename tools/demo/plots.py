"""The demo's plots (Debian's python3-matplotlib, drawn off-screen): the mixture weights of the
ADO run over training steps beside the static weights, and the held-out loss per mixture key
over steps for both runs."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def _colors(n):
    cmap = plt.get_cmap("tab10")
    return [cmap(i % 10) for i in range(n)]


def mixture_weights(path, labels, static_weights, schedule, steps):
    """schedule: [(step from which the weights apply, [weight per key])], in step order. Solid
    steps: the live job's mixture; dashed: the static mixture."""
    fig, ax = plt.subplots(figsize=(9, 4.8), dpi=110)
    for i, (label, color) in enumerate(zip(labels, _colors(len(labels)))):
        xs, ys = [], []
        for j, (start, weights) in enumerate(schedule):
            end = schedule[j + 1][0] if j + 1 < len(schedule) else steps
            xs += [start, end]
            ys += [weights[i], weights[i]]
        ax.plot(xs, ys, color=color, label=label, linewidth=1.8)
        ax.axhline(static_weights[i], color=color, linestyle="--", linewidth=0.9, alpha=0.7)
    ax.set_xlabel("training step")
    ax.set_ylabel("mixture weight")
    ax.set_xlim(0, steps)
    ax.set_ylim(bottom=0)
    ax.set_title("Mixture weights: ADO (solid, per chunk the loop started) vs static (dashed)")
    ax.legend(fontsize=8, loc="upper right", ncol=2)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def heldout_loss(path, labels, runs):
    """runs: {name: [(step, {key index: loss})]}; one panel per key, one line per run."""
    n = len(labels)
    cols = min(4, n)
    rows = (n + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(3.2 * cols, 2.6 * rows), dpi=110, squeeze=False)
    styles = ["--", "-", ":", "-."]
    for i, label in enumerate(labels):
        ax = axes[i // cols][i % cols]
        drawn = False
        for (name, series), style in zip(runs.items(), styles):
            points = [(step, losses[i]) for step, losses in series if i in losses]
            if points:
                ax.plot([p[0] for p in points], [p[1] for p in points], style, label=name, linewidth=1.5)
                drawn = True
        if not drawn:
            ax.text(0.5, 0.5, "no held-out data", ha="center", va="center", transform=ax.transAxes, fontsize=9)
            ax.set_xticks([])
            ax.set_yticks([])
        ax.set_title(label, fontsize=9)
        ax.grid(alpha=0.3)
        ax.tick_params(labelsize=7)
        if i % cols == 0:
            ax.set_ylabel("held-out loss (nats/token)", fontsize=8)
        if i // cols == rows - 1:
            ax.set_xlabel("training step", fontsize=8)
    for j in range(n, rows * cols):
        axes[j // cols][j % cols].axis("off")
    axes[0][0].legend(fontsize=8)
    fig.suptitle("Held-out loss per mixture key", fontsize=10)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
