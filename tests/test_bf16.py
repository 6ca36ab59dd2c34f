"""Mixed precision (`model.dtype = "bfloat16"`) for every registered model family: float32 parameters and outputs,
bfloat16 compute, finite optimizer steps; the bag-of-words sum and its gradient; `model.dtype` in every config; an
IMDB config end to end in bfloat16; the train step donates the state."""
import importlib
import os

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from ml_collections import ConfigDict

from configs import imdb_bow, imdb_embed
from jaxlab import experiment, losses, metrics, models, steps
from jaxlab.ops import bag as bag_ops

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BATCH = 4
IMAGE = (BATCH, 8, 8, 3)
# case id → (model config, input kind and shape, task)
CASES = {
    "mlp": ({"name": "mlp", "hidden": (8,), "batch_norm": True, "dropout": 0.5}, "float", (BATCH, 6)),
    "cnn": ({"name": "cnn", "layers": ("conv4", "bn", "pool", "dropout0.5", "flatten", "dense8")}, "float", IMAGE),
    "alexnet": ({"name": "alexnet", "filters": (4,) * 5, "dense": (8, 8)}, "float", IMAGE),
    "vgg": ({"name": "vgg", "layers": (4, "M", 8, "M"), "dense": (8,)}, "float", IMAGE),
    "conv_autoencoder": ({"name": "conv_autoencoder", "features": (4, 2)}, "float", (BATCH, 8, 8, 1)),
    "bow_concat": ({"name": "bow_concat", "vocab_size": 30, "hidden": (8, 4), "counts": "log1p",
                    "batch_norm": True, "dropout": 0.5}, "ids", (BATCH, 12)),
    "bow_concat_dense": ({"name": "bow_concat", "vocab_size": 30, "hidden": (8,), "bag": "dense"}, "ids", (BATCH, 12)),
    "embed_dense": ({"name": "embed_dense", "vocab_size": 30, "embed_dim": 4, "hidden": (8,)}, "ids", (BATCH, 12)),
    "embed_conv": ({"name": "embed_conv", "vocab_size": 30, "embed_dim": 4, "filters": (4, 8)}, "ids", (BATCH, 12)),
    "concat": ({"name": "concat", "hidden": 2}, "float", (BATCH, 3)),
}


def _build(case: str, dtype: str):
    model_config, kind, shape = CASES[case]
    rng = np.random.default_rng(0)
    if kind == "ids":
        inputs = jnp.asarray(rng.integers(0, 30, shape), jnp.int32)
    else:
        inputs = jnp.asarray(rng.uniform(size=shape), jnp.float32)
    if case == "conv_autoencoder":
        num_outputs, labels = 1, jnp.asarray(rng.uniform(size=shape), jnp.float32)
    else:
        num_outputs, labels = 3, jnp.asarray(rng.integers(0, 3, BATCH), jnp.int32)
    model = models.build(ConfigDict({**model_config, "dtype": dtype}), num_outputs)
    return model, inputs, labels


def _equations(jaxpr):
    """Every equation of `jaxpr` and of the jaxprs nested in it (jit, scan, custom_vjp, …)."""
    for eqn in jaxpr.eqns:
        yield eqn
        for value in eqn.params.values():
            for sub in value if isinstance(value, (tuple, list)) else (value,):
                sub = getattr(sub, "jaxpr", sub)  # ClosedJaxpr → Jaxpr
                if hasattr(sub, "eqns"):
                    yield from _equations(sub)


def _input_dtypes(jaxpr, primitives):
    return {str(var.aval.dtype) for eqn in _equations(jaxpr) if eqn.primitive.name in primitives
            for var in eqn.invars if hasattr(var.aval, "dtype")}


def test_every_registered_family_is_covered():
    assert set(models.MODELS) <= {config["name"] for config, _, _ in CASES.values()}


