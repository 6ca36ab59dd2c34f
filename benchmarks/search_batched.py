"""Simpsons random search, 10 trials × 3 executions × 20 epochs: batched (one program) vs one trial at a time
vs a KerasTuner-style Keras loop.

    JAXLAB_DATA_DIR=/path/to/data python benchmarks/search_batched.py [--epochs 20] [--keras_trials 10] [--write]

Every side searches configs/simpsons_search.py:batched's space (the lab MLP Flatten → Dense 512 relu → Dropout →
Dense 256 relu → Dropout → Dense 10 with L2 1e-3 on the hidden kernels; dropout 0.1–0.4, Adam lr 1e-5–1e-3 log) on
the Simpsons image folder (28×28 grayscale), scoring a trial by the mean over its 3 executions of the best epoch's
validation accuracy, as KerasTuner does.

* batched: `experiment.run` with search.batch_size = 10 (the 30 lanes in one program), wall time of the whole search
  (data, compile, checkpoints, results; no retrain).
* one at a time: the same config with search.batch_size = 1 (today's search: 30 ordinary runs).
* Keras 3 (TensorFlow backend): the same 10 trials' values (read from the batched search's trials.csv), 3 fresh
  models each, `fit(epochs, batch_size=32, validation_data=…, verbose=0)` on the same preprocessed arrays, one after
  another as KerasTuner's RandomSearch runs them; measured on `--keras_trials` trials (extrapolated linearly to 10
  when fewer, printed as such). The import is not timed.
`--write` replaces the "Simpsons: a batched search" section of benchmarks/README.md.
"""
import argparse
import contextlib
import csv
import io
import os
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "benchmarks"))


def search_config(epochs: int, batch_size: int):
    from configs import simpsons_search
    config = simpsons_search.get_config("batched")
    config.num_epochs = epochs
    config.search.batch_size = batch_size
    config.search.retrain = False
    config.parallelism = "jit"
    return config


def jaxlab_search(config, workdir):
    from jaxlab import experiment
    started = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):
        best = experiment.run(config, workdir)
    with open(os.path.join(workdir, "trials.csv"), newline="") as f:
        trials = list(csv.DictReader(f))
    return time.perf_counter() - started, best["trial"], best["value"], trials


def keras_search(config, trials, count):
    from jaxlab import single
    from jaxlab.search import apply
    splits, _ = single.build(apply(config, {}, config.seed))
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    import keras
    from keras import layers
    train, val = splits.train, splits.validation
    scores, started = [], time.perf_counter()
    for trial in trials[:count]:
        dropout, lr = float(trial["params_dropout"]), float(trial["params_learning_rate"])
        runs = []
        for execution in range(config.search.executions_per_trial):
            keras.utils.set_random_seed(config.seed + execution)
            l2 = keras.regularizers.L2(config.l2)
            model = keras.Sequential([keras.Input(train["inputs"].shape[1:]), layers.Flatten(),
                                      layers.Dense(512, activation="relu", kernel_regularizer=l2),
                                      layers.Dropout(dropout),
                                      layers.Dense(256, activation="relu", kernel_regularizer=l2),
                                      layers.Dropout(dropout), layers.Dense(10)])
            model.compile(optimizer=keras.optimizers.Adam(lr), metrics=["accuracy"],
                          loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
            fitted = model.fit(train["inputs"], train["label"], epochs=config.num_epochs, batch_size=32,
                               validation_data=(val["inputs"], val["label"]), verbose=0)
            runs.append(max(fitted.history["val_accuracy"]))
        scores.append((sum(runs) / len(runs), int(trial["number"])))
    value, number = max(scores)
    return time.perf_counter() - started, number, value


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--keras_trials", type=int, default=10)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="search_batched_") as workdir:
        seconds, best, value, trials = jaxlab_search(search_config(args.epochs, 10), os.path.join(workdir, "b"))
        rows.append(("jaxlab search, batch_size 10 (one program)", 10, seconds, best, value))
        print(rows[-1], flush=True)
        seconds, best, value, _ = jaxlab_search(search_config(args.epochs, 1), os.path.join(workdir, "one"))
        rows.append(("jaxlab search, one trial at a time", 10, seconds, best, value))
        print(rows[-1], flush=True)
    if args.keras_trials:
        rows.append(("Keras 3 loop (KerasTuner-style)", args.keras_trials,
                     *keras_search(search_config(args.epochs, 1), trials, args.keras_trials)))
        print(rows[-1], flush=True)
    import readme
    readme.timing_report(
        "Simpsons: a batched search", "JAXLAB_DATA_DIR=/path/to/data python benchmarks/search_batched.py --write",
        [(name, measured, seconds, str(best), f"{value:.4f}") for name, measured, seconds, best, value in rows],
        10, "trials", ["best trial", "its mean val_accuracy"],
        f"10 random trials × 3 executions × {args.epochs} epochs (30 lanes). Batched vs one trial at a time: "
        "**{speedup}×** faster (goal ≥ 2×).", args.write)

if __name__ == "__main__":
    main()
