"""A run's compiled programs and the data they read: `setup` builds them from a config (shared by training and
evaluate-only), `split_metrics` evaluates a split exactly (padded, masked), and the helpers that say which rows
each process holds and ships (`jaxlab.shards` decides the layout)."""
import functools
import math
from typing import Any, Callable, NamedTuple

import flax.linen as nn
import jax
import numpy as np
from ml_collections import ConfigDict

from jaxlab import checkpoint, errors, losses, metrics, optim, parallel, shards, steps
from jaxlab.data import Share, Splits, augment, first_row, num_rows

INPUT_MODES = ("device", "host")


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


class StepParts(NamedTuple):
    """What every training program of a config is made of (one run's `setup`, many seeds' vmapped program)."""
    mode: str
    devices: list
    steps_per_epoch: int
    tx: Any
    plateau_tx: Any
    metrics_cls: Any
    best_metric: str       # the metric the best checkpoint is kept by ("" = the latest ones only)
    train_step: Callable   # steps.train_step with the optimizer, loss, metrics, L2 and augmentation bound
    eval_step: Callable
    lane: Callable         # values (dotted key → traced number, a sweep lane's) → (train_step, eval_step, tx)


def step_parts(config: ConfigDict, splits: Splits, model: nn.Module, devices=None) -> StepParts:
    """Checks the batch sizes against the devices and the data, and builds the optimizer, metrics and steps."""
    mode = config.parallelism
    devices = list(devices or parallel.devices_for(config))
    parallel.check(mode, config.batch_size, devices)
    parallel.check(mode, config.eval_batch_size, devices)
    num_train = num_rows(splits, "train")
    steps_per_epoch = num_train // config.batch_size
    if steps_per_epoch == 0:
        raise errors.Error(f"batch size {config.batch_size} is larger than the {num_train} training examples: "
                           "lower --config.batch_size")
    metrics_cls = metrics.collection(config.task, splits.info.get("num_classes", 0))
    loss_fn = losses.get(config.loss)
    augment_fn = augment.build(config.data.augment) if config.data.augment else None

    def lane(values: dict) -> tuple[Callable, Callable, Any]:
        """The steps with `values` (``optimizer.*``, ``model.*`` fields, ``l2``) in place of the config's."""
        tx = optim.build(config.optimizer, steps_per_epoch, config.num_epochs,
                         {key.split(".", 1)[1]: value for key, value in values.items() if key.startswith("optimizer.")})
        fields = {key.split(".", 1)[1]: value for key, value in values.items() if key.startswith("model.")}
        statics = dict(model=model.clone(**fields) if fields else model, loss_fn=loss_fn, metrics_cls=metrics_cls,
                       l2=values.get("l2", config.l2), l2_pattern=config.l2_pattern, mode=mode)
        return (functools.partial(steps.train_step, tx=tx, augment=augment_fn, **statics),
                functools.partial(steps.eval_step, **statics), tx)

    train_step, eval_step, tx = lane({})
    return StepParts(mode, devices, steps_per_epoch, tx, optim.plateau(config.reduce_on_plateau), metrics_cls,
                     best_checkpoint_metric(config, metrics_cls, num_rows(splits, "validation") > 0),
                     train_step, eval_step, lane)


def setup(config: ConfigDict, workdir: str, splits: Splits, model: nn.Module, devices=None) -> Setup:
    if config.input not in INPUT_MODES:
        raise errors.Error(f"unknown input mode {config.input!r}: use --config.input=device or host")
    parts = step_parts(config, splits, model, devices)
    mode, devices, metrics_cls = parts.mode, parts.devices, parts.metrics_cls
    unroll = steps.unrolled_steps(config, model, splits.train["inputs"][:1], devices)
    train_fn = parallel.compiled(functools.partial(
        steps.train_chunk, step=parts.train_step, metrics_cls=metrics_cls, mode=mode, unroll=unroll > 0), mode,
        devices)
    eval_fn = parallel.compiled(functools.partial(
        steps.eval_pass, step=parts.eval_step, metrics_cls=metrics_cls, mode=mode), mode, devices, donate_first=False)
    plateau_fn = None
    if parts.plateau_tx is not None:
        plateau_fn = parallel.compiled(functools.partial(steps.update_plateau, plateau_tx=parts.plateau_tx), mode,
                                      devices)
    state = parallel.replicate(steps.init_state(model, parts.tx, parts.plateau_tx, splits.train["inputs"][:1],
                                                config.seed), mode, devices)
    data_layout = shards.layout(config, jax.process_count())
    data = {name: hold(splits, name, data_layout, config.input, mode, devices)
            for name in ("train", "validation", "test") if getattr(splits, name) is not None}
    rng = parallel.replicate(jax.random.PRNGKey(config.seed + 1), mode, devices)
    return Setup(mode, devices, data_layout, state, data, train_fn, eval_fn, plateau_fn, rng, metrics_cls,
                 parts.steps_per_epoch, checkpoint.manager(workdir, config.checkpoint, parts.best_metric),
                 config.input, unroll)


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


def split_metrics(s: Setup, state, split: str, num_rows: int, batch_size: int) -> dict[str, float]:
    """The metrics of `state` on every row of `split` (the last batch padded and masked: exact on any device count)."""
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
    return steps.compute(totals)


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
