"""Convolutional autoencoder for image denoising (the keras-io recipe, narrower).

Encoder: [Conv F 3×3 'same' + activation → MaxPool 2] for F in `features`; decoder: [ConvTranspose F 3×3 stride 2
(computed as a sub-pixel convolution, `upsample.py`) + activation] for F in reversed `features`; then
Conv(channels) 3×3. The output is per-pixel logits (use the `reconstruction_bce` loss; sigmoid gives the image).
features=(32, 16) on 28×28×1 has 12,193 parameters.
With `skips` (U-Net style) each decoder stage's output is concatenated with the encoder's convolution output of
the same size before the next layer, so detail need not pass through the 7×7 bottleneck.
"""
from typing import Sequence

import flax.linen as nn
import jax.numpy as jnp

from jaxlab.models import layers as layer_lib, pooling, upsample


class ConvAutoencoder(nn.Module):
    num_outputs: int                  # output channels (1 for MNIST)
    features: Sequence[int] = (32, 16)
    activation: str = "relu"
    skips: bool = False               # U-Net style: each decoder stage also sees the encoder's output of its size
    dtype: str = "float32"

    @nn.compact
    def __call__(self, x, *, train: bool):
        del train  # no dropout or BatchNorm
        dtype = jnp.dtype(self.dtype)
        act = layer_lib.activation(self.activation)
        x = x.astype(dtype)
        if x.ndim == 3:
            x = x[..., None]
        encoded = []
        for features in self.features:
            x = act(nn.Conv(features, (3, 3), padding="SAME", dtype=dtype)(x))
            encoded.append(x)
            x = pooling.max_pool_2x2(x)
        for index, features in enumerate(reversed(self.features)):
            x = act(upsample.SubpixelConvTranspose(features, 3, 2, dtype=dtype, name=f"ConvTranspose_{index}")(x))
            if self.skips:
                x = jnp.concatenate([x, encoded[-1 - index]], axis=-1)
        return nn.Conv(self.num_outputs, (3, 3), padding="SAME", dtype=dtype)(x).astype(jnp.float32)
