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
import contextlib
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
from clu import metric_writers
from flax import struct
from ml_collections import ConfigDict

from jaxlab import checkpoint, console, errors, losses, metrics, optim, parallel, report, shards
from jaxlab.data import Dataset, Share, Splits, augment, first_row, num_rows
from jaxlab.history import best_epoch, should_stop_early  # noqa: F401  (also used as train.*)


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
    input_mode = config.input
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
                   l2=config.l2, l2_pattern=config.l2_pattern, mode=mode)
    augment_fn = augment.build(config.data.augment) if config.data.augment else None
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
    """The replicated state saved at `epoch` (`checkpoint.Unusable` when it fails verification); `like` is a live
    replicated state to take the structure from (after training `s.state` has been donated to the train step and
    can no longer be read)."""
    host = checkpoint.restore(s.mngr, epoch, parallel.unreplicate(s.state if like is None else like, s.mode))
    return parallel.replicate(host, s.mode, s.devices)


def restore_first_usable(s: Setup, epochs, like=None) -> tuple[Any, int | None]:
    """The replicated state of the first usable checkpoint among `epochs` (in that order of preference) and its
    epoch, or (None, None); unusable ones are moved aside (`checkpoint.restore_first_usable`)."""
    like = parallel.unreplicate(s.state if like is None else like, s.mode)
    host, epoch = checkpoint.restore_first_usable(s.mngr, epochs, like)
    return (None, None) if host is None else (parallel.replicate(host, s.mode, s.devices), epoch)


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


def best_checkpoint_metric(config: ConfigDict, metrics_cls, has_validation: bool) -> str:
    """Checks that `config.monitor` and `config.checkpoint.best_metric` name metrics this run reports, and that
    early stopping and reduce-on-plateau do not watch a validation metric when there are no validation rows.
    Returns the metric the best checkpoint is kept by: "" (the latest ones only) when it is a validation metric
    and the run has no validation rows."""
    names = list(metrics_cls.__annotations__)
    known = names + [f"val_{name}" for name in names]
    for key, metric in (("monitor", config.monitor), ("checkpoint.best_metric", config.checkpoint.best_metric)):
        if metric and metric not in known:
            raise errors.Error(f"--config.{key}={metric!r} is not a metric this run reports: choose one of "
                               f"{', '.join(known)}")
    if not has_validation and config.monitor.startswith("val_"):
        for key in ("early_stopping", "reduce_on_plateau"):
            if config[key].patience:
                raise errors.Error(f"--config.{key}.patience watches {config.monitor}, but this run has no validation "
                                   f"rows: set --config.data.validation_split (e.g. 0.1) or --config.{key}.patience=0")
    best = config.checkpoint.best_metric
    return "" if best.startswith("val_") and not has_validation else best


# ----------------------------------------------------------------------------------------------------------------
# Resume and preemption.

Preempted = errors.Preempted


def _signal_flag(signum) -> dict:
    """Records `signum` instead of dying (main thread only); `flag["restore"]()` puts the old handler back."""
    flag = {"signalled": False, "restore": lambda: None}
    if threading.current_thread() is not threading.main_thread():
        return flag
    previous = signal.getsignal(signum)

    def handler(*_):
        if not flag["signalled"]:
            console.notice("SIGTERM: saving a checkpoint at the next step boundary, then stopping")
        flag["signalled"] = True

    signal.signal(signum, handler)
    flag["restore"] = lambda: signal.signal(signum, previous)
    return flag


