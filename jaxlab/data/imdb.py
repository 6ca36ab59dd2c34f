"""IMDB movie reviews (tfds ``imdb_reviews``) as int32 token-id sequences, with a vocabulary fitted on train only.

`config.data`: ``data_dir``, ``validation_split`` (the last fraction of train, as Keras), ``vocab_size`` (10,000:
padding and out-of-vocabulary ids included), ``max_length``, ``keep``: which tokens of a longer review stay —
``start`` (the first `max_length`, padding with 0 after them) or ``end`` (the last `max_length`, padding before
them: Keras `pad_sequences`' default, which keeps a review's conclusion).

Ids: ``PAD_ID`` = 0 fills short reviews, ``OOV_ID`` = 1 stands for every word outside the vocabulary, 2… are the
most frequent training words. Keras `TextVectorization` (lower case, punctuation stripped, whitespace split; HTML
``<br />`` breaks removed first) does the tokenising. The vocabulary goes into ``info["vocabulary"]`` (so into the
run's data_info.json) and `encode` with it turns raw strings into the same ids later (`jaxlab.predict`).
``encoding``: ``ids`` (the sequences above, [N, max_length]) or ``bag`` (each review's word-count vector in sparse
form, [N, 2, width]: its distinct ids in increasing order, then their counts, padded with 0 to the longest list of
distinct ids in the data; `jaxlab.ops.bag.distinct_counts`, run once here rather than at every training step).
Bag-of-words models build their encoded counts from either on device (`jaxlab.ops.bag`): no 25,000 × 10,000
count matrix is held anywhere. ``info["idf"]``: each id's inverse document frequency over the training part
(scikit-learn's, fitted on a sparse count matrix), for the tf-idf encoding.
"""
import os
import re

import jax
import numpy as np
from ml_collections import ConfigDict

from jaxlab import errors
from jaxlab.data import preprocess, tfds_images
from jaxlab.ops.bag import distinct_counts  # the kernel's own function, so that loader and model agree on the form
from jaxlab.data.splits import Splits

PAD_ID, OOV_ID = 0, 1
_BREAKS = re.compile(r"<br\s*/?>", re.IGNORECASE)


def clean(texts) -> list[str]:
    """Raw reviews (str or UTF-8 bytes) without their HTML line breaks."""
    return [_BREAKS.sub(" ", t.decode("utf-8") if isinstance(t, bytes) else str(t)) for t in texts]


KEEP = ("start", "end")


def _vectorizer(max_length: int | None, vocabulary: list[str] | None = None, vocab_size: int | None = None):
    import keras  # TextVectorization needs TensorFlow; imported here so that model code never pulls it in
    return keras.layers.TextVectorization(max_tokens=vocab_size, output_mode="int", output_sequence_length=max_length,
                                          standardize="lower_and_strip_punctuation", split="whitespace",
                                          vocabulary=vocabulary, ragged=max_length is None)


def fit_vocabulary(texts, vocab_size: int) -> list[str]:
    """The `vocab_size` − 2 most frequent words of `texts`, after the padding ("") and OOV ("[UNK]") entries."""
    if vocab_size < 3:
        raise errors.Error(f"vocab_size must be at least 3 (padding, OOV and one word), got {vocab_size}")
    import tensorflow as tf
    layer = _vectorizer(1, vocab_size=vocab_size)
    layer.adapt(tf.data.Dataset.from_tensor_slices(clean(texts)).batch(2048))
    vocabulary = [str(word) for word in layer.get_vocabulary()]
    assert vocabulary[PAD_ID] == "" and vocabulary[OOV_ID] == "[UNK]", vocabulary[:2]
    return vocabulary


def encode(texts, vocabulary: list[str], max_length: int, keep: str = "start") -> np.ndarray:
    """Raw reviews → int32 ids [N, max_length] with the run's vocabulary (0 = padding, 1 = OOV), keeping the
    first (``keep="start"``) or the last (``"end"``, padded in front) `max_length` tokens of longer reviews."""
    import tensorflow as tf
    if keep not in KEEP:
        raise errors.Error(f"unknown data.keep {keep!r}: use --config.data.keep=start or end")
    texts = clean(texts)
    if keep == "start":
        layer = _vectorizer(max_length, vocabulary=list(vocabulary))
        dataset = tf.data.Dataset.from_tensor_slices(texts or [""]).batch(2048).map(layer)
        return np.concatenate([np.asarray(chunk) for chunk in dataset]).astype(np.int32)[:len(texts)]
    layer = _vectorizer(None, vocabulary=list(vocabulary))
    ids = np.zeros((len(texts), max_length), np.int32)
    for first in range(0, len(texts), 2048):
        for row, tokens in enumerate(layer(texts[first:first + 2048]).to_list(), start=first):
            tail = tokens[-max_length:]
            ids[row, max_length - len(tail):] = tail
    return ids


