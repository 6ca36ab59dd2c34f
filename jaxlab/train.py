"""Train state, the pure train/eval steps, and the epoch loop (`fit`) with its hooks.

An epoch's order is a permutation that is a pure function of (seed, epoch) (what each device holds and reads of it:
`jaxlab.shards`), and a compiled `lax.scan` runs many steps per dispatch. Two input modes (`config.input`), same
results for the same seed:

* ``device`` (default, for data that fits in accelerator memory — all of ours): each split is placed on the devices
  once and batches are gathered there by row index; one dispatch runs the whole epoch when stdout is not a terminal
  (~20 chunks with a progress bar when it is).
* ``host``: the splits stay in host memory; each dispatch ships only its own batches (≈ 1/20 of an epoch), already
  split across the devices, for data that does not fit on the accelerator.

Hooks run between dispatches on the host: divergence guard, clu summaries, history.csv, checkpoints,
reduce-on-plateau, early stopping.
"""
import functools
import math
import os
import signal
import sys
import threading
import time
from typing import Any, Callable, NamedTuple

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax
from absl import logging
from clu import metric_writers
from flax import struct
from ml_collections import ConfigDict

from jaxlab import checkpoint, errors, losses, metrics, optim, parallel, report, shards
from jaxlab.data import Dataset, Share, Splits, augment, first_row, num_rows


INPUT_MODES = ("device", "host")


class TrainState(struct.PyTreeNode):
    step: jax.Array
    params: Any
    batch_stats: Any
    opt_state: Any
    plateau: Any  # optax.contrib.reduce_on_plateau state, or None when disabled
    first_loss: jax.Array  # the loss of the run's first step: the divergence guard's reference


# ----------------------------------------------------------------------------------------------------------------
# Pure steps. `mode` only selects the cross-replica reductions of jaxlab.parallel.

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


def train_chunk(state, data, rows, rng, *, step: Callable, metrics_cls, mode: str, unroll: bool = False):
    """Runs `step` over consecutive batches (`rows` is [steps, batch] indices into `data`, or with `data` None the
    batches themselves, [steps, batch, ...] per key) inside one compiled `lax.scan`, or with `unroll` as
    straight-line code (see `unrolled_steps`)."""
    def body(carry, batch_rows):
        state, totals = carry
        batch = _batch(data, batch_rows, None, mode)
        state, batch_metrics, loss = step(state, batch, rng)
        return (state, totals.merge(batch_metrics)), loss

    carry = (state, metrics_cls.empty())
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
    wanted = config.get("unroll_steps", -1)
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


# ----------------------------------------------------------------------------------------------------------------
# Setup shared by training and evaluate-only.

class Setup(NamedTuple):
    mode: str
    devices: list
    layout: str            # data layout, see jaxlab.shards: replicated | per_device
    state: Any             # replicated TrainState
    data: dict             # split name → key → on-device [devices, rows held, ...] arrays (device input), or
                           # host numpy arrays, one per device of this process (host input)
    train_fn: Callable
    eval_fn: Callable
    plateau_fn: Callable | None
    rng: Any
    metrics_cls: Any
    steps_per_epoch: int
    mngr: Any
    input: str             # "device" | "host"
    unroll_steps: int      # > 0: that many training steps per dispatch as straight-line code


def init_state(model: nn.Module, tx, plateau_tx, sample_inputs: np.ndarray, seed: int) -> TrainState:
    variables = jax.jit(functools.partial(model.init, train=False))(
        {"params": jax.random.PRNGKey(seed)}, jnp.asarray(sample_inputs))
    params = variables["params"]
    return TrainState(step=jnp.zeros((), jnp.int32), params=params, batch_stats=variables.get("batch_stats", {}),
                      opt_state=tx.init(params), plateau=None if plateau_tx is None else plateau_tx.init(params),
                      first_loss=jnp.full((), jnp.nan, jnp.float32))