def resume(s: Setup) -> tuple[Any, int]:
    """The state of the newest usable epoch checkpoint (0 = none: a fresh start).

    A checkpoint that fails verification (a changed or missing file, non-finite numbers, unreadable) is moved
    aside with a warning and the one before it restored. When none is usable, one line says so and nothing more
    is touched.
    """
    saved = sorted(s.mngr.all_steps(), reverse=True)
    state, epoch = restore_first_usable(s, saved)
    if state is not None:
        return state, epoch
    unreadable = os.path.join(os.path.dirname(str(s.mngr.directory)), "checkpoints_unreadable")
    if saved or os.path.isdir(unreadable):   # never a silent fresh start over a run whose checkpoints are damaged
        raise errors.Error(f"no usable checkpoint in {s.mngr.directory} (the unusable ones are in {unreadable}): use "
                           "a new --workdir, or delete that folder and history.csv to train this run again from "
                           "epoch 1")
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
    except checkpoint.Unusable as exc:  # damaged: the epoch checkpoint stands
        console.warn(f"mid-epoch checkpoint at step {step} is unusable ({exc}); resuming from epoch {start_epoch}")
        return state, start_epoch, 0, None
    if int(restored["steps_per_epoch"]) != s.steps_per_epoch:
        console.warn(f"mid-epoch checkpoint at step {step} has {int(restored['steps_per_epoch'])} steps per epoch, "
                     f"this run {s.steps_per_epoch}; resuming from epoch {start_epoch}")
        return state, start_epoch, 0, None
    return (parallel.replicate(restored["state"], s.mode, s.devices), step // s.steps_per_epoch,
            step % s.steps_per_epoch, restored["totals"])


# ----------------------------------------------------------------------------------------------------------------

class Dispatcher:
    """How many training steps each dispatch runs.

    `config.steps_per_dispatch` (or unrolled steps) fixes it. Otherwise the first dispatches run 1/20 of an epoch
    (the whole epoch when it has ≤ 20 steps); once a dispatch of a size already compiled has been timed, the size
    becomes the largest of steps/1, steps/2, steps/4, … that takes at most `config.dispatch_seconds` — so a SIGTERM
    is honoured within about that time, while fast epochs still run as one dispatch. On a terminal (progress bar)
    or with host input a dispatch is at most 1/20 of an epoch. Every process takes process 0's sizes. The metrics
    of an epoch do not depend on the sizes (`train_chunk` adds them up step by step)."""

    def __init__(self, config: ConfigDict, s: Setup, tty: bool):
        self.steps_per_epoch = s.steps_per_epoch
        self.fixed = config.steps_per_dispatch or s.unroll_steps
        self.target = config.dispatch_seconds
        twentieth = math.ceil(s.steps_per_epoch / 20)
        self.most = twentieth if tty or s.input == "host" else s.steps_per_epoch
        self.steps = self.fixed or (s.steps_per_epoch if s.steps_per_epoch <= 20 and self.most == s.steps_per_epoch
                                    else twentieth)
        self.timed_sizes = set()

    def timed(self, steps: int, seconds: float) -> None:
        """Takes the time of a dispatch of `steps` steps into account (one compiled before: no compile time)."""
        if self.fixed:
            return
        if steps in self.timed_sizes:
            per_step = seconds / steps
            wanted, parts = self.steps_per_epoch, 1
            while wanted > 1 and (wanted * per_step > self.target or wanted > self.most):
                parts *= 2
                wanted = math.ceil(self.steps_per_epoch / parts)
            if wanted > self.steps or self.steps * per_step > 1.5 * self.target:
                self.steps = int(parallel.from_process_zero(wanted))
        self.timed_sizes.add(steps)


def early_stop_notice(history: list[dict[str, float]], config: ConfigDict) -> str:
    best_at, best_value = best_epoch(history, config.monitor, config.monitor_mode)
    return (f"early stopping after epoch {int(history[-1]['epoch'])}: {config.monitor} has not improved for "
            f"{config.early_stopping.patience} epochs (best {best_value:.4f} at epoch {best_at})")


