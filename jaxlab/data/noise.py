"""Denoising targets: noisy images as inputs, the clean images as the "label" (`task="reconstruction"`).

Noise is Gaussian × `factor`, clipped to [0, 1] (the keras-io denoising recipe). It is drawn once per split from
(`seed`, split index), so every epoch and every run with the same seed sees the same noisy training images and the
validation/test noise is fixed.
"""
import dataclasses

import numpy as np

from jaxlab import errors

SPLIT_INDEX = {"train": 0, "validation": 1, "test": 2}


def add_noise(clean: np.ndarray, factor: float, seed: int, split: str, window: tuple[int, int] | None = None
              ) -> np.ndarray:
    """`clean` plus the split's noise; `window` (first row, rows in the whole split) when `clean` is part of it:
    the noise is drawn for the whole split and those rows kept, so every process adds the same noise to a row."""
    first, num_rows = window or (0, len(clean))
    rng = np.random.default_rng([seed, SPLIT_INDEX[split]])
    noise = rng.standard_normal((num_rows,) + clean.shape[1:], dtype=np.float32)[first:first + len(clean)]
    noisy = clean + np.float32(factor) * noise
    return np.clip(noisy, 0.0, 1.0).astype(np.float32)


def denoising(splits, factor: float, seed: int):
    """`splits` (images in [0, 1] under "inputs") turned into noisy → clean reconstruction splits."""
    if splits.info["preprocessing"]["normalize"] != "unit":
        raise errors.Error(f"noise_factor needs pixels in [0, 1]: set --config.data.normalize=unit "
                           f"(got {splits.info['preprocessing']['normalize']!r})")
    if factor < 0:
        raise errors.Error(f"noise_factor must be ≥ 0, got {factor}")

    def make(dataset, split):
        if dataset is None:
            return None
        clean = dataset["inputs"].astype(np.float32)
        return {"inputs": add_noise(clean, factor, seed, split, splits.windows.get(split)), "label": clean}

    channels = splits.train["inputs"].shape[-1] if splits.train["inputs"].ndim == 4 else 1
    info = {**splits.info, "task": "reconstruction", "num_outputs": int(channels), "noise_factor": factor,
            "noise_seed": seed}
    return dataclasses.replace(splits, train=make(splits.train, "train"),
                               validation=make(splits.validation, "validation"), test=make(splits.test, "test"),
                               info=info)
