"""The pure steps of training: the train state, one optimizer step, one evaluation step, and the compiled chunks
that run many of them (a `lax.scan`, or straight-line code). Pure functions of (state, batch, rng); `mode` only
selects the cross-replica reductions of `jaxlab.parallel`, so nothing here knows about devices."""
import functools
from typing import Any, Callable

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import struct
from ml_collections import ConfigDict

from jaxlab import losses, parallel
from jaxlab.data import Dataset


class TrainState(struct.PyTreeNode):
    step: jax.Array
    params: Any
    batch_stats: Any
    opt_state: Any
    plateau: Any  # optax.contrib.reduce_on_plateau state, or None when disabled
    first_loss: jax.Array  # the loss of the run's first step: the divergence guard's reference


def _variables(state: TrainState, params=None) -> dict:
    variables = {"params": state.params if params is None else params}
    if state.batch_stats:
        variables["batch_stats"] = state.batch_stats
    return variables


def train_step(state: TrainState, batch: Dataset, rng: jax.Array, *, model: nn.Module,
               tx: optax.GradientTransformation, loss_fn: Callable, metrics_cls, l2: float, l2_pattern: str,
               mode: str, augment: Callable | None = None):
    """One optimizer step on `batch`; returns (new state, clu metrics of the batch, mean loss of the batch)."""
    step_rng = jax.random.fold_in(jax.random.fold_in(rng, state.step), parallel.device_index(mode))
    dropout_rng, augment_rng = jax.random.split(step_rng)
    inputs = batch["inputs"] if augment is None else augment(batch["inputs"], augment_rng)

    def objective(params):
        outputs, updates = model.apply(_variables(state, params), inputs, train=True,
                                       rngs={"dropout": dropout_rng}, mutable=["batch_stats"])
        per_example = loss_fn(outputs, batch["label"])
        penalty = losses.l2_penalty(params, l2, l2_pattern)
        mean_loss = jnp.sum(per_example * batch["mask"]) / jnp.maximum(jnp.sum(batch["mask"]), 1) + penalty
        return mean_loss, (outputs, per_example + penalty, updates)

    (loss, (outputs, per_example, updates)), grads = jax.value_and_grad(objective, has_aux=True)(state.params)
    grads = parallel.cross_replica_mean(grads, mode)
    step_updates, opt_state = tx.update(grads, state.opt_state, state.params)
    if state.plateau is not None:
        step_updates = optax.tree.scale(state.plateau.scale, step_updates)
    loss = parallel.cross_replica_mean(loss, mode)
    new_state = state.replace(step=state.step + 1, first_loss=jnp.where(state.step == 0, loss, state.first_loss),
                              params=optax.apply_updates(state.params, step_updates),
                              batch_stats=updates.get("batch_stats", state.batch_stats), opt_state=opt_state)
    batch_metrics = metrics_cls.single_from_model_output(
        loss=per_example, logits=outputs, labels=batch["label"], mask=batch["mask"])
    return new_state, parallel.cross_replica_sum(batch_metrics, mode), loss


def eval_step(state: TrainState, batch: Dataset, *, model: nn.Module, loss_fn: Callable, metrics_cls, l2: float,
              l2_pattern: str, mode: str):
    """clu metrics of `batch` (padded rows have mask 0 and do not count)."""
    outputs = model.apply(_variables(state), batch["inputs"], train=False)
    per_example = loss_fn(outputs, batch["label"]) + losses.l2_penalty(state.params, l2, l2_pattern)
    batch_metrics = metrics_cls.single_from_model_output(
        loss=per_example, logits=outputs, labels=batch["label"], mask=batch["mask"])
    return parallel.cross_replica_sum(batch_metrics, mode)


