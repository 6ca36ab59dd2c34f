"""Image-folder datasets: one sub-folder per class (class name = folder name), jpg/png images, held in memory.

Layouts (``config.data.path``):
  ``PATH/train/<class>/*.jpg`` and ``PATH/test/<class>/*.jpg`` — the given train/test split is used as it is;
  ``PATH/<class>/*.jpg`` — a seeded stratified split holds out ``test_fraction`` of each class as the test set.
The validation set is a seeded stratified hold-out of ``validation_split`` of each training class (the files are
ordered by class, so Keras' "last fraction" would hold out whole classes). Both splits follow the run's seed, or
``split_seed`` when a config sets it (≥ 0: every seed trains on the same split, as Keras' executions do).

Other keys of `config.data`: ``image_size`` ((height, width): every image is resized to it; ``()`` keeps the
files' size, which then must agree), ``color`` (``grayscale`` → 1 channel | ``rgb`` → 3), ``normalize``.
Every file is converted to ``color`` (`to_color`): 16-bit grayscale PNGs are scaled from 0–65535 to 0–255, palette
images go through their palette, and images with transparency (RGBA, LA, a palette with a transparent entry) are
composited over a white background first.
Problems stop the load with one message that gives the count and the first offending paths: an empty or missing
directory, fewer than two class folders, class folders without images, unreadable images, and images of mixed sizes
when no ``image_size`` is set.
Files with other extensions are listed in ``info["ignored_files"]`` and logged, never dropped silently.
"""
import os
from typing import Sequence

import numpy as np
from absl import logging
from ml_collections import ConfigDict
from PIL import Image

from jaxlab import errors
from jaxlab.data import paths, preprocess
from jaxlab.data.splits import Splits

EXTENSIONS = (".jpg", ".jpeg", ".png")
COLORS = {"grayscale": "L", "rgb": "RGB"}
SHOWN = 3  # offending paths quoted in a message


def _listing(paths: Sequence[str]) -> str:
    more = f", … ({len(paths) - SHOWN} more)" if len(paths) > SHOWN else ""
    return ", ".join(paths[:SHOWN]) + more


def scan(root: str) -> tuple[dict[str, list[str]], list[str]]:
    """Class name → sorted image paths under `root`/<class>/, and the non-image files found there."""
    if not os.path.isdir(root):
        raise errors.Error(f"image folder {root} does not exist: set --config.data.path to a directory of "
                           "<class>/*.jpg|png folders")
    classes = sorted(name for name in os.listdir(root)
                     if os.path.isdir(os.path.join(root, name)) and not name.startswith("."))
    files, ignored = {}, []
    for name in classes:
        folder = os.path.join(root, name)
        entries = sorted(entry for entry in os.listdir(folder) if not entry.startswith("."))
        files[name] = [os.path.join(folder, e) for e in entries if e.lower().endswith(EXTENSIONS)]
        ignored += [os.path.join(folder, e) for e in entries if not e.lower().endswith(EXTENSIONS)]
    if not files or not any(files.values()):
        raise errors.Error(f"no images in {root}: expected {root}/<class>/*.jpg|png (or train/ and test/ folders "
                           "of class folders); check --config.data.path")
    empty = [os.path.join(root, name) for name, paths in files.items() if not paths]
    if empty:
        raise errors.Error(f"{len(empty)} empty class folder(s) without .jpg/.png images: {_listing(empty)}; "
                           "add images or remove the folder(s)")
    return files, ignored


def to_color(image: Image.Image, color: str) -> Image.Image:
    """`image` in `color` (grayscale | rgb). PIL's own convert would clip 16-bit grayscale (0–65535) to white and
    drop transparency, keeping whatever color the transparent pixels hold (mostly black)."""
    if image.mode.startswith("I"):  # 16-bit grayscale PNG: "I;16" (also "I;16B", or "I" in older Pillow)
        levels = np.round(np.asarray(image, np.float64) / 257.0)  # 65535 / 255 = 257
        image = Image.fromarray(np.clip(levels, 0, 255).astype(np.uint8), "L")
    if image.mode in ("P", "PA"):
        image = image.convert("RGBA")  # through the palette, with its transparent entry if it has one
    if image.mode in ("RGBA", "LA", "RGBa", "La"):
        white = Image.new("RGBA", image.size, (255, 255, 255, 255))
        image = Image.alpha_composite(white, image.convert("RGBA"))
    return image.convert(COLORS[color])


