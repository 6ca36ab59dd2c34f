"""Non-overlapping max pooling that is fast to differentiate on XLA:CPU.

`flax.linen.max_pool`'s gradient is a `select_and_scatter`, which XLA:CPU runs ~8× slower than the gradient of a
reshape + max (measured 2026-11-30, 2-core CPU: 140 ms vs 17 ms for a [128, 28, 28, 32] input). With windows equal
to strides both give the same values; a remainder that does not fill a window is dropped (VALID, as Keras).
"""
import jax


def max_pool(x: jax.Array, size: int) -> jax.Array:
    """[B, *spatial, C] → [B, *(s // size for s in spatial), C]: the max of each size × … × size window."""
    batch, *spatial, channels = x.shape
    kept = tuple(slice(0, (extent // size) * size) for extent in spatial)
    x = x[(slice(None),) + kept]
    split = [dim for extent in spatial for dim in (extent // size, size)]
    return x.reshape(batch, *split, channels).max(axis=tuple(range(2, 2 * len(spatial) + 1, 2)))


def max_pool_2x2(x: jax.Array) -> jax.Array:
    """[B, H, W, C] → [B, H//2, W//2, C], the max of each 2×2 window."""
    return max_pool(x, 2)