def setup(config: ConfigDict, workdir: str, splits: Splits, model: nn.Module, devices=None) -> Setup:
    mode = config.parallelism
    input_mode = config.get("input", "device")
    if input_mode not in INPUT_MODES:
        raise errors.Error(f"unknown input mode {input_mode!r}: use --config.input=device or host")
    devices = list(devices or parallel.devices_for(config))
    parallel.check(mode, config.batch_size, devices)
    parallel.check(mode, config.eval_batch_size, devices)
    num_train = num_rows(splits, "train")
    steps_per_epoch = num_train // config.batch_size
    if steps_per_epoch == 0:
        raise errors.Error(f"batch size {config.batch_size} is larger than the {num_train} training examples: "
                           "lower --config.batch_size")
    tx = optim.build(config.optimizer, steps_per_epoch, config.num_epochs)
    plateau_tx = optim.plateau(config.reduce_on_plateau)
    metrics_cls = metrics.collection(config.task, splits.info.get("num_classes", 0))
    best_metric = best_checkpoint_metric(config, metrics_cls, num_rows(splits, "validation") > 0)
    statics = dict(model=model, loss_fn=losses.get(config.loss), metrics_cls=metrics_cls,
                   l2=config.get("l2", 0.0), l2_pattern=config.get("l2_pattern", "kernel$"), mode=mode)
    augment_fn = augment.build(config.data.get("augment", ())) if config.data.get("augment", ()) else None
    unroll = unrolled_steps(config, model, splits.train["inputs"][:1], devices)
    train_fn = parallel.compile(functools.partial(
        train_chunk, step=functools.partial(train_step, tx=tx, augment=augment_fn, **statics),
        metrics_cls=metrics_cls, mode=mode, unroll=unroll > 0), mode, devices)
    eval_fn = parallel.compile(functools.partial(
        eval_pass, step=functools.partial(eval_step, **statics), metrics_cls=metrics_cls, mode=mode), mode, devices,
        donate_first=False)
    plateau_fn = None
    if plateau_tx is not None:
        plateau_fn = parallel.compile(functools.partial(update_plateau, plateau_tx=plateau_tx), mode, devices)
    state = parallel.replicate(init_state(model, tx, plateau_tx, splits.train["inputs"][:1], config.seed), mode,
                               devices)
    data_layout = shards.layout(config, jax.process_count())
    data = {name: hold(splits, name, data_layout, input_mode, mode, devices)
            for name in ("train", "validation", "test") if getattr(splits, name) is not None}
    rng = parallel.replicate(jax.random.PRNGKey(config.seed + 1), mode, devices)
    return Setup(mode, devices, data_layout, state, data, train_fn, eval_fn, plateau_fn, rng, metrics_cls,
                 steps_per_epoch, checkpoint.manager(workdir, config.checkpoint, best_metric), input_mode, unroll)


def process_share(config: ConfigDict, devices=None, whole_splits: tuple[str, ...] = ()) -> Share:
    """The rows of each split this process needs (`jaxlab.shards.process_window`; every row of `whole_splits`):
    what `jaxlab.data.build` reads in a multi-process run."""
    devices = list(devices or parallel.devices_for(config))
    data_layout = shards.layout(config, jax.process_count())
    positions = parallel.local_positions(devices)

    def share(split: str, num_split_rows: int) -> tuple[int, int]:
        if split in whole_splits:
            return 0, num_split_rows
        return shards.process_window(num_split_rows, len(devices), positions, data_layout)
    return share


def hold(splits: Splits, name: str, data_layout: str, input_mode: str, mode: str, devices) -> dict:
    """What this process keeps of split `name` (see `jaxlab.shards`): on its devices (device input) or in host
    memory, one array per device (host input)."""
    held = shards.hold(getattr(splits, name), len(devices), parallel.local_positions(devices), data_layout,
                       num_rows(splits, name), first_row(splits, name))
    if input_mode == "host":
        return held
    return {key: parallel.stacked(pieces, mode, devices) for key, pieces in held.items()}


def inputs(s: Setup, split: str, rows: np.ndarray) -> tuple[Any, Any]:
    """The (data, rows) arguments of `train_fn` / `eval_fn` for the batches `rows` ([devices, steps, batch /
    devices] indices into what each device holds; this process reads only its own devices' rows): device input
    passes the split already on the devices and the indices; host input gathers the rows here and ships just those
    batches (data None)."""
    local = rows[parallel.local_positions(s.devices)]
    if s.input == "device":
        return s.data[split], parallel.batches(list(local), s.mode, s.devices)
    return None, {key: parallel.batches([piece[device_rows] for piece, device_rows in zip(pieces, local)],
                                        s.mode, s.devices)
                  for key, pieces in s.data[split].items()}


def host_chunk(num_steps: int) -> int:
    """Batches per dispatch with host input: about 1/20 of the split on the devices at a time."""
    return max(1, math.ceil(num_steps / 20))


