"""MNIST MLP, 16 learning rates × 3 epochs: one jaxlab sweep (one program) vs 16 sequential jaxlab runs vs a Keras loop.

    TFDS_DATA_DIR=/path/to/tfds python benchmarks/sweep_lr.py [--epochs 3] [--sequential 16] [--keras 4] [--write]

Every side trains configs/mnist_mlp.py:sweep's lanes (the lab recipe: 784-100-10 relu, per-image L2 scaling, SGD at
batch 32, 16 learning rates from 0.01 to 3 on a log grid) on the real MNIST training split (54,000 rows, 6,000 for
validation, evaluated after every epoch), then tests.

* sweep: `experiment.run` of the sweep config (jaxlab.sweep: one compiled program; on CPU its lanes run one after
  another inside it, see `config.lanes_vmapped`), wall time including data, compile, checkpoints and outputs.
* sequential: `experiment.run_once` per lane (`sweep.lane_config`: the same values as ordinary runs), measured on
  `--sequential` lanes (extrapolated linearly to 16 when fewer, printed as such).
* Keras 3 (TensorFlow backend): a fresh model per learning rate on the same preprocessed arrays,
  `fit(epochs, batch_size=32, validation_data=…, verbose=0)`, measured on `--keras` lanes spread over the grid
  (extrapolated linearly to 16, printed as such); the import is not timed, the first `fit` compile is.
The best lane (by validation accuracy after the last epoch's best) of each side is printed. `--write` replaces the
"MNIST MLP: a learning-rate sweep" section of benchmarks/README.md.
"""
import argparse
import contextlib
import io
import os
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "benchmarks"))


def sweep_config(epochs: int):
    from configs import mnist_mlp
    config = mnist_mlp.get_config("sweep")
    config.num_epochs, config.parallelism = epochs, "jit"
    return config


def vmapped(config, workdir):
    from jaxlab import experiment
    started = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):
        summary = experiment.run(config, os.path.join(workdir, "vmapped"))
    best = summary["best"]
    return time.perf_counter() - started, best["values"]["optimizer.learning_rate"], best["score"]


def sequential(config, count, workdir):
    from jaxlab import experiment, report, sweep
    points = sweep.points(config)
    picked = [points[round(i * (len(points) - 1) / max(count - 1, 1))] for i in range(count)]
    results, started = [], time.perf_counter()
    for k, values in enumerate(picked):
        with contextlib.redirect_stdout(io.StringIO()):
            experiment.run_once(sweep.lane_config(config, values), os.path.join(workdir, f"seq_{k}"))
        history = report.read_history(os.path.join(workdir, f"seq_{k}", "history.csv"))
        results.append((max(row["val_accuracy"] for row in history), values["optimizer.learning_rate"]))
    score, lr = max(results)
    return time.perf_counter() - started, lr, score


def keras_loop(config, count):
    from jaxlab import single
    splits, _ = single.build(config)
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    import keras
    import keras_models
    from jaxlab import sweep
    points = sweep.points(config)
    picked = [points[round(i * (len(points) - 1) / max(count - 1, 1))] for i in range(count)]
    train, val = splits.train, splits.validation
    results, started = [], time.perf_counter()
    for values in picked:
        lr = values["optimizer.learning_rate"]
        keras.utils.set_random_seed(0)
        model = keras_models.mnist_mlp()
        model.compile(optimizer=keras.optimizers.SGD(lr), metrics=["accuracy"],
                      loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        fitted = model.fit(train["inputs"], train["label"], epochs=config.num_epochs, batch_size=32,
                           validation_data=(val["inputs"], val["label"]), verbose=0)
        results.append((max(fitted.history["val_accuracy"]), lr))
    score, lr = max(results)
    return time.perf_counter() - started, lr, score


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--sequential", type=int, default=16)
    parser.add_argument("--keras", type=int, default=4)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    config = sweep_config(args.epochs)
    lanes = 16
    rows = []
    with tempfile.TemporaryDirectory(prefix="sweep_lr_") as workdir:
        rows.append(("jaxlab sweep (one program)", lanes, *vmapped(config, workdir)))
        print(rows[-1], flush=True)
        rows.append(("jaxlab sequential runs", args.sequential, *sequential(config, args.sequential, workdir)))
        print(rows[-1], flush=True)
    if args.keras:
        rows.append(("Keras 3 loop over models", args.keras, *keras_loop(config, args.keras)))
        print(rows[-1], flush=True)
    import readme
    readme.timing_report(
        "MNIST MLP: a learning-rate sweep", "TFDS_DATA_DIR=/path/to/tfds python benchmarks/sweep_lr.py --write",
        [(name, measured, seconds, f"{lr:.3g}", f"{score:.4f}") for name, measured, seconds, lr, score in rows],
        lanes, "lanes", ["best lr (of those measured)", "its best val_accuracy"],
        f"16 learning rates × {args.epochs} epochs of the lab MNIST MLP on the real training split. Sweep vs "
        "sequential jaxlab: **{speedup}×** faster (goal ≥ 5×).", args.write)

if __name__ == "__main__":
    main()
