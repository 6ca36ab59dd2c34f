"""A run's history: one row of metrics per epoch in history.csv, and what is decided from it alone (the best
epoch, Keras' early stopping), so a resumed run decides exactly as an uninterrupted one. Light: no jax."""
import csv
import os
from typing import Sequence

from ml_collections import ConfigDict


def read_history(path: str, up_to_epoch: int | None = None) -> list[dict[str, float]]:
    if not os.path.exists(path):
        return []
    with open(path, newline="") as f:
        rows = [{k: float(v) for k, v in row.items() if v not in ("", None)} for row in csv.DictReader(f)]
    return [row for row in rows if up_to_epoch is None or row["epoch"] <= up_to_epoch]


def write_history(path: str, history: Sequence[dict[str, float]]) -> None:
    """Rewrites the whole file (atomically): a resumed run drops epochs past its checkpoint."""
    if not history:
        return
    names = list(dict.fromkeys(name for row in history for name in row))
    tmp = path + ".tmp"
    with open(tmp, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=names)
        writer.writeheader()
        for row in history:
            writer.writerow({k: (int(v) if k == "epoch" else repr(float(v))) for k, v in row.items()})
    os.replace(tmp, path)


def append_history(path: str, history: Sequence[dict[str, float]]) -> None:
    """Appends the newest row when the file already holds exactly the earlier rows' columns (one short write per
    epoch); otherwise rewrites the whole file."""
    row = history[-1]
    if len(history) > 1 and os.path.exists(path):
        with open(path) as f:
            header = f.readline().strip().split(",")
        if header == list(row):
            with open(path, "a", newline="") as f:
                csv.writer(f).writerow([int(v) if k == "epoch" else repr(float(v)) for k, v in row.items()])
            return
    write_history(path, history)


def improved(value: float, best: float | None, mode: str, min_delta: float = 0.0) -> bool:
    if best is None:
        return True
    return value < best - min_delta if mode == "min" else value > best + min_delta


def best_epoch(history: list[dict[str, float]], monitor: str, mode: str) -> tuple[int | None, float | None]:
    best_value, best_at = None, None
    for row in history:
        if monitor in row and improved(row[monitor], best_value, mode):
            best_value, best_at = row[monitor], int(row["epoch"])
    return best_at, best_value


def should_stop_early(history: list[dict[str, float]], config: ConfigDict) -> bool:
    """Keras' EarlyStopping: no improvement larger than min_delta for `patience` epochs (from history alone, so
    a resumed run decides exactly as an uninterrupted one)."""
    patience = config.early_stopping.patience
    if not patience:
        return False
    best, wait = None, 0
    for row in history:
        if config.monitor not in row:   # a run without validation rows (its settings check says so)
            return False
        value = row[config.monitor]
        if improved(value, best, config.monitor_mode, config.early_stopping.min_delta):
            best, wait = value, 0
        else:
            wait += 1
    return wait >= patience


def ranked_epochs(history: list[dict[str, float]], saved, monitor: str, mode: str) -> list[int]:
    """The saved epochs, best by `monitor` first (epochs without that metric last, newest first)."""
    values = {int(row["epoch"]): row[monitor] for row in history if monitor in row}
    scored = [epoch for epoch in saved if epoch in values]
    scored.sort(key=lambda epoch: (values[epoch] if mode == "min" else -values[epoch], epoch))
    return scored + sorted((epoch for epoch in saved if epoch not in values), reverse=True)


def preferred_epochs(workdir: str, saved, monitor: str, mode: str, which: str = "best") -> list[int]:
    """The saved epochs in the order a restore prefers them: best by `monitor` in the run's history.csv first
    (``which="best"``), or newest first (``"latest"``)."""
    if which == "best":
        return ranked_epochs(read_history(os.path.join(workdir, "history.csv")), saved, monitor, mode)
    return sorted(saved, reverse=True)
