"""K seeds of one config (`config.num_seeds` = K > 1): seed k uses `config.seed + k` for init, dropout and data order.

Small models train as ONE compiled program: `jax.vmap` of the same `steps.train_chunk` / `steps.eval_pass` that
`train.fit` uses, over a stacked train state, rng and per-seed epoch orders, inside either parallel mode (the batch
is still split across devices; every replica is a vmapped lane). Several epochs run per dispatch
(`config.epochs_per_dispatch`, never past a checkpoint epoch). Checkpoints (orbax) hold the stacked state, so a
stopped run resumes. Models with more than `config.seeds_max_params` parameters, or configs that need per-run host
decisions (early stopping, reduce-on-plateau, restore_best), fall back to K ordinary runs in ``workdir/seed_k``.

Outputs either way: ``summary.json`` (every seed's test metrics and final epoch, mean ± std, and — for data whose
splits are all the patterns of a problem — the solved rate and median epochs to solve), ``history.csv`` (the mean
and std per epoch), ``seeds_history.csv`` (every seed's epochs) and ``plots/curves.png`` (mean ± std band).
The vmapped replicas share the data splits built from `config.seed`; the fallback builds each run's splits from its
own seed (identical for sources that do not draw their splits, such as ``patterns``).
"""
import functools
import os
import time
from typing import Any

import jax
import numpy as np
from ml_collections import ConfigDict

from jaxlab import console, data, errors, jsonfile, lanes, report, rundir, settings, single


def seed_config(config: ConfigDict, seed: int) -> ConfigDict:
    """A one-seed copy of `config` with `seed`."""
    copy = settings.copy_config(config)
    copy.seed = seed
    copy.num_seeds = 1
    return copy


def count_params(model, sample_inputs: np.ndarray) -> int:
    shapes = jax.eval_shape(functools.partial(model.init, train=False), jax.random.PRNGKey(0), sample_inputs)
    return int(sum(np.prod(leaf.shape) for leaf in jax.tree.leaves(shapes["params"])))


def sequential_reason(config: ConfigDict, num_params: int) -> str:
    """Why the seeds cannot share one program ("" when they can)."""
    limit = config.seeds_max_params
    if num_params > limit:
        return f"{num_params} parameters > seeds_max_params={limit}"
    if config.early_stopping.patience or config.reduce_on_plateau.patience:
        return "early stopping / reduce-on-plateau decide per run"
    if config.restore_best:
        return "restore_best picks a checkpoint per run"
    return ""


def run(config: ConfigDict, workdir: str, devices=None) -> dict[str, Any]:
    started = time.time()
    num_seeds = config.num_seeds
    if num_seeds < 2:
        raise errors.Error(f"config.num_seeds must be at least 2 for a many-seeds run, got {num_seeds}")
    splits, model = single.build(config)
    single.check_data(workdir, splits.info, config, devices)
    config = settings.with_batch_size(config, data.num_rows(splits, "train"))
    num_params = count_params(model, splits.train["inputs"][:1])
    reason = sequential_reason(config, num_params)
    seeds = [config.seed + k for k in range(num_seeds)]
    if reason:
        console.notice(f"training {num_seeds} seeds one after another: {reason}")
        per_seed, histories = sequential(config, workdir, seeds, devices)
        how = f"sequential ({reason})"
    else:
        per_seed, histories = vmapped(config, workdir, splits, model, seeds, devices)
        how = "vmapped"
    summary = summarise(per_seed, histories, splits.info, config)
    summary.update({"how": how, "num_params": num_params, "wall_seconds_this_session": time.time() - started,
                    "library_versions": rundir.library_versions(), "config": settings.to_dict(config)})
    if jax.process_index() == 0:
        jsonfile.write_json(os.path.join(workdir, "summary.json"), summary)
        report.write_history(os.path.join(workdir, "history.csv"), summary.pop("mean_history"))
        lanes.write_histories(os.path.join(workdir, "seeds_history.csv"), "seed", seeds, histories)
        report.plot_mean_std(histories, os.path.join(workdir, "plots", "curves.png"), f"{num_seeds} seeds")
        print(f"{num_seeds} seeds ({how}): " + report.format_metrics(
            {k: v for k, v in summary["mean"].items()}), flush=True)
    else:
        summary.pop("mean_history")
    return summary


# ----------------------------------------------------------------------------------------------------------------
# K ordinary runs.

def sequential(config, workdir, seeds, devices):
    per_seed, histories = [], []
    for seed in seeds:
        run_dir = os.path.join(workdir, f"seed_{seed}")
        result = single.run_once(seed_config(config, seed), run_dir, devices)
        per_seed.append({"seed": seed, **{k: v for k, v in result.items() if k.startswith("test_")},
                         "final": result["final"], "epochs_run": result["epochs_run"]})
        histories.append(report.read_history(os.path.join(run_dir, "history.csv")))
    return per_seed, histories


# ----------------------------------------------------------------------------------------------------------------
# One program: the seeds as lanes (jaxlab/lanes.py).

def vmapped(config, workdir, splits, model, seeds, devices):
    def print_row(epoch, seconds, histories):
        mean_row = lanes.mean_of([h[-1] for h in histories])
        print(report.epoch_line(epoch, config.num_epochs, seconds, {k: v for k, v in mean_row.items() if k != "epoch"})
              + f" (mean of {len(seeds)})", flush=True)

    per_lane, histories = lanes.fit(config, workdir, splits, model, seeds, {}, devices, column="seed", ids=seeds,
                                    print_row=print_row)
    return [{"seed": seed, **entry} for seed, entry in zip(seeds, per_lane)], histories


# ----------------------------------------------------------------------------------------------------------------
# Summaries, history files, plots.

def epochs_to_solve(history: list[dict[str, float]], metric: str = "val_accuracy") -> int | None:
    """The first epoch after which every pattern is classified correctly (None: never)."""
    for row in history:
        if row.get(metric, 0.0) >= 1.0:
            return int(row["epoch"])
    return None


def summarise(per_seed, histories, info, config) -> dict[str, Any]:
    names = [n for n in per_seed[0] if n.startswith("test_")]
    values = {n: np.asarray([s[n] for s in per_seed], np.float64) for n in names}
    summary = {"num_seeds": len(per_seed), "seeds": per_seed,
               "mean": {n: float(v.mean()) for n, v in values.items()},
               "std": {n: float(v.std()) for n, v in values.items()}}
    if info.get("all_patterns") and "test_accuracy" in values:
        solved = values["test_accuracy"] >= 1.0
        when = [epochs_to_solve(h) for h in histories]
        for entry, epoch in zip(per_seed, when):
            entry["epochs_to_solve"] = epoch
        reached = [e for e in when if e is not None]
        summary["solved_rate"] = float(solved.mean())
        summary["median_epochs_to_solve"] = float(np.median(reached)) if reached else None
        summary["solved_definition"] = ("test_accuracy = 1 after the last epoch (every pattern right); epochs to "
                                        "solve = first epoch with val_accuracy = 1, over seeds that reached it")
    epochs = min(len(h) for h in histories)
    mean_history = []
    for i in range(epochs):
        rows = [h[i] for h in histories]
        row = {"epoch": rows[0]["epoch"]}
        for name in rows[0]:
            if name != "epoch":
                column = np.asarray([r[name] for r in rows], np.float64)
                row[name], row[f"{name}_std"] = float(column.mean()), float(column.std())
        mean_history.append(row)
    summary["mean_history"] = mean_history
    summary["final_mean"] = {k: v for k, v in mean_history[-1].items()} if mean_history else {}
    return summary
