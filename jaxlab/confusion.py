"""Confusion analysis of a classifier on the test split (`config.analyses = ("confusion",)`).

Writes ``plots/confusion.png``: the full matrix for ≤ 10 classes, else the most confused (true → predicted) pairs
as bars; returns the top pairs and per-class accuracy extremes for summary.json. Binary classifiers (one logit) are
thresholded at 0.
"""
import os
from typing import Any

import numpy as np

from jaxlab import figures

TOP_PAIRS = 20


def matrix(outputs: np.ndarray, labels: np.ndarray, num_classes: int) -> np.ndarray:
    """Counts [true, predicted] (rows: true class)."""
    outputs = np.asarray(outputs)
    if outputs.ndim == 1 or outputs.shape[-1] == 1:
        predicted = (outputs.reshape(-1) > 0).astype(np.int64)
    else:
        predicted = outputs.argmax(-1)
    labels = np.asarray(labels).astype(np.int64).reshape(-1)
    return np.bincount(labels * num_classes + predicted, minlength=num_classes ** 2).reshape(num_classes, num_classes)


def top_pairs(counts: np.ndarray, names: list[str], k: int = TOP_PAIRS) -> list[dict[str, Any]]:
    """The k largest off-diagonal cells, largest first (ties in class order)."""
    off = counts.copy()
    np.fill_diagonal(off, 0)
    order = np.argsort(-off, axis=None, kind="stable")[:k]
    pairs = []
    for flat in order:
        true, predicted = divmod(int(flat), counts.shape[1])
        if off[true, predicted] == 0:
            break
        pairs.append({"true": names[true], "predicted": names[predicted], "count": int(off[true, predicted]),
                      "fraction_of_true": float(off[true, predicted] / max(counts[true].sum(), 1))})
    return pairs


def _plot(counts: np.ndarray, names: list[str], pairs: list[dict[str, Any]], path: str) -> None:
    plt = figures.pyplot()

    if len(names) <= 10:
        fig, ax = plt.subplots(figsize=(1.0 + 0.6 * len(names), 0.8 + 0.6 * len(names)))
        ax.imshow(counts, cmap="Blues")
        for (true, predicted), value in np.ndenumerate(counts):
            ax.text(predicted, true, str(value), ha="center", va="center", fontsize=8,
                    color="white" if value > counts.max() / 2 else "black")
        ax.set_xticks(range(len(names)), names, rotation=45, ha="right")
        ax.set_yticks(range(len(names)), names)
        ax.set_xlabel("predicted")
        ax.set_ylabel("true")
        ax.set_title(f"confusion (test, accuracy {np.trace(counts) / max(counts.sum(), 1):.4f})")
    else:
        fig, ax = plt.subplots(figsize=(8, 0.3 * max(len(pairs), 1) + 1.5))
        labels = [f"{pair['true']} → {pair['predicted']}" for pair in pairs][::-1]
        ax.barh(range(len(pairs)), [pair["count"] for pair in pairs][::-1])
        ax.set_yticks(range(len(pairs)), labels, fontsize=8)
        ax.set_xlabel("test examples")
        ax.set_title(f"top {len(pairs)} confused pairs of {len(names)} classes "
                     f"(test accuracy {np.trace(counts) / max(counts.sum(), 1):.4f})")
    figures.save(fig, path)


def analyse(outputs: np.ndarray, test: dict, info: dict, workdir: str) -> dict[str, Any]:
    """The ANALYSES entry: writes plots/confusion.png and plots/confusion.csv, returns the top confused pairs."""
    num_classes = int(info.get("num_classes") or max(2, np.asarray(outputs).shape[-1]))
    names = [str(name) for name in info.get("class_names", range(num_classes))]
    counts = matrix(outputs, test["label"], num_classes)
    pairs = top_pairs(counts, names)
    os.makedirs(os.path.join(workdir, "plots"), exist_ok=True)
    np.savetxt(os.path.join(workdir, "plots", "confusion.csv"), counts, fmt="%d", delimiter=",")
    _plot(counts, names, pairs, os.path.join(workdir, "plots", "confusion.png"))
    per_class = np.diag(counts) / np.maximum(counts.sum(axis=1), 1)
    return {"confusion_top_pairs": pairs[:10],
            "worst_classes": [{"class": names[i], "accuracy": float(per_class[i])} for i in np.argsort(per_class)[:5]]}
