"""Sentiment models over int32 token ids [batch, length] (0 = padding; see `jaxlab.data.imdb`).

* `BowConcat`: word counts → Dense 100 relu → Dense 10 relu → concatenate(counts, that) → Dense 1 (the lab's net).
  Counts @ W equals the sum of W's rows over the review's ids, so no count vector is ever built: `bag_of_words`
  loops over token positions, adding one gathered row per review per position (~100× fewer FLOPs than the dense
  [batch, 10,000] @ [10,000, 100] product, and faster on CPU than one big gather). `bag="dense"` builds the counts on
  device and multiplies, the Keras formulation (same numbers; kept for tests and benchmarks).
  `counts` picks the input encoding: "raw" word counts (the lab's), "binary" presence (1 per distinct word),
  "log1p" (log(1 + count)) or "tfidf" (scikit-learn's `TfidfTransformer(sublinear_tf=True)`: (1 + ln count) × the
  word's inverse document frequency, each review scaled to unit L2 norm; the idf is fitted on the training part by
  the data loader and reaches the model as its `idf` field, see `jaxlab.models.build`). The ids-sum keeps working:
  each review's distinct ids are put first, one position each weighted by its encoded count, then padding
  (`position_weights`); the bag's loops visit each review only up to its last distinct id, longest reviews first
  (`_loops`). The net reads id sequences or, faster, bags (`data.encoding="bag"`: [batch, 2, length] distinct ids
  and their counts, made once by the loader with `distinct_counts` instead of at every step).
* `EmbedDense`: Embedding(10k, 32) → Flatten → Dense 100 → Dropout → Dense 10 → Dropout → concatenate(flattened
  embeddings, that) → Dense 1 (~1.9M parameters).
* `EmbedConv`: Embedding(10k, 16) → BN → Conv1D 16 → MaxPool → BN → Conv1D 64 → MaxPool → BN → Flatten → Dropout →
  Dense 1 (~172k parameters).

Every model takes ``dtype="bfloat16"``: bfloat16 compute (gathered rows, embeddings, dense and convolution
layers), float32 parameters and float32 logits; BatchNorm statistics and the bag's sums over positions (and their
gradient's scatter-adds) are taken in float32.
"""
import functools
from typing import Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp

from jaxlab import errors, parallel
from jaxlab.models import pooling

BAGS = ("scan", "dense")
COUNTS = ("raw", "binary", "log1p", "tfidf")


def _sum_dtype(dtype):
    """Sums run in at least float32: adding up to `length` bfloat16 rows in bfloat16 would lose the small ones."""
    return jnp.promote_types(dtype, jnp.float32)


_UNROLL = 4       # positions per step of the forward loop (fewer loop steps; the step's overhead dominated)
_MIN_ROWS = 16    # the smallest group of reviews a loop runs over
_IN_RANGE = {"mode": "promise_in_bounds", "wrap_negative_indices": False}  # ids are in [0, vocab_size)


def _lengths(weights):
    """Each review's positions to visit: up to its last non-zero weight (later positions weigh 0)."""
    position = jnp.arange(1, weights.shape[1] + 1)
    return jnp.max(jnp.where(weights != 0, position, 0), axis=1)


def _groups(batch: int) -> list[int]:
    """The sizes of the groups of longest reviews the bag's loops run over: B, 3B/4, 9B/16, … ≥ 16."""
    groups = [batch]
    while int(groups[-1] * 0.75) >= _MIN_ROWS:
        groups.append(int(groups[-1] * 0.75))
    return groups


