"""The epoch loop (`fit`) and evaluate-only (`evaluate_checkpoint`), with the hooks that run between dispatches
on the host: divergence guard, clu summaries, history.csv, checkpoints, reduce-on-plateau, early stopping.
The steps themselves are in `jaxlab.steps`, their compiled programs in `jaxlab.programs`, resume and preemption in
`jaxlab.resume`.

An epoch's order is a permutation that is a pure function of (seed, epoch) (what each device holds and reads of it:
`jaxlab.shards`), and a compiled `lax.scan` runs many steps per dispatch. Two input modes (`config.input`), same
results for the same seed:

* ``device`` (default, for data that fits in accelerator memory — all of ours): each split is placed on the devices
  once and batches are gathered there by row index; one dispatch runs the whole epoch when stdout is not a terminal
  (~20 chunks with a progress bar when it is).
* ``host``: the splits stay in host memory; each dispatch ships only its own batches (≈ 1/20 of an epoch), already
  split across the devices, for data that does not fit on the accelerator.
"""
import contextlib
import math
import os
import signal
import sys
import time
from typing import Any, Callable, NamedTuple

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
from clu import metric_writers
from ml_collections import ConfigDict

from jaxlab import checkpoint, console, errors, parallel, report, shards
from jaxlab.data import Splits, num_rows
from jaxlab.history import best_epoch, preferred_epochs, ranked_epochs, should_stop_early
from jaxlab.programs import Setup, inputs, setup, split_metrics
from jaxlab.resume import restore_first_usable, resume, resume_preempted, signal_flag
from jaxlab.steps import compute


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


class Dispatcher:
    """How many training steps each dispatch runs.

    `config.steps_per_dispatch` fixes it. Otherwise the first dispatches run 1/20 of an epoch (the whole epoch when
    it has ≤ 20 steps; one step for unrolled programs, whose steps may take seconds each on a CPU); once a dispatch
    of a size already compiled has been timed, the size becomes the largest of steps/1, steps/2, steps/4, … that
    takes at most `config.dispatch_seconds` — so a SIGTERM is honoured within about that time, while fast epochs
    still run as one dispatch. On a terminal (progress bar) or with host input a dispatch is at most 1/20 of an
    epoch, an unrolled one at most its unrolled steps. Every process takes process 0's sizes. The metrics of an
    epoch do not depend on the sizes (`train_chunk` adds them up step by step)."""

    def __init__(self, config: ConfigDict, s: Setup, tty: bool):
        steps = self.steps_per_epoch = s.steps_per_epoch
        self.fixed = config.steps_per_dispatch
        self.target = config.dispatch_seconds
        twentieth = math.ceil(steps / 20)
        self.most = min([steps] + ([twentieth] if tty or s.input == "host" else []) + (
            [s.unroll_steps] if s.unroll_steps else []))
        if self.fixed:
            self.steps = self.fixed
        elif s.unroll_steps:
            self.steps = self.most if steps <= self.most else 1
        else:
            self.steps = steps if steps <= 20 and self.most == steps else twentieth
        self.timed_sizes = set()

    def timed(self, steps: int, seconds: float) -> None:
        """Takes the time of a dispatch of `steps` steps into account (one compiled before: no compile time)."""
        if self.fixed:
            return
        if steps in self.timed_sizes:   # the same on every process: process 0's timing decides for all
            per_step = seconds / steps
            wanted, parts = self.steps_per_epoch, 1
            while wanted > 1 and (wanted * per_step > self.target or wanted > self.most):
                parts *= 2
                wanted = math.ceil(self.steps_per_epoch / parts)
            if wanted > self.steps or self.steps * per_step > 1.5 * self.target:
                self.steps = wanted
            self.steps = int(parallel.from_process_zero(self.steps))
        self.timed_sizes.add(steps)


def early_stop_notice(history: list[dict[str, float]], config: ConfigDict) -> str:
    best_at, best_value = best_epoch(history, config.monitor, config.monitor_mode)
    return (f"early stopping after epoch {int(history[-1]['epoch'])}: {config.monitor} has not improved for "
            f"{config.early_stopping.patience} epochs (best {best_value:.4f} at epoch {best_at})")


class Fitted(NamedTuple):
    """What `fit` returns: the trained state (host copy), the history rows, the test metrics (``test_…``), and
    what a summary reports of the training (best epoch, epochs run, speed, parameters, devices)."""
    state: Any
    history: list[dict[str, float]]
    test: dict[str, float]
    facts: dict[str, Any]


def fit(config: ConfigDict, workdir: str, splits: Splits, model: nn.Module, devices=None,
        on_epoch: Callable[[dict[str, float]], None] | None = None, label: str = "") -> Fitted:
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
    stop = signal_flag(signal.SIGTERM)
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
                    raise errors.Preempted(f"preempted (SIGTERM) at step {step} of epoch {epoch}: checkpoint saved; "
                                           "rerun the same command to resume")
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
                val = split_metrics(s, state, "validation", num_val, config.eval_batch_size)
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
                raise errors.Preempted(f"preempted (SIGTERM) after epoch {epoch}: checkpoint saved; rerun the same "
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
                why = ("whose checkpoint is unusable" if best_at in ranked else
                       f"which was not saved (checkpoint.every_epochs={config.checkpoint.every_epochs}, "
                       f"checkpoint.keep={config.checkpoint.keep}; --config.checkpoint.every_epochs=1 saves every "
                       "epoch)")
                console.warn(f"tested epoch {tested} instead of the best epoch {best_at}, {why}")
        try:
            checkpoint.check_finite(parallel.unreplicate(state.params, s.mode))
        except checkpoint.Unusable as exc:
            raise errors.Error(f"training left {exc}: lower the learning rate (--config.optimizer.learning_rate); "
                               "no test metrics were written") from exc
        test = {}
        if splits.test is not None:
            test = split_metrics(s, state, "test", num_rows(splits, "test"), config.eval_batch_size)
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
    return Fitted(parallel.unreplicate(state, s.mode), history, {f"test_{k}": v for k, v in test.items()}, {
        "best_epoch": best_at, "best_" + config.monitor: best_value,
        "epochs_run": len(history), "resumed_from_epoch": start_epoch,
        "train_seconds_this_session": train_seconds,
        "examples_per_second": (steady_steps * config.batch_size / steady_seconds) if steady_seconds else None,
        "num_params": int(sum(np.size(x) for x in jax.tree.leaves(parallel.unreplicate(state.params, s.mode)))),
        "device_kind": s.devices[0].device_kind, "device_count": len(s.devices),
        "process_count": jax.process_count(),
    })


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
        candidates = preferred_epochs(workdir, saved, config.monitor, config.monitor_mode, which)
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
                results.update({f"{prefix}_{k}": v for k, v in split_metrics(
                    s, state, split, num_rows(splits, split), config.eval_batch_size).items()})
        return results
    finally:
        s.mngr.close()
