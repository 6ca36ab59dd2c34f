"""Movies MLP (net 1 of configs/movies_profit.py:bn): 200 epochs at batch 40, jaxlab vs a plain Flax loop vs Keras 3
fit, side by side.

    TFDS_DATA_DIR=unused python benchmarks/movies.py [--path csv/movie_metadata.csv] [--write]

--path is relative to the data root $JAXLAB_DATA_DIR (README "Data") or absolute.

All three get the same arrays (the csv loader's train / validation split of the real file, 36 features),
the same net (Dense 64-128-128-64-64, each → BatchNorm → relu, → 2 softmax), Adam 1e-3, batch 40, 200 epochs with
validation after each epoch. Each runs in its own subprocess.

* jaxlab: `jaxlab.train.fit` (jit mode, one device, checkpoint at the end only) timed for 1 epoch and for 200
  epochs in fresh workdirs; compile + setup = T1 − (T200 − T1)/199, training = T200 − compile + setup.
* plain Flax: the issue's own reference, the bare loop it timed at ≈ 1.9 s before jaxlab existed — the same net as
  a flax.linen module, optax.adam, each epoch one jitted `lax.scan` over its batches of a fresh permutation, plus a
  jitted validation pass; no metrics, checkpoints, history or hooks. Timed in the same minute as jaxlab, so the
  ratio jaxlab / plain says what jaxlab costs on top of the bare computation whatever the machine's speed that day.
  compile = T(first epoch) − median epoch, training = sum of 200 epochs − compile.
* Keras (TensorFlow backend): `model.fit` epoch times; compile = first epoch − median epoch, training = total −
  compile.
"""
import argparse
import functools
import json
import os
import subprocess
import sys
import tempfile
import time

from keras_timing import epoch_timer  # benchmarks/, the script's folder
from readme import write_section

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
EPOCHS, BATCH = 200, 40


def arrays(path: str):
    from configs import movies_profit
    from jaxlab import data
    config = movies_profit.get_config("bn")
    config.data.path = path
    return config, data.build(config.data, config.seed)


def run_jaxlab(path: str) -> dict:
    from jaxlab import experiment, train
    config, splits = arrays(path)
    config.parallelism = "jit"
    config.num_devices = 1
    times = {}
    for epochs in (1, EPOCHS):
        config.num_epochs = epochs
        config.checkpoint.every_epochs = epochs
        model = experiment.build(config)[1]
        with tempfile.TemporaryDirectory() as workdir:
            started = time.perf_counter()
            result = train.fit(config, workdir, splits, model)
            times[epochs] = time.perf_counter() - started
    per_epoch = (times[EPOCHS] - times[1]) / (EPOCHS - 1)
    compile_seconds = times[1] - per_epoch
    return {"framework": "jaxlab", "train_seconds": times[EPOCHS] - compile_seconds,
            "compile_seconds": compile_seconds, "val_accuracy": result.history[-1]["val_accuracy"]}