def evaluate(s: Setup, state, split: str, num_rows: int, batch_size: int) -> dict[str, float]:
    rows, mask = shards.device_eval_order(num_rows, batch_size, len(s.devices), s.layout)
    num_steps = rows.shape[1]
    chunk = num_steps if s.input == "device" else host_chunk(num_steps)
    local_mask = mask[parallel.local_positions(s.devices)]
    totals = None
    for first in range(0, num_steps, chunk):
        data, batch_rows = inputs(s, split, rows[:, first:first + chunk])
        chunk_mask = parallel.batches(list(local_mask[:, first:first + chunk]), s.mode, s.devices)
        part = parallel.unreplicate(s.eval_fn(state, data, batch_rows, chunk_mask), s.mode)
        totals = part if totals is None else totals.merge(part)
    return compute(totals)


def restore(s: Setup, epoch: int, like=None):
    """The replicated state saved at `epoch`; `like` is a live replicated state to take the structure from
    (after training `s.state` has been donated to the train step and can no longer be read)."""
    host = checkpoint.restore(s.mngr, epoch, parallel.unreplicate(s.state if like is None else like, s.mode))
    return parallel.replicate(host, s.mode, s.devices)


# ----------------------------------------------------------------------------------------------------------------
# Host-side hooks.

def check_divergence(step_losses: np.ndarray, first_step: int, epoch: int, reference: float | None,
                     factor: float) -> None:
    """A non-finite loss, or one above `factor` × the run's first loss, stops the run with one clear line."""
    bad = ~np.isfinite(step_losses)
    if factor and reference is not None and np.isfinite(reference):
        bad |= step_losses > factor * max(reference, 1e-8)
    if bad.any():
        index = int(np.argmax(bad))
        raise errors.Error(
            f"training diverged: loss {step_losses[index]:.4g} at step {first_step + index + 1} (epoch {epoch}); "
            "normalise the inputs (--config.data.normalize=unit|standardize|l2) or lower the learning rate "
            "(--config.optimizer.learning_rate); checkpoints already saved are kept")


def improved(value: float, best: float | None, mode: str, min_delta: float = 0.0) -> bool:
    if best is None:
        return True
    return value < best - min_delta if mode == "min" else value > best + min_delta


def best_epoch(history: list[dict[str, float]], monitor: str, mode: str) -> tuple[int | None, float | None]:
    best_value, best_at = None, None
    for row in history:
        if monitor in row and improved(row[monitor], best_value, mode):
            best_value, best_at = row[monitor], int(row["epoch"])
    return best_at, best_value


def check_settings(config: ConfigDict) -> None:
    """One clear line, before any data is read, for settings that would otherwise fail deep inside training."""
    counts = {"batch_size": config.batch_size, "eval_batch_size": config.eval_batch_size,
              "checkpoint.every_epochs": config.checkpoint.get("every_epochs", 1)}
    for key, value in counts.items():
        if not isinstance(value, int) or value < 1:
            raise errors.Error(f"--config.{key}={value!r}: must be a whole number ≥ 1")
    for key in ("num_epochs", "seed", "steps_per_dispatch"):
        value = config.get(key, 0)
        if not isinstance(value, int) or value < 0:
            raise errors.Error(f"--config.{key}={value!r}: must be a whole number ≥ 0")
    for key, value in config.model.items():
        if key.endswith("dropout") and not (isinstance(value, (int, float)) and 0 <= value < 1):
            raise errors.Error(f"--config.model.{key}={value!r}: a dropout rate is a fraction in [0, 1)")
    hidden = config.model.get("hidden", ())
    widths = hidden if isinstance(hidden, (tuple, list)) else (hidden,)  # an int: one hidden layer
    if any(not isinstance(units, int) or units < 1 for units in widths):
        raise errors.Error(f"--config.model.hidden={hidden!r}: layer widths must be whole numbers ≥ 1")
    for key, value in (("monitor_mode", config.monitor_mode), ("checkpoint.best_mode", config.checkpoint.get(
            "best_mode", "max"))):
        if value not in ("max", "min"):
            raise errors.Error(f"--config.{key}={value!r}: use max or min")


