"""Training-time augmentation, run on the accelerator inside the compiled train step (never on eval batches).

`config.data.augment` lists op names; `build` chains them into one pure function (inputs, rng) → inputs.
Adding an op is one function here plus one line in `OPS`.
"""
from typing import Callable, Sequence

import jax

from jaxlab import errors

Augment = Callable[[jax.Array, jax.Array], jax.Array]

OPS: dict[str, Augment] = {}


def build(names: Sequence[str]) -> Augment:
    unknown = [name for name in names if name not in OPS]
    if unknown:
        raise errors.Error(f"unknown augmentation {', '.join(unknown)}: choose from {', '.join(sorted(OPS)) or 'none yet'} "
                           "(--config.data.augment=...)")
    ops = [OPS[name] for name in names]

    def augment(inputs: jax.Array, rng: jax.Array) -> jax.Array:
        for index, op in enumerate(ops):
            inputs = op(inputs, jax.random.fold_in(rng, index))
        return inputs

    return augment