def fit(config: ConfigDict, workdir: str, splits: Splits, model: nn.Module, devices=None,
        on_epoch: Callable[[dict[str, float]], None] | None = None, label: str = "") -> dict[str, Any]:
    """Trains (resuming from the latest checkpoint in `workdir`) and evaluates on the test split. `label` starts
    each epoch line (e.g. "fold 2/10").

    `on_epoch(row)` is called with each epoch's history row once it is written and checkpointed; an exception it
    raises (e.g. a search pruning the trial) ends training with nothing lost."""
    s = setup(config, workdir, splits, model, devices)
    is_lead = jax.process_index() == 0
    history_path = os.path.join(workdir, "history.csv")
    writer = metric_writers.create_default_writer(workdir, just_logging=not is_lead)
    num_train = num_rows(splits, "train")
    num_val = num_rows(splits, "validation")
    preemption = checkpoint.preemption_manager(workdir)
    stop = _signal_flag(signal.SIGTERM)
    try:
        state, start_epoch = resume(s)
        state, start_epoch, resume_offset, resume_totals = resume_preempted(s, preemption, state, start_epoch)
        if resume_offset:
            console.notice(f"resumed from step {start_epoch * s.steps_per_epoch + resume_offset} (epoch "
                           f"{start_epoch + 1}, mid-epoch)")
        elif start_epoch:
            console.notice(f"resumed from epoch {start_epoch}")
        history = report.read_history(history_path, up_to_epoch=start_epoch) if start_epoch else []
        if history and is_lead:
            report.write_history(history_path, history)  # drop rows past the checkpoint we resume from
        dispatcher = Dispatcher(config, s, sys.stdout.isatty())
        every = config.checkpoint.every_epochs
        train_seconds, steady_seconds, steady_steps = 0.0, 0.0, 0
        for epoch in range(start_epoch + 1, config.num_epochs + 1):
            if should_stop_early(history, config):
                break
            started = time.perf_counter()
            order = shards.device_epoch_order(config.seed, epoch, num_train, config.batch_size, len(s.devices),
                                              s.layout)
            num_steps = order.shape[1]
            totals, first = s.metrics_cls.empty(), 0
            if resume_offset and epoch == start_epoch + 1:
                totals, first = resume_totals, resume_offset
            totals = parallel.replicate(totals, s.mode, s.devices)
            while first < num_steps:
                if first and parallel.any_process(stop["signalled"]):
                    step = (epoch - 1) * s.steps_per_epoch + first
                    checkpoint.save_preempted(preemption, parallel.unreplicate(state, s.mode),
                                              parallel.unreplicate(totals, s.mode), step, s.steps_per_epoch)
                    raise Preempted(f"preempted (SIGTERM) at step {step} of epoch {epoch}: checkpoint saved; rerun "
                                    "the same command to resume")
                steps = min(dispatcher.steps, num_steps - first)
                dispatched = time.perf_counter()
                state, totals, step_losses = s.train_fn(
                    state, *inputs(s, "train", order[:, first:first + steps]), s.rng, totals)
                step_losses = np.asarray(parallel.unreplicate(step_losses, s.mode))
                dispatcher.timed(steps, time.perf_counter() - dispatched)
                reference = float(parallel.unreplicate(state.first_loss, s.mode))
                check_divergence(step_losses, (epoch - 1) * s.steps_per_epoch + first, epoch, reference,
                                 config.divergence_factor)
                first += steps
                if is_lead:
                    report.progress_bar(first, num_steps)
            seconds = time.perf_counter() - started
            train_seconds += seconds
            if epoch > start_epoch + 1:
                steady_seconds, steady_steps = steady_seconds + seconds, steady_steps + num_steps
            row = {"epoch": epoch, **compute(parallel.unreplicate(totals, s.mode))}
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
                                        {k: v for k, v in row.items() if k != "epoch"}, label),
                      flush=True)
            writer.write_scalars(epoch, {k: v for k, v in row.items() if k != "epoch"})
            signalled = parallel.any_process(stop["signalled"])
            stopping = should_stop_early(history, config)
            if (every and epoch % every == 0) or epoch == config.num_epochs or stopping or signalled:
                checkpoint.save(s.mngr, epoch, parallel.unreplicate(state, s.mode),
                                {k: v for k, v in row.items() if k != "epoch"})
                checkpoint.clear(preemption)
            if on_epoch is not None:
                on_epoch(row)
            if signalled and epoch < config.num_epochs and not stopping:
                checkpoint.finish(s.mngr)
                raise Preempted(f"preempted (SIGTERM) after epoch {epoch}: checkpoint saved; rerun the same "
                                "command to resume")
            if stopping and epoch < config.num_epochs:
                console.notice(early_stop_notice(history, config))
        writer.flush()
        checkpoint.finish(s.mngr)
        best_at, best_value = best_epoch(history, config.monitor, config.monitor_mode)
        if config.restore_best and best_at is not None:
            ranked = ranked_epochs(history, s.mngr.all_steps(), config.monitor, config.monitor_mode)
            state, tested = restore_first_usable(s, ranked, like=state)
            if state is None:
                raise errors.Error(f"no usable checkpoint to test in {s.mngr.directory} (restore_best): rerun to "
                                   "train again from the last usable one, or use a new --workdir")
            if tested != best_at:
                console.warn(f"tested epoch {tested} instead of the best epoch {best_at}, whose checkpoint is "
                             "unusable")
        try:
            checkpoint.check_finite(parallel.unreplicate(state.params, s.mode))
        except checkpoint.Unusable as exc:
            raise errors.Error(f"training left {exc}: lower the learning rate (--config.optimizer.learning_rate); "
                               "no test metrics were written") from exc
        test = {}
        if splits.test is not None:
            test = evaluate(s, state, "test", num_rows(splits, "test"), config.eval_batch_size)
            writer.write_scalars(len(history), {f"test_{k}": v for k, v in test.items()})
        writer.flush()
    finally:
        stop["restore"]()
        for mngr in (s.mngr, preemption):   # a failed save was reported by checkpoint.finish / save already
            with contextlib.suppress(Exception):
                mngr.wait_until_finished()
            with contextlib.suppress(Exception):
                mngr.close()
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


