"""Data files that are not what they seem: 16-bit, palette and transparent PNGs in an image folder, an image folder
with a single class, and a prepared tfds dataset whose tfrecord shard is truncated or corrupt (one line naming the
dataset, its data_dir and "prepare it again")."""
import glob
import os
import re

import numpy as np
import pytest
from conftest import prepare_tfds_mnist
from PIL import Image

from configs import imdb_bow, mnist_mlp, simpsons_cnn
from jaxlab import data, errors
from jaxlab.data import image_folder


def save(path, image: Image.Image) -> str:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    image.save(path)
    return str(path)


# ----------------------------------------------------------------------------------------------------------------
# Image folders.

def test_16_bit_grayscale_png_is_scaled_not_white(tmp_path):
    levels = np.array([[0, 257 * 100], [65535, 32768]], np.uint16)
    path = save(tmp_path / "a" / "x.png", Image.fromarray(levels))
    with Image.open(path) as image:
        assert image.mode.startswith("I")  # what Pillow reads a 16-bit grayscale PNG as
    gray = image_folder.read_images([path], (), "grayscale")
    np.testing.assert_array_equal(gray[0, ..., 0], [[0, 100], [255, 128]])
    rgb = image_folder.read_images([path], (), "rgb")
    np.testing.assert_array_equal(rgb[0], np.repeat(gray[0], 3, axis=-1))


def test_palette_and_transparent_images_convert_to_the_configured_color(tmp_path):
    palette = Image.new("P", (3, 1))
    palette.putpalette([0, 0, 0, 255, 0, 0, 0, 0, 255] + [0] * 759)  # entry 0 black (transparent), red, blue
    for x in range(3):
        palette.putpixel((x, 0), x)
    palette.info["transparency"] = 0
    rgba = Image.fromarray(np.array([[[0, 0, 0, 0], [10, 20, 30, 255], [0, 0, 0, 128]]], np.uint8), "RGBA")
    gray_alpha = Image.fromarray(np.array([[[100, 0], [100, 255], [0, 255]]], np.uint8), "LA")
    paths = [save(tmp_path / "c" / f"{name}.png", image)
             for name, image in (("p", palette), ("rgba", rgba), ("la", gray_alpha))]
    rgb = image_folder.read_images(paths, (), "rgb")
    # transparent pixels lie over white; opaque ones keep their (palette) color
    np.testing.assert_array_equal(rgb[0, 0], [[255, 255, 255], [255, 0, 0], [0, 0, 255]])
    np.testing.assert_allclose(rgb[1, 0], [[255, 255, 255], [10, 20, 30], [127, 127, 127]], atol=1)
    np.testing.assert_array_equal(rgb[2, 0], [[255, 255, 255], [100, 100, 100], [0, 0, 0]])
    gray = image_folder.read_images(paths, (), "grayscale")[..., 0]
    np.testing.assert_array_equal(gray[0, 0], [255, 76, 29])  # ITU-R 601 luma of white, red, blue
    np.testing.assert_array_equal(gray[2, 0], [255, 100, 0])


@pytest.mark.parametrize("layout", ["flat", "train_test"])
def test_image_folder_with_one_class_is_an_error(tmp_path, layout):
    image = Image.fromarray(np.zeros((4, 4), np.uint8))
    folder = tmp_path if layout == "flat" else tmp_path / "train"
    for split in ([""] if layout == "flat" else ["train", "test"]):
        for i in range(3):
            save(tmp_path / split / "cats" / f"{i}.png", image)
    config = simpsons_cnn.get_config("cnn").data
    config.path = str(tmp_path)
    with pytest.raises(errors.Error, match=rf"image folder {re.escape(str(folder))} has 1 class folder \(cats\): "
                                           r"classification needs at least two .*--config.data.path"):
        data.build(config, 0)


# ----------------------------------------------------------------------------------------------------------------
# Prepared tfds datasets whose files are damaged.

def damage(shard: str, how: str) -> None:
    size = os.path.getsize(shard)
    with open(shard, "r+b") as file:
        if how == "truncated":
            file.truncate(size // 2)
        else:  # flip bytes in the middle of the file: a record whose checksum no longer matches
            file.seek(size // 2)
            chunk = file.read(64)
            file.seek(size // 2)
            file.write(bytes(255 - b for b in chunk))


@pytest.mark.parametrize("how", ["truncated", "corrupt"])
def test_damaged_tfds_shard_says_prepare_again(tmp_path, how):
    data_dir = prepare_tfds_mnist(str(tmp_path / "tfds"))
    damage(glob.glob(os.path.join(data_dir, "mnist", "*", "mnist-train.tfrecord*"))[0], how)
    config = mnist_mlp.get_config()
    config.data.data_dir = data_dir
    with pytest.raises(errors.Error, match=rf"dataset 'mnist' in {re.escape(data_dir)} is truncated or corrupt "
                                           r"\(reading split 'train.*\): prepare it again .*re-download"):
        data.build(config.data, 0)


def test_truncated_imdb_says_prepare_again(tmp_path):
    import tensorflow as tf
    import tensorflow_datasets as tfds
    data_dir = str(tmp_path / "tfds")

    def split(num_rows):
        return tf.data.Dataset.from_tensor_slices({"text": [f"review {i} was fine" for i in range(num_rows)],
                                                   "label": np.arange(num_rows) % 2})

    features = tfds.features.FeaturesDict({"text": tfds.features.Text(),
                                           "label": tfds.features.ClassLabel(num_classes=2)})
    tfds.dataset_builders.store_as_tfds_dataset(
        name="imdb_reviews", version="1.0.0", config="plain_text", features=features, data_dir=data_dir,
        disable_shuffling=True, split_datasets={"train": split(64), "test": split(32)})
    damage(glob.glob(os.path.join(data_dir, "imdb_reviews", "**", "*-test.tfrecord*"), recursive=True)[0],
           "truncated")
    config = imdb_bow.get_config()
    config.data.data_dir = data_dir
    with pytest.raises(errors.Error, match=rf"dataset 'imdb_reviews' in {re.escape(data_dir)} is truncated or "
                                           r"corrupt \(reading split 'test'.*prepare it again"):
        data.build(config.data, 0)
