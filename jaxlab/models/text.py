"""Sentiment models over int32 token ids [batch, length] (0 = padding; see `jaxlab.data.imdb`).

* `BowConcat`: word counts → Dense 100 relu → Dense 10 relu → concatenate(counts, that) → Dense 1 (the lab's net).
  Its two layers that read the counts are one bag-of-words kernel (`jaxlab.ops.bag`): counts @ W as the sum of W's
  rows over each review's ids, the count vectors never built (`bag="scan"`, the default). `bag="dense"` builds the
  encoded counts on device and multiplies, the Keras formulation (same numbers; benchmarks/imdb_bow.py times both).
  `counts` picks the input encoding: "raw" word counts (the lab's), "binary" presence (1 per distinct word),
  "log1p" (log(1 + count)) or "tfidf" (scikit-learn's sublinear tf × idf, each review scaled to unit L2 norm; the
  idf is fitted on the training part by the data loader and reaches the model as its `idf` field, see
  `jaxlab.models.build`). The net reads id sequences or, faster, bags (`data.encoding="bag"`: [batch, 2, length]
  distinct ids and their counts, made once by the loader with `jaxlab.ops.bag.distinct_counts`).
* `EmbedDense`: Embedding(10k, 32) → Flatten → Dense 100 → Dropout → Dense 10 → Dropout → concatenate(flattened
  embeddings, that) → Dense 1 (~1.9M parameters).
* `EmbedConv`: Embedding(10k, 16) → BN → Conv1D 16 → MaxPool → BN → Conv1D 64 → MaxPool → BN → Flatten → Dropout →
  Dense 1 (~172k parameters).

Every model takes ``dtype="bfloat16"``: bfloat16 compute (gathered rows, embeddings, dense and convolution
layers), float32 parameters and float32 logits; BatchNorm statistics and the bag's sums over positions (and their
gradient's scatter-adds) are taken in float32.
"""
from typing import Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp

from jaxlab import errors
from jaxlab.models import layers, pooling
from jaxlab.ops.bag import is_bag, position_weights, weighted_bag, word_counts

BAGS = ("scan", "dense")


def encoded_counts(inputs: jax.Array, vocab_size: int, bag: str = "scan", counts: str = "raw", idf=None):
    """The net's input as its bags read it: `position_weights`' (ids, weights) for bag="scan", the dense
    [batch, vocab_size] `word_counts` for bag="dense"."""
    if bag not in BAGS:
        raise errors.Error(f"unknown bag {bag!r}: choose one of {', '.join(BAGS)} (--config.model.bag=...)")
    return word_counts(inputs, vocab_size, counts, idf) if bag == "dense" else position_weights(inputs, counts, idf)


class BagDense(nn.Module):
    """Dense layer without a bias on encoded word counts (`encoded_counts`): the kernel's rows summed over the
    weighted positions (`bag="scan"`), or the dense counts @ kernel."""
    features: int
    vocab_size: int
    bag: str = "scan"
    dtype: str = "float32"      # compute dtype; the parameters stay float32

    @nn.compact
    def __call__(self, encoded):
        dtype = jnp.dtype(self.dtype)
        kernel = self.param("kernel", nn.initializers.lecun_normal(), (self.vocab_size, self.features)).astype(dtype)
        return encoded.astype(dtype) @ kernel if self.bag == "dense" else weighted_bag(kernel, *encoded)


def _check_ids(ids, bags: bool = False):
    """int32 token ids [batch, length], or bags [batch, 2, length] (`is_bag`) where the model reads `bags`."""
    if not jnp.issubdtype(ids.dtype, jnp.integer):
        raise errors.Error(f"text models take int32 token ids, got {ids.dtype}: use a text dataset (imdb_reviews)")
    if is_bag(ids):
        if not bags:
            raise errors.Error("this model reads id sequences, the data are bags of words: use "
                               "--config.data.encoding=ids")
        return ids.astype(jnp.int32)
    return ids.astype(jnp.int32).reshape(ids.shape[0], -1)


