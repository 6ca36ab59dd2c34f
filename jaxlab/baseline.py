"""The trivial baseline of a run's test split, and the model's margin over it: is the model better than a constant?

* classification / binary: always predict the training split's most frequent class (``test_majority_accuracy``);
* regression: always predict the training split's mean target (``test_mean_predictor_mae`` and ``_rmse``).

Both constants come from the training labels only (the honest baseline: the test split is not for fitting).
Reconstruction and other multi-dimensional labels have no trivial baseline here: every function returns {} / "".
"""
from typing import Any, Callable

import numpy as np

CLASS_TASKS = ("classification", "binary")
# What trivial_baseline reports.
KEYS = ("test_majority_accuracy", "test_mean_predictor_mae", "test_mean_predictor_rmse")


def _per_example_labels(labels) -> np.ndarray | None:
    """Labels as one value per example ([N] or [N, 1] → [N]); None for multi-dimensional labels."""
    labels = np.asarray(labels)
    if labels.ndim == 2 and labels.shape[1] == 1:
        labels = labels[:, 0]
    return labels if labels.ndim == 1 else None


def _no_other_processes(values: np.ndarray) -> np.ndarray:
    return values


def trivial_baseline(task: str, train_labels, test_labels, num_classes: int = 0,
                     total: Callable[[np.ndarray], np.ndarray] = _no_other_processes) -> dict[str, float]:
    """Test metrics of the constant predictor fitted on `train_labels` ({} for reconstruction, multi-dimensional
    labels or empty splits). When each process holds only its rows of the splits, `total` sums float64 arrays over
    the processes (`parallel.summed_over_processes`, a collective: every process calls it the same times), so the
    figures are those of the whole splits; `num_classes` fixes the length of the class counts."""
    train, test = _per_example_labels(train_labels), _per_example_labels(test_labels)
    if train is None or test is None:
        return {}
    if task in CLASS_TASKS:
        train_ids, test_ids = np.rint(train).astype(np.int64), np.rint(test).astype(np.int64)
        size = max(num_classes, int(train_ids.max(initial=0)) + 1)   # num_classes: the same on every process
        counts = total(np.bincount(train_ids, minlength=size).astype(np.float64))
        majority = int(np.argmax(counts))  # ties: the smallest class id
        hits, rows = total(np.asarray([np.sum(test_ids == majority), len(test_ids)], np.float64))
        return {"test_majority_accuracy": float(hits / rows)} if counts.sum() and rows else {}
    if task == "regression":
        train_sum, train_rows = total(np.asarray([np.sum(train, dtype=np.float64), len(train)], np.float64))
        error = test.astype(np.float64) - (train_sum / max(train_rows, 1))
        absolute, squared, rows = total(np.asarray([np.abs(error).sum(), np.square(error).sum(), len(error)]))
        if not (train_rows and rows):
            return {}
        return {"test_mean_predictor_mae": float(absolute / rows),
                "test_mean_predictor_rmse": float(np.sqrt(squared / rows))}
    return {}


def _model_rmse(test_metrics: dict[str, Any]) -> float | None:
    """The model's test RMSE: the regression analysis's ``test_rmse``, else the square root of ``test_mse``."""
    if "test_rmse" in test_metrics:
        return float(test_metrics["test_rmse"])
    if "test_mse" in test_metrics:
        return float(np.sqrt(test_metrics["test_mse"]))
    return None


def margin(test_metrics: dict[str, Any], baseline: dict[str, float]) -> dict[str, float]:
    """The model's margin over the baseline, positive when the model is better: ``accuracy_over_majority``
    (test_accuracy − majority rate); ``mae_below_mean_predictor`` and ``rmse_below_mean_predictor`` (baseline −
    model)."""
    margins = {}
    if "test_majority_accuracy" in baseline and "test_accuracy" in test_metrics:
        margins["accuracy_over_majority"] = float(test_metrics["test_accuracy"]) - baseline["test_majority_accuracy"]
    if "test_mean_predictor_mae" in baseline and "test_mae" in test_metrics:
        margins["mae_below_mean_predictor"] = baseline["test_mean_predictor_mae"] - float(test_metrics["test_mae"])
    rmse = _model_rmse(test_metrics)
    if "test_mean_predictor_rmse" in baseline and rmse is not None:
        margins["rmse_below_mean_predictor"] = baseline["test_mean_predictor_rmse"] - rmse
    return margins


def format_baseline(test_metrics: dict[str, Any], baseline: dict[str, float]) -> str:
    """The baseline for the test line, the model's difference in brackets (model − baseline):
    ``majority 0.5260 (+0.2190)`` or ``mean predictor mae 0.8000 (-0.3000), rmse 1.0000 (-0.4000)``; "" when none."""
    if "test_majority_accuracy" in baseline:
        majority = baseline["test_majority_accuracy"]
        if "test_accuracy" not in test_metrics:
            return f"majority {majority:.4f}"
        return f"majority {majority:.4f} ({float(test_metrics['test_accuracy']) - majority:+.4f})"
    model = {"mae": test_metrics.get("test_mae"), "rmse": _model_rmse(test_metrics)}
    parts = []
    for name in ("mae", "rmse"):
        value = baseline.get(f"test_mean_predictor_{name}")
        if value is not None:
            difference = "" if model[name] is None else f" ({float(model[name]) - value:+.4f})"
            parts.append(f"{name} {value:.4f}{difference}")
    return "mean predictor " + ", ".join(parts) if parts else ""


def test_line(summary: dict[str, Any]) -> str:
    """``test: loss … - accuracy … - majority 0.5260 (+0.2190)``: the test metrics of a summary and its trivial
    baseline."""
    trivial = {key: value for key, value in summary.items() if key in KEYS}
    metrics = {key[len("test_"):]: value for key, value in summary.items()
               if key.startswith("test_") and isinstance(value, float) and key not in trivial}
    compared = format_baseline(summary, trivial)
    return "test: " + " - ".join(f"{name} {value:.4f}" for name, value in metrics.items()) + (
        f" - {compared}" if compared else "")
