"""Test-split analyses for tabular tasks (`config.analyses`): ``regression`` (MAE, RMSE, R² and a predicted-vs-true
plot) and ``roc_auc`` (binary ROC AUC from the logits). Each returns metrics for summary.json."""
import os
from typing import Any

import numpy as np
from sklearn import metrics

from jaxlab import figures


def regression_metrics(predicted: np.ndarray, true: np.ndarray) -> dict[str, float]:
    predicted, true = np.asarray(predicted, np.float64).ravel(), np.asarray(true, np.float64).ravel()
    error = predicted - true
    total = np.sum(np.square(true - true.mean()))
    return {"test_mae": float(np.mean(np.abs(error))), "test_rmse": float(np.sqrt(np.mean(np.square(error)))),
            "test_r2": float(1.0 - np.sum(np.square(error)) / total) if total > 0 else float("nan")}


def regression(outputs: np.ndarray, test: dict[str, np.ndarray], info: dict[str, Any], workdir: str):
    """MAE, RMSE and R² of the test predictions; writes plots/predictions.png (predicted vs true)."""
    plt = figures.pyplot()

    predicted, true = np.asarray(outputs).reshape(len(test["label"]), -1)[:, 0], np.asarray(test["label"])
    results = regression_metrics(predicted, true)
    fig, ax = plt.subplots(figsize=(5, 5))
    ax.scatter(true, predicted, s=8, alpha=0.6)
    low, high = float(min(true.min(), predicted.min())), float(max(true.max(), predicted.max()))
    ax.plot([low, high], [low, high], color="gray", linestyle="--", label="predicted = true")
    ax.set_xlabel("true")
    ax.set_ylabel("predicted")
    ax.set_title(f"test: MAE {results['test_mae']:.4g}, RMSE {results['test_rmse']:.4g}, "
                 f"R² {results['test_r2']:.3f}", fontsize=9)
    ax.legend()
    ax.grid(alpha=0.3)
    figures.save(fig, os.path.join(workdir, "plots", "predictions.png"))
    return results


def roc_auc(outputs: np.ndarray, test: dict[str, np.ndarray], info: dict[str, Any], workdir: str):
    """Binary ROC AUC of the test split from the model's logit (or the positive-class logit margin)."""
    del workdir
    outputs = np.asarray(outputs).reshape(len(test["label"]), -1)
    scores = outputs[:, 0] if outputs.shape[1] == 1 else outputs[:, 1] - outputs[:, 0]
    labels = np.asarray(test["label"]).astype(int)
    if len(np.unique(labels)) < 2:
        return {"test_roc_auc": float("nan")}
    return {"test_roc_auc": float(metrics.roc_auc_score(labels, scores))}