class BowConcat(nn.Module):
    num_outputs: int
    vocab_size: int = 10_000
    hidden: Sequence[int] = (100, 10)
    dropout: float = 0.0        # after each hidden layer
    batch_norm: bool = False    # Dense → BatchNorm → relu
    bn_momentum: float = 0.99   # Keras' default; lower it for running statistics that keep up with fast learning
    bag: str = "scan"           # scan (ids, fast) | dense (counts @ W, the Keras formulation)
    counts: str = "raw"         # input encoding: raw counts | binary (presence) | log1p (log(1 + count)) | tfidf
    idf: tuple[float, ...] | None = None  # [vocab_size] inverse document frequencies (tfidf), from the data loader
    dtype: str = "float32"      # compute dtype ("bfloat16" for mixed precision); parameters and logits stay float32
    axis_name: str | None = None

    @nn.compact
    def __call__(self, ids, *, train: bool):
        ids = _check_ids(ids, bags=True)
        dtype = jnp.dtype(self.dtype)
        encoded = encoded_counts(ids, self.vocab_size, self.bag, self.counts, self.idf)
        # The two layers that read the counts, the first hidden layer and the counts part of the output layer (Dense
        # over concatenate(counts, x), its kernel split into the counts rows and the x rows), are one bag over a
        # [vocab_size, hidden[0] + num_outputs] kernel: each review's words are visited once.
        first = self.hidden[0] if self.hidden else 0
        both = BagDense(first + self.num_outputs, self.vocab_size, self.bag, dtype=self.dtype, name="bag")(encoded)
        logits = both[:, first:].astype(jnp.float32)
        x = None
        for index, units in enumerate(self.hidden):
            if index == 0:
                x = both[:, :first] + self.param("bag_bias", nn.initializers.zeros, (units,)).astype(dtype)
            else:
                x = nn.Dense(units, dtype=dtype)(x)
            if self.batch_norm:
                x = nn.BatchNorm(use_running_average=not train, momentum=self.bn_momentum, epsilon=1e-3,
                                 axis_name=self.axis_name, dtype=dtype)(x)
            x = nn.relu(x)
            if layers.active(self.dropout):
                x = layers.Dropout(self.dropout, deterministic=not train)(x)
        return logits + nn.Dense(self.num_outputs, dtype=dtype)(x).astype(jnp.float32) if x is not None else logits


class EmbedDense(nn.Module):
    num_outputs: int
    vocab_size: int = 10_000
    embed_dim: int = 32
    hidden: Sequence[int] = (100, 10)
    dropout: float = 0.5
    dtype: str = "float32"      # compute dtype ("bfloat16" for mixed precision); parameters and logits stay float32
    axis_name: str | None = None

    @nn.compact
    def __call__(self, ids, *, train: bool):
        ids = _check_ids(ids)
        dtype = jnp.dtype(self.dtype)
        flat = nn.Embed(self.vocab_size, self.embed_dim, dtype=dtype)(ids).reshape(ids.shape[0], -1)
        x = flat
        for units in self.hidden:
            x = nn.relu(nn.Dense(units, dtype=dtype)(x))
            x = layers.Dropout(self.dropout, deterministic=not train)(x)
        return nn.Dense(self.num_outputs, dtype=dtype)(jnp.concatenate([flat, x], axis=-1)).astype(jnp.float32)


class EmbedConv(nn.Module):
    num_outputs: int
    vocab_size: int = 10_000
    embed_dim: int = 16
    filters: Sequence[int] = (16, 64)
    kernel_size: int = 3
    pool_size: int = 2
    dropout: float = 0.5
    bn_momentum: float = 0.99   # Keras' default; lower it for running statistics that keep up with fast learning
    dtype: str = "float32"      # compute dtype ("bfloat16" for mixed precision); parameters and logits stay float32
    axis_name: str | None = None

    @nn.compact
    def __call__(self, ids, *, train: bool):
        ids = _check_ids(ids)
        dtype = jnp.dtype(self.dtype)

        def batch_norm(x):
            return nn.BatchNorm(use_running_average=not train, momentum=self.bn_momentum, epsilon=1e-3,
                                axis_name=self.axis_name, dtype=dtype)(x)

        x = batch_norm(nn.Embed(self.vocab_size, self.embed_dim, dtype=dtype)(ids))
        for filters in self.filters:
            x = nn.relu(nn.Conv(filters, (self.kernel_size,), padding="SAME", dtype=dtype)(x))
            x = batch_norm(pooling.max_pool(x, self.pool_size))
        x = layers.Dropout(self.dropout, deterministic=not train)(x.reshape(x.shape[0], -1))
        return nn.Dense(self.num_outputs, dtype=dtype)(x).astype(jnp.float32)
