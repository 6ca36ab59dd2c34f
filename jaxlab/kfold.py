"""k-fold cross-validation: `config.data.num_folds` runs, fold k in ``workdir/fold_k`` (each an ordinary run that
resumes), then per-fold and mean ± std test metrics in ``workdir/summary.json`` and the mean train and validation
curves ± std per epoch in ``workdir/plots/kfold.png``.

The data source splits the rows into k (stratified) folds from the seed; fold k validates on part k and trains on
the others, with statistics fitted on those training rows only. With ``test_split`` 0 the held-out part is also
the fold's test split, so the reported mean is the cross-validated score.
"""
import os
from typing import Any

import jax
import numpy as np
from ml_collections import ConfigDict

from jaxlab import errors, jsonfile, report, settings, single


def fold_config(config: ConfigDict, fold: int) -> ConfigDict:
    """A copy of `config` whose data source builds fold `fold`."""
    return settings.set_key(settings.copy_config(config), "data.fold", fold)


def mean_std(values: list[float]) -> tuple[float, float]:
    values = np.asarray(values, np.float64)
    return float(values.mean()), float(values.std())


def curve(histories: list[list[dict[str, float]]], metric: str) -> dict[str, list[float]]:
    """Mean and std across folds of `metric` per epoch (epochs every fold reached)."""
    epochs = min(len(history) for history in histories)
    values = np.asarray([[row[metric] for row in history[:epochs]] for history in histories], np.float64)
    return {"epoch": list(range(1, epochs + 1)), "mean": values.mean(0).tolist(), "std": values.std(0).tolist()}


def run(config: ConfigDict, workdir: str, devices=None) -> dict[str, Any]:
    num_folds = config.data.num_folds
    if num_folds < 2:
        raise errors.Error(f"config.data.num_folds must be at least 2 for k-fold, got {num_folds}")
    folds, histories = [], []
    for fold in range(num_folds):
        fold_dir = os.path.join(workdir, f"fold_{fold}")
        summary = single.run_once(fold_config(config, fold), fold_dir, devices,
                                      label=f"fold {fold + 1}/{num_folds}")
        folds.append({key: value for key, value in summary.items() if key.startswith(("test_", "best_"))}
                     | {"epochs_run": summary["epochs_run"], "workdir": fold_dir})
        histories.append(report.read_history(os.path.join(fold_dir, "history.csv")))
    metrics = sorted({key for fold in folds for key in fold if key.startswith("test_")
                      and all(isinstance(f.get(key), float) for f in folds)})
    result: dict[str, Any] = {"num_folds": num_folds, "folds": folds}
    for key in metrics:
        result[f"{key}_mean"], result[f"{key}_std"] = mean_std([fold[key] for fold in folds])
    names = [name for name in histories[0][0] if name.startswith("val_")] if histories[0] else []
    curves = {name: curve(histories, name) for name in names}
    result["validation_curves"] = curves
    result["config"] = settings.to_dict(config)
    if jax.process_index() == 0:
        jsonfile.write_json(os.path.join(workdir, "summary.json"), result)
        if curves:
            report.plot_mean_std(histories, os.path.join(workdir, "plots", "kfold.png"), f"{num_folds} folds")
        print(f"{num_folds}-fold: " + " - ".join(
            f"{key} {result[key + '_mean']:.4f} ± {result[key + '_std']:.4f}" for key in metrics), flush=True)
    return result
