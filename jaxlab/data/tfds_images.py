"""Image classification datasets from tfds (MNIST, Fashion-MNIST, KMNIST, CIFAR-10/100), held in memory.

`config.data`: ``name`` (tfds name), ``data_dir`` (else ``$TFDS_DATA_DIR``, else tfds' default), ``label_key``
(e.g. ``coarse_label`` for CIFAR-100), ``validation_split``, ``normalize``, and two MNIST-lab transforms:
``permute_seed`` (≥ 0: one fixed pixel permutation, the same for train/validation/test) and ``noise_factor``
(> 0: a denoising task — inputs are the images plus seeded Gaussian noise × factor clipped to [0, 1], the clean
images are the "label"; needs ``normalize="unit"``).
"""
import os

import numpy as np
import tensorflow_datasets as tfds
from ml_collections import ConfigDict

from jaxlab import errors
from jaxlab.data import noise, preprocess


def read_split(name: str, split: str, data_dir: str | None) -> dict[str, np.ndarray]:
    """One whole split as numpy arrays; a dataset that is not prepared gives one clear error."""
    try:
        dataset = tfds.load(name, split=split, data_dir=data_dir, download=False)
    except Exception as exc:  # tfds raises AssertionError / DatasetNotFoundError / FileNotFoundError here
        where = data_dir or os.environ.get("TFDS_DATA_DIR") or "tfds' default ~/tensorflow_datasets"
        raise errors.Error(
            f"dataset {name!r} split {split!r} is not prepared in {where} and it cannot be downloaded here "
            f"({type(exc).__name__}): point --config.data.data_dir or TFDS_DATA_DIR at a prepared tfds data_dir "
            "(e.g. ../shared/data/tfds)") from exc
    chunks = list(tfds.as_numpy(dataset.batch(10_000)))
    return {key: np.concatenate([chunk[key] for chunk in chunks]) for key in chunks[0]}


def load(config: ConfigDict, seed: int):
    from jaxlab.data import Splits  # the registry imports this module
    del seed  # the hold-out is the last fraction, as Keras does; permutation and noise have their own seeds
    data_dir = config.get("data_dir") or os.environ.get("TFDS_DATA_DIR") or None
    label_key = config.get("label_key", "label")
    raw = {split: read_split(config.name, split, data_dir) for split in ("train", "test")}
    permutation = pixel_permutation(raw["train"]["image"].shape[1:], config.get("permute_seed", -1))
    if permutation is not None:
        raw = {split: {**data, "image": permute_pixels(data["image"], permutation)} for split, data in raw.items()}
    builder = tfds.builder(config.name, data_dir=data_dir)
    num_classes = builder.info.features[label_key].num_classes
    class_names = list(builder.info.features[label_key].names)  # "apple", …; "0" … "9" for MNIST
    train, validation = preprocess.validation_split(
        {"inputs": raw["train"]["image"], "label": raw["train"][label_key].astype(np.int32)},
        config.get("validation_split", 0.0))
    spec = preprocess.fit_normalization(config.get("normalize", "unit"), train["inputs"])

    def finish(dataset):
        if dataset is None:
            return None
        return {"inputs": preprocess.normalize(dataset["inputs"], spec), "label": dataset["label"]}

    test = {"inputs": raw["test"]["image"], "label": raw["test"][label_key].astype(np.int32)}
    info = {"num_classes": num_classes, "num_outputs": num_classes, "task": "classification",
            "input_shape": list(train["inputs"].shape[1:]), "preprocessing": spec,
            "permute_seed": config.get("permute_seed", -1), "class_names": class_names}
    splits = Splits(finish(train), finish(validation), finish(test), info)
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
