"""MNIST-family vision configs end to end under mock tfds data, the pixel permutation and the denoising data."""
import os

import numpy as np
import pytest

from configs import mnist_cnn, mnist_dense_bn, mnist_denoise, mnist_permuted
from jaxlab import data, experiment, predict
from jaxlab.data import tfds_images

CLASSIFIERS = [
    (mnist_dense_bn, "default", {"model.hidden": (8, 4)}),
    (mnist_cnn, "tuned", {"model.layers": ("conv4", "bn", "pool", "flatten", "dense8", "bn", "dropout0.3"),
                          "unroll_steps": -1}),   # one conv net with a user's dispatch: 8 unrolled steps on CPU
    (mnist_permuted, "dense", {"model.hidden": (8, 4)}),
    (mnist_permuted, "cnn", {"model.layers": ("conv4", "pool", "bn", "flatten")}),
]


@pytest.mark.parametrize("module, variant, overrides", CLASSIFIERS,
                         ids=[f"{module.__name__.split('.')[-1]}:{variant}" for module, variant, _ in CLASSIFIERS])
def test_classifier_end_to_end(module, variant, overrides, mock_tfds, tiny, tmp_path):
    config = tiny(module.get_config(variant), **overrides)
    summary = experiment.run(config, str(tmp_path))
    assert summary["epochs_run"] == 1 and summary["num_test_examples"] == 96
    assert 0.0 <= summary["test_accuracy"] <= 1.0 and np.isfinite(summary["test_loss"])
    assert os.path.exists(tmp_path / "plots" / "curves.png")


def test_full_configs_keep_their_recipes():
    assert mnist_cnn.get_config().model.layers == mnist_cnn.LAB_CNN
    assert mnist_cnn.get_config("tuned").data.augment == ("random_shift",)
    assert mnist_permuted.get_config("cnn").data.permute_seed == mnist_permuted.PERMUTE_SEED
    assert mnist_dense_bn.get_config().model.batch_norm


def test_batchnorm_cnn_trains_alike_in_both_parallel_modes(mock_tfds, tiny, tmp_path):
    """mnist_cnn default end to end (the lab CNN, two BatchNorms): cross-replica statistics under pmap equal the
    global-batch statistics of a sharded batch under jit (the lab CNN has no dropout: both runs draw nothing)."""
    results = {}
    for mode in ("pmap", "jit"):
        config = tiny(mnist_cnn.get_config(), parallelism=mode)
        results[mode] = experiment.run(config, str(tmp_path / mode))
        assert results[mode]["device_count"] == 8 and results[mode]["epochs_run"] == 1
        assert np.isfinite(results[mode]["test_loss"]) and np.isfinite(results[mode]["final"]["val_loss"])
        variables = predict.load(str(tmp_path / mode), which="latest").variables
        assert sorted(variables["batch_stats"]) == ["BatchNorm_0", "BatchNorm_1"]
        assert np.all(np.asarray(variables["batch_stats"]["BatchNorm_0"]["var"]) > 0)
    # Summed in another order (pmean of per-device moments vs one global mean), the two runs drift by ~1e-4 after an
    # epoch (1.1e-4 in test_loss on an AVX-512 AMD EPYC, 2026-12-04); per-device statistics under pmap (no axis_name)
    # differ by 1.4e-2 in the training loss (checked the same day).
    assert results["pmap"]["final"] == pytest.approx(results["jit"]["final"], rel=1e-3)
    assert results["pmap"]["test_loss"] == pytest.approx(results["jit"]["test_loss"], rel=1e-3)


def test_pixel_permutation_is_a_true_fixed_permutation():
    permutation = tfds_images.pixel_permutation((28, 28, 1), seed=3)
    assert sorted(permutation.tolist()) == list(range(784))
    assert (permutation != np.arange(784)).mean() > 0.99
    np.testing.assert_array_equal(permutation, tfds_images.pixel_permutation((28, 28, 1), seed=3))
    assert tfds_images.pixel_permutation((28, 28, 1), seed=-1) is None
    images = np.arange(2 * 28 * 28, dtype=np.uint8).reshape(2, 28, 28, 1)
    permuted = tfds_images.permute_pixels(images, permutation)
    assert permuted.shape == images.shape
    np.testing.assert_array_equal(permuted.reshape(2, -1), images.reshape(2, -1)[:, permutation])


def test_permutation_is_identical_across_splits(mock_tfds):
    config = mnist_permuted.get_config("dense").data
    permuted = data.build(config, seed=0)
    config.permute_seed = -1
    plain = data.build(config, seed=0)
    permutation = tfds_images.pixel_permutation((28, 28), mnist_permuted.PERMUTE_SEED)
    for split in ("train", "validation", "test"):
        before, after = getattr(plain, split), getattr(permuted, split)
        np.testing.assert_array_equal(after["label"], before["label"])
        np.testing.assert_allclose(after["inputs"], tfds_images.permute_pixels(before["inputs"], permutation))
        assert not np.array_equal(after["inputs"], before["inputs"])
    assert permuted.info["permute_seed"] == mnist_permuted.PERMUTE_SEED


def test_denoising_data_is_seeded_and_clipped(mock_tfds):
    config = mnist_denoise.get_config().data
    first, second = data.build(config, seed=0), data.build(config, seed=1)
    assert first.info["task"] == "reconstruction" and first.info["num_outputs"] == 1
    for split in ("train", "validation", "test"):
        noisy, clean = getattr(first, split)["inputs"], getattr(first, split)["label"]
        assert noisy.shape == clean.shape and noisy.min() >= 0.0 and noisy.max() <= 1.0
        assert 0.05 < np.abs(noisy - clean).mean() < 0.4
        np.testing.assert_array_equal(noisy, getattr(second, split)["inputs"])  # fixed noise, not run-seed driven
    assert not np.array_equal(first.validation["inputs"] - first.validation["label"],
                              first.test["inputs"][: len(first.validation["inputs"])]
                              - first.test["label"][: len(first.validation["inputs"])])


