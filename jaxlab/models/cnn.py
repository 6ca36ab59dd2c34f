"""A Keras-Sequential-like network described by a list of layer tokens (`config.model.layers`).

Tokens, in order:
  ``conv{F}`` 3×3 'same' convolution with F filters + activation · ``conv{F}k{K}`` K×K kernel ·
  ``pool`` 2×2 max pool · ``avgpool`` 2×2 average pool · ``gap`` global average pool · ``bn`` BatchNorm ·
  ``dropout{R}`` dropout with rate R · ``flatten`` · ``dense{U}`` Dense with U units + activation.
A final ``Dense(num_outputs)`` (the logits) is always added. Parameter names follow flax (Conv_0, Dense_1, …),
so an L2 on some layers is ``config.l2_pattern = "Dense_[01]/kernel$"``.

Example (the lab's MNIST CNN): ``("conv32", "pool", "bn", "conv16", "pool", "bn", "flatten")``.
"""
import re
from typing import Sequence

import flax.linen as nn
import jax.numpy as jnp

from jaxlab import errors
from jaxlab.models import layers as layer_lib
from jaxlab.models.pooling import max_pool_2x2

TOKEN = re.compile(r"^(conv(?P<filters>\d+)(k(?P<kernel>\d+))?|pool|avgpool|gap|bn|flatten|"
                   r"dropout(?P<rate>0?\.\d+)|dense(?P<units>\d+))$")


def parse(tokens: Sequence[str]) -> list[re.Match]:
    matches = [TOKEN.match(token) for token in tokens]
    bad = [token for token, match in zip(tokens, matches) if match is None]
    if bad:
        raise errors.Error(f"unknown cnn layer token(s) {', '.join(bad)}: use conv{{F}}[k{{K}}], pool, avgpool, gap, "
                           "bn, dropout{R}, flatten, dense{U}")
    return matches


class CNN(nn.Module):
    num_outputs: int
    layers: Sequence[str] = ("conv32", "pool", "flatten")
    activation: str = "relu"
    dtype: str = "float32"            # compute dtype ("bfloat16" for mixed precision); parameters stay float32
    axis_name: str | None = None      # set by jaxlab.parallel for cross-replica BatchNorm

    @nn.compact
    def __call__(self, x, *, train: bool):
        dtype = jnp.dtype(self.dtype)
        act = layer_lib.activation(self.activation)
        x = x.astype(dtype)
        if x.ndim == 3:
            x = x[..., None]
        for match in parse(self.layers):
            token = match.group(0)
            if token.startswith("conv"):
                kernel = int(match.group("kernel") or 3)
                x = act(nn.Conv(int(match.group("filters")), (kernel, kernel), padding="SAME", dtype=dtype)(x))
            elif token == "pool":
                x = max_pool_2x2(x)
            elif token == "avgpool":
                x = nn.avg_pool(x, (2, 2), strides=(2, 2))
            elif token == "gap":
                x = x.mean(axis=tuple(range(1, x.ndim - 1)))
            elif token == "bn":
                x = nn.BatchNorm(use_running_average=not train, momentum=0.99, epsilon=1e-3,
                                 axis_name=self.axis_name, dtype=dtype)(x)
            elif token.startswith("dropout"):
                x = layer_lib.Dropout(float(match.group("rate")), deterministic=not train)(x)
            elif token == "flatten":
                x = x.reshape((x.shape[0], -1))
            else:
                x = act(nn.Dense(int(match.group("units")), dtype=dtype)(x))
        x = x.reshape((x.shape[0], -1))
        return nn.Dense(self.num_outputs, dtype=dtype)(x).astype(jnp.float32)
