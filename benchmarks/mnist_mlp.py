"""MNIST MLP 784-100-10, SGD 0.01, batch 32: seconds per training epoch (54,000 examples), steady state.

Side by side in one process, interleaved over `--repeats` rounds (best round reported, so a busy machine hurts
every contender alike):
  * jaxlab  — the whole `jaxlab.train.fit` loop: metrics, validation pass, history.csv, checkpoint, epoch line.
              Per-epoch time = mean interval between epoch lines after the first (compilation excluded).
  * bare jit — a plain jitted Flax/optax step called once per batch from Python (device-resident batches).
  * Keras 3  — `model.fit` (TensorFlow backend), per-epoch times from a callback, first epoch dropped.

    python benchmarks/mnist_mlp.py [--epochs 3] [--repeats 2]

Data are random arrays of MNIST's shapes (timing does not depend on pixel values).
"""
import argparse
import contextlib
import io
import os
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402
from keras_timing import epoch_timer  # noqa: E402  (benchmarks/, the script's folder)

NUM_TRAIN, NUM_VAL, BATCH = 54_000, 6_000, 32


def make_data(seed=0):
    rng = np.random.default_rng(seed)
    x = rng.random((NUM_TRAIN + NUM_VAL, 28, 28, 1), dtype=np.float32) / 28.0
    y = rng.integers(0, 10, NUM_TRAIN + NUM_VAL).astype(np.int32)
    return x, y


class _EpochClock(io.TextIOBase):
    """Stands in for stdout and notes when each `epoch k/N` line is printed."""

    def __init__(self):
        self.times = []

    def write(self, text):
        if text.startswith("epoch "):
            self.times.append(time.perf_counter())
        return len(text)


def jaxlab_epoch_seconds(x, y, epochs: int, checkpoint_every: int = 1) -> float:
    """Mean time between consecutive epoch lines of one `fit` (epochs 2…1+E): training chunks, validation pass,
    history.csv, TensorBoard summaries and the checkpoint — everything the loop does per epoch."""
    from configs import mnist_mlp
    from jaxlab import models, parallel, train
    from jaxlab.data import Splits

    splits = Splits({"inputs": x[:NUM_TRAIN], "label": y[:NUM_TRAIN]},
                    {"inputs": x[NUM_TRAIN:], "label": y[NUM_TRAIN:]}, None,
                    {"num_classes": 10, "num_outputs": 10, "task": "classification", "input_shape": [28, 28, 1]})
    config = mnist_mlp.get_config()
    config.num_epochs = 1 + epochs
    config.num_devices = 1
    config.checkpoint.every_epochs = checkpoint_every
    model = models.build(config.model, 10, parallel.axis_name(config.parallelism))
    clock = _EpochClock()
    with tempfile.TemporaryDirectory() as workdir, contextlib.redirect_stdout(clock):
        train.fit(config, workdir, splits, model)
    return float(np.mean(np.diff(clock.times)))


def bare_jit_epoch_seconds(x, y, epochs: int) -> float:
    import flax.linen as nn
    import jax
    import optax

    class MLP(nn.Module):
        @nn.compact
        def __call__(self, inputs):
            return nn.Dense(10)(nn.relu(nn.Dense(100)(inputs.reshape((inputs.shape[0], -1)))))

    model, tx = MLP(), optax.sgd(0.01)
    params = model.init(jax.random.PRNGKey(0), x[:1])
    opt_state = tx.init(params)

    @jax.jit
    def step(params, opt_state, images, labels):
        def loss_fn(p):
            return optax.softmax_cross_entropy_with_integer_labels(model.apply(p, images), labels).mean()
        loss, grads = jax.value_and_grad(loss_fn)(params)
        updates, opt_state = tx.update(grads, opt_state)
        return optax.apply_updates(params, updates), opt_state, loss

    steps = NUM_TRAIN // BATCH
    images = jax.device_put(x[:steps * BATCH].reshape(steps, BATCH, 28, 28, 1))
    labels = jax.device_put(y[:steps * BATCH].reshape(steps, BATCH))
    params, opt_state, loss = step(params, opt_state, images[0], labels[0])
    loss.block_until_ready()
    started = time.perf_counter()
    for _ in range(epochs):
        for i in range(steps):
            params, opt_state, loss = step(params, opt_state, images[i], labels[i])
    loss.block_until_ready()
    return (time.perf_counter() - started) / epochs


def keras_epoch_seconds(x, y, epochs: int) -> float:
    import keras

    import keras_models
    model = keras_models.mnist_mlp()
    model.compile(optimizer=keras.optimizers.SGD(0.01),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    times = []

    model.fit(x[:NUM_TRAIN], y[:NUM_TRAIN], batch_size=BATCH, epochs=1 + epochs, verbose=0,
              callbacks=[epoch_timer(times)], validation_data=(x[NUM_TRAIN:], y[NUM_TRAIN:]))
    return float(np.mean(times[1:]))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    import tensorflow as tf
    tf.config.set_visible_devices([], "GPU")
    x, y = make_data()
    results = {"jaxlab fit (whole loop)": [], "jaxlab fit, checkpoint at the end only": [], "bare jitted step": [],
               "Keras 3 fit (TF)": []}
    for _ in range(args.repeats):
        results["jaxlab fit (whole loop)"].append(jaxlab_epoch_seconds(x, y, args.epochs))
        results["jaxlab fit, checkpoint at the end only"].append(
            jaxlab_epoch_seconds(x, y, args.epochs, checkpoint_every=1000))
        results["bare jitted step"].append(bare_jit_epoch_seconds(x, y, args.epochs))
        results["Keras 3 fit (TF)"].append(keras_epoch_seconds(x, y, args.epochs))
    best = {name: min(values) for name, values in results.items()}
    keras_s, jaxlab_s, bare_s = best["Keras 3 fit (TF)"], best["jaxlab fit (whole loop)"], best["bare jitted step"]
    print("| contender | s / epoch (best of %d) | all rounds | vs Keras |" % args.repeats)
    print("|---|---|---|---|")
    for name, seconds in best.items():
        rounds = ", ".join(f"{v:.3f}" for v in results[name])
        print(f"| {name} | {seconds:.3f} | {rounds} | {keras_s / seconds:.2f}× |")
    print(f"\njaxlab vs Keras: {keras_s / jaxlab_s:.2f}× faster (goal ≥ 3×); "
          f"jaxlab / bare jitted step: {jaxlab_s / bare_s:.2f} (goal ≤ 1.2)")


if __name__ == "__main__":
    main()