def best_checkpoint_metric(config: ConfigDict, metrics_cls, has_validation: bool) -> str:
    """Checks that `config.monitor` and `config.checkpoint.best_metric` name metrics this run reports, and that
    early stopping and reduce-on-plateau do not watch a validation metric when there are no validation rows.
    Returns the metric the best checkpoint is kept by: "" (the latest ones only) when it is a validation metric
    and the run has no validation rows."""
    names = list(metrics_cls.__annotations__)
    known = names + [f"val_{name}" for name in names]
    for key, metric in (("monitor", config.monitor), ("checkpoint.best_metric", config.checkpoint.get("best_metric"))):
        if metric and metric not in known:
            raise errors.Error(f"--config.{key}={metric!r} is not a metric this run reports: choose one of "
                               f"{', '.join(known)}")
    if not has_validation and config.monitor.startswith("val_"):
        for key in ("early_stopping", "reduce_on_plateau"):
            if config.get(key) and config[key].get("patience", 0):
                raise errors.Error(f"--config.{key}.patience watches {config.monitor}, but this run has no validation "
                                   f"rows: set --config.data.validation_split (e.g. 0.1) or --config.{key}.patience=0")
    best = config.checkpoint.get("best_metric", "")
    return "" if best.startswith("val_") and not has_validation else best


def should_stop_early(history: list[dict[str, float]], config: ConfigDict) -> bool:
    """Keras' EarlyStopping: no improvement larger than min_delta for `patience` epochs (from history alone, so
    a resumed run decides exactly as an uninterrupted one)."""
    patience = config.early_stopping.get("patience", 0)
    if not patience:
        return False
    best, wait = None, 0
    for row in history:
        value = row[config.monitor]
        if improved(value, best, config.monitor_mode, config.early_stopping.get("min_delta", 0.0)):
            best, wait = value, 0
        else:
            wait += 1
    return wait >= patience


# ----------------------------------------------------------------------------------------------------------------
# Resume and preemption.

class Preempted(Exception):
    """SIGTERM arrived: a checkpoint was saved and the run stopped cleanly; rerunning the command resumes."""


def _signal_flag(signum) -> dict:
    """Records `signum` instead of dying (main thread only); `flag["restore"]()` puts the old handler back."""
    flag = {"signalled": False, "restore": lambda: None}
    if threading.current_thread() is not threading.main_thread():
        return flag
    previous = signal.getsignal(signum)

    def handler(*_):
        logging.warning("SIGTERM: saving a checkpoint at the next step boundary, then stopping")
        flag["signalled"] = True

    signal.signal(signum, handler)
    flag["restore"] = lambda: signal.signal(signum, previous)
    return flag


def _unused_path(path: str) -> str:
    """`path`, or `path.1`, `path.2`, … when it is taken (an earlier unreadable copy of the same epoch is kept)."""
    candidate, number = path, 0
    while os.path.exists(candidate):
        number += 1
        candidate = f"{path}.{number}"
    return candidate


def resume(s: Setup) -> tuple[Any, int]:
    """The state of the newest readable epoch checkpoint (0 = none).

    A latest checkpoint that cannot be read (damaged or half-written) while an older one can is moved aside to
    `checkpoints_unreadable/` with a warning and the older one is restored. When none can be read (e.g. the config
    changed the model), nothing is touched and the run stops with one clear error.
    """
    failures = []
    for epoch in sorted(s.mngr.all_steps(), reverse=True):
        try:
            state = restore(s, epoch)
        except Exception as exc:  # orbax raises many kinds for damaged files
            failures.append((epoch, exc))
            continue
        for bad_epoch, exc in failures:
            aside = _unused_path(os.path.join(os.path.dirname(str(s.mngr.directory)), "checkpoints_unreadable",
                                              str(bad_epoch)))
            if jax.process_index() == 0:  # one process moves the shared folder; the others wait for it below
                os.makedirs(os.path.dirname(aside), exist_ok=True)
                os.replace(os.path.join(str(s.mngr.directory), str(bad_epoch)), aside)
            logging.warning("checkpoint of epoch %d is unreadable (%s); moved it to %s and resumed from epoch %d",
                            bad_epoch, type(exc).__name__, aside, epoch)
        if failures:
            parallel.sync_processes("jaxlab_resume_moved_unreadable_checkpoints")
            s.mngr.reload()
        logging.info("resumed from epoch %d", epoch)
        return state, epoch
    if failures:
        epoch, exc = failures[0]
        if isinstance(exc, errors.Error):
            raise exc
        raise errors.Error(f"no readable checkpoint in {s.mngr.directory} (epoch {epoch}: {type(exc).__name__}): "
                           "use a new --workdir or the config the run was made with") from exc
    return s.state, 0


