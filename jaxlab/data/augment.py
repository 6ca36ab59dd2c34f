"""Training-time augmentation, run on the accelerator inside the compiled train step (never on eval batches).

`config.data.augment` lists op names; `build` chains them into one pure function (inputs, rng) → inputs.
Adding an op is one function here plus one line in `OPS`.
"""
from typing import Callable, Sequence

import jax
import jax.numpy as jnp

from jaxlab import errors

Augment = Callable[[jax.Array, jax.Array], jax.Array]


def random_crop(inputs: jax.Array, rng: jax.Array, pad: int = 4) -> jax.Array:
    """Zero-pads each image by `pad` pixels per side (zero = the channel mean after standardisation), then crops it
    back to its size at a random offset per image (the CIFAR recipe: pad 4, random 32×32 crop)."""
    height, width = inputs.shape[1:3]
    padded = jnp.pad(inputs, ((0, 0), (pad, pad), (pad, pad)) + ((0, 0),) * (inputs.ndim - 3))
    offsets = jax.random.randint(rng, (inputs.shape[0], 2), 0, 2 * pad + 1)

    def crop(image, offset):
        start = (offset[0], offset[1]) + (0,) * (image.ndim - 2)
        return jax.lax.dynamic_slice(image, start, (height, width) + image.shape[2:])

    return jax.vmap(crop)(padded, offsets)


def flip_horizontal(inputs: jax.Array, rng: jax.Array) -> jax.Array:
    """Mirrors each image left-right with probability 1/2 (independently per image)."""
    flip = jax.random.bernoulli(rng, 0.5, (inputs.shape[0],) + (1,) * (inputs.ndim - 1))
    return jnp.where(flip, inputs[:, :, ::-1], inputs)


def random_shift(inputs: jax.Array, rng: jax.Array) -> jax.Array:
    """Shifts each image by up to 2 pixels in each direction (zero fill): the MNIST-sized random crop."""
    return random_crop(inputs, rng, pad=2)


OPS: dict[str, Augment] = {
    "random_crop": random_crop, "flip_horizontal": flip_horizontal,
    "random_shift": random_shift,
}


def build(names: Sequence[str]) -> Augment:
    unknown = [name for name in names if name not in OPS]
    if unknown:
        known = ", ".join(sorted(OPS)) or "none yet"
        raise errors.Error(f"unknown augmentation {', '.join(unknown)}: choose from {known} "
                           "(--config.data.augment=...)")
    ops = [OPS[name] for name in names]

    def augment(inputs: jax.Array, rng: jax.Array) -> jax.Array:
        for index, op in enumerate(ops):
            inputs = op(inputs, jax.random.fold_in(rng, index))
        return inputs

    return augment
