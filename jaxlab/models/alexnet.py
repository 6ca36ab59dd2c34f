"""AlexNet-style CNN for 32×32 images: 5 convolutions with BatchNorm, 3 dense layers with dropout.

Layout (defaults, CIFAR-100: 5,697,916 parameters, the lab's ~5.7M):
  conv 64 5×5 → BN → relu → maxpool 2 · conv 192 5×5 → BN → relu → maxpool 2 ·
  conv 384 3×3 → BN → relu · conv 256 3×3 → BN → relu · conv 256 3×3 → BN → relu → maxpool 2 ·
  flatten (4×4×256) → dense 720 → relu → dropout · dense 360 → relu → dropout · dense num_outputs.
ImageNet AlexNet's 11×11 stride-4 stem and 3×3 stride-2 pools are replaced by 'same' convolutions and 2×2 pools,
which is what keeps 32×32 inputs from collapsing to 1×1 after the first block.

``dtype="bfloat16"`` computes in bfloat16 with float32 parameters and float32 logits (BatchNorm statistics are
taken in float32 by flax); ``axis_name`` gives cross-replica BatchNorm under pmap.
"""
from typing import Sequence

import flax.linen as nn
import jax.numpy as jnp

from jaxlab.models import layers
from jaxlab.models.pooling import max_pool_2x2


class AlexNet(nn.Module):
    num_outputs: int
    filters: Sequence[int] = (64, 192, 384, 256, 256)
    kernels: Sequence[int] = (5, 5, 3, 3, 3)
    pool_after: Sequence[int] = (0, 1, 4)     # indices of the convolutions followed by a 2×2 max pool
    dense: Sequence[int] = (720, 360)
    dropout: float = 0.5
    dtype: str = "float32"                    # compute dtype ("bfloat16" for mixed precision)
    axis_name: str | None = None              # set by jaxlab.parallel for cross-replica BatchNorm

    @nn.compact
    def __call__(self, x, *, train: bool):
        dtype = jnp.dtype(self.dtype)
        x = x.astype(dtype)
        for index, (filters, kernel) in enumerate(zip(self.filters, self.kernels)):
            x = nn.Conv(filters, (kernel, kernel), padding="SAME", use_bias=False, dtype=dtype)(x)
            x = nn.BatchNorm(use_running_average=not train, momentum=0.9, epsilon=1e-5, axis_name=self.axis_name,
                             dtype=dtype)(x)
            x = nn.relu(x)
            if index in self.pool_after:
                x = max_pool_2x2(x)
        x = x.reshape((x.shape[0], -1))
        for units in self.dense:
            x = nn.relu(nn.Dense(units, dtype=dtype)(x))
            x = layers.Dropout(self.dropout, deterministic=not train)(x)
        return nn.Dense(self.num_outputs, dtype=dtype)(x).astype(jnp.float32)
