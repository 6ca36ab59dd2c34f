"""Optimizer, learning-rate schedule and reduce-on-plateau from `config.optimizer` (all optax).

Every key has its default in `jaxlab.settings.default_config`. Schedules are given in epochs in the config
and converted to steps here:

* ``constant``
* ``cosine``: cosine decay to ``final_lr_fraction`` × lr over the whole run
* ``warmup_cosine``: linear warm-up for ``warmup_epochs``, then cosine decay
* ``step``: multiply by ``decay_factor`` at each epoch in ``boundaries_epochs``
* ``exponential``: multiply by ``decay_factor`` every ``decay_epochs`` epochs (continuous)

Reduce-on-plateau (Keras' ReduceLROnPlateau) is `optax.contrib.reduce_on_plateau`, fed once per epoch with the
monitored validation metric; its scale multiplies the optimizer's updates.
"""
import jax.numpy as jnp
import optax
from ml_collections import ConfigDict

from jaxlab import errors

OPTIMIZERS = ("sgd", "momentum", "adam", "adamw", "rmsprop")
SCHEDULES = ("constant", "cosine", "warmup_cosine", "step", "exponential")


def schedule(config: ConfigDict, steps_per_epoch: int, num_epochs: int, values: dict | None = None) -> optax.Schedule:
    """`values`: see `build`."""
    value = _reader(config, values)
    lr = value("learning_rate")
    name = config.schedule
    total = max(1, steps_per_epoch * num_epochs)
    final = lr * value("final_lr_fraction")
    if name == "constant":
        return optax.constant_schedule(lr)
    if name == "cosine":
        return optax.cosine_decay_schedule(lr, total, alpha=value("final_lr_fraction"))
    if name == "warmup_cosine":
        warmup = min(int(config.warmup_epochs * steps_per_epoch), total - 1)  # ≥ 1 step of decay
        return optax.warmup_cosine_decay_schedule(0.0, lr, warmup, total, end_value=final)
    if name == "step":
        boundaries = {int(epoch * steps_per_epoch): value("decay_factor") for epoch in config.boundaries_epochs}
        return optax.piecewise_constant_schedule(lr, boundaries)
    if name == "exponential":
        return optax.exponential_decay(lr, int(config.decay_epochs * steps_per_epoch), value("decay_factor"))
    raise errors.Error(f"unknown schedule {name!r}: choose one of {', '.join(SCHEDULES)} "
                       "(--config.optimizer.schedule=...)")


def _reader(config: ConfigDict, values: dict | None):
    values = values or {}
    return lambda key: values[key] if key in values else config[key]


def build(config: ConfigDict, steps_per_epoch: int, num_epochs: int,
          values: dict | None = None) -> optax.GradientTransformation:
    """The optimizer of `config`. `values` (key → number, e.g. a sweep lane's traced learning rate) replaces the
    config's value of those keys; what the optimizer is made of still follows `config` (and a swept momentum is
    always a momentum term: a lane with momentum 0 then steps exactly as plain SGD)."""
    value = _reader(config, values)
    lr = schedule(config, steps_per_epoch, num_epochs, values)
    name = config.name
    swept_momentum = "momentum" in (values or {})
    if name == "sgd":
        tx = optax.sgd(lr, momentum=value("momentum") if swept_momentum or config.momentum else None,
                       nesterov=config.nesterov)
    elif name == "momentum":
        momentum = jnp.where(value("momentum") == 0, 0.9, value("momentum")) if swept_momentum else (
            config.momentum or 0.9)
        tx = optax.sgd(lr, momentum=momentum, nesterov=config.nesterov)
    elif name == "adam":
        tx = optax.adam(lr, b1=value("b1"), b2=value("b2"), eps=value("eps"))
    elif name == "adamw":
        tx = optax.adamw(lr, b1=value("b1"), b2=value("b2"), eps=value("eps"), weight_decay=value("weight_decay"))
    elif name == "rmsprop":
        tx = optax.rmsprop(lr, decay=value("decay"), eps=value("eps"))
    else:
        raise errors.Error(f"unknown optimizer {name!r}: choose one of {', '.join(OPTIMIZERS)} "
                           "(--config.optimizer.name=...)")
    if config.grad_clip_norm:
        tx = optax.chain(optax.clip_by_global_norm(config.grad_clip_norm), tx)
    return tx


def plateau(config: ConfigDict) -> optax.GradientTransformationExtraArgs | None:
    """`optax.contrib.reduce_on_plateau` from `config.reduce_on_plateau`, or None when patience is 0."""
    if not config.patience:
        return None
    return optax.contrib.reduce_on_plateau(
        factor=config.factor, patience=config.patience, rtol=config.rtol, atol=config.min_delta,
        cooldown=config.cooldown, accumulation_size=1, min_scale=config.min_scale)
