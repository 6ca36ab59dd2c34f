"""CIFAR configs end to end under mock data, the real AlexNet/VGG16 shapes and sizes, augmentation invariants,
bfloat16 and the confusion analysis."""
import functools
import json
import os

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from ml_collections import ConfigDict

from configs import cifar_alexnet, cifar_vgg
from jaxlab import confusion, data, experiment, models, programs
from jaxlab.data import augment

TINY_MODEL = {
    "alexnet": {"model.filters": (8, 8, 8, 8, 8), "model.dense": (16, 16)},
    "vgg": {"model.layers": (8, "M", 8, "M", 16, "M"), "model.dense": (16,)},
}


def tiny_cifar(tiny, module, variant="default", **overrides):
    config = module.get_config(variant)
    return tiny(config, **{**TINY_MODEL[config.model.name], **overrides})


@pytest.mark.parametrize("module,variant,mode", [
    (cifar_vgg, "default", "pmap"), (cifar_alexnet, "default", "jit"), (cifar_vgg, "bf16", "jit"),
])
def test_config_end_to_end(module, variant, mode, mock_tfds, tiny, tmp_path):
    summary = experiment.run(tiny_cifar(tiny, module, variant, parallelism=mode), str(tmp_path))
    assert summary["epochs_run"] == 1 and summary["num_test_examples"] == 96
    assert np.isfinite(summary["test_loss"]) and 0.0 <= summary["test_accuracy"] <= summary["test_top5_accuracy"] <= 1
    assert np.isfinite(summary["final"]["loss"])
    for name in ("plots/confusion.png", "plots/confusion.csv", "summary.json", "plots/curves.png"):
        assert os.path.exists(tmp_path / name), name
    with open(tmp_path / "summary.json") as f:
        written = json.load(f)
    assert written["confusion_top_pairs"] and {"true", "predicted", "count"} <= set(written["confusion_top_pairs"][0])
    with open(tmp_path / "data_info.json") as f:
        info = json.load(f)
    assert info["preprocessing"]["normalize"] == "standardize"
    assert len(info["class_names"]) == 100  # tfds' label names ("apple", … on the real data; mock data: "0", …)
    assert {pair["true"] for pair in written["confusion_top_pairs"]} <= set(info["class_names"])


@pytest.mark.parametrize("name,params,batch_stats", [("alexnet", 5_697_916, 2_304), ("vgg", 15_033_380, 9_472)])
def test_real_architecture_shapes_and_sizes(name, params, batch_stats):
    """The real widths, one train step's forward/backward at batch 8 on 32×32×3 inputs."""
    model = models.build(ConfigDict({"name": name}), 100)
    inputs = jnp.asarray(np.random.default_rng(0).standard_normal((8, 32, 32, 3)), jnp.float32)
    variables = jax.jit(functools.partial(model.init, train=False))(jax.random.PRNGKey(0), inputs)  # one program
    assert sum(np.size(x) for x in jax.tree.leaves(variables["params"])) == params
    assert sum(np.size(x) for x in jax.tree.leaves(variables["batch_stats"])) == batch_stats

    def loss(params):
        logits, _ = model.apply({**variables, "params": params}, inputs, train=True, mutable=["batch_stats"],
                                rngs={"dropout": jax.random.PRNGKey(1)})
        return logits.mean(), logits

    (_, logits), grads = jax.jit(jax.value_and_grad(loss, has_aux=True))(variables["params"])
    assert logits.shape == (8, 100) and logits.dtype == jnp.float32
    assert all(np.isfinite(x).all() for x in jax.tree.leaves(grads))


def test_bfloat16_computes_in_bf16_with_float32_params_and_logits():
    model = models.build(ConfigDict({"name": "vgg", "layers": (8, "M"), "dense": (8,), "dtype": "bfloat16"}), 10)
    inputs = jnp.ones((8, 4, 4, 3), jnp.float32)
    variables = jax.jit(functools.partial(model.init, train=False))(jax.random.PRNGKey(0), inputs)  # one program
    assert {x.dtype for x in jax.tree.leaves(variables["params"])} == {jnp.dtype(jnp.float32)}
    logits, intermediates = model.apply(variables, inputs, train=False, capture_intermediates=True)
    assert logits.dtype == jnp.float32 and np.isfinite(logits).all()
    assert intermediates["intermediates"]["Conv_0"]["__call__"][0].dtype == jnp.bfloat16


