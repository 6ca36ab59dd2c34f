"""Data registry: `config.data.name` picks a loader that returns `Splits` of in-memory numpy arrays.

Every split is a dict of equally long arrays: ``inputs`` (what the model sees, already normalised), ``label``
(class ids, int32; float targets for regression) and any extra keys a source needs. Preprocessing statistics are
fitted on the training part only and described in ``info["preprocessing"]`` so that `jaxlab.predict` can apply the
same transform. Adding a dataset is one new module plus one line in `SOURCES`.

A multi-process run passes `build` a `share`: (split name, rows in the whole split) → the [first, stop) rows this
process needs (`jaxlab.shards.process_window`). Loaders in `READS_PART` then read only those rows of each split
and record them in `Splits.windows`; the others read every row (the process keeps its share later).
"""
import dataclasses
from typing import Any, Callable

import numpy as np
from ml_collections import ConfigDict

from jaxlab import errors
from jaxlab.data import image_folder, tfds_images
from jaxlab.data import logistic_map, tabular
from jaxlab.data import imdb
from jaxlab.data import patterns

Dataset = dict[str, np.ndarray]


@dataclasses.dataclass
class Splits:
    train: Dataset
    validation: Dataset | None
    test: Dataset | None
    info: dict[str, Any]    # num_outputs, num_classes, task, input_shape, preprocessing (all JSON-able)
    windows: dict[str, tuple[int, int]] = dataclasses.field(default_factory=dict)
    # split name → (first row held, rows in the whole split) for a split this process read only in part


Share = Callable[[str, int], tuple[int, int]]


def whole(split: str, num_rows: int) -> tuple[int, int]:
    """The share of a single-process run: every row of every split."""
    del split
    return 0, num_rows


SOURCES: dict[str, Callable[[ConfigDict, int], Splits]] = {
    "mnist": tfds_images.load,
    "fashion_mnist": tfds_images.load,
    "kmnist": tfds_images.load,
    "emnist": tfds_images.load,
    "cifar10": tfds_images.load,
    "cifar100": tfds_images.load,
    "image_folder": image_folder.load,
    "csv": tabular.load, "logistic_map": logistic_map.load,
    "imdb_reviews": imdb.load,
    "patterns": patterns.load,
}


READS_PART = (tfds_images.load,)  # the others read every row: small files, or statistics over the whole text


def build(config: ConfigDict, seed: int, share: Share = whole) -> Splits:
    if config.name not in SOURCES:
        raise errors.Error(f"unknown dataset {config.name!r}: choose one of {', '.join(sorted(SOURCES))} "
                           "(--config.data.name=...)")
    loader = SOURCES[config.name]
    return loader(config, seed, share) if loader in READS_PART else loader(config, seed)


def num_examples(dataset: Dataset | None) -> int:
    """Rows of a split as held (this process's window of it, when read in part)."""
    return 0 if dataset is None else len(next(iter(dataset.values())))


def num_rows(splits: Splits, name: str) -> int:
    """Rows in the whole split `name` (train / validation / test), also when this process read only part of it."""
    return splits.windows[name][1] if name in splits.windows else num_examples(getattr(splits, name))


def first_row(splits: Splits, name: str) -> int:
    """The whole split's index of the first row this process holds of `name`."""
    return splits.windows[name][0] if name in splits.windows else 0