def resume_preempted(s: Setup, preemption, state, start_epoch: int):
    """A mid-epoch checkpoint newer than the last epoch one (any number of epochs later: configs that save every
    N epochs): (state, completed epochs, step offset in the next epoch, its partial totals)."""
    step = preemption.latest_step()
    if step is None or step <= start_epoch * s.steps_per_epoch:
        return state, start_epoch, 0, None
    host_state = parallel.unreplicate(state, s.mode)
    try:
        restored = checkpoint.restore_preempted(preemption, step, host_state, s.metrics_cls.empty())
    except Exception as exc:  # another model or an older format: the epoch checkpoint stands
        logging.warning("mid-epoch checkpoint at step %d is unreadable (%s: %s); resuming from epoch %d", step,
                        type(exc).__name__, str(exc).splitlines()[0][:300] if str(exc) else "", start_epoch)
        return state, start_epoch, 0, None
    if int(restored["steps_per_epoch"]) != s.steps_per_epoch:
        logging.warning("mid-epoch checkpoint at step %d has %d steps per epoch, this run %d; resuming from epoch "
                        "%d", step, int(restored["steps_per_epoch"]), s.steps_per_epoch, start_epoch)
        return state, start_epoch, 0, None
    logging.info("resumed mid-epoch at step %d", step)
    return (parallel.replicate(restored["state"], s.mode, s.devices), step // s.steps_per_epoch,
            step % s.steps_per_epoch, restored["totals"])


# ----------------------------------------------------------------------------------------------------------------

