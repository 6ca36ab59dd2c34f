"""Data registry: `config.data.name` picks a loader that returns `Splits` of in-memory numpy arrays.

Every split is a dict of equally long arrays: ``inputs`` (what the model sees, already normalised), ``label``
(class ids, int32; float targets for regression) and any extra keys a source needs. Preprocessing statistics are
fitted on the training part only and described in ``info["preprocessing"]`` so that `jaxlab.predict` can apply the
same transform. Adding a dataset is one new module plus one line in `SOURCES`.

`SOURCES` names each loader by its module's dotted path: `build` imports only the module of the source a config
uses, so `import jaxlab.data` loads none of pandas, scikit-learn, PIL or TensorFlow.

A multi-process run passes `build` a `share`: (split name, rows in the whole split) → the [first, stop) rows this
process needs (`jaxlab.shards.process_window`). Loaders marked ``reads_part`` then read only those rows of each split
and record them in `Splits.windows`; the others read every row (the process keeps its share later).
"""
import importlib
from typing import NamedTuple

from ml_collections import ConfigDict

from jaxlab import errors
# The public API (data.Splits, data.num_rows, …): the data types and row counts of jaxlab/data/splits.py.
from jaxlab.data.splits import Dataset, Share, Splits, first_row, num_held_rows, num_rows, whole  # noqa: F401

num_examples = num_held_rows  # the former name, until its callers are renamed


class Loader(NamedTuple):
    """Where a source's loader lives: `function` of `module`, which `build` imports when the source is used.
    `reads_part`: it takes the process's `share` (the others read every row: small files, or statistics over the
    whole text)."""
    module: str
    function: str = "load"
    reads_part: bool = False


TFDS_IMAGES = Loader("jaxlab.data.tfds_images", reads_part=True)

SOURCES: dict[str, Loader] = {
    "mnist": TFDS_IMAGES,
    "fashion_mnist": TFDS_IMAGES,
    "kmnist": TFDS_IMAGES,
    "emnist": TFDS_IMAGES,
    "cifar10": TFDS_IMAGES,
    "cifar100": TFDS_IMAGES,
    "image_folder": Loader("jaxlab.data.image_folder"),
    "csv": Loader("jaxlab.data.tabular"),
    "logistic_map": Loader("jaxlab.data.logistic_map"),
    "imdb_reviews": Loader("jaxlab.data.imdb"),
    "patterns": Loader("jaxlab.data.patterns"),
}


def build(config: ConfigDict, seed: int, share: Share = whole) -> Splits:
    if config.name not in SOURCES:
        raise errors.Error(f"unknown dataset {config.name!r}: choose one of {', '.join(sorted(SOURCES))} "
                           "(--config.data.name=...)")
    source = SOURCES[config.name]
    loader = getattr(importlib.import_module(source.module), source.function)
    return loader(config, seed, share) if source.reads_part else loader(config, seed)