def test_flip_is_an_exact_mirror_and_crop_keeps_shape():
    images = jnp.asarray(np.random.default_rng(0).standard_normal((64, 32, 32, 3)), jnp.float32)
    flipped = np.asarray(augment.OPS["flip_horizontal"](images, jax.random.PRNGKey(3)))
    mirrored = np.array([np.array_equal(f, x[:, ::-1]) for f, x in zip(flipped, np.asarray(images))])
    same = np.array([np.array_equal(f, x) for f, x in zip(flipped, np.asarray(images))])
    assert (mirrored | same).all() and 10 < mirrored.sum() < 54  # each image either mirrored or untouched

    cropped = np.asarray(augment.OPS["random_crop"](images, jax.random.PRNGKey(4)))
    assert cropped.shape == images.shape and cropped.dtype == np.float32
    ramp = jnp.broadcast_to(jnp.arange(1, 33, dtype=jnp.float32)[None, None, :, None], (64, 32, 32, 1))
    shifted = np.asarray(augment.OPS["random_crop"](ramp, jax.random.PRNGKey(5)))
    rows = shifted[:, 16, :, 0]  # a row of a ramp 1..32 after a crop: a shifted ramp with zero padding at one end
    for row in rows:
        inside = row[row > 0]
        assert np.array_equal(np.diff(inside), np.ones(len(inside) - 1)) and len(inside) >= 28
    assert len({tuple(row) for row in rows}) > 1  # offsets differ per image


def test_evaluation_batches_are_not_augmented(mock_tfds, tiny, tmp_path):
    """Evaluating twice gives identical metrics, equal to evaluating the same state with augmentation off."""
    config = tiny_cifar(tiny, cifar_vgg, parallelism="jit")
    splits, model = experiment.build(config)
    results = []
    for augment_names in (("random_crop", "flip_horizontal"), ()):
        config.data.augment = augment_names
        s = programs.setup(config, str(tmp_path / str(len(augment_names))), splits, model)
        num_test = data.num_examples(splits.test)
        results += [programs.split_metrics(s, s.state, "test", num_test, 16) for _ in range(2)]
        s.mngr.close()
    assert results[0] == results[1] == results[2] == results[3]


def test_confusion_full_matrix_and_top_pairs(tmp_path):
    labels = np.array([0, 0, 1, 1, 2, 2, 2])
    outputs = np.eye(3)[[0, 1, 1, 1, 0, 0, 2]]
    counts = confusion.matrix(outputs, labels, 3)
    np.testing.assert_array_equal(counts, [[1, 1, 0], [0, 2, 0], [2, 0, 1]])
    result = confusion.analyse(outputs, {"label": labels}, {"num_classes": 3, "class_names": ["a", "b", "c"]},
                               str(tmp_path))
    assert result["confusion_top_pairs"][0] == {"true": "c", "predicted": "a", "count": 2,
                                                "fraction_of_true": pytest.approx(2 / 3)}
    assert len(result["confusion_top_pairs"]) == 2 and os.path.exists(tmp_path / "plots" / "confusion.png")
    many = confusion.analyse(np.random.default_rng(0).standard_normal((500, 100)),
                             {"label": np.random.default_rng(1).integers(0, 100, 500)}, {"num_classes": 100},
                             str(tmp_path / "many"))
    assert len(many["confusion_top_pairs"]) == 10 and os.path.exists(tmp_path / "many" / "plots" / "confusion.png")


@pytest.mark.parametrize("shape,kernel,padding", [((2, 2, 2, 6), (3, 3, 6, 5), "SAME"),
                                                  ((2, 1, 1, 4), (3, 3, 4, 3), "SAME"),
                                                  ((2, 2, 3, 4), (3, 3, 4, 3), ((1, 1), (1, 1))),
                                                  ((2, 3, 2, 4), (5, 3, 4, 3), ((2, 2), (1, 1))),
                                                  ((2, 6, 6, 4), (3, 3, 4, 3), "SAME")])   # falls through to lax
def test_im2col_convolution_equals_lax(shape, kernel, padding):
    """models.convolution.conv_general_dilated (im2col for maps smaller than the kernel) = lax's convolution, values
    and gradients, and as nn.Conv's convolution the same parameters."""
    import flax.linen as nn
    import jax

    from jaxlab.models import convolution
    rng = np.random.default_rng(0)
    x, k = rng.normal(size=shape).astype(np.float32), rng.normal(size=kernel).astype(np.float32)
    numbers = ("NHWC", "HWIO", "NHWC")

    def loss(conv, x, k):
        return (conv(x, k, (1, 1), padding, dimension_numbers=numbers) ** 2).sum()

    np.testing.assert_allclose(convolution.conv_general_dilated(x, k, (1, 1), padding, dimension_numbers=numbers),
                               jax.lax.conv_general_dilated(x, k, (1, 1), padding, dimension_numbers=numbers),
                               rtol=1e-5, atol=1e-5)
    for ours, theirs in zip(jax.grad(lambda x, k: loss(convolution.conv_general_dilated, x, k), (0, 1))(x, k),
                            jax.grad(lambda x, k: loss(jax.lax.conv_general_dilated, x, k), (0, 1))(x, k)):
        np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-4)
    layer = nn.Conv(kernel[-1], kernel[:2], padding=padding, conv_general_dilated=convolution.conv_general_dilated)
    reference = nn.Conv(kernel[-1], kernel[:2], padding=padding)
    variables = reference.init(jax.random.PRNGKey(0), x)
    np.testing.assert_allclose(layer.apply(variables, x), reference.apply(variables, x), rtol=1e-5, atol=1e-5)
