"""The "model with a concatenation layer": x → Dense(hidden) tanh → concatenate(x, hidden) → Dense(num_outputs).

With one hidden unit it solves XOR (the output layer sees the inputs and one nonlinear feature of them).
"""
import flax.linen as nn
import jax.numpy as jnp

from jaxlab.models import layers


class ConcatNet(nn.Module):
    num_outputs: int
    hidden: int = 1
    activation: str = "tanh"
    output_activation: str = "linear"
    dtype: str = "float32"      # compute dtype ("bfloat16" for mixed precision); parameters and outputs stay float32

    @nn.compact
    def __call__(self, x, *, train: bool):
        del train  # no dropout or BatchNorm
        dtype = jnp.dtype(self.dtype)
        x = x.reshape((x.shape[0], -1)).astype(dtype)
        hidden = layers.activation(self.activation)(nn.Dense(self.hidden, dtype=dtype)(x))
        output = nn.Dense(self.num_outputs, dtype=dtype)(jnp.concatenate([x, hidden], axis=-1))
        return layers.activation(self.output_activation)(output).astype(jnp.float32)