@pytest.mark.parametrize("module,overrides", [(mnist_permuted, {"normalize": "unit"}),
                                              (mnist_denoise, {"noise_factor": 0.5})])
def test_a_process_reads_only_its_rows_as_tfds_slices(module, overrides, prepared_mnist, monkeypatch):
    """With split sizes known (a prepared dataset), a share makes the loader read tfds slices, and the rows it
    returns — pixel permutation and denoising noise included — are those rows of the whole read."""
    config = module.get_config().data
    config.data_dir = prepared_mnist
    config.update(overrides)
    whole = data.build(config, seed=0)
    loaded = []
    read_split = tfds_images.read_split
    monkeypatch.setattr(tfds_images, "read_split", lambda name, split, data_dir: loaded.append(split) or read_split(
        name, split, data_dir))
    windows = {"train": (30, 60), "validation": (2, 7), "test": (0, 40)}  # the test split whole
    part = data.build(config, seed=0, share=lambda split, num_rows: windows[split])
    assert loaded == ["train[30:60]", "train[88:93]", "test"]  # 96 rows: 86 train, the last 10 validation
    assert part.windows == {"train": (30, 86), "validation": (2, 10)}
    for split, (first, stop) in windows.items():
        assert data.num_rows(part, split) == data.num_rows(whole, split)
        assert data.first_row(part, split) == first
        for key in ("inputs", "label"):
            np.testing.assert_array_equal(getattr(part, split)[key], getattr(whole, split)[key][first:stop])


@pytest.mark.parametrize("variant", ["default", "tuned"])
def test_denoise_end_to_end_writes_reconstructions(variant, mock_tfds, tiny, tmp_path):
    config = tiny(mnist_denoise.get_config(variant), **{"model.features": (4, 2)})
    summary = experiment.run(config, str(tmp_path))
    # encoder 1→4, 4→2 (40 + 74); decoder 2→2, 2→4, 4→1 (38 + 76 + 37); the skips add 2 and 4 input channels to
    # the last two layers (+72, +36)
    assert summary["num_params"] == (265 if variant == "default" else 373)
    assert np.isfinite(summary["test_loss"]) and 0.0 <= summary["test_mean_absolute_error"] <= 1.0
    assert "test_accuracy" not in summary
    assert summary["best_val_loss"] is not None
    assert os.path.getsize(tmp_path / "plots" / "reconstructions.png") > 0


@pytest.mark.parametrize("shape,size", [((3, 28, 28, 4), 2), ((3, 7, 7, 2), 2), ((2, 500, 16), 2),
                                        ((2, 249, 16), 2), ((2, 30, 8), 3)])
def test_reshape_max_pool_equals_flax_max_pool(shape, size):
    """jaxlab.models.pooling.max_pool (fast gradient on XLA:CPU) = flax's VALID max_pool, values and gradients (ties
    included: the first maximum of a window takes its gradient)."""
    import flax.linen as nn
    import jax

    from jaxlab.models import pooling
    x = np.random.default_rng(0).normal(size=shape).astype(np.float32)   # no ties: one max per window
    window = (size,) * (len(shape) - 2)
    reference = lambda v: nn.max_pool(v, window, strides=window)  # noqa: E731
    np.testing.assert_array_equal(pooling.max_pool(x, size), reference(x))
    np.testing.assert_array_equal(jax.grad(lambda v: (pooling.max_pool(v, size) ** 2).sum())(x),
                                  jax.grad(lambda v: (reference(v) ** 2).sum())(x))
    ties = np.round(x).clip(0, None)   # many equal maxima (0 after a ReLU): each window's gradient to its first
    np.testing.assert_array_equal(jax.grad(lambda v: (pooling.max_pool(v, size) * 3).sum())(ties),
                                  jax.grad(lambda v: (reference(v) * 3).sum())(ties))


@pytest.mark.parametrize("kernel_size,stride", [(3, 2), (2, 2), (4, 2), (5, 3), (3, 3)])
def test_subpixel_conv_transpose_equals_flax_conv_transpose(kernel_size, stride):
    """jaxlab.models.upsample.SubpixelConvTranspose (no dilated convolution) = nn.ConvTranspose(…, 'SAME'): the
    same parameters (name, shape, initial values), outputs and gradients."""
    import flax.linen as nn
    import jax
    import jax.numpy as jnp

    from jaxlab.models import upsample
    x = jnp.asarray(np.random.default_rng(0).normal(size=(2, 7, 6, 3)).astype(np.float32))
    reference = nn.ConvTranspose(5, (kernel_size, kernel_size), strides=(stride, stride), padding="SAME")
    subpixel = upsample.SubpixelConvTranspose(5, kernel_size, stride)
    variables = subpixel.init(jax.random.PRNGKey(1), x)
    reference_init = reference.init(jax.random.PRNGKey(1), x)
    jax.tree.map(np.testing.assert_array_equal, variables, reference_init)
    variables = {"params": {**variables["params"], "bias": jnp.arange(5.0)}}
    out, expected = subpixel.apply(variables, x), reference.apply(variables, x)
    assert out.shape == (2, 7 * stride, 6 * stride, 5)
    np.testing.assert_allclose(out, expected, atol=1e-5)
    grads = jax.grad(lambda v, x: (subpixel.apply(v, x) ** 2).sum(), argnums=(0, 1))(variables, x)
    expected_grads = jax.grad(lambda v, x: (reference.apply(v, x) ** 2).sum(), argnums=(0, 1))(variables, x)
    jax.tree.map(lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-4), grads, expected_grads)
