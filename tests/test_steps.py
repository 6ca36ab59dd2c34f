"""Golden one-step values, losses, optimizers, schedules, plateau and early-stopping logic."""
import subprocess
import sys
import os

import jax
import numpy as np
import pytest

from configs import mnist_mlp
from jaxlab import history, losses, models, optim, parallel, programs, shards, steps, train
from jaxlab.data import Splits

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def linear_setup(tmp_path, l2=0.0, mode="jit", num_devices=1):
    rng = np.random.default_rng(42)
    train_set = {"inputs": rng.normal(size=(16, 4)).astype(np.float32),
                 "label": rng.integers(0, 3, size=16).astype(np.int32)}
    splits = Splits(train_set, None, None, {"num_classes": 3, "num_outputs": 3, "task": "classification",
                                            "input_shape": [4]})
    config = mnist_mlp.get_config()
    config.parallelism, config.num_devices, config.batch_size, config.eval_batch_size = mode, num_devices, 16, 16
    config.model.hidden = ()
    config.optimizer.learning_rate = 0.5
    config.l2 = l2
    model = models.build(config.model, 3, parallel.axis_name(mode))
    s = programs.setup(config, str(tmp_path), splits, model)
    s.mngr.close()
    return s, train_set


@pytest.mark.parametrize("mode", parallel.MODES)
def test_train_step_donates_the_state(mode, tmp_path):
    """The compiled train step takes the state's buffers (no second copy of params and optimizer state)."""
    s, _ = linear_setup(tmp_path, mode=mode, num_devices=2)
    rows = np.arange(16, dtype=np.int32).reshape(1, 16)
    before = jax.tree.leaves((s.state.params, s.state.opt_state))
    state, _, _ = s.train_fn(s.state, s.data["train"], parallel.shard_batches(rows, mode, s.devices), s.rng)
    assert all(x.is_deleted() for x in before)
    assert not any(x.is_deleted() for x in jax.tree.leaves(state))


