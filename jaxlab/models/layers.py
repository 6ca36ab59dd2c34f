"""Small pieces shared by models: activations by name."""
import flax.linen as nn
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
