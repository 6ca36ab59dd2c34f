"""Data registry: `config.data.name` picks a loader that returns `Splits` of in-memory numpy arrays.

Every split is a dict of equally long arrays: ``inputs`` (what the model sees, already normalised), ``label``
(class ids, int32; float targets for regression) and any extra keys a source needs. Preprocessing statistics are
fitted on the training part only and described in ``info["preprocessing"]`` so that `jaxlab.predict` can apply the
same transform. Adding a dataset is one new module plus one line in `SOURCES`.
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


def build(config: ConfigDict, seed: int) -> Splits:
    if config.name not in SOURCES:
        raise errors.Error(f"unknown dataset {config.name!r}: choose one of {', '.join(sorted(SOURCES))} "
                           "(--config.data.name=...)")
    return SOURCES[config.name](config, seed)


def num_examples(dataset: Dataset | None) -> int:
    return 0 if dataset is None else len(next(iter(dataset.values())))
