"""VGG with BatchNorm for 32×32 images.

VGG16 by default: 13 convolutions, 64-64-M-128-128-M-256×3-M-512×3-M-512×3-M.

Each convolution is 3×3 'same' → BN → relu; ``M`` is a 2×2 max pool, so 32×32 inputs end at 1×1×512,
followed by the dense layers in ``dense`` (each dense → BN → relu → dropout) and the logits. Defaults
(CIFAR-100: 15,033,380 parameters) follow the common CIFAR VGG16-BN with one 512-unit hidden layer;
``dense=(4096, 4096)`` gives the ImageNet-style classifier (34.0M parameters).

The convolutions go through `convolution.conv_general_dilated`: the three 512-channel ones at 2×2 run as one
matrix product each (XLA:CPU's own convolution is ~50× slower there; the training step 2.2 s → 0.45 s at batch 32).

``dtype="bfloat16"`` computes in bfloat16 with float32 parameters and float32 logits (BatchNorm statistics are
taken in float32 by flax); ``axis_name`` gives cross-replica BatchNorm under pmap.
"""
from typing import Sequence

import flax.linen as nn
import jax.numpy as jnp

from jaxlab.models import convolution, layers
from jaxlab.models.pooling import max_pool_2x2

VGG16 = (64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M")


class VGG(nn.Module):
    num_outputs: int
    layers: Sequence[int | str] = VGG16     # filters of each convolution, "M" for a 2×2 max pool
    dense: Sequence[int] = (512,)
    dropout: float = 0.5
    dtype: str = "float32"                  # compute dtype ("bfloat16" for mixed precision)
    axis_name: str | None = None            # set by jaxlab.parallel for cross-replica BatchNorm

    def _norm(self, train: bool, dtype):
        return nn.BatchNorm(use_running_average=not train, momentum=0.9, epsilon=1e-5, axis_name=self.axis_name,
                            dtype=dtype)

    @nn.compact
    def __call__(self, x, *, train: bool):
        dtype = jnp.dtype(self.dtype)
        x = x.astype(dtype)
        for layer in self.layers:
            if layer == "M":
                x = max_pool_2x2(x)
            else:
                x = nn.Conv(int(layer), (3, 3), padding="SAME", use_bias=False, dtype=dtype,
                            conv_general_dilated=convolution.conv_general_dilated)(x)
                x = nn.relu(self._norm(train, dtype)(x))
        x = x.reshape((x.shape[0], -1))
        for units in self.dense:
            x = nn.relu(self._norm(train, dtype)(nn.Dense(units, use_bias=False, dtype=dtype)(x)))
            x = layers.Dropout(self.dropout, deterministic=not train)(x)
        return nn.Dense(self.num_outputs, dtype=dtype)(x).astype(jnp.float32)
