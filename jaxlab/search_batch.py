"""Batched search trials (`config.search.batch_size` = K > 1, `jaxlab.search`): K trials × their executions
trained as the lanes of one vmapped program (`jaxlab.sweep.vmapped`, `jaxlab.lanes`), each trial's outcome then
told back to the study by `jaxlab.search.run`."""
import os

import jax
import numpy as np
from ml_collections import ConfigDict

from jaxlab import console, errors, lanes, parallel, seeds, settings, single, sweep


PRUNED = "pruned"   # a batched trial's outcome when the pruner stopped it
SEEDED_SPLITS = ("csv", "image_folder")   # sources whose validation split follows the run's seed (or split_seed)


def batch_size(config: ConfigDict) -> int:
    """`search.batch_size` (`check`ed); a config that decides per run on the host (early stopping,
    reduce-on-plateau, restore_best) trains its trials one at a time."""
    check(config)
    size = config.search.get("batch_size", 1)
    if size <= 1:
        return 1
    reason = seeds.sequential_reason(config, 0)
    if reason:
        console.notice(f"search trials one at a time (search.batch_size={size} ignored): {reason}")
        return 1
    return size


def check(config: ConfigDict) -> None:
    """One line when K > 1 trials cannot share a program: a searched key that changes shapes (`jaxlab.sweep`), or
    several executions on a source whose split follows the seed without ``data.split_seed``. Needs no data."""
    size = config.search.get("batch_size", 1)
    if size <= 1:
        return
    keys = [spec.get("key", name) for name, spec in config.search.space.items()]
    allowed = sweep.sweepable(config)
    shaped = [key for key, (name, spec) in zip(keys, config.search.space.items())
              if key not in allowed or spec.type == "sequence"]
    if shaped:
        raise errors.Error(f"search.batch_size={size} trains trials as lanes of one program, but {', '.join(shaped)} "
                           f"change shapes or host decisions: set --config.search.batch_size=1, or search only "
                           f"{', '.join(allowed)}")
    executions = config.search.get("executions_per_trial", 1)
    if executions > 1 and config.data.name in SEEDED_SPLITS and config.data.get("split_seed", -1) < 0:
        raise errors.Error(f"search.batch_size={size} trains the {executions} executions of a trial on one data split,"
                           f" but {config.data.name} draws its split from each run's seed: set "
                           "--config.data.split_seed=N (then one at a time, every execution uses that split too)")


def run(config: ConfigDict, trial_config: ConfigDict, workdir: str, batch: list) -> list:
    """The trials of `batch` (process 0's optuna trial or None, with the agreed number and overrides) × their
    executions (seed, seed + 1, …) as the lanes of one vmapped program in ``WORKDIR/batch_FIRST-LAST``;
    `trial_config` is `config` as one trial's (`search.apply`: no overrides, no search). Each trial's outcome: its
    mean score over executions (NaN: a lane diverged, the trial failed) or `PRUNED`. The lanes share the data split
    drawn with `config.seed`; for sources whose split follows the seed, several executions need ``data.split_seed``
    (`batch_size` checks it). Pruning reports after each epoch the mean over executions of their best epoch yet, at
    step = epoch."""
    search, lead = config.search, jax.process_index() == 0
    executions = search.get("executions_per_trial", 1)
    direction = search.get("direction", "maximize")
    numbers = [agreed["number"] for _, agreed in batch]
    points = [{**agreed["overrides"], "seed": config.seed + execution} for _, agreed in batch
              for execution in range(executions)]
    if lead:
        for trial, agreed in batch:
            trial.set_user_attr("overrides", agreed["overrides"])
            print(f"search: trial {agreed['number']} " + settings.override_line(agreed["overrides"]), flush=True)
    lane_config = trial_config
    lane_config.num_seeds = 1
    splits, model = single.build(lane_config)
    path = os.path.join(workdir, f"batch_{numbers[0]:03d}-{numbers[-1]:03d}")
    os.makedirs(path, exist_ok=True)
    single.check_data(path, splits.info, lane_config)   # a resumed batch: the same data, the same device count
    limit = lanes.lane_limit(lane_config, model, splits, jax.devices(), 0)
    hook = pruning(batch, search, executions) if search.get("pruning", False) else None
    per_lane, histories = sweep.vmapped(lane_config, path, splits, model, points, None, limit, search.objective,
                                        direction, after_dispatch=hook)
    outcomes = []
    for i, (trial, agreed) in enumerate(batch):
        mine = range(i * executions, (i + 1) * executions)
        if any("stopped" in per_lane[k] for k in mine):
            outcomes.append(PRUNED)
            continue
        failed = [per_lane[k]["diverged"] for k in mine if "diverged" in per_lane[k]]
        scores = [sweep.lane_score(histories[k], search.objective, direction)[0] for k in mine]
        if lead:
            if failed:
                print(f"search: trial {agreed['number']} failed: {failed[0]}", flush=True)
                trial.set_user_attr("error", failed[0])
            trial.set_user_attr("scores", scores)
            trial.set_user_attr("test", [{n: v for n, v in per_lane[k].items() if n.startswith("test_")}
                                         for k in mine])
        outcomes.append(float("nan") if failed else float(np.mean(scores)))
    return outcomes


def pruning(batch: list, search: ConfigDict, executions: int):
    """`lanes.fit`'s after_dispatch for a batch: process 0 reports each trial's score per epoch and asks the
    pruner; every process gets the pruned trials' lanes."""
    direction = search.get("direction", "maximize")
    reported, pruned = 0, set()

    def after_dispatch(epoch: int, histories) -> dict[int, str]:
        nonlocal reported
        decided = []
        if jax.process_index() == 0:
            for i, (trial, _) in enumerate(batch):
                mine = histories[i * executions:(i + 1) * executions]
                if i in pruned or len(mine) < executions:
                    continue
                for step in range(reported + 1, epoch + 1):
                    scores = [sweep.lane_score([r for r in h if r["epoch"] <= step], search.objective, direction)[0]
                              for h in mine]
                    if np.all(np.isfinite(scores)):
                        trial.report(float(np.mean(scores)), step)
                if trial.should_prune():
                    trial.set_user_attr("pruned_at", {"execution": "all", "epoch": epoch})
                    print(f"search: trial {trial.number} pruned at epoch {epoch} ({search.objective} worse than "
                          "the median of earlier trials)", flush=True)
                    decided.append(i)
        reported = epoch
        decided = parallel.from_process_zero(decided if jax.process_index() == 0 else None)
        pruned.update(decided)
        return {k: f"pruned at epoch {epoch}" for i in decided for k in range(i * executions, (i + 1) * executions)}

    return after_dispatch
