"""Loss functions by name: per-example losses from (model outputs, labels), plus the L2 kernel penalty."""
import functools
import re
from typing import Any, Callable

import jax
import jax.numpy as jnp
import optax

from jaxlab import errors


def softmax_cross_entropy(logits, labels):
    return optax.softmax_cross_entropy_with_integer_labels(logits, labels)


def sigmoid_binary_cross_entropy(logits, labels):
    logits = logits.reshape(labels.shape)
    return optax.sigmoid_binary_cross_entropy(logits, labels.astype(logits.dtype))


def _per_example(errors_):
    return errors_.reshape(errors_.shape[0], -1).mean(axis=1)


def mse(predictions, targets):
    return _per_example(jnp.square(predictions.reshape(targets.shape) - targets))


def mae(predictions, targets):
    return _per_example(jnp.abs(predictions.reshape(targets.shape) - targets))


def huber(predictions, targets, delta: float = 1.0):
    return _per_example(optax.huber_loss(predictions.reshape(targets.shape), targets, delta=delta))


def binary_cross_entropy_probs(outputs, targets):
    """Reconstruction loss: model outputs are logits of per-pixel probabilities in [0, 1]."""
    return _per_example(optax.sigmoid_binary_cross_entropy(outputs.reshape(targets.shape), targets))


LOSSES: dict[str, Callable] = {
    "softmax_cross_entropy": softmax_cross_entropy,
    "sigmoid_binary_cross_entropy": sigmoid_binary_cross_entropy,
    "mse": mse,
    "mae": mae,
    "huber": huber,
    "reconstruction_bce": binary_cross_entropy_probs,
    "binary_mse": lambda outputs, labels: mse(outputs, 2.0 * labels - 1.0),  # 0/1 labels as ±1 targets
}


def get(name: str) -> Callable:
    """A loss by name; ``huber:DELTA`` is Huber with that delta (``huber`` alone: delta 1.0)."""
    base, _, delta = name.partition(":")
    if base not in LOSSES:
        raise errors.Error(f"unknown loss {name!r}: choose one of {', '.join(sorted(LOSSES))} (--config.loss=...)")
    if not delta:
        return LOSSES[base]
    try:
        if base != "huber" or float(delta) <= 0:
            raise ValueError(delta)
    except ValueError as exc:
        raise errors.Error(f"bad loss {name!r}: only huber takes a parameter, a delta > 0 "
                           "(--config.loss=huber:1.0)") from exc
    return functools.partial(huber, delta=float(delta))


def l2_penalty(params: Any, weight: float, pattern: str = r"kernel$") -> jax.Array:
    """Keras `kernel_regularizer=l2(weight)` semantics: weight · Σ w² over parameters whose path matches."""
    if isinstance(weight, (int, float)) and not weight:   # a traced weight (a sweep's lanes) always computes
        return jnp.zeros((), jnp.float32)
    regex = re.compile(pattern)
    total = jnp.zeros((), jnp.float32)
    for path, leaf in jax.tree_util.tree_leaves_with_path(params):
        name = "/".join(str(getattr(key, "key", key)) for key in path)
        if regex.search(name):
            total = total + jnp.sum(jnp.square(leaf.astype(jnp.float32)))
    return weight * total