def run_plain(path: str) -> dict:
    import flax.linen as nn
    import jax
    import jax.numpy as jnp
    import numpy as np
    import optax
    _, splits = arrays(path)
    inputs, labels = jnp.asarray(splits.train["inputs"]), jnp.asarray(splits.train["label"])
    val_inputs, val_labels = jnp.asarray(splits.validation["inputs"]), jnp.asarray(splits.validation["label"])
    steps = inputs.shape[0] // BATCH

    class Net(nn.Module):
        @nn.compact
        def __call__(self, x, train: bool):
            for units in (64, 128, 128, 64, 64):
                x = nn.Dense(units)(x)
                x = nn.BatchNorm(use_running_average=not train, momentum=0.99, epsilon=1e-3)(x)
                x = nn.relu(x)
            return nn.Dense(2)(x)

    net, tx = Net(), optax.adam(1e-3)
    variables = net.init(jax.random.PRNGKey(0), inputs[:1], train=False)
    carry = (variables["params"], variables["batch_stats"], tx.init(variables["params"]))

    def step(carry, rows):
        params, batch_stats, opt_state = carry

        def loss_fn(params):
            logits, updates = net.apply({"params": params, "batch_stats": batch_stats}, inputs[rows], train=True,
                                        mutable=["batch_stats"])
            return optax.softmax_cross_entropy_with_integer_labels(logits, labels[rows]).mean(), updates

        grads, updates = jax.grad(loss_fn, has_aux=True)(params)
        step_updates, opt_state = tx.update(grads, opt_state, params)
        return (optax.apply_updates(params, step_updates), updates["batch_stats"], opt_state), None

    @functools.partial(jax.jit, donate_argnums=0)
    def epoch(carry, key):
        order = jax.random.permutation(key, inputs.shape[0])[:steps * BATCH].reshape(steps, BATCH)
        return jax.lax.scan(step, carry, order)[0]

    @jax.jit
    def val_accuracy(carry):
        logits = net.apply({"params": carry[0], "batch_stats": carry[1]}, val_inputs, train=False)
        return jnp.mean(jnp.argmax(logits, -1) == val_labels)

    epoch_seconds = []
    for index in range(EPOCHS):
        started = time.perf_counter()
        carry = epoch(carry, jax.random.PRNGKey(index))
        accuracy = float(val_accuracy(carry))
        epoch_seconds.append(time.perf_counter() - started)
    compile_seconds = epoch_seconds[0] - float(np.median(epoch_seconds[1:]))
    return {"framework": "plain Flax (lax.scan epoch)", "train_seconds": sum(epoch_seconds) - compile_seconds,
            "compile_seconds": compile_seconds, "val_accuracy": accuracy}


def run_keras(path: str) -> dict:
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    import keras
    import numpy as np
    _, splits = arrays(path)
    keras.utils.set_random_seed(0)
    import keras_models
    model = keras_models.movies_bn(splits.train["inputs"].shape[1])
    model.compile(optimizer=keras.optimizers.Adam(1e-3),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    epoch_seconds = []

    history = model.fit(splits.train["inputs"], splits.train["label"], batch_size=BATCH, epochs=EPOCHS, verbose=0,
                        validation_data=(splits.validation["inputs"], splits.validation["label"]),
                        callbacks=[epoch_timer(epoch_seconds)])
    compile_seconds = epoch_seconds[0] - float(np.median(epoch_seconds[1:]))
    return {"framework": "keras", "train_seconds": sum(epoch_seconds) - compile_seconds,
            "compile_seconds": compile_seconds, "val_accuracy": history.history["val_accuracy"][-1]}


def table(results: list[dict]) -> str:
    jaxlab, plain, keras = results
    lines = ["| framework | training time 200 epochs (s) | compile + setup (s) | last val accuracy |",
             "|---|---|---|---|"]
    for row in results:
        lines.append(f"| {row['framework']} | {row['train_seconds']:.2f} | {row['compile_seconds']:.2f} | "
                     f"{row['val_accuracy']:.3f} |")
    lines.append(f"\nKeras / jaxlab training time: {keras['train_seconds'] / jaxlab['train_seconds']:.1f}×; "
                 f"jaxlab / plain Flax: {jaxlab['train_seconds'] / plain['train_seconds']:.2f}×")
    return "\n".join(lines)


RUNNERS = {"jaxlab": run_jaxlab, "plain": run_plain, "keras": run_keras}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--path", default="csv/movie_metadata.csv", help="under $JAXLAB_DATA_DIR, or absolute")
    parser.add_argument("--framework", choices=RUNNERS)
    parser.add_argument("--write", action="store_true", help="write the table into benchmarks/README.md")
    args = parser.parse_args()
    if args.framework:
        result = RUNNERS[args.framework](args.path)
        print("RESULT " + json.dumps(result), flush=True)
        return
    results = []
    for framework in RUNNERS:
        out = subprocess.run([sys.executable, __file__, "--framework", framework, "--path", args.path],
                             capture_output=True, text=True, check=False)
        found = [line for line in out.stdout.splitlines() if line.startswith("RESULT ")]
        if not found:
            sys.exit(f"{framework} failed:\n{out.stderr[-3000:]}")
        results.append(json.loads(found[-1][len("RESULT "):]))
        print(results[-1], flush=True)
    text = table(results)
    print(text)
    if args.write:
        write_section("Movies MLP (tabular)", text + f"\n\nMeasured {time.strftime('%Y-%m-%d')} on the shared "
                      "2-core CPU (`python benchmarks/movies.py --write`).")


if __name__ == "__main__":
    main()
