"""Side-by-side suite: every seed model trained by jaxlab (pmap and jit, device and host input) and by Keras 3 `fit`.

    python benchmarks/run.py                  # the full suite (~15-20 min on an idle 2-core CPU), prints the table
    python benchmarks/run.py --write          # same, and writes it into benchmarks/README.md
    python benchmarks/run.py --quick          # tiny sizes: checks that every case runs (figures meaningless)
    python benchmarks/run.py --only 'movies|keras'   # cases whose "model contender" matches the regex

Metric: training examples/s in steady state, after compilation. jaxlab: `train.fit`'s `examples_per_second` (the
epochs after the first); Keras 3 (TensorFlow backend): N / mean epoch seconds after the first (`model.fit`,
verbose 0). Both train on the train split only (no validation pass on either side, so the same work is timed), with
the config's net, loss, optimizer and batch (Keras twins in benchmarks/keras_models.py), one device, the train
size trimmed to whole batches. For time, VGG16 runs at batch 32 without augmentation (both sides) and IMDB at 500
ids per review (the config reads 1000); IMDB's input is prepared once on both sides, as each one's loader does it:
the dense encoded count matrix for Keras, the bags of words (`data.encoding=bag`) for jaxlab. Data are random
arrays of each model's real shapes (timing does not depend on the values, except IMDB's: random ids make every token
a distinct word, ≈ 213 per review against 127 in real reviews, which is harder for jaxlab's bag;
benchmarks/imdb_bow.py times the real reviews). Every measurement runs in its own subprocess: TF and JAX never share
a process, and a crash or a timeout is one "failed: …" cell.
"""
import argparse
import dataclasses
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from typing import Callable

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
KERAS = "Keras 3 fit (TF)"
CONTENDERS = ("jaxlab pmap, device input", "jaxlab pmap, host input", "jaxlab jit, device input",
              "jaxlab jit, host input", KERAS)
HEADING = "Side-by-side suite (benchmarks/run.py)"


@dataclasses.dataclass(frozen=True)
class Bench:
    title: str
    config: str                 # configs/<module>.py:<variant>
    shape: tuple                # one example's inputs; ("ids", length) for token ids
    num_classes: int
    rows: int                   # training examples (full suite)
    epochs: int                 # timed epochs after the first (full suite)
    quick_rows: int
    goal: float                 # best jaxlab / Keras at least this
    keras: Callable             # config → uncompiled Keras twin
    overrides: tuple = ()       # (dotted config key, value) for the benchmark only
    vocab_size: int = 0


def _keras_models():
    import keras_models  # benchmarks/, the script's folder
    return keras_models


BENCHES = {
    "mnist_mlp": Bench("MNIST MLP", "mnist_mlp:default", (28, 28, 1), 10, 54_000, 3, 1_024, 3.0,
                       lambda c: _keras_models().mnist_mlp()),
    "mnist_cnn": Bench("MNIST CNN (lab)", "mnist_cnn:default", (28, 28, 1), 10, 6_000, 2, 128, 1.0,
                       lambda c: _keras_models().lab_cnn()),
    "imdb_bow": Bench("IMDB BoW", "imdb_bow:l2", ("ids", 500), 2, 25_000, 3, 1_024, 3.0,
                      lambda c: _keras_models().imdb_bow(c.model.vocab_size, c.l2),
                      overrides=(("data.max_length", 500),), vocab_size=10_000),
    "movies": Bench("Movies MLP (bn)", "movies_profit:bn", (36,), 2, 2_334, 20, 400, 3.0,
                    lambda c: _keras_models().movies_bn(36)),
    # 256 images (8 steps at batch 32): a VGG16 step takes seconds on this CPU.
    "cifar_vgg": Bench("CIFAR VGG16-BN", "cifar_vgg:default", (32, 32, 3), 100, 256, 2, 64, 1.0,
                       lambda c: _keras_models().vgg16(100, c.l2, dense=tuple(c.model.dense),
                                                        dropout=c.model.dropout),
                       overrides=(("batch_size", 32), ("data.augment", ()))),
}


def get_config(bench: Bench):
    import importlib
    module, variant = bench.config.split(":")
    config = importlib.import_module(f"configs.{module}").get_config(variant)
    for key, value in bench.overrides:
        *parents, leaf = key.split(".")
        node = config
        for parent in parents:
            node = node[parent]
        node[leaf] = value
    return config


def sizes(bench: Bench, batch_size: int, quick: bool) -> tuple[int, int]:
    """(training rows trimmed to whole batches, timed epochs after the first)."""
    rows = bench.quick_rows if quick else bench.rows
    return max(batch_size, rows - rows % batch_size), (1 if quick else bench.epochs)