def fit(config: ConfigDict, workdir: str, splits: Splits, model: nn.Module, devices=None,
        on_epoch: Callable[[dict[str, float]], None] | None = None) -> dict[str, Any]:
    """Trains (resuming from the latest checkpoint in `workdir`) and evaluates on the test split.

    `on_epoch(row)` is called with each epoch's history row once it is written and checkpointed; an exception it
    raises (e.g. a search pruning the trial) ends training with nothing lost."""
    s = setup(config, workdir, splits, model, devices)
    is_lead = jax.process_index() == 0
    history_path = os.path.join(workdir, "history.csv")
    writer = metric_writers.create_default_writer(workdir, just_logging=not is_lead)
    num_train = num_rows(splits, "train")
    num_val = num_rows(splits, "validation")
    state, start_epoch = resume(s)
    preemption = checkpoint.preemption_manager(workdir)
    state, start_epoch, resume_offset, resume_totals = resume_preempted(s, preemption, state, start_epoch)
    history = report.read_history(history_path, up_to_epoch=start_epoch) if start_epoch else []
    if history and is_lead:
        report.write_history(history_path, history)  # drop rows past the checkpoint we resume from
    stop = _signal_flag(signal.SIGTERM)
    tty = sys.stdout.isatty()
    chunk = config.get("steps_per_dispatch", 0) or s.unroll_steps or (
        math.ceil(s.steps_per_epoch / 20) if tty or s.input == "host" else s.steps_per_epoch)
    train_seconds, steady_seconds, steady_steps = 0.0, 0.0, 0
    try:
        for epoch in range(start_epoch + 1, config.num_epochs + 1):
            if should_stop_early(history, config):
                break
            started = time.perf_counter()
            order = shards.device_epoch_order(config.seed, epoch, num_train, config.batch_size, len(s.devices),
                                              s.layout)
            num_steps = order.shape[1]
            totals, first_step = None, 0
            if resume_offset and epoch == start_epoch + 1:
                totals, first_step = resume_totals, resume_offset
            for first in range(first_step, num_steps, chunk):
                if first > first_step and parallel.any_process(stop["signalled"]):
                    step = (epoch - 1) * s.steps_per_epoch + first
                    checkpoint.save_preempted(preemption, parallel.unreplicate(state, s.mode), totals, step,
                                              s.steps_per_epoch)
                    raise Preempted(f"preempted (SIGTERM) at step {step} of epoch {epoch}: checkpoint saved; rerun "
                                    "the same command to resume")
                state, chunk_totals, step_losses = s.train_fn(
                    state, *inputs(s, "train", order[:, first:first + chunk]), s.rng)
                step_losses = np.asarray(parallel.unreplicate(step_losses, s.mode))
                reference = float(parallel.unreplicate(state.first_loss, s.mode))
                check_divergence(step_losses, (epoch - 1) * s.steps_per_epoch + first, epoch, reference,
                                 config.get("divergence_factor", 0.0))
                chunk_totals = parallel.unreplicate(chunk_totals, s.mode)
                totals = chunk_totals if totals is None else totals.merge(chunk_totals)
                if is_lead:
                    report.progress_bar(min(first + chunk, num_steps), num_steps)
            seconds = time.perf_counter() - started
            train_seconds += seconds
            if epoch > start_epoch + 1:
                steady_seconds, steady_steps = steady_seconds + seconds, steady_steps + num_steps
            row = {"epoch": epoch, **compute(totals)}
            if num_val:
                val = evaluate(s, state, "validation", num_val, config.eval_batch_size)
                row.update({f"val_{name}": value for name, value in val.items()})
            if s.plateau_fn is not None:
                value = row[config.monitor] * (1 if config.monitor_mode == "min" else -1)
                state = s.plateau_fn(state, parallel.replicate(jnp.float32(value), s.mode, s.devices))
                row["lr_scale"] = float(parallel.unreplicate(state.plateau.scale, s.mode))
            history.append(row)
            if is_lead:
                report.append_history(history_path, history)
                print(report.epoch_line(epoch, config.num_epochs, seconds,
                                        {k: v for k, v in row.items() if k != "epoch"}), flush=True)
            writer.write_scalars(epoch, {k: v for k, v in row.items() if k != "epoch"})
            signalled = parallel.any_process(stop["signalled"])
            if epoch % config.checkpoint.get("every_epochs", 1) == 0 or epoch == config.num_epochs \
                    or should_stop_early(history, config) or signalled:
                checkpoint.save(s.mngr, epoch, parallel.unreplicate(state, s.mode),
                                {k: v for k, v in row.items() if k != "epoch"})
                checkpoint.clear(preemption)
            if on_epoch is not None:
                on_epoch(row)
            if signalled and epoch < config.num_epochs:
                raise Preempted(f"preempted (SIGTERM) after epoch {epoch}: checkpoint saved; rerun the same "
                                "command to resume")
        writer.flush()
        s.mngr.wait_until_finished()
        best_at, best_value = best_epoch(history, config.monitor, config.monitor_mode)
        if config.get("restore_best", False) and best_at is not None and best_at in s.mngr.all_steps():
            state = restore(s, best_at, like=state)
        test = {}
        if splits.test is not None:
            test = evaluate(s, state, "test", num_rows(splits, "test"), config.eval_batch_size)
            writer.write_scalars(len(history), {f"test_{k}": v for k, v in test.items()})
        writer.flush()
    finally:
        stop["restore"]()
        s.mngr.wait_until_finished()
        s.mngr.close()
        preemption.wait_until_finished()
        preemption.close()
        writer.close()
    return {
        "history": history,
        "test": {f"test_{k}": v for k, v in test.items()},
        "best_epoch": best_at, "best_" + config.monitor: best_value,
        "epochs_run": len(history), "resumed_from_epoch": start_epoch,
        "train_seconds_this_session": train_seconds,
        "examples_per_second": (steady_steps * config.batch_size / steady_seconds) if steady_seconds else None,
        "num_params": int(sum(np.size(x) for x in jax.tree.leaves(parallel.unreplicate(state.params, s.mode)))),
        "state": parallel.unreplicate(state, s.mode),
        "device_kind": s.devices[0].device_kind, "device_count": len(s.devices),
        "process_count": jax.process_count(),
    }


def evaluate_checkpoint(config: ConfigDict, workdir: str, splits: Splits, model: nn.Module,
                        which: str = "best", devices=None) -> dict[str, Any]:
    """Evaluate-only: restores the best (by `config.monitor`) or latest checkpoint and reports test metrics."""
    s = setup(config, workdir, splits, model, devices)
    try:
        saved = s.mngr.all_steps()
        if not saved:
            raise errors.Error(f"no checkpoint in {os.path.join(workdir, 'checkpoints')}: train first with the same "
                               "--config and --workdir")
        epoch = max(saved)
        if which == "best":
            history = report.read_history(os.path.join(workdir, "history.csv"))
            candidates = [row for row in history if int(row["epoch"]) in saved]
            best_at, _ = best_epoch(candidates, config.monitor, config.monitor_mode)
            epoch = best_at or epoch
        state = restore(s, epoch)
        results = {"epoch": epoch}
        for split in ("validation", "test"):
            dataset = getattr(splits, split)
            if dataset is not None:
                prefix = "val" if split == "validation" else "test"
                results.update({f"{prefix}_{k}": v for k, v in evaluate(
                    s, state, split, num_rows(splits, split), config.eval_batch_size).items()})
        return results
    finally:
        s.mngr.close()