@pytest.mark.parametrize("l2", [0.0, 0.01])
def test_one_sgd_step_matches_closed_form(l2, tmp_path):
    s, data = linear_setup(tmp_path, l2)
    before = parallel.unreplicate(s.state, "jit")
    rows = np.arange(16, dtype=np.int32)[None]
    state, _, step_losses = s.train_fn(s.state, s.data["train"], parallel.shard_batches(rows, "jit", s.devices),
                                       s.rng)
    after = parallel.unreplicate(state, "jit")
    w, b = np.asarray(before.params["Dense_0"]["kernel"], np.float64), np.asarray(before.params["Dense_0"]["bias"])
    x, y = data["inputs"].astype(np.float64), data["label"]
    logits = x @ w + b
    probs = np.exp(logits - logits.max(1, keepdims=True))
    probs /= probs.sum(1, keepdims=True)
    onehot = np.eye(3)[y]
    loss = -np.log(probs[np.arange(16), y]).mean() + l2 * (w ** 2).sum()
    grad_w = x.T @ (probs - onehot) / 16 + 2 * l2 * w
    grad_b = (probs - onehot).mean(0)
    np.testing.assert_allclose(step_losses[0], loss, rtol=1e-5)
    np.testing.assert_allclose(after.params["Dense_0"]["kernel"], w - 0.5 * grad_w, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(after.params["Dense_0"]["bias"], b - 0.5 * grad_b, rtol=1e-5, atol=1e-6)


def test_golden_values(tmp_path):
    """Pinned values (seed 0 init, fixed data, two SGD steps): a change to init, data handling or the step that
    moves them must be deliberate."""
    s, _ = linear_setup(tmp_path)
    rows = np.arange(16, dtype=np.int32).reshape(2, 8).repeat(2, axis=1)
    state, _, step_losses = s.train_fn(s.state, s.data["train"], parallel.shard_batches(rows, "jit", s.devices),
                                       s.rng)
    kernel_sum = float(parallel.unreplicate(state, "jit").params["Dense_0"]["kernel"].sum())
    np.testing.assert_allclose(np.asarray(step_losses), GOLDEN_LOSSES, rtol=1e-5)
    assert kernel_sum == pytest.approx(GOLDEN_KERNEL_SUM, rel=1e-5, abs=1e-6)


GOLDEN_LOSSES = [1.5582369565963745, 1.2237476110458374]
GOLDEN_KERNEL_SUM = 0.15427613258361816


def test_l2_penalty_counts_kernels_only():
    params = {"Dense_0": {"kernel": np.ones((2, 3)), "bias": np.ones(3)}, "Dense_1": {"kernel": 2 * np.ones((3,))}}
    assert float(losses.l2_penalty(params, 0.1)) == pytest.approx(0.1 * (6 + 12))
    assert float(losses.l2_penalty(params, 0.1, r"Dense_1/kernel$")) == pytest.approx(1.2)
    assert float(losses.l2_penalty(params, 0.0)) == 0.0


@pytest.mark.parametrize("name", optim.SCHEDULES)
def test_schedules(name):
    config = mnist_mlp.get_config().optimizer
    config.schedule = name
    config.learning_rate = 1.0
    config.warmup_epochs = 1.0
    config.boundaries_epochs = (5,)
    config.decay_factor = 0.1
    config.decay_epochs = 5
    schedule = optim.schedule(config, steps_per_epoch=10, num_epochs=10)
    first, middle, last = float(schedule(0)), float(schedule(60)), float(schedule(99))
    expected = {
        "constant": (1.0, 1.0, 1.0),
        "cosine": (1.0, 0.5 * (1 + np.cos(np.pi * 0.6)), 0.5 * (1 + np.cos(np.pi * 0.99))),
        "warmup_cosine": (0.0, 0.5 * (1 + np.cos(np.pi * 50 / 90)), 0.5 * (1 + np.cos(np.pi * 89 / 90))),
        "step": (1.0, 0.1, 0.1),
        "exponential": (1.0, 0.1 ** (60 / 50), 0.1 ** (99 / 50)),
    }[name]
    np.testing.assert_allclose((first, middle, last), expected, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("name", ["sgd", "momentum", "adam", "adamw", "rmsprop"])
def test_optimizers_build(name):
    config = mnist_mlp.get_config().optimizer
    config.name = name
    tx = optim.build(config, 10, 2)
    params = {"w": np.ones(3, np.float32)}
    updates, _ = tx.update({"w": np.ones(3, np.float32)}, tx.init(params), params)
    assert np.all(np.asarray(updates["w"]) < 0)


def test_reduce_on_plateau_scales_after_patience():
    config = mnist_mlp.get_config().reduce_on_plateau
    config.patience, config.factor = 2, 0.5
    plateau_tx = optim.plateau(config)
    state = steps.TrainState(step=0, params={"w": np.ones(2)}, batch_stats={}, opt_state=(),
                             plateau=plateau_tx.init({"w": np.ones(2)}), first_loss=np.nan)
    scales = []
    for value in [1.0, 0.5, 0.5, 0.5, 0.5, 0.5]:
        state = steps.update_plateau(state, np.float32(value), plateau_tx=plateau_tx)
        scales.append(float(state.plateau.scale))
    assert scales == [1.0, 1.0, 1.0, 0.5, 0.5, 0.25]


def test_early_stopping_from_history():
    config = mnist_mlp.get_config()
    config.monitor, config.monitor_mode = "val_loss", "min"
    config.early_stopping.patience = 2
    rows = [{"epoch": e, "val_loss": v} for e, v in enumerate([1.0, 0.8, 0.9, 0.85], start=1)]
    assert not history.should_stop_early(rows[:3], config)
    assert history.should_stop_early(rows, config)
    config.early_stopping.patience = 0
    assert not history.should_stop_early(rows, config)
    assert history.best_epoch(rows, "val_loss", "min") == (2, 0.8)


def test_divergence_guard_names_the_step():
    train.check_divergence(np.array([2.3, 2.2]), 10, 1, 2.3, 20.0)
    with pytest.raises(Exception, match=r"loss nan at step 12 \(epoch 2\)"):
        train.check_divergence(np.array([2.3, np.nan]), 10, 2, 2.3, 20.0)
    with pytest.raises(Exception, match=r"at step 11 "):
        train.check_divergence(np.array([100.0, 1.0]), 10, 2, 2.3, 20.0)


def test_config_typo_is_a_clear_error(tmp_path):
    result = subprocess.run(
        [sys.executable, "launch.py", "--config", "configs/mnist_mlp.py", "--workdir", str(tmp_path),
         "--config.optimizer.learning_rat=0.1"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode != 0
    assert "learning_rat" in result.stderr and "learning_rate" in result.stderr
    assert "Traceback" not in result.stderr


def _cnn_chunk(unroll_steps, tmp_path):
    from configs import mnist_cnn
    from jaxlab import parallel
    rng = np.random.default_rng(0)
    splits = Splits({"inputs": rng.random((32, 12, 12, 1), dtype=np.float32),
                     "label": rng.integers(0, 10, 32).astype(np.int32)}, None, None, {"num_classes": 10})
    config = mnist_cnn.get_config("default")
    config.parallelism, config.batch_size, config.unroll_steps = "jit", 8, unroll_steps
    config.optimizer.name = "sgd"   # Adam turns float noise in the (BatchNorm-cancelled) conv bias grads into ±lr
    config.optimizer.learning_rate = 0.05
    model = models.build(config.model, 10, None)
    s = programs.setup(config, str(tmp_path / f"unroll{unroll_steps}"), splits, model, jax.devices()[:1])
    rows = parallel.shard_batches(shards.epoch_order(0, 1, 32, 8), "jit", s.devices)
    state, totals, losses = s.train_fn(s.state, s.data["train"], rows, s.rng)
    s.mngr.close()
    return s.unroll_steps, jax.device_get(state), steps.compute(totals), np.asarray(losses)


def test_unrolled_steps_compute_what_the_scan_loop_does(tmp_path):
    """The straight-line chunk (XLA:CPU's fast path for backward convolutions) runs the same steps as lax.scan:
    equal up to float reassociation."""
    auto, unrolled, unrolled_metrics, unrolled_losses = _cnn_chunk(-1, tmp_path)
    loop, looped, looped_metrics, looped_losses = _cnn_chunk(0, tmp_path)
    assert (auto, loop) == (steps.UNROLLED_STEPS, 0)   # a conv net on CPU is unrolled by default
    np.testing.assert_allclose(unrolled_losses, looped_losses, rtol=1e-5)
    jax.tree.map(lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6),
                 (unrolled.params, unrolled.batch_stats), (looped.params, looped.batch_stats))
    assert unrolled_metrics == pytest.approx(looped_metrics, rel=1e-5)
    assert int(unrolled.step) == int(looped.step) == 4


def test_unroll_default_only_for_convolutions_on_cpu():
    from configs import mnist_mlp
    config = mnist_mlp.get_config()
    sample = np.zeros((1, 28, 28, 1), np.float32)
    mlp = models.build(config.model, 10, None)
    assert steps.unrolled_steps(config, mlp, sample, jax.devices()) == 0
    config.unroll_steps = 3
    assert steps.unrolled_steps(config, mlp, sample, jax.devices()) == 3
