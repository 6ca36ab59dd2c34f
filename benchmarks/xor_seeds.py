"""XOR, 100 seeds: one vmapped jaxlab program vs 100 sequential jaxlab runs vs Keras looping over 100 models.

    python benchmarks/xor_seeds.py [--seeds 100] [--sequential 5] [--keras 5] [--epochs 1000] [--write]

Every side trains configs/xor.py:two_layer's recipe (2 → 2 tanh → 1, ±1 inputs, MSE against ±1 targets, full-batch
gradient descent with momentum 0.9, lr 0.1) for the same number of epochs (one full-batch step each) with the
patterns evaluated after every epoch.

* vmapped: `experiment.run` with num_seeds = K (jaxlab.seeds: one compiled program, 250 epochs per dispatch), wall
  time including data, compile, checkpoints and summary.
* sequential: `experiment.run_once` per seed (train.fit: one dispatch per epoch, history.csv, epoch lines,
  checkpoints), measured on `--sequential` seeds and extrapolated linearly to K (printed as such).
* Keras 3 (TensorFlow backend): a fresh model per seed, `fit(epochs, batch_size=4, validation_data=patterns,
  verbose=0)`, measured on `--keras` models and extrapolated linearly to K (printed as such); the TensorFlow
  import is not timed, its first `fit` compile is.
Stdout of the jaxlab runs is discarded (their epoch lines) so the terminal does not dominate. `--write` replaces the
"XOR: many seeds" section of benchmarks/README.md.
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


def xor_config(epochs: int, num_seeds: int):
    from configs import xor
    config = xor.get_config("two_layer")
    config.num_epochs, config.num_seeds, config.parallelism = epochs, num_seeds, "jit"
    return config


def vmapped(epochs: int, num_seeds: int, workdir: str) -> tuple[float, float]:
    from jaxlab import experiment
    started = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):
        summary = experiment.run(xor_config(epochs, num_seeds), os.path.join(workdir, "vmapped"))
    return time.perf_counter() - started, summary["solved_rate"]


def sequential(epochs: int, count: int, workdir: str) -> tuple[float, float]:
    from jaxlab import experiment, seeds
    config = xor_config(epochs, 1)
    solved, started = 0, time.perf_counter()
    for seed in range(count):
        with contextlib.redirect_stdout(io.StringIO()):
            result = experiment.run_once(seeds.seed_config(config, seed), os.path.join(workdir, f"seq_{seed}"))
        solved += result["test_accuracy"] >= 1.0
    return time.perf_counter() - started, solved / count


def keras_loop(epochs: int, count: int) -> tuple[float, float]:
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    import keras
    import numpy as np
    keras.layers.Dense(1)  # imports done before the clock starts
    inputs = np.asarray([[-1, -1], [-1, 1], [1, -1], [1, 1]], np.float32)
    targets = np.asarray([[-1], [1], [1], [-1]], np.float32)
    solved, started = 0, time.perf_counter()
    for seed in range(count):
        keras.utils.set_random_seed(seed)
        model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(2, activation="tanh"), keras.layers.Dense(1)])
        model.compile(optimizer=keras.optimizers.SGD(0.1, momentum=0.9), loss="mse")
        model.fit(inputs, targets, epochs=epochs, batch_size=4, validation_data=(inputs, targets), verbose=0)
        solved += bool(np.all(np.sign(model.predict(inputs, verbose=0)) == targets))
    return time.perf_counter() - started, solved / count


def table(rows, num_seeds: int, epochs: int) -> str:
    vmapped_seconds = rows[0][2]
    lines = [f"| side | models measured | seconds measured | seconds for {num_seeds} models | per model (s) | "
             f"× vmapped | solved |", "|---|---|---|---|---|---|---|"]
    for name, measured, seconds, solved in rows:
        total = seconds * num_seeds / measured
        note = "" if measured == num_seeds else " (extrapolated)"
        lines.append(f"| {name} | {measured} | {seconds:.1f} | {total:.1f}{note} | {total / num_seeds:.3f} | "
                     f"{total / vmapped_seconds:.1f} | {solved:.0%} |")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=100)
    parser.add_argument("--sequential", type=int, default=5)
    parser.add_argument("--keras", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=1000)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="xor_seeds_") as workdir:
        rows = [("jaxlab vmapped (one program)", args.seeds, *vmapped(args.epochs, args.seeds, workdir))]
        print(rows[-1], flush=True)
        rows.append(("jaxlab sequential runs", args.sequential, *sequential(args.epochs, args.sequential, workdir)))
        print(rows[-1], flush=True)
    rows.append(("Keras 3 loop over models", args.keras, *keras_loop(args.epochs, args.keras)))
    print(rows[-1], flush=True)
    text = table(rows, args.seeds, args.epochs)
    sequential_ratio = rows[1][2] * args.seeds / args.sequential / rows[0][2]
    summary = (f"K = {args.seeds} XOR seeds, {args.epochs} full-batch epochs each (validation every epoch). "
               f"Sequential and Keras sides measured on {args.sequential} and {args.keras} models and extrapolated "
               f"linearly to {args.seeds}. vmapped vs sequential jaxlab: {sequential_ratio:.1f}× faster (goal ≥ 20×).")
    print(text + "\n\n" + summary)
    if args.write:
        write_readme(text, summary)


def write_readme(text: str, summary: str) -> None:
    path = os.path.join(ROOT, "benchmarks", "README.md")
    with open(path) as f:
        readme = f.read()
    section = ("## XOR: many seeds\n\n`python benchmarks/xor_seeds.py --write` — configs/xor.py:two_layer's recipe "
               "(2-2-1 tanh, MSE on ±1, momentum GD) on the 4 patterns.\n\n" + text + "\n\n" + summary +
               f" Measured {time.strftime('%Y-%m-%d')} on the shared 2-core CPU (other jobs running).\n")
    start = readme.find("## XOR: many seeds")
    if start < 0:
        readme = readme.rstrip("\n") + "\n\n" + section
    else:
        end = readme.find("\n## ", start + 1)
        readme = readme[:start] + section + (readme[end + 1:] if end >= 0 else "")
    with open(path, "w") as f:
        f.write(readme)


if __name__ == "__main__":
    main()
