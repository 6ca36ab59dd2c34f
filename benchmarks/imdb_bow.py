"""IMDB bag-of-words net: training time per 25,000-review epoch, jaxlab vs Keras 3 `fit`, side by side in one run.

    TFDS_DATA_DIR=/path/to/tfds python benchmarks/imdb_bow.py [--epochs 3] [--batch_size 512]

The net of configs/imdb_bow.py:l2 as its config trains it (counts → Dense 100 relu → Dense 10 relu →
concatenate(counts, that) → Dense 1; l2: tf-idf counts of the first 1000 ids, Adam 1e-3, L2 1e-4, batch 512) on all
25,000 real training reviews (10,000-word vocabulary). Each side's input is prepared once, before the clock starts,
as its loader does it. Three contenders:
  jaxlab (bags)   `jaxlab.train.setup`'s compiled epoch with the config: the loader's bags of words
                  (`data.encoding=bag`), the ids-sum bag layer, counts never built
  jaxlab (dense)  the same with `model.bag=dense`: the encoded counts built on device, then counts @ W
  Keras 3 fit     TensorFlow backend, the dense [25000, 10000] float32 encoded count matrix fed to `model.fit`
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


def jaxlab_epoch_seconds(config, ids, labels, bag: str, epochs: int, batch_size: int) -> float:
    """Steady-state seconds per 25,000 reviews of jaxlab's compiled training epoch (`train.setup`'s train_fn: the
    whole epoch as one `lax.scan`, as `train.fit` runs it; the first two epochs are excluded: compilation)."""
    config = config.copy_and_resolve_references()
    config.batch_size, config.model.bag, config.data.validation_split = batch_size, bag, 0.0
    inputs = imdb.cut_to_longest(imdb.bags(ids))[0] if config.data.encoding == "bag" else ids  # as the loader does
    info = {"num_classes": 2, "num_outputs": 1, "task": "binary", "input_shape": list(inputs.shape[1:]),
            "idf": imdb.fit_idf(ids, config.data.vocab_size).tolist()}
    splits = Splits({"inputs": inputs, "label": labels}, None, None, info)
    seconds = []
    with tempfile.TemporaryDirectory() as workdir:
        model = models.build(config.model, 1, parallel.axis_name(config.parallelism), info)
        s = train.setup(config, workdir, splits, model)
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


def keras_epochs(config, ids, labels, epochs: int, batch_size: int) -> float:
    """Steady-state seconds per epoch (25,000 reviews) of Keras 3 `fit` on the dense encoded count matrix."""
    import keras
    import keras_models
    vocab_size = config.data.vocab_size
    counts = keras_models.bow_counts(ids, vocab_size, config.model.counts, imdb.fit_idf(ids, vocab_size))
    model = keras_models.imdb_bow(vocab_size, l2=config.l2)
    model.compile(keras.optimizers.Adam(config.optimizer.learning_rate),
                  keras.losses.BinaryCrossentropy(from_logits=True),
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
    config = imdb_bow.get_config("l2")  # Keras' twin (benchmarks/keras_models.py) has no dropout or BatchNorm
    ids, labels = load_ids(config.data.vocab_size, config.data.max_length)
    print(f"imdb_bow:l2 ({config.model.counts} counts), {len(ids)} reviews, ids {ids.shape}, "
          f"{int((ids > 0).sum(1).mean())} tokens per review on average, load average {os.getloadavg()[0]:.1f} on "
          f"{os.cpu_count()} CPUs", flush=True)
    rows = {
        "jaxlab, bags of words, ids-sum bag (bag=scan)": jaxlab_epoch_seconds(config, ids, labels, "scan",
                                                                              args.epochs, args.batch_size),
        "jaxlab, dense counts on device (bag=dense)": jaxlab_epoch_seconds(config, ids, labels, "dense",
                                                                           args.epochs, args.batch_size),
        "Keras 3 fit (TF), dense count matrix": keras_epochs(config, ids, labels, args.epochs, args.batch_size),
    }
    keras_seconds = rows["Keras 3 fit (TF), dense count matrix"]
    print("| contender | s per 25k-review epoch | speed-up vs Keras |\n|---|---|---|")
    for name, seconds in rows.items():
        print(f"| {name} | {seconds:.2f} | {keras_seconds / seconds:.2f}× |")
    print(f"load average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
