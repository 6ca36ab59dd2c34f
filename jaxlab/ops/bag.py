"""The bag-of-words kernel: each review's encoded word counts @ a table, without building the counts.

Counts @ W equals the sum of W's rows over the review's ids, so no [batch, vocab_size] count vector is ever built:
`weighted_bag` loops over token positions, adding one gathered row per review per position (~100× fewer FLOPs than
the dense [batch, 10,000] @ [10,000, 100] product, and faster on CPU than one big gather); its gradient (a custom
VJP) scatter-adds each position's weighted cotangent into the table's rows.

Inputs are int32 token ids [batch, length] (0 = padding; see `jaxlab.data.imdb`) or bags (`is_bag`: [batch, 2,
length], each review's distinct ids in increasing order and their counts, made by `distinct_counts`: once by the
loader for `data.encoding="bag"`, instead of at every step). `position_weights` turns either into (ids, weights), the
encoding `counts` picks: "raw" word counts, "binary" presence (1 per distinct word), "log1p" (log(1 + count)) or
"tfidf" (scikit-learn's `TfidfTransformer(sublinear_tf=True)`: (1 + ln count) × the word's inverse document
frequency, each review scaled to unit L2 norm; the idf is fitted on the training part by the data loader). The
ids-sum keeps working: each review's distinct ids are put first, one position each weighted by its encoded count,
then padding. The bag's loops visit each review only up to its last non-zero weight, longest reviews first
(`_layout`, `_loops`), `_UNROLL` positions per step; under jit with the reviews split over devices each device sorts,
sums and scatters its own reviews and one all-reduce adds the table gradients (`parallel.over_batch`).

`word_counts` is the dense formulation: the [batch, vocab_size] encoded counts, the Keras-style input (the model's
`bag="dense"` multiplies them by the table; benchmarks/imdb_bow.py times it, the tests check the kernel against it).

The sums over positions (and their gradient's scatter-adds) are taken in at least float32 (`_sum_dtype`); the result
is in the table's dtype (bfloat16 for mixed precision).
"""
import functools

import jax
import jax.numpy as jnp

from jaxlab import errors, parallel

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
    → [batch, features]; `counts` = raw | binary | log1p | tfidf (see `position_weights`). The kernel in one call
    (a model whose layers share the encoding calls `position_weights` once and `weighted_bag` per layer)."""
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