@pytest.mark.parametrize("case", CASES)
def test_bfloat16_compute_float32_params_and_outputs(case):
    model, inputs, _ = _build(case, "bfloat16")
    variables = jax.jit(lambda key: model.init(key, inputs, train=False))(jax.random.PRNGKey(0))   # one program
    assert {x.dtype for x in jax.tree.leaves(variables)} == {jnp.dtype(jnp.float32)}  # params and batch_stats

    def forward(variables):
        outputs, _ = model.apply(variables, inputs, train=True, mutable=["batch_stats"],
                                 rngs={"dropout": jax.random.PRNGKey(1)})
        return outputs

    assert jax.jit(forward)(variables).dtype == jnp.float32
    assert jax.jit(lambda v: model.apply(v, inputs, train=False))(variables).dtype == jnp.float32
    jaxpr = jax.make_jaxpr(forward)(variables).jaxpr
    assert _input_dtypes(jaxpr, {"dot_general", "conv_general_dilated"}) == {"bfloat16"}
    if case == "bow_concat":  # the bag's loops gather bfloat16 rows and carry float32 sums
        loops = [eqn for eqn in _equations(jaxpr) if eqn.primitive.name == "while"
                 and "bfloat16" in _input_dtypes(eqn.params["body_jaxpr"].jaxpr, {"gather"})]
        sums = [v for eqn in loops for v in eqn.outvars if jnp.issubdtype(v.aval.dtype, jnp.floating)]
        assert sums and all(str(v.aval.dtype) == "float32" for v in sums)


@pytest.mark.parametrize("case", ["bow_concat", "embed_conv", "cnn"])
def test_float32_default_has_no_bfloat16(case):
    model, inputs, _ = _build(case, "float32")
    variables = jax.eval_shape(lambda key: model.init(key, inputs, train=False), jax.random.PRNGKey(0))  # shapes
    jaxpr = jax.make_jaxpr(lambda v: model.apply(v, inputs, train=False))(variables).jaxpr
    dtypes = {str(v.aval.dtype) for eqn in _equations(jaxpr) for v in (*eqn.invars, *eqn.outvars)
              if hasattr(v.aval, "dtype")}
    assert "bfloat16" not in dtypes


@pytest.mark.parametrize("case", CASES)
def test_bfloat16_train_steps_stay_finite(case):
    model, inputs, labels = _build(case, "bfloat16")
    task, loss = ("reconstruction", "reconstruction_bce") if case == "conv_autoencoder" else \
        ("classification", "softmax_cross_entropy")
    tx = optax.adam(1e-2)
    state = steps.init_state(model, tx, None, inputs[:1], seed=0)
    step = jax.jit(lambda state, batch, rng: steps.train_step(
        state, batch, rng, model=model, tx=tx, loss_fn=losses.get(loss), metrics_cls=metrics.collection(task, 3),
        l2=1e-4, l2_pattern="kernel$", mode="jit"))
    batch = {"inputs": inputs, "label": labels, "mask": jnp.ones(BATCH, jnp.float32)}
    before = state.params
    step_losses = []
    for _ in range(3):
        state, _, step_loss = step(state, batch, jax.random.PRNGKey(2))
        step_losses.append(float(step_loss))
    assert np.isfinite(step_losses).all()
    assert {x.dtype for x in jax.tree.leaves((state.params, state.batch_stats))} == {jnp.dtype(jnp.float32)}
    assert all(np.isfinite(x).all() for x in jax.tree.leaves(state.params))
    assert any((np.asarray(a) != np.asarray(b)).any()
               for a, b in zip(jax.tree.leaves(before), jax.tree.leaves(state.params)))


