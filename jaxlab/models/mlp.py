"""A multilayer perceptron:
Flatten → (Dropout) → [Dense → (BatchNorm) → activation → (Dropout)] × N → Dense(num_outputs).
"""
from typing import Sequence

import flax.linen as nn
import jax.numpy as jnp

from jaxlab.models import layers


class MLP(nn.Module):
    num_outputs: int
    hidden: Sequence[int] = (100,)
    activations: Sequence[str] = ("relu",)   # one per hidden layer, or one for all
    output_activation: str = "linear"        # applied to the logits (the lab's "relu before softmax")
    batch_norm: bool = False                 # Dense → BatchNorm → activation, as the lab's Dense+BN nets
    dropout: float = 0.0
    input_dropout: float = 0.0               # dropout on the (flattened) inputs
    dtype: str = "float32"                   # compute dtype; parameters stay float32
    axis_name: str | None = None             # set by jaxlab.parallel for cross-replica BatchNorm
    kernel_init_scale: float = 1.0           # multiplies the std of every Dense kernel's init (flax's lecun_normal,
                                             # truncated normal with variance 1/fan_in); 1.0 = flax's default

    @nn.compact
    def __call__(self, x, *, train: bool):
        dtype = jnp.dtype(self.dtype)
        x = x.reshape((x.shape[0], -1)).astype(dtype)
        if layers.active(self.input_dropout):
            x = layers.Dropout(self.input_dropout, deterministic=not train)(x)
        hidden = (self.hidden,) if isinstance(self.hidden, int) else self.hidden  # an int: one hidden layer
        names = list(self.activations) * (len(hidden) if len(self.activations) == 1 else 1)
        dense = {}
        if self.kernel_init_scale != 1.0:  # variance_scaling(1.0, ...) is lecun_normal: same draws, times the scale
            dense["kernel_init"] = nn.initializers.variance_scaling(self.kernel_init_scale ** 2, "fan_in",
                                                                    "truncated_normal")
        for units, name in zip(hidden, names, strict=True):
            x = nn.Dense(units, dtype=dtype, **dense)(x)
            if self.batch_norm:
                x = nn.BatchNorm(use_running_average=not train, momentum=0.99, epsilon=1e-3,
                                 axis_name=self.axis_name, dtype=dtype)(x)
            x = layers.activation(name)(x)
            if layers.active(self.dropout):
                x = layers.Dropout(self.dropout, deterministic=not train)(x)
        x = nn.Dense(self.num_outputs, dtype=dtype, **dense)(x)
        return layers.activation(self.output_activation)(x).astype(jnp.float32)
