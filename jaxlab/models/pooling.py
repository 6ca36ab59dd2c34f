"""2×2 max pooling that is fast to differentiate on XLA:CPU.

`flax.linen.max_pool`'s gradient is a `select_and_scatter`, which XLA:CPU runs ~8× slower than the gradient of a
reshape + max (measured 2026-11-30, 2-core CPU: 140 ms vs 17 ms for a [128, 28, 28, 32] input). For non-overlapping
2×2 windows on even sizes both give the same values; odd sizes fall back to `nn.max_pool` (VALID, as Keras).
"""
import flax.linen as nn
import jax


def max_pool_2x2(x: jax.Array) -> jax.Array:
    """[B, H, W, C] → [B, H//2, W//2, C], the max of each 2×2 window."""
    batch, height, width, channels = x.shape
    if height % 2 or width % 2:
        return nn.max_pool(x, (2, 2), strides=(2, 2))
    return x.reshape(batch, height // 2, 2, width // 2, 2, channels).max(axis=(2, 4))
