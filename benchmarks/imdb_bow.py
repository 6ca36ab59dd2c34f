"""IMDB bag-of-words net: training time per 25,000-review epoch, jaxlab vs Keras 3 `fit`, side by side in one run.

    TFDS_DATA_DIR=../shared/data/tfds python benchmarks/imdb_bow.py [--epochs 3] [--batch_size 512]

Same net (counts → Dense 100 relu → Dense 10 relu → concatenate(counts, that) → Dense 1), Adam 1e-3, L2 1e-4,
batch 512, all 25,000 training reviews (ids: 10,000-word vocabulary, 500 tokens). Three contenders:
  jaxlab (ids)    `jaxlab.train.fit` with configs/imdb_bow.py:l2 — the ids-sum bag layer, counts never built
  jaxlab (dense)  the same fit with `model.bag=dense`: counts built on device, then counts @ W
  Keras 3 fit     TensorFlow backend, the dense [25000, 10000] float32 count matrix fed to `model.fit`
Steady state = the mean of the epochs after warm-up (jaxlab: after 2, Keras: after 1), per 25,000 reviews.
"""
import argparse
import os
import statistics
import sys
import tempfile
import time

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import jax  # noqa: E402
import numpy as np  # noqa: E402

from configs import imdb_bow  # noqa: E402
from jaxlab import models, parallel, shards, train  # noqa: E402
from jaxlab.data import Splits, imdb, tfds_images  # noqa: E402
from keras_timing import epoch_timer  # noqa: E402  (benchmarks/, the script's folder)


def load_ids(vocab_size: int, max_length: int):
    raw = tfds_images.read_split("imdb_reviews", "train", os.environ.get("TFDS_DATA_DIR"))
    vocabulary = imdb.fit_vocabulary(raw["text"], vocab_size)
    return imdb.encode(raw["text"], vocabulary, max_length), raw["label"].astype(np.int32)


def jaxlab_epoch_seconds(ids, labels, bag: str, epochs: int, batch_size: int) -> float:
    """Steady-state seconds per 25,000 reviews of jaxlab's compiled training epoch (`train.setup`'s train_fn: the
    whole epoch as one `lax.scan`, as `train.fit` runs it; the first two epochs are excluded: compilation)."""
    config = imdb_bow.get_config("l2")
    config.batch_size, config.model.bag, config.data.validation_split = batch_size, bag, 0.0
    config.model.counts, config.optimizer.learning_rate = "raw", 1e-3  # the lab's net, as Keras runs it below
    info = {"num_classes": 2, "num_outputs": 1, "task": "binary", "input_shape": [ids.shape[1]]}
    splits = Splits({"inputs": ids, "label": labels}, None, None, info)
    seconds = []
    with tempfile.TemporaryDirectory() as workdir:
        s = train.setup(config, workdir, splits, models.build(config.model, 1, parallel.axis_name(config.parallelism)))
        state = s.state
        for epoch in range(1, epochs + 3):
            started = time.perf_counter()
            order = shards.epoch_order(config.seed, epoch, len(ids), batch_size)
            state, _, losses = s.train_fn(state, s.data["train"], parallel.shard_batches(order, s.mode, s.devices),
                                          s.rng)
            jax.block_until_ready(losses)
            seconds.append((time.perf_counter() - started) * len(ids) / order.size)
        s.mngr.close()
    return statistics.mean(seconds[2:])


def keras_epochs(ids, labels, vocab_size: int, epochs: int, batch_size: int) -> float:
    """Steady-state seconds per epoch (25,000 reviews) of Keras 3 `fit` on the dense count matrix."""
    import keras
    import keras_models
    counts = keras_models.bow_counts(ids, vocab_size)
    model = keras_models.imdb_bow(vocab_size, l2=1e-4)
    model.compile(keras.optimizers.Adam(1e-3), keras.losses.BinaryCrossentropy(from_logits=True),
                  metrics=[keras.metrics.BinaryAccuracy(threshold=0.0)])
    seconds = []

    model.fit(counts, labels.astype(np.float32), batch_size=batch_size, epochs=epochs + 1, shuffle=True, verbose=0,
              callbacks=[epoch_timer(seconds)])
    return statistics.mean(seconds[1:])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3, help="timed epochs after warm-up")
    parser.add_argument("--batch_size", type=int, default=512)
    args = parser.parse_args()
    ids, labels = load_ids(10_000, 500)
    print(f"{len(ids)} reviews, ids {ids.shape}, {int((ids > 0).sum(1).mean())} tokens per review on average, "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs", flush=True)
    rows = {
        "jaxlab, ids-sum bag (bag=scan)": jaxlab_epoch_seconds(ids, labels, "scan", args.epochs, args.batch_size),
        "jaxlab, dense counts on device (bag=dense)": jaxlab_epoch_seconds(ids, labels, "dense", args.epochs,
                                                                           args.batch_size),
        "Keras 3 fit (TF), dense count matrix": keras_epochs(ids, labels, 10_000, args.epochs, args.batch_size),
    }
    keras_seconds = rows["Keras 3 fit (TF), dense count matrix"]
    print("| contender | s per 25k-review epoch | speed-up vs Keras |\n|---|---|---|")
    for name, seconds in rows.items():
        print(f"| {name} | {seconds:.2f} | {keras_seconds / seconds:.2f}× |")
    print(f"load average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
