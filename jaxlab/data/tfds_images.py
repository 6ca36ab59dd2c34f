"""Image classification datasets from tfds (MNIST, Fashion-MNIST, KMNIST, CIFAR-10/100), held in memory.

`config.data`: ``name`` (tfds name), ``data_dir`` (else ``$TFDS_DATA_DIR``, else tfds' default), ``label_key``
(e.g. ``coarse_label`` for CIFAR-100), ``validation_split``, ``normalize``, and two MNIST-lab transforms:
``permute_seed`` (≥ 0: one fixed pixel permutation, the same for train/validation/test) and ``noise_factor``
(> 0: a denoising task — inputs are the images plus seeded Gaussian noise × factor clipped to [0, 1], the clean
images are the "label"; needs ``normalize="unit"``).
"""
import os
import re

import numpy as np
import tensorflow_datasets as tfds
from ml_collections import ConfigDict

from jaxlab import errors, parallel
from jaxlab.data import noise, preprocess
from jaxlab.data.splits import Splits, whole


def read_split(name: str, split: str, data_dir: str | None) -> dict[str, np.ndarray]:
    """One split (or a tfds slice of it, e.g. ``train[100:200]``) as numpy arrays; a dataset that is not prepared,
    or whose files are truncated or corrupt, gives one clear error."""
    try:
        dataset = tfds.load(name, split=split, data_dir=data_dir, download=False)
    except Exception as exc:  # tfds raises AssertionError / DatasetNotFoundError / FileNotFoundError here
        raise not_prepared(name, split, data_dir, exc) from exc
    import tensorflow as tf  # loaded by tfds to read anyway; here, so that importing this module does not load TF
    # A truncated or damaged tfrecord shard: a cut record (DataLossError), fewer examples than the dataset's info
    # promises (FailedPreconditionError), a record that does not parse (InvalidArgumentError), a missing shard.
    try:
        chunks = list(tfds.as_numpy(dataset.batch(10_000)))
    except (tf.errors.DataLossError, tf.errors.FailedPreconditionError, tf.errors.InvalidArgumentError,
            tf.errors.NotFoundError) as exc:
        raise corrupt(name, split, data_dir, exc) from exc
    return {key: np.concatenate([chunk[key] for chunk in chunks]) for key in chunks[0]}


def corrupt(name: str, split: str, data_dir: str | None, exc: Exception) -> errors.Error:
    """The error for a prepared dataset whose files cannot be read: prepare it again."""
    where = data_dir or os.environ.get("TFDS_DATA_DIR") or os.path.expanduser("~/tensorflow_datasets")
    detail = " ".join(str(exc).split())
    detail = re.sub(r"^\{\{[^}]*\}\}\s*|\s*\[Op:.*$", "", detail)[:160]  # without TF's "{{function_node …}}", "[Op:…]"
    return errors.Error(
        f"dataset {name!r} in {where} is truncated or corrupt (reading split {split!r}: {type(exc).__name__}: "
        f"{detail}): prepare it again — delete {os.path.join(where, name)} and re-download it or re-run the "
        "prepare step that made it")


def not_prepared(name: str, split: str, data_dir: str | None, exc: Exception) -> errors.Error:
    where = data_dir or os.environ.get("TFDS_DATA_DIR") or "tfds' default ~/tensorflow_datasets"
    return errors.Error(
        f"dataset {name!r} split {split!r} is not prepared in {where} and it cannot be downloaded here "
        f"({type(exc).__name__}): point --config.data.data_dir or TFDS_DATA_DIR at a prepared tfds data_dir "
        "(a folder holding e.g. mnist/3.0.1/; README \"Data\")")


def load(config: ConfigDict, seed: int, share=None):
    """The splits, of each only the rows `share` asks for (default: every row; see `jaxlab.data`). A slice is read
    as a tfds slice (``train[a:b]``); under tfds mock data, which has no split sizes, the whole split is read and
    cut here."""
    del seed  # the hold-out is the last fraction, as Keras does; permutation and noise have their own seeds
    share = share or whole
    data_dir = config.get("data_dir") or os.environ.get("TFDS_DATA_DIR") or None
    label_key = config.get("label_key", "label")
    try:
        builder = tfds.builder(config.name, data_dir=data_dir)
        sizes = {name: split.num_examples for name, split in builder.info.splits.items()}
    except Exception as exc:
        raise not_prepared(config.name, "train", data_dir, exc) from exc
    if {"train", "test"} <= sizes.keys():
        def read(split, first, stop):
            whole_split = (first, stop) == (0, sizes[split])
            return read_split(config.name, split if whole_split else f"{split}[{first}:{stop}]", data_dir)
    else:
        full = {split: read_split(config.name, split, data_dir) for split in ("train", "test")}
        sizes = {split: len(arrays[label_key]) for split, arrays in full.items()}

        def read(split, first, stop):
            return {key: value[first:stop] for key, value in full[split].items()}

    num_validation = preprocess.validation_size(sizes["train"], config.get("validation_split", 0.0))
    cut = sizes["train"] - num_validation  # the hold-out is the training split's last rows, as Keras does
    parts = {"train": ("train", 0, cut), "validation": ("train", cut, num_validation),
             "test": ("test", 0, sizes["test"])}
    permutation = pixel_permutation(builder.info.features["image"].shape, config.get("permute_seed", -1))
    windows, images, labels = {}, {}, {}
    for part, (split, offset, num_rows) in parts.items():
        if num_rows == 0:
            continue
        first, stop = share(part, num_rows)
        if (first, stop) != (0, num_rows):
            windows[part] = (first, num_rows)
        rows = read(split, offset + first, offset + stop)
        images[part] = rows["image"] if permutation is None else permute_pixels(rows["image"], permutation)
        labels[part] = rows[label_key].astype(np.int32)
    # Statistics of the whole training part: a process holding only its rows sums them with the other processes'.
    total = parallel.summed_over_processes if "train" in windows else (lambda sums: sums)
    spec = preprocess.fit_normalization(config.get("normalize", "unit"), images["train"], total)

    def finish(part):
        if part not in images:
            return None
        return {"inputs": preprocess.normalize(images[part], spec), "label": labels[part]}

    num_classes = builder.info.features[label_key].num_classes
    info = {"num_classes": num_classes, "num_outputs": num_classes, "task": "classification",
            "input_shape": list(images["train"].shape[1:]), "preprocessing": spec,
            "permute_seed": config.get("permute_seed", -1),
            "class_names": list(builder.info.features[label_key].names)}  # "apple", …; "0" … "9" for MNIST
    splits = Splits(finish("train"), finish("validation"), finish("test"), info, windows)
    if config.get("noise_factor", 0.0):
        splits = noise.denoising(splits, config.noise_factor, config.get("noise_seed", 0))
    return splits


def pixel_permutation(image_shape, seed: int) -> np.ndarray | None:
    """One fixed permutation of the H·W pixel positions drawn from `seed` (None when seed < 0: no permutation)."""
    if seed is None or seed < 0:
        return None
    return np.random.default_rng(seed).permutation(int(np.prod(image_shape[:2])))


def permute_pixels(images: np.ndarray, permutation: np.ndarray) -> np.ndarray:
    """Shuffles the pixel positions of [N, H, W, C] images (channels move together); shape is kept."""
    flat = images.reshape(images.shape[0], -1, *images.shape[3:])
    return flat[:, permutation].reshape(images.shape)