def read_images(paths: Sequence[str], image_size: Sequence[int], color: str) -> np.ndarray:
    """uint8 [N, H, W, C]; unreadable files and (without `image_size`) mixed sizes are one error each."""
    images, unreadable = [], []
    for path in paths:
        try:
            with Image.open(path) as image:
                image = to_color(image, color)
                if image_size:
                    height, width = image_size
                    if image.size != (width, height):
                        image = image.resize((width, height), Image.BILINEAR)
                images.append(np.asarray(image, np.uint8))
        except (OSError, ValueError, SyntaxError) as exc:  # PIL: UnidentifiedImageError, truncated files, …
            unreadable.append(f"{path} ({type(exc).__name__})")
    if unreadable:
        raise errors.Error(f"{len(unreadable)} unreadable image file(s): {_listing(unreadable)}; "
                           "delete or replace them")
    first = images[0].shape
    odd = [path for path, image in zip(paths, images) if image.shape != first]
    if odd:
        raise errors.Error(f"{len(odd)} image(s) differ from the first image's size {first[0]}x{first[1]} "
                           f"({paths[0]}): {_listing(odd)}; set --config.data.image_size=H,W to resize them all")
    stacked = np.stack(images)
    return stacked[..., None] if stacked.ndim == 3 else stacked


def stratified_split(labels: np.ndarray, fraction: float, seed: int,
                     key: str = "validation_split") -> tuple[np.ndarray, np.ndarray]:
    """Row indices (kept, held out): `fraction` (``config.data.<key>``) of every class held out, chosen by `seed`."""
    if not 0.0 <= fraction < 1.0:
        raise errors.Error(f"config.data.{key} must be in [0, 1), got {fraction}")
    rng = np.random.default_rng(seed)
    held = []
    for label in np.unique(labels):
        rows = np.flatnonzero(labels == label)
        held.append(rng.permutation(rows)[:int(round(len(rows) * fraction))])
    held_out = np.sort(np.concatenate(held)) if held else np.zeros(0, np.int64)
    return np.setdiff1d(np.arange(len(labels)), held_out), held_out


def _dataset(files: dict[str, list[str]], class_names: list[str], image_size, color) -> dict[str, np.ndarray]:
    paths = [path for name in files for path in files[name]]
    labels = np.asarray([class_names.index(name) for name in files for _ in files[name]], np.int32)
    return {"inputs": read_images(paths, image_size, color), "label": labels}


def _take(dataset: dict[str, np.ndarray], rows: np.ndarray) -> dict[str, np.ndarray]:
    return {key: value[rows] for key, value in dataset.items()}


def load(config: ConfigDict, seed: int):
    root = config.get("path", "")
    if not root:
        raise errors.Error("image_folder needs a directory: set --config.data.path=DIR")
    root = paths.existing(root, "image folder", os.path.isdir)  # a relative path lies under the data root
    color = config.get("color", "rgb")
    if color not in COLORS:
        raise errors.Error(f"unknown color {color!r}: choose grayscale or rgb (--config.data.color=...)")
    image_size = tuple(config.get("image_size", ()) or ())
    if image_size and len(image_size) != 2:
        raise errors.Error(f"image_size must be (height, width), got {image_size} (--config.data.image_size=H,W)")
    split_folders = all(os.path.isdir(os.path.join(root, name)) for name in ("train", "test"))
    if split_folders:
        train_files, ignored = scan(os.path.join(root, "train"))
        test_files, ignored_test = scan(os.path.join(root, "test"))
        ignored += ignored_test
        unknown = sorted(set(test_files) - set(train_files))
        if unknown:
            raise errors.Error(f"{len(unknown)} test class folder(s) missing from {os.path.join(root, 'train')}: "
                               f"{_listing(unknown)}; the class folders of train/ and test/ must match")
    else:
        train_files, ignored = scan(root)
    if ignored:
        logging.warning("image_folder: ignoring %d file(s) that are not .jpg/.png: %s", len(ignored),
                        _listing(ignored))
    class_names = sorted(train_files)
    if len(class_names) < 2:
        folder = os.path.join(root, "train") if split_folders else root
        raise errors.Error(f"image folder {folder} has {len(class_names)} class folder ({', '.join(class_names)}): "
                           "classification needs at least two <class>/ folders of images; point "
                           "--config.data.path at the folder that holds the class folders")
    everything = _dataset(train_files, class_names, image_size, color)
    split_seed = config.get("split_seed", -1)
    seed = seed if split_seed < 0 else split_seed
    if split_folders:
        test = _dataset(test_files, class_names, image_size, color)
        train_all = everything
    else:
        kept, held = stratified_split(everything["label"], config.get("test_fraction", 0.2), seed, "test_fraction")
        train_all, test = _take(everything, kept), _take(everything, held)
    kept, held = stratified_split(train_all["label"], config.get("validation_split", 0.0), seed + 1)
    train = _take(train_all, kept)
    validation = _take(train_all, held) if len(held) else None
    spec = preprocess.fit_normalization(config.get("normalize", "unit"), train["inputs"])

    def finish(dataset):
        if dataset is None or not len(dataset["label"]):
            return None
        return {"inputs": preprocess.normalize(dataset["inputs"], spec), "label": dataset["label"]}

    info = {"num_classes": len(class_names), "num_outputs": len(class_names), "task": "classification",
            "class_names": class_names, "input_shape": list(train["inputs"].shape[1:]), "preprocessing": spec,
            "source": os.path.abspath(root), "split": "folders" if split_folders else "stratified",
            "ignored_files": ignored}
    return Splits(finish(train), finish(validation), finish(test), info)
