"""Training throughput (images/s) of the MNIST lab CNN and of VGG16-BN on CIFAR-sized inputs: jaxlab vs Keras 3 fit.

    python benchmarks/vision_throughput.py                 # all cases, writes the table into benchmarks/README.md
    python benchmarks/vision_throughput.py --no-write      # print only

Every case runs in its own subprocess (so XLA flags can differ and TF and JAX never share a process), on the
same random data, same architecture, same batch. jaxlab is timed through `jaxlab.train.setup` (the real compiled
`lax.scan` train chunk, data on device, one device, jit mode) on a second call after the compiling one; Keras
through `model.fit` epoch times (TensorFlow backend, default jit_compile), its second epoch. Both are steady
state after compilation. The levers tried on jaxlab: batch size, bfloat16 compute, XLA CPU flags.
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time

import numpy as np
from keras_timing import epoch_timer  # benchmarks/, the script's folder
from readme import write_section

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CNN_TOKENS = ("conv32", "pool", "bn", "conv16", "pool", "bn", "flatten")
SHAPES = {"cnn": ((28, 28, 1), 10), "vgg16": ((32, 32, 3), 100)}

# (label, framework, model, batch, steps, dtype, XLA_FLAGS); "+reshape_pool" in dtype swaps flax's max_pool (whose
# gradient is a select_and_scatter, slow on XLA:CPU) for jaxlab.models.pooling.max_pool_2x2 in the token CNN.
CASES = [
    ("CNN b128", "jaxlab", "cnn", 128, 30, "float32", ""),
    ("CNN b128", "keras", "cnn", 128, 30, "float32", ""),
    ("VGG16 b32", "jaxlab", "vgg16", 32, 4, "float32", ""),
    ("VGG16 b32", "keras", "vgg16", 32, 4, "float32", ""),
    ("CNN b128 reshape-pool", "jaxlab", "cnn", 128, 30, "float32+reshape_pool", ""),
    ("CNN b512", "jaxlab", "cnn", 512, 8, "float32", ""),
    ("CNN b512", "keras", "cnn", 512, 8, "float32", ""),
    ("CNN b128 bf16", "jaxlab", "cnn", 128, 30, "bfloat16", ""),
    ("CNN b128 1-thread-eigen", "jaxlab", "cnn", 128, 30, "float32", "--xla_cpu_multi_thread_eigen=false"),
]


def data(model: str, batch: int, steps: int):
    shape, classes = SHAPES[model]
    rng = np.random.default_rng(0)
    inputs = rng.standard_normal((batch * steps,) + shape).astype(np.float32)
    return inputs, rng.integers(0, classes, batch * steps).astype(np.int32)


def jaxlab_rate(model: str, batch: int, steps: int, dtype: str) -> float:
    import jax

    from configs.common import default_config
    from jaxlab import models, parallel, programs, shards
    from jaxlab.data import Splits

    config = default_config()
    config.parallelism, config.batch_size, config.eval_batch_size = "jit", batch, batch
    config.optimizer.name, config.optimizer.learning_rate = "momentum", 0.01
    if model == "cnn":
        config.model.name, config.model.layers = "cnn", CNN_TOKENS
    else:
        config.model.name = "vgg"
    config.model.dtype, reshape_pool = dtype.split("+")[0], dtype.endswith("+reshape_pool")
    if reshape_pool:
        import flax.linen as nn

        from jaxlab.models import pooling
        nn.max_pool = lambda x, window, strides: pooling.max_pool_2x2(x)  # this subprocess only
    inputs, labels = data(model, batch, steps)
    splits = Splits({"inputs": inputs, "label": labels}, None, None, {"num_classes": SHAPES[model][1]})
    devices = [jax.devices()[0]]
    net = models.build(config.model, SHAPES[model][1], parallel.axis_name("jit"))
    with tempfile.TemporaryDirectory() as workdir:
        s = programs.setup(config, workdir, splits, net, devices)
        rows = parallel.shard_batches(shards.epoch_order(0, 1, len(labels), batch), "jit", devices)
        state, seconds = s.state, []
        for _ in range(2):  # compile + run, then one steady call
            started = time.perf_counter()
            state, _, losses = s.train_fn(state, s.data["train"], rows, s.rng)
            np.asarray(losses)
            seconds.append(time.perf_counter() - started)
        s.mngr.close()
    return batch * steps / seconds[1]


def keras_model(model: str):
    import keras_models  # benchmarks/, the script's folder
    return keras_models.lab_cnn(SHAPES[model][1]) if model == "cnn" else keras_models.vgg16(SHAPES[model][1])


def keras_rate(model: str, batch: int, steps: int) -> float:
    import keras
    import tensorflow as tf
    tf.config.set_visible_devices([], "GPU")

    net = keras_model(model)
    net.compile(optimizer=keras.optimizers.SGD(0.01, momentum=0.9),
                loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    inputs, labels = data(model, batch, steps)
    times = []

    net.fit(inputs, labels, batch_size=batch, epochs=2, shuffle=True, verbose=0, callbacks=[epoch_timer(times)])
    return batch * steps / min(times[1:])


def run_case(case) -> float | str:
    label, framework, model, batch, steps, dtype, flags = case
    env = dict(os.environ, XLA_FLAGS=flags, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=ROOT)
    env.pop("TFDS_DATA_DIR", None)
    command = [sys.executable, __file__, "--case", json.dumps(case)]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=1200)
    for line in reversed(done.stdout.splitlines()):
        if line.startswith("RATE "):
            return float(line.split()[1])
    tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
    return "failed: " + tail[:100]


def table(results) -> str:
    lines = ["| case | XLA_FLAGS | jaxlab images/s | Keras 3 fit images/s | jaxlab / Keras |", "|---|---|---|---|---|"]
    keras = {label.split(" ")[0] + " " + label.split(" ")[1]: rate for (label, fw, *_), rate in results
             if fw == "keras" and isinstance(rate, float)}
    for (label, framework, model, batch, steps, dtype, flags), rate in results:
        if framework != "jaxlab":
            continue
        base = keras.get(" ".join(label.split(" ")[:2]))
        same = any(lbl == label and fw == "keras" for (lbl, fw, *_), _ in results)
        shown = f"{rate:.0f}" if isinstance(rate, float) else rate
        ratio = f"{rate / base:.2f}" if isinstance(rate, float) and base else "–"
        keras_cell = f"{base:.0f}" if base and same else (f"({base:.0f})" if base else "–")
        lines.append(f"| {label} ({dtype}) | `{flags or '-'}` | {shown} | {keras_cell} | {ratio} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--case", help="internal: run one case and print its rate")
    parser.add_argument("--no-write", action="store_true", help="do not update benchmarks/README.md")
    parser.add_argument("--only", default="", help="regex on case labels to run a subset")
    args = parser.parse_args()
    if args.case:
        label, framework, model, batch, steps, dtype, flags = json.loads(args.case)
        rate = jaxlab_rate(model, batch, steps, dtype) if framework == "jaxlab" else keras_rate(model, batch, steps)
        print(f"RATE {rate}", flush=True)
        return
    results = []
    for case in CASES:
        if args.only and not re.search(args.only, case[0]):
            continue
        rate = run_case(case)
        results.append((case, rate))
        print(f"{case[0]:<22} {case[1]:<7} {case[6] or '-':<34} "
              f"{rate if isinstance(rate, str) else f'{rate:.1f} images/s'}", flush=True)
    text = table(results)
    print(text)
    if not args.no_write and not args.only:
        write_section("Vision throughput", text)


if __name__ == "__main__":
    main()