ENCODINGS = ("ids", "bag")


def bags(ids: np.ndarray, chunk: int = 2048) -> np.ndarray:
    """int32 [N, 2, length] bags of words (distinct ids, their counts) of ids [N, length], for `encoding="bag"`."""
    distinct = jax.jit(distinct_counts)
    out = np.zeros((len(ids), 2, ids.shape[1]), np.int32)
    for first in range(0, len(ids), chunk):
        block = ids[first:first + chunk]
        padded = np.pad(block, ((0, chunk - len(block)), (0, 0))) if len(ids) > chunk else block  # one compilation
        out[first:first + len(block)] = np.asarray(distinct(padded))[:len(block)]
    return out


def cut_to_longest(*bag_sets: np.ndarray) -> list[np.ndarray]:
    """Bags [N, 2, length] of one or more splits, cut to the longest list of distinct ids among them (the rest is
    padding in every review: IMDB reviews at 1000 ids have at most 454 distinct), so each step moves and sorts less."""
    width = max(int((bag[:, 1] > 0).sum(1).max(initial=1)) for bag in bag_sets)
    return [np.ascontiguousarray(bag[:, :, :width]) for bag in bag_sets]


def count_matrix(ids: np.ndarray, vocab_size: int):
    """Sparse [N, vocab_size] word counts of int ids [N, length] (padding not counted): scipy CSR, so that no dense
    N × vocab_size matrix is built."""
    import scipy.sparse
    rows = np.repeat(np.arange(len(ids)), ids.shape[1])
    tokens = ids.reshape(-1)
    kept = tokens != PAD_ID
    return scipy.sparse.csr_matrix((np.ones(kept.sum(), np.float32), (rows[kept], tokens[kept])),
                                   shape=(len(ids), vocab_size))


def fit_idf(ids: np.ndarray, vocab_size: int) -> np.ndarray:
    """Inverse document frequencies of each id over the reviews `ids` (the training part): scikit-learn's
    smoothed idf, ln((1 + N) / (1 + document frequency)) + 1, for `counts="tfidf"` (`jaxlab.ops.bag`)."""
    from sklearn.feature_extraction.text import TfidfTransformer
    return TfidfTransformer(sublinear_tf=True).fit(count_matrix(ids, vocab_size)).idf_.astype(np.float32)


def make_splits(train: dict[str, np.ndarray], test: dict[str, np.ndarray] | None, config: ConfigDict):
    """Splits from raw {"text", "label"} arrays: hold-out, vocabulary from the training part only, ids."""
    max_length, vocab_size = config.get("max_length", 500), config.get("vocab_size", 10_000)
    keep, encoding = config.get("keep", "start"), config.get("encoding", "ids")
    if encoding not in ENCODINGS:
        raise errors.Error(f"unknown data.encoding {encoding!r}: use --config.data.encoding=ids (token sequences) or "
                           "bag (distinct ids and their counts, for bag-of-words models)")
    if max_length < 1:
        raise errors.Error(f"max_length must be positive, got {max_length} (--config.data.max_length=...)")
    train_part, validation = preprocess.validation_split(
        {"text": np.asarray(train["text"]), "label": np.asarray(train["label"]).astype(np.int32)},
        config.get("validation_split", 0.0))
    vocabulary = fit_vocabulary(train_part["text"], vocab_size)

    def ids_of(dataset):
        if dataset is None:
            return None
        return {"inputs": encode(dataset["text"], vocabulary, max_length, keep),
                "label": np.asarray(dataset["label"]).astype(np.int32)}

    train_part = ids_of(train_part)
    idf = fit_idf(train_part["inputs"], vocab_size).tolist()
    parts = [train_part, ids_of(validation), ids_of(test)]
    if encoding == "bag":
        cut = iter(cut_to_longest(*(bags(part["inputs"]) for part in parts if part)))
        parts = [part and {**part, "inputs": next(cut)} for part in parts]
    info = {"num_classes": 2, "num_outputs": 1, "task": "binary", "input_shape": list(parts[0]["inputs"].shape[1:]),
            "encoding": encoding, "vocab_size": len(vocabulary), "max_length": max_length, "keep": keep,
            "pad_id": PAD_ID, "oov_id": OOV_ID, "vocabulary": vocabulary, "idf": idf}
    return Splits(*parts, info)


def load(config: ConfigDict, seed: int):
    del seed  # the hold-out is the last fraction, as Keras does (tfds' train order is already shuffled)
    data_dir = config.get("data_dir") or os.environ.get("TFDS_DATA_DIR") or None
    raw = {split: tfds_images.read_split(config.name, split, data_dir) for split in ("train", "test")}
    return make_splits(raw["train"], raw["test"], config)