def make_data(bench: Bench, rows: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    if bench.shape[0] == "ids":  # ~215 tokens per review on average, padding (0) after, as the real reviews
        length = bench.shape[1]
        ids = rng.integers(2, bench.vocab_size, (rows, length)).astype(np.int32)
        ids[np.arange(length)[None, :] >= rng.integers(20, 411, (rows, 1))] = 0
        inputs = ids
    elif len(bench.shape) == 1:
        inputs = rng.standard_normal((rows,) + bench.shape).astype(np.float32)
    else:
        inputs = rng.random((rows,) + bench.shape, dtype=np.float32)
    return inputs, rng.integers(0, bench.num_classes, rows).astype(np.int32)


def fitted(bench: Bench, inputs: np.ndarray) -> dict:
    """What the data loader fits on the training data for the model (`jaxlab.models.FROM_DATA`): the idf of token-id
    inputs (used when the config's counts are tfidf)."""
    if bench.shape[0] != "ids":
        return {}
    from jaxlab.data import imdb
    return {"idf": imdb.fit_idf(inputs, bench.vocab_size).tolist()}


def jaxlab_case(bench: Bench, contender: str, quick: bool) -> dict:
    import jax

    from jaxlab import models, parallel, train
    from jaxlab.data import Splits

    config = get_config(bench)
    rows, epochs = sizes(bench, config.batch_size, quick)
    config.parallelism, config.input = contender.split()[1].rstrip(","), contender.split()[2]
    config.num_devices, config.num_epochs = 1, 1 + epochs
    config.checkpoint.every_epochs, config.checkpoint.best_metric = config.num_epochs, ""  # at the end, no val metric
    config.early_stopping.patience, config.reduce_on_plateau.patience, config.restore_best = 0, 0, False
    inputs, labels = make_data(bench, rows)
    binary = config.task == "binary"
    fit = fitted(bench, inputs)
    if config.data.get("encoding") == "bag":  # the ids as the config's loader gives them: bags of words
        from jaxlab.data import imdb
        inputs = imdb.cut_to_longest(imdb.bags(inputs))[0]
    info = {"num_classes": bench.num_classes, "num_outputs": 1 if binary else bench.num_classes,
            "task": config.task, "input_shape": list(inputs.shape[1:]), **fit}
    model = models.build(config.model, info["num_outputs"], parallel.axis_name(config.parallelism), info)
    with tempfile.TemporaryDirectory() as workdir:
        result = train.fit(config, workdir, Splits({"inputs": inputs, "label": labels}, None, None, info), model)
    return {"examples_per_second": result.facts["examples_per_second"], "rows": rows, "epochs": epochs,
            "versions": f"jax {jax.__version__}"}


def keras_optimizer(opt, steps_per_epoch: int, num_epochs: int):
    """The Keras optimizer of a jaxlab `config.optimizer` (the names and schedules the suite's configs use)."""
    import keras
    lr = opt.learning_rate
    if opt.schedule == "warmup_cosine":
        total = max(1, steps_per_epoch * num_epochs)
        warmup = min(int(opt.warmup_epochs * steps_per_epoch), total - 1)
        lr = keras.optimizers.schedules.CosineDecay(0.0, total - warmup, alpha=opt.final_lr_fraction,
                                                    warmup_target=opt.learning_rate, warmup_steps=warmup)
    elif opt.schedule != "constant":
        raise ValueError(f"no Keras schedule for {opt.schedule!r}")
    if opt.name in ("sgd", "momentum"):
        momentum = opt.momentum or (0.9 if opt.name == "momentum" else 0.0)
        return keras.optimizers.SGD(lr, momentum=momentum, nesterov=opt.nesterov)
    if opt.name == "adam":
        return keras.optimizers.Adam(lr, epsilon=1e-7)
    raise ValueError(f"no Keras optimizer for {opt.name!r}")


def keras_case(bench: Bench, quick: bool) -> dict:
    os.environ["KERAS_BACKEND"] = "tensorflow"
    import keras
    import tensorflow as tf

    from keras_timing import epoch_timer  # benchmarks/, the script's folder
    tf.config.set_visible_devices([], "GPU")
    keras.utils.set_random_seed(0)
    config = get_config(bench)
    rows, epochs = sizes(bench, config.batch_size, quick)
    inputs, labels = make_data(bench, rows)
    if config.task == "binary":
        inputs = _keras_models().bow_counts(inputs, bench.vocab_size, config.model.counts,
                                            fitted(bench, inputs).get("idf"))
        loss = keras.losses.BinaryCrossentropy(from_logits=True)
        metrics, labels = [keras.metrics.BinaryAccuracy(threshold=0.0)], labels.astype(np.float32)
    else:  # jaxlab's training metrics: accuracy, plus top-5 above 10 classes
        loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        metrics = ["accuracy"] + ([keras.metrics.SparseTopKCategoricalAccuracy(5)] if bench.num_classes > 10 else [])
    model = bench.keras(config)
    model.compile(optimizer=keras_optimizer(config.optimizer, rows // config.batch_size, 1 + epochs), loss=loss,
                  metrics=metrics)
    seconds = []
    model.fit(inputs, labels, batch_size=config.batch_size, epochs=1 + epochs, shuffle=True, verbose=0,
              callbacks=[epoch_timer(seconds)])
    return {"examples_per_second": rows / float(np.mean(seconds[1:])), "rows": rows, "epochs": epochs,
            "versions": f"keras {keras.__version__}, tensorflow {tf.__version__}"}


def run_case(name: str, contender: str, quick: bool, timeout: float) -> dict:
    """One measurement in a fresh subprocess: its result dict, or {"failed": why}."""
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", KERAS_BACKEND="tensorflow", PYTHONPATH=ROOT)
    command = [sys.executable, __file__, "--case", json.dumps([name, contender, quick])]
    try:
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"failed": f"timeout after {timeout:.0f} s"}
    for line in reversed(done.stdout.splitlines()):
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT "):])
    tail = (done.stderr.strip().splitlines() or [f"exit code {done.returncode}, no output"])[-1]
    return {"failed": tail[:120]}


def _ratio(value: float | None, base: float | None) -> float | None:
    return value / base if value and base else None


def table(results: dict) -> str:
    """Markdown: model | contender | examples/s | vs Keras | goal (judged on each model's best jaxlab row)."""
    lines = ["| model | contender | examples/s | vs Keras | goal (best jaxlab) |", "|---|---|---|---|---|"]
    for name, bench in BENCHES.items():
        cases = {contender: results[(name, contender)] for contender in CONTENDERS if (name, contender) in results}
        if not cases:
            continue
        rate = {c: r.get("examples_per_second") for c, r in cases.items()}
        base = rate.get(KERAS)
        jaxlab = [c for c in cases if c != KERAS and rate[c]]
        best = max(jaxlab, key=rate.get) if jaxlab else None
        for contender, result in cases.items():
            shown = f"{rate[contender]:,.0f}" if rate[contender] else "failed: " + result.get("failed", "no rate")
            ratio = _ratio(rate[contender], base)
            goal = ""
            if contender == best:
                verdict = "n/a (no Keras figure)" if ratio is None else ("met" if ratio >= bench.goal else "NOT met")
                goal = f"≥ {bench.goal:g}×: {verdict}"
            lines.append(f"| {bench.title} | {contender} | {shown} | "
                         f"{'–' if ratio is None else f'{ratio:.2f}×'} | {goal} |")
    return "\n".join(lines)


def sizes_line(results: dict, quick: bool) -> str:
    parts = []
    for name, bench in BENCHES.items():
        config = get_config(bench)
        if any(key[0] == name for key in results):
            rows, epochs = sizes(bench, config.batch_size, quick)
            shape = f"length {bench.shape[1]} ids" if bench.shape[0] == "ids" else "×".join(map(str, bench.shape))
            parts.append(f"{bench.title} {rows:,} × {shape}, batch {config.batch_size}, "
                         f"{epochs} timed epoch{'s' * (epochs > 1)}")
    return "; ".join(parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes, one timed epoch: checks the script works")
    parser.add_argument("--only", default="", help='regex on "model contender" (e.g. "movies", "cnn.*jit")')
    parser.add_argument("--write", action="store_true", help="write the table into benchmarks/README.md")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds per case")
    parser.add_argument("--case", help=argparse.SUPPRESS)  # internal: [model, contender, quick] → RESULT line
    args = parser.parse_args()
    if args.case:
        name, contender, quick = json.loads(args.case)
        bench = BENCHES[name]
        result = keras_case(bench, quick) if contender == KERAS else jaxlab_case(bench, contender, quick)
        print("RESULT " + json.dumps(result), flush=True)
        return
    if args.write and (args.quick or args.only):
        parser.error("--write records the full suite only (no --quick, no --only)")
    load, started = os.getloadavg()[0], time.time()
    command = "python benchmarks/run.py" + " --quick" * args.quick + (f" --only '{args.only}'" if args.only else "")
    print(f"{command}: load average {load:.2f} on {os.cpu_count()} CPUs", flush=True)
    results, versions = {}, set()
    for name, bench in BENCHES.items():
        for contender in CONTENDERS:
            if args.only and not re.search(args.only, f"{name} {contender}"):
                continue
            case_started = time.time()
            results[(name, contender)] = result = run_case(name, contender, args.quick, args.timeout)
            versions.add(result.get("versions", ""))
            rate = result.get("examples_per_second")
            print(f"{bench.title:<18} {contender:<26} "
                  f"{f'{rate:,.0f} examples/s' if rate else 'failed: ' + result.get('failed', '')} "
                  f"({time.time() - case_started:.0f} s)", flush=True)
    text = table(results)
    print(text)
    print(f"sizes: {sizes_line(results, args.quick)}")
    print(f"suite wall time {time.time() - started:.0f} s, load average at the end {os.getloadavg()[0]:.2f}")
    if args.write:
        from readme import write_section  # benchmarks/, the script's folder
        write_section(HEADING, "\n\n".join([
            f"`{command}`",
            __doc__.split("\n\n")[-1].strip(),
            text,
            f"Sizes: {sizes_line(results, args.quick)}.",
            f"Measured {time.strftime('%Y-%m-%d')} on a {os.cpu_count()}-core CPU ({platform.machine()}), load average "
            f"{load:.2f} at the start, {os.getloadavg()[0]:.2f} at the end; "
            f"{'; '.join(sorted(v for v in versions if v))}."
            " Goals: the dense models (MNIST MLP, movies, IMDB BoW) ≥ 3× Keras, the conv nets ≥ 1×.",
        ]))


if __name__ == "__main__":
    main()