def ranked_epochs(history: list[dict[str, float]], saved, monitor: str, mode: str) -> list[int]:
    """The saved epochs, best by `monitor` first (epochs without that metric last, newest first)."""
    values = {int(row["epoch"]): row[monitor] for row in history if monitor in row}
    scored = [epoch for epoch in saved if epoch in values]
    scored.sort(key=lambda epoch: (values[epoch] if mode == "min" else -values[epoch], epoch))
    return scored + sorted((epoch for epoch in saved if epoch not in values), reverse=True)


def evaluate_checkpoint(config: ConfigDict, workdir: str, splits: Splits, model: nn.Module,
                        which: str = "best", devices=None) -> dict[str, Any]:
    """Evaluate-only: restores the best (by `config.monitor`) or latest usable checkpoint and reports its
    validation and test metrics (an unusable one is moved aside with a warning and the next one taken)."""
    s = setup(config, workdir, splits, model, devices)
    try:
        saved = s.mngr.all_steps()
        if not saved:
            raise errors.Error(f"no checkpoint in {os.path.join(workdir, 'checkpoints')}: train first with the same "
                               "--config and --workdir")
        candidates = sorted(saved, reverse=True)
        if which == "best":
            history = report.read_history(os.path.join(workdir, "history.csv"))
            candidates = ranked_epochs(history, saved, config.monitor, config.monitor_mode)
        state, epoch = restore_first_usable(s, candidates)
        if state is None:
            raise errors.Error(f"no usable checkpoint in {s.mngr.directory} (all moved to checkpoints_unreadable/): "
                               "nothing to evaluate; train again in a new --workdir")
        if epoch != candidates[0]:
            console.warn(f"evaluated epoch {epoch}: the checkpoint of epoch {candidates[0]} is unusable")
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
