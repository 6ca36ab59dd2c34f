"""Preprocessing shared by sources: Keras-style validation hold-out and input normalisation.

Normalisation methods (``config.data.normalize``):
  ``none`` raw values as float32 (MNIST pixels 0–255) · ``unit`` divide by 255 · ``standardize`` per-channel
  mean/std fitted on the training part in float64 · ``l2`` each example divided by its L2 norm (the lab's
  per-image scaling).
"""
from typing import Any, Callable

import numpy as np

from jaxlab import errors

NORMALIZATIONS = ("none", "unit", "standardize", "l2")


def validation_size(num_rows: int, fraction: float) -> int:
    """How many of `num_rows` training rows `validation_split` holds out."""
    if not 0.0 <= fraction < 1.0:
        raise errors.Error(f"validation_split must be in [0, 1), got {fraction}")
    return int(round(num_rows * fraction))


def validation_split(dataset: dict[str, np.ndarray], fraction: float):
    """Holds out the last `fraction` of the rows, as Keras' `validation_split` does (deterministic)."""
    num = len(next(iter(dataset.values())))
    num_val = validation_size(num, fraction)
    if num_val == 0:
        return dataset, None
    cut = num - num_val
    return ({k: v[:cut] for k, v in dataset.items()}, {k: v[cut:] for k, v in dataset.items()})


def fit_normalization(method: str, train_inputs: np.ndarray, total: Callable = lambda sums: sums) -> dict[str, Any]:
    """The JSON-able description of a normalisation, with statistics from the training inputs only. When each
    process holds only part of the training inputs, `total` sums float64 arrays over the processes
    (`parallel.summed_over_processes`), so every process fits the statistics of the whole training part."""
    if method not in NORMALIZATIONS:
        raise errors.Error(f"unknown normalisation {method!r}: choose one of {', '.join(NORMALIZATIONS)} "
                           "(--config.data.normalize=...)")
    spec: dict[str, Any] = {"normalize": method}
    if method == "standardize":
        flat = train_inputs.reshape(-1, train_inputs.shape[-1]).astype(np.float64)
        count_and_sum = total(np.concatenate([[len(flat)], flat.sum(axis=0)]))  # as np.mean / np.std compute
        mean = count_and_sum[1:] / count_and_sum[0]
        variance = total(np.square(flat - mean).sum(axis=0)) / count_and_sum[0]
        spec["mean"] = mean.tolist()
        spec["std"] = np.maximum(np.sqrt(variance), 1e-12).tolist()
    return spec


def normalize(inputs: np.ndarray, spec: dict[str, Any]) -> np.ndarray:
    """Applies a normalisation described by `fit_normalization` (any leading shape; channels last)."""
    x = np.asarray(inputs, np.float32)
    method = spec["normalize"]
    if method == "unit":
        return x / np.float32(255.0)
    if method == "standardize":
        return ((x - np.asarray(spec["mean"], np.float32)) / np.asarray(spec["std"], np.float32)).astype(np.float32)
    if method == "l2":
        norms = np.sqrt(np.square(x.reshape(len(x), -1).astype(np.float64)).sum(axis=1))
        norms = np.maximum(norms, 1e-12).reshape((len(x),) + (1,) * (x.ndim - 1))
        return (x / norms).astype(np.float32)
    return x