def _batch(data: Dataset | None, rows, mask: jax.Array | None, mode: str) -> Dataset:
    """Device input: `rows` (indices) gathered from the on-device `data` (placed by `parallel.stacked`). Host
    input (`data` None): `rows` is already the batch. A None mask: every row counts."""
    batch = dict(rows) if data is None else {key: parallel.gather(value, rows, mode) for key, value in data.items()}
    batch["mask"] = jnp.ones((jax.tree.leaves(batch)[0].shape[0],), jnp.float32) if mask is None else mask
    return batch


def train_chunk(state, data, rows, rng, totals=None, *, step: Callable, metrics_cls, mode: str, unroll: bool = False):
    """Runs `step` over consecutive batches (`rows` is [steps, batch] indices into `data`, or with `data` None the
    batches themselves, [steps, batch, ...] per key) inside one compiled `lax.scan`, or with `unroll` as
    straight-line code (see `unrolled_steps`). The metrics add up onto `totals` (the epoch's so far; None = none
    yet) one step at a time, so an epoch's metrics are the same however its steps are split into dispatches."""
    def body(carry, batch_rows):
        state, totals = carry
        batch = _batch(data, batch_rows, None, mode)
        state, batch_metrics, loss = step(state, batch, rng)
        return (state, totals.merge(batch_metrics)), loss

    carry = (state, metrics_cls.empty() if totals is None else totals)
    if unroll:
        step_losses = []
        for index in range(jax.tree.leaves(rows)[0].shape[0]):
            carry, loss = body(carry, jax.tree.map(lambda value: value[index], rows))
            step_losses.append(loss)
        (state, totals), step_losses = carry, jnp.stack(step_losses)
    else:
        (state, totals), step_losses = jax.lax.scan(body, carry, rows)
    return state, totals, step_losses


UNROLLED_STEPS = 8


def unrolled_steps(config: ConfigDict, model: nn.Module, sample_inputs: np.ndarray, devices) -> int:
    """Training steps per dispatch written out without a loop; 0 = the `lax.scan` loop.

    XLA:CPU runs backward convolutions ~25× slower inside a while loop than in straight-line code (measured in
    benchmarks/README.md), so by default (``config.unroll_steps = -1``) a model with convolutions on CPU gets
    `UNROLLED_STEPS` unrolled steps per dispatch; everything else, and every model on GPU/TPU, keeps the loop.
    ``config.unroll_steps = k`` forces k (0 = loop)."""
    wanted = config.unroll_steps
    if wanted >= 0:
        return wanted
    if devices[0].platform != "cpu":
        return 0
    init = jax.make_jaxpr(lambda inputs: model.init(jax.random.PRNGKey(0), inputs, train=False))(sample_inputs)
    return UNROLLED_STEPS if "conv_general_dilated" in str(init) else 0


def eval_pass(state, data, rows, mask, *, step: Callable, metrics_cls, mode: str):
    def body(totals, inputs):
        batch_rows, batch_mask = inputs
        return totals.merge(step(state, _batch(data, batch_rows, batch_mask, mode))), None

    totals, _ = jax.lax.scan(body, metrics_cls.empty(), (rows, mask))
    return totals


def update_plateau(state: TrainState, value: jax.Array, *, plateau_tx) -> TrainState:
    _, plateau = plateau_tx.update(updates=state.params, state=state.plateau, params=state.params, value=value)
    return state.replace(plateau=plateau)


def compute(totals) -> dict[str, float]:
    return {name: float(value) for name, value in totals.compute().items()}


def init_state(model: nn.Module, tx, plateau_tx, sample_inputs: np.ndarray, seed: int) -> TrainState:
    variables = jax.jit(functools.partial(model.init, train=False))(
        {"params": jax.random.PRNGKey(seed)}, jnp.asarray(sample_inputs))
    params = variables["params"]
    return TrainState(step=jnp.zeros((), jnp.int32), params=params, batch_stats=variables.get("batch_stats", {}),
                      opt_state=tx.init(params), plateau=None if plateau_tx is None else plateau_tx.init(params),
                      first_loss=jnp.full((), jnp.nan, jnp.float32))
