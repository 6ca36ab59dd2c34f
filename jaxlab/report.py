"""What a run leaves for people: the Keras-like epoch line and progress bar, history.csv, summary.json and plots."""
import sys
from typing import Any, Sequence

import numpy as np

from jaxlab import confusion, errors, figures, reconstructions, regression
from jaxlab.history import append_history, read_history, write_history  # noqa: F401  (used as report.*)


def format_metrics(metrics: dict[str, float]) -> str:
    return " - ".join(f"{name} {value:.4f}" for name, value in metrics.items())


def epoch_line(epoch: int, num_epochs: int, seconds: float, metrics: dict[str, float], label: str = "") -> str:
    """``epoch 3/10 - 2.1s - loss 0.4100 - accuracy 0.8800 - val_loss … - val_accuracy …``, after `label` (e.g.
    ``fold 2/10``) when given."""
    return f"{label + ' ' if label else ''}epoch {epoch}/{num_epochs} - {seconds:.1f}s - {format_metrics(metrics)}"


def progress_bar(done: int, total: int, width: int = 30) -> None:
    """Redraws an in-epoch progress bar, only when stdout is a terminal."""
    if not sys.stdout.isatty():
        return
    filled = int(width * done / max(total, 1))
    arrow = ">" if filled < width else ""
    sys.stdout.write(f"\r{done}/{total} [{'=' * filled}{arrow}{'.' * (width - filled - len(arrow))}]")
    if done >= total:
        sys.stdout.write("\r" + " " * (width + 2 * len(str(total)) + 4) + "\r")
    sys.stdout.flush()


def plot_curves(history: Sequence[dict[str, float]], path: str) -> None:
    """Train vs validation curves, one panel per metric (loss, accuracy, …), by epoch."""
    plt = figures.pyplot()

    if not history:
        return
    names = [n for n in history[0] if n != "epoch" and not n.startswith(("val_", "lr", "time"))]
    fig, axes = plt.subplots(1, len(names), figsize=(5 * len(names), 4), squeeze=False)
    epochs = [row["epoch"] for row in history]
    for ax, name in zip(axes[0], names):
        figures.curve(ax, epochs, [row[name] for row in history], f"train {name}")
        if f"val_{name}" in history[0]:
            figures.curve(ax, epochs, [row[f"val_{name}"] for row in history], f"validation {name}")
        figures.epoch_panel(ax, name)
    figures.save(fig, path)


def plot_mean_std(histories, path: str, over: str) -> None:
    """Mean over runs (`over`, e.g. "10 folds") per epoch with a ± std band, one panel per metric, train and
    validation."""
    plt = figures.pyplot()

    epochs = min(len(h) for h in histories)
    if not epochs:
        return
    names = [n for n in histories[0][0] if n != "epoch" and not n.startswith("val_")]
    fig, axes = plt.subplots(1, len(names), figsize=(5 * len(names), 4), squeeze=False)
    x = np.asarray([row["epoch"] for row in histories[0][:epochs]])
    for ax, name in zip(axes[0], names):
        for key, label in ((name, "train"), (f"val_{name}", "validation")):
            if key not in histories[0][0]:
                continue
            values = np.asarray([[row[key] for row in h[:epochs]] for h in histories], np.float64)
            mean, std = values.mean(0), values.std(0)
            line = figures.curve(ax, x, mean, f"{label} {name} (mean of {over})")
            if len(x) > 1:
                ax.fill_between(x, mean - std, mean + std, alpha=0.25, color=line.get_color())
            else:  # one epoch: the band of one point is a vertical bar
                ax.errorbar(x, mean, yerr=std, capsize=4, color=line.get_color())
        figures.epoch_panel(ax, f"{name}: mean ± std over {over}")
    figures.save(fig, path)


def plot_lanes(histories, labels: list[str], path: str, metric: str) -> None:
    """Every lane's `metric` (and its validation twin, dashed) per epoch on one panel, labelled by `labels`."""
    plt = figures.pyplot()
    drawn = [history for history in histories if history]
    if not drawn:
        return
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.5), squeeze=False)
    for ax, name in zip(axes[0], ("loss", metric)):
        for k, (history, label) in enumerate(zip(histories, labels)):
            if not history:
                continue
            x = [row["epoch"] for row in history]
            key = f"val_{name}" if f"val_{name}" in history[0] else name
            color = plt.cm.viridis(k / max(len(labels) - 1, 1)) if len(labels) > 10 else None
            figures.curve(ax, x, [row[key] for row in history], label, color=color)
        figures.epoch_panel(ax, f"{'validation ' if f'val_{name}' in drawn[0][0] else ''}{name}, every lane")
        if len(labels) > 8:
            ax.legend(fontsize=6, ncol=2)
    figures.save(fig, path)


# Analyses of the test split, by name (`config.analyses`): each takes the model's outputs for every test example,
# the test split, the data info and the workdir, writes its plots and returns extra metrics for summary.json.
ANALYSES: dict[str, Any] = {
    "confusion": confusion.analyse,
    "reconstructions": reconstructions.plot,
    "regression": regression.regression, "roc_auc": regression.roc_auc,
}


def analysis(name: str):
    if name not in ANALYSES:
        raise errors.Error(f"unknown analysis {name!r}: choose from {', '.join(sorted(ANALYSES)) or 'none'} "
                           "(config.analyses)")
    return ANALYSES[name]
