"""Movies MLP (net 1 of configs/movies_profit.py:bn): 200 epochs at batch 40, jaxlab vs Keras 3 fit, side by side.

    TFDS_DATA_DIR=unused python benchmarks/movies.py [--path /work/shared/data/csv/movie_metadata.csv] [--write]

Both frameworks get the same arrays (the csv loader's train / validation split of the real file, 36 features),
the same net (Dense 64-128-128-64-64, each → BatchNorm → relu, → 2 softmax), Adam 1e-3, batch 40, 200 epochs with
validation after each epoch. Each runs in its own subprocess.

* jaxlab: `jaxlab.train.fit` (jit mode, one device, checkpoint at the end only) timed for 1 epoch and for 200
  epochs in fresh workdirs; compile + setup = T1 − (T200 − T1)/199, training = T200 − compile + setup.
* Keras (TensorFlow backend): `model.fit` epoch times; compile = first epoch − median epoch, training = total −
  compile.
"""
import argparse
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
            "compile_seconds": compile_seconds, "val_accuracy": result["history"][-1]["val_accuracy"]}


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
    jaxlab, keras = results
    lines = ["| framework | training time 200 epochs (s) | compile + setup (s) | last val accuracy |",
             "|---|---|---|---|"]
    for row in results:
        lines.append(f"| {row['framework']} | {row['train_seconds']:.2f} | {row['compile_seconds']:.2f} | "
                     f"{row['val_accuracy']:.3f} |")
    lines.append(f"\nKeras / jaxlab training time: {keras['train_seconds'] / jaxlab['train_seconds']:.1f}×")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--path", default="/work/shared/data/csv/movie_metadata.csv")
    parser.add_argument("--framework", choices=("jaxlab", "keras"))
    parser.add_argument("--write", action="store_true", help="write the table into benchmarks/README.md")
    args = parser.parse_args()
    if args.framework:
        result = (run_jaxlab if args.framework == "jaxlab" else run_keras)(args.path)
        print("RESULT " + json.dumps(result), flush=True)
        return
    results = []
    for framework in ("jaxlab", "keras"):
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