def _layout(ids, weights):
    """The bag's loops' view of a batch, made once for the forward and the gradient: (order, lengths, ids, weights)
    with the reviews longest first (`order`: their indices; `lengths`: theirs, `_lengths`) and the ids and weights
    position-major, [positions, batch], the positions padded to whole steps of `_UNROLL` (id 0, weight 0)."""
    lengths = _lengths(weights)
    order = jnp.argsort(-lengths)
    padded = -(-ids.shape[1] // _UNROLL) * _UNROLL
    ids_t, weights_t = (jnp.concatenate([x[order], jnp.zeros((x.shape[0], padded - x.shape[1]), x.dtype)], axis=1).T
                        for x in (ids, weights))
    return order, lengths[order], ids_t, weights_t


def _loops(lengths, steps_of: int = 1):
    """The loops over positions for reviews sorted longest first: [(reviews, first step, end step)], where the first
    `reviews` (`_groups`) are the only ones with positions left from `first step` on — a loop visits 3/4 of the
    reviews once a quarter of them are done, and so on, instead of every review up to the longest one (IMDB, 1000
    ids: ≈ 73k instead of 213k review-positions per 512 reviews, which hold 65k ids). Steps of `steps_of`
    positions."""
    steps = (lengths + steps_of - 1) // steps_of
    groups = _groups(lengths.shape[0])
    ends = [steps[rows] for rows in groups[1:]] + [steps[0]]  # the reviews after the first `rows` end there
    return list(zip(groups, [0] + ends[:-1], ends))


def _bag_sum(table, order, lengths, ids_t, weights_t):
    """Σ_p weights[:, p] · table[ids[:, p]] from `_layout`'s view, summed position by position in at least float32
    (`_sum_dtype`), `_UNROLL` positions per loop step; rows in the reviews' own order."""
    ids_t, weights_t = (x.reshape(x.shape[0] // _UNROLL, _UNROLL, -1) for x in (ids_t, weights_t))
    total = jnp.zeros((order.shape[0], table.shape[1]), _sum_dtype(table.dtype))
    for rows, first, end in _loops(lengths, _UNROLL):
        def body(step, partial, rows=rows):
            for offset in range(_UNROLL):
                gathered = table.at[ids_t[step, offset, :rows]].get(**_IN_RANGE)
                partial = partial + gathered * weights_t[step, offset, :rows, None].astype(table.dtype)
            return partial
        total = jax.lax.dynamic_update_slice(total, jax.lax.fori_loop(first, end, body, total[:rows]), (0, 0))
    return jnp.zeros_like(total).at[order].set(total).astype(table.dtype)  # back in the reviews' order


def _scatter_rows(order, lengths, ids_t, weights_t, grad, vocab_size: int):
    """The bag's table gradient from `_layout`'s view: row ids[b, p] of a [vocab_size, features] table gets
    weights[b, p] × grad[b], one position per loop step."""
    grad = grad[order]
    grad_table = jnp.zeros((vocab_size, grad.shape[1]), grad.dtype)
    for rows, first, end in _loops(lengths):
        def body(position, grad_table, rows=rows):
            return grad_table.at[ids_t[position, :rows]].add(grad[:rows] * weights_t[position, :rows, None],
                                                             **_IN_RANGE)
        grad_table = jax.lax.fori_loop(first, end, body, grad_table)
    return grad_table


# Under jit with the reviews split over devices, each device sorts and sums its own reviews (no communication).
_split_layout = parallel.over_batch(_layout, "b l, b l -> b, b, p b, p b")
_split_bag_sum = parallel.over_batch(_bag_sum, "v d, b, b, p b, p b -> b d")


@jax.custom_vjp
def weighted_bag(table: jax.Array, ids: jax.Array, weights: jax.Array) -> jax.Array:
    """Σ over positions p of `weights[:, p] * table[ids[:, p]]`: [batch, length] ids and weights → [batch, features]
    in `table`'s dtype (summed in at least float32). Differentiable in `table` only (the weights come from the ids)."""
    return _split_bag_sum(table, *_split_layout(ids, weights))


def _bag_forward(table, ids, weights):
    layout = _split_layout(ids, weights)
    return _split_bag_sum(table, *layout), (table, layout, weights)


def _bag_backward(residuals, grad):
    table, (order, lengths, ids_t, weights_t), weights = residuals
    sum_dtype = _sum_dtype(table.dtype)
    rounded = weights_t.astype(table.dtype).astype(sum_dtype)  # as rounded in the forward
    grad_table = _table_gradient(table.shape[0])(order, lengths, ids_t, rounded, grad.astype(sum_dtype))
    return grad_table.astype(table.dtype), None, jnp.zeros_like(weights)


@functools.lru_cache(maxsize=None)
def _table_gradient(vocab_size: int):
    """`_scatter_rows` for one vocabulary size; under jit with the reviews split over devices each device scatters
    its own reviews and one all-reduce adds the tables (`parallel.over_batch`; before, the loop's table was
    all-reduced at every one of the 500 positions: a BoW epoch on 2 CPU devices took 52-57 s, now 0.5-0.8 s,
    benchmarks/README.md)."""
    return parallel.over_batch(functools.partial(_scatter_rows, vocab_size=vocab_size),
                               "b, b, p b, p b, b d -> v d")


weighted_bag.defvjp(_bag_forward, _bag_backward)


def _check_counts(counts: str, idf):
    if counts not in COUNTS:
        raise errors.Error(f"unknown counts {counts!r}: choose one of {', '.join(COUNTS)} (--config.model.counts=...)")
    if counts == "tfidf" and idf is None:
        raise errors.Error("counts='tfidf' needs the inverse document frequencies fitted on the training part: "
                           "use a text dataset whose loader fits them (data.name=imdb_reviews)")


def _unit_rows(weights: jax.Array) -> jax.Array:
    """Each row divided by its L2 norm (all-zero rows stay zero), as scikit-learn's `normalize`."""
    norm = jnp.sqrt(jnp.sum(weights * weights, axis=1, keepdims=True))
    return weights / jnp.where(norm > 0, norm, 1.0)


def _distinct_counts(ids: jax.Array) -> jax.Array:
    ids = jnp.sort(ids, axis=1)
    length = ids.shape[1]
    starts = jnp.concatenate([jnp.ones_like(ids[:, :1], bool), ids[:, 1:] != ids[:, :-1]], axis=1)
    first = starts & (ids > 0)  # the first position of each distinct (non-padding) id
    # a run of equal ids lasts until the next run starts: its count is that start minus its own
    start_positions = jnp.where(starts, jnp.arange(length), length)
    next_start = jax.lax.cummin(jnp.concatenate([start_positions[:, 1:], jnp.full_like(ids[:, :1], length)], axis=1),
                                axis=1, reverse=True)
    occurrences = jnp.where(first, next_start - jnp.arange(length), 0).astype(jnp.int32)
    # the distinct ids to the front, in order: the k-th distinct id of a review goes to position k (the rest dropped)
    rows = jnp.arange(ids.shape[0])[:, None]
    target = jnp.where(first, jnp.cumsum(first, axis=1) - 1, length)
    return jnp.zeros((ids.shape[0], 2, length), jnp.int32).at[rows, :, target].set(
        jnp.stack([ids.astype(jnp.int32), occurrences], axis=-1), mode="drop")


# Under jit with the reviews split over devices, each device counts its own reviews.
_split_distinct_counts = parallel.over_batch(_distinct_counts, "b l -> b t l")


def distinct_counts(ids: jax.Array) -> jax.Array:
    """Each review's word-count vector in sparse form, its bag: [batch, length] ids → int32 [batch, 2, length],
    [:, 0] the review's distinct non-padding ids in increasing order, [:, 1] their numbers of occurrences, then
    padding (id 0, count 0)."""
    return _split_distinct_counts(ids)


def is_bag(inputs) -> bool:
    """Whether text inputs are bags ([batch, 2, length]: distinct ids and their counts, `data.encoding="bag"`)
    rather than id sequences ([batch, length])."""
    return inputs.ndim == 3 and inputs.shape[1] == 2


def review_bags(inputs: jax.Array, distinct: bool) -> tuple[jax.Array, jax.Array]:
    """(ids, counts), two [batch, length] int32 arrays whose Σ_p counts[:, p] · onehot(ids[:, p]) is each review's
    word counts, from bags (`data.encoding="bag"`: the loader ran `distinct_counts` once) or from id sequences
    (each token counts 1; `distinct`: made distinct with `distinct_counts` here, at every step)."""
    if is_bag(inputs):
        return inputs[:, 0], inputs[:, 1]
    if distinct:
        bags = distinct_counts(inputs)
        return bags[:, 0], bags[:, 1]
    return inputs, (inputs > 0).astype(jnp.int32)


def position_weights(inputs: jax.Array, counts: str = "raw", idf=None) -> tuple[jax.Array, jax.Array]:
    """(ids, weights) with Σ_p weights[:, p] · onehot(ids[:, p]) = the `counts` encoding of each review's words.

    raw: the ids as they are, weighted by their counts (1 per token of a sequence, 0 for padding). binary / log1p /
    tfidf: each review's distinct ids in increasing order, each once, weighing 1 / log(1 + its count) / (1 + ln its
    count) × idf[id] (tfidf, then the review scaled to unit norm), then padding (id 0, weight 0) — so the bag's
    loops stop after each review's distinct ids (at most 454 of 1000 positions in IMDB). `inputs`: id sequences or bags
    (`review_bags`); `idf`: [vocab_size] inverse document frequencies."""
    _check_counts(counts, idf)
    ids, occurrences = review_bags(inputs, distinct=counts != "raw")
    occurrences = occurrences.astype(jnp.float32)
    if counts == "raw":
        weights = occurrences
    elif counts == "binary":
        weights = (occurrences > 0).astype(jnp.float32)
    elif counts == "log1p":
        weights = jnp.log1p(occurrences)
    else:
        tf_idf = (1.0 + jnp.log(jnp.maximum(occurrences, 1.0))) * jnp.asarray(idf, jnp.float32)[ids]
        weights = _unit_rows(jnp.where(occurrences > 0, tf_idf, 0.0))
    return ids, weights


def bag_of_words(table: jax.Array, inputs: jax.Array, counts: str = "raw", idf=None) -> jax.Array:
    """Σ over each row's non-padding ids of `table[id]`, i.e. encoded counts @ table: [batch, length] ids (or bags)
    → [batch, features]; `counts` = raw | binary | log1p | tfidf (see `position_weights`)."""
    return weighted_bag(table, *position_weights(inputs, counts, idf))


def word_counts(inputs: jax.Array, vocab_size: int, counts: str = "raw", idf=None) -> jax.Array:
    """Dense [batch, vocab_size] float32 counts of each id (padding not counted) of id sequences or bags, encoded as
    `counts` says: the Keras-style input."""
    _check_counts(counts, idf)
    ids, occurrences = review_bags(inputs, distinct=False)
    rows = jnp.arange(ids.shape[0])[:, None]
    dense = jnp.zeros((ids.shape[0], vocab_size), jnp.float32).at[rows, ids].add(occurrences.astype(jnp.float32))
    if counts == "tfidf":
        sublinear = jnp.where(dense > 0, 1.0 + jnp.log(jnp.maximum(dense, 1.0)), 0.0)
        return _unit_rows(sublinear * jnp.asarray(idf, jnp.float32)[None, :])
    return {"raw": dense, "binary": (dense > 0).astype(jnp.float32), "log1p": jnp.log1p(dense)}[counts]


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
            if self.dropout:
                x = nn.Dropout(self.dropout, deterministic=not train)(x)
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
            x = nn.Dropout(self.dropout, deterministic=not train)(x)
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
        x = nn.Dropout(self.dropout, deterministic=not train)(x.reshape(x.shape[0], -1))
        return nn.Dense(self.num_outputs, dtype=dtype)(x).astype(jnp.float32)
