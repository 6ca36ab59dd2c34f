"""Small pieces shared by models: activations by name, and dropout whose rate may be a traced per-lane value."""
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp

from jaxlab import errors

ACTIVATIONS = {
    "relu": nn.relu,
    "sigmoid": nn.sigmoid,
    "tanh": jnp.tanh,
    "gelu": nn.gelu,
    "elu": nn.elu,
    "selu": nn.selu,
    "leaky_relu": nn.leaky_relu,
    "linear": lambda x: x,
    "none": lambda x: x,
}


def activation(name: str):
    if name not in ACTIVATIONS:
        raise errors.Error(f"unknown activation {name!r}: choose one of {', '.join(ACTIVATIONS)}")
    return ACTIVATIONS[name]


def active(rate: Any) -> bool:
    """Whether a dropout layer belongs in the net: a nonzero rate, or a traced one (a sweep's lanes share one net;
    a lane with rate 0 keeps every unit, exactly as a net without the layer)."""
    return not isinstance(rate, (int, float)) or rate != 0


class Dropout(nn.Module):
    """`flax.linen.Dropout` (same name, so the same rng stream, mask and scaling) that also takes a traced `rate`."""
    rate: Any
    deterministic: bool = False

    @nn.compact
    def __call__(self, inputs):
        if self.deterministic or not active(self.rate):
            return inputs
        keep = 1.0 - self.rate
        mask = jax.random.bernoulli(self.make_rng("dropout"), p=keep, shape=inputs.shape)
        return jax.lax.select(mask, inputs / keep, jnp.zeros_like(inputs))