def test_bag_sums_in_float32_and_its_gradient_matches_autodiff():
    """1000 × 0.01 summed in bfloat16 stalls near 4; the bag sums in float32 and rounds once. Its gradient is the
    exact one rounded once to bfloat16 (jax's autodiff of the scan would scatter-add in bfloat16), and equals
    autodiff in float32."""
    length = 1000
    table = jnp.zeros((5, 2), jnp.float32).at[1].set(0.01)
    ids = jnp.ones((2, length), jnp.int32).at[1, 500:].set(0)  # row 1: 500 words then padding
    bag = bag_ops.bag_of_words(table.astype(jnp.bfloat16), ids)
    assert bag.dtype == jnp.bfloat16
    np.testing.assert_allclose(np.asarray(bag, np.float32), [[10.0, 10.0], [5.0, 5.0]], rtol=1e-2)

    rng = np.random.default_rng(0)
    table = jnp.asarray(rng.normal(size=(30, 4)), jnp.float32)
    ids = jnp.asarray(rng.integers(0, 30, (6, 20)), jnp.int32)
    cotangent = jnp.asarray(rng.normal(size=(6, 4)), jnp.float32)
    idf = rng.uniform(1.0, 3.0, 30)  # used by tfidf only
    for counts in bag_ops.COUNTS:
        ids_, weights = bag_ops.position_weights(ids, counts, idf)
        grads = {}
        for dtype in ("bfloat16", "float32"):
            def objective(t, bag):
                return (bag(t.astype(dtype), ids_, weights).astype(jnp.float32) * cotangent).sum()

            grads[dtype] = jax.grad(objective)(table, bag_ops.weighted_bag)
            assert grads[dtype].dtype == jnp.float32
            exact = np.zeros(table.shape)  # Σ over (review, position) of weight × cotangent, both as the bag sees them
            rounded_weights = np.asarray(jnp.asarray(weights, dtype).astype(jnp.float32), np.float64)
            rounded_cotangent = np.asarray(cotangent.astype(dtype).astype(jnp.float32), np.float64)
            np.add.at(exact, np.asarray(ids_), rounded_weights[..., None] * rounded_cotangent[:, None, :])
            np.testing.assert_allclose(grads[dtype], exact, rtol=2 ** -8 if dtype == "bfloat16" else 1e-5, atol=1e-6)
        def gathered_sum(t, i, w):  # the bag written as one gather and a sum, for jax to differentiate
            return jnp.sum(t[i] * w[..., None].astype(t.dtype), axis=1)

        autodiff = jax.grad(objective)(table, gathered_sum)  # float32
        np.testing.assert_allclose(grads["float32"], autodiff, rtol=1e-6, atol=1e-7)


def _config_modules():
    names = sorted(name[:-3] for name in os.listdir(os.path.join(ROOT, "configs"))
                   if name.endswith(".py") and name not in ("__init__.py", "common.py"))
    cases = []
    for name in names:
        module = importlib.import_module(f"configs.{name}")
        for variant in getattr(module, "VARIANTS", (None,)):
            cases.append(pytest.param(module, variant, id=f"{name}:{variant}"))
    return cases


@pytest.mark.parametrize("module,variant", _config_modules())
def test_every_config_takes_model_dtype(module, variant):
    """`--config.model.dtype=bfloat16` needs the key (configs are locked at launch) and a model that takes it."""
    config = module.get_config() if variant is None else module.get_config(variant)
    config.lock()
    config.model.dtype = "bfloat16"
    model = models.build(config.model, 2)
    assert model.dtype == "bfloat16"


@pytest.mark.parametrize("module,variant", [(imdb_bow, "bn_l2"), (imdb_embed, "conv")],
                         ids=["imdb_bow:bn_l2", "imdb_embed:conv"])
def test_text_config_end_to_end_in_bfloat16(module, variant, mock_tfds, tiny, tmp_path):
    config = tiny(module.get_config(variant), **{"data.vocab_size": 50, "data.max_length": 12,
                                                 "model.dtype": "bfloat16"})
    summary = experiment.run(config, str(tmp_path))
    assert summary["epochs_run"] == 1 and summary["num_test_examples"] == 96
    assert np.isfinite(summary["test_loss"]) and 0.0 <= summary["test_accuracy"] <= 1.0
