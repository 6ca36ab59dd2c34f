"""A generated series of the logistic map x(t) = r · x(t−1) · (1 − x(t−1)) (r = 4: chaotic on [0, 1]).

Inputs are x(t−1) (shape [1]), labels x(t): a regression task. `config.data`: ``num_points`` (series length),
``rate`` (r, 4.0), ``test_split`` and ``validation_split`` (chronological: train first, then validation, then
test). The start value x(0) is drawn from the run's seed, so a seed gives the same series.
"""
import numpy as np
from ml_collections import ConfigDict

from jaxlab import errors
from jaxlab.data.splits import Splits


def series(num_points: int, seed: int, rate: float = 4.0) -> np.ndarray:
    """`num_points` values of the map from a seeded x(0) in (0.05, 0.95), computed in float64."""
    values = np.empty(num_points, np.float64)
    values[0] = np.random.default_rng(seed).uniform(0.05, 0.95)
    for t in range(1, num_points):
        values[t] = rate * values[t - 1] * (1.0 - values[t - 1])
    return values


def load(config: ConfigDict, seed: int):
    num_points = config.get("num_points", 2000)
    test_split, validation_split = config.get("test_split", 0.2), config.get("validation_split", 0.1)
    if num_points < 10:
        raise errors.Error(f"config.data.num_points must be at least 10, got {num_points}")
    if not (0.0 <= test_split < 1.0 and 0.0 <= validation_split < 1.0 and test_split + validation_split < 1.0):
        raise errors.Error(f"test_split {test_split} and validation_split {validation_split} must be in [0, 1) "
                           "and leave training rows (config.data.*_split)")
    values = series(num_points + 1, seed, config.get("rate", 4.0))
    inputs, labels = values[:-1, None].astype(np.float32), values[1:].astype(np.float32)
    num_test, num_val = int(round(num_points * test_split)), int(round(num_points * validation_split))
    cut_val, cut_test = num_points - num_test - num_val, num_points - num_test

    def part(start, stop):
        return {"inputs": inputs[start:stop], "label": labels[start:stop]} if stop > start else None

    info = {"task": "regression", "num_classes": 0, "num_outputs": 1, "input_shape": [1],
            "feature_names": ["x(t-1)"], "preprocessing": None,
            "generator": {"rate": config.get("rate", 4.0), "x0": float(values[0]), "num_points": num_points}}
    return Splits(part(0, cut_val), part(cut_val, cut_test), part(cut_test, num_points), info)
