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
import contextlib
import dataclasses
import functools
import os
import time
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from ml_collections import ConfigDict

from jaxlab import (checkpoint, console, data, errors, jsonfile, parallel, programs, report, rundir, settings, shards,
                    single, steps, train)


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
    single.check_data(workdir, splits.info)
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
        write_seed_histories(os.path.join(workdir, "seeds_history.csv"), seeds, histories)
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
# One program: vmap over the stacked train state.

def epochs_program(state, train_data, rows, rng, val_data, val_rows, val_mask, *, train_fn, eval_fn, has_val):
    """One seed, several epochs: `rows` is [epochs, steps, batch]. Returns the state, per-epoch train totals,
    per-epoch validation totals (or None) and the step losses [epochs, steps]."""
    def epoch(state, epoch_rows):
        state, totals, step_losses = train_fn(state, train_data, epoch_rows, rng)
        val = eval_fn(state, val_data, val_rows, val_mask) if has_val else None
        return state, (totals, val, step_losses)

    state, (totals, val, step_losses) = jax.lax.scan(epoch, state, rows)
    return state, totals, val, step_losses


def many(state, train_data, rows, rng, val_data, val_rows, val_mask, *, program):
    """`rows` arrives as [steps, batch, epochs, seeds] (the batch axis where `parallel.shard_batches` splits it)."""
    rows = jnp.transpose(rows, (3, 2, 0, 1))
    return jax.vmap(program, in_axes=(0, None, 0, 0, None, None, None))(
        state, train_data, rows, rng, val_data, val_rows, val_mask)


def many_eval(state, split_data, rows, mask, *, eval_fn):
    return jax.vmap(eval_fn, in_axes=(0, None, None, None))(state, split_data, rows, mask)


def check_divergence(step_losses, first_loss, seeds, epochs, steps_per_epoch, factor) -> None:
    """`train.check_divergence` for every seed and epoch of a dispatch ([seeds, epochs, steps] losses), naming the
    seed; the per-epoch search only runs when something is wrong."""
    bad = ~np.isfinite(step_losses)
    if factor:
        bad |= step_losses > factor * np.maximum(np.nan_to_num(first_loss, nan=np.inf), 1e-8)[:, None, None]
    if not bad.any():
        return
    for k, seed in enumerate(seeds):
        for i, epoch in enumerate(epochs):
            try:
                train.check_divergence(step_losses[k, i], (epoch - 1) * steps_per_epoch, epoch, float(first_loss[k]),
                                       factor)
            except errors.Error as exc:
                raise errors.Error(f"seed {seed}: {exc}") from exc


def batched_compute(totals) -> dict[str, np.ndarray]:
    """`Collection.compute()` of a collection with leading (seed, epoch) axes: every metric is elementwise."""
    return {field.name: np.asarray(getattr(totals, field.name).compute()) for field in dataclasses.fields(totals)
            if not field.name.startswith("_")}


def seed_slice(tree, k: int):
    return jax.tree.map(lambda x: x[k], tree)


def vmapped(config, workdir, splits, model, seeds, devices):
    parts = programs.step_parts(config, splits, model, devices)
    mode, devices, tx, metrics_cls = parts.mode, parts.devices, parts.tx, parts.metrics_cls
    num_train, num_val = data.num_rows(splits, "train"), data.num_rows(splits, "validation")
    steps_per_epoch = parts.steps_per_epoch
    train_fn = functools.partial(steps.train_chunk, step=parts.train_step, metrics_cls=metrics_cls, mode=mode)
    eval_fn = functools.partial(steps.eval_pass, step=parts.eval_step, metrics_cls=metrics_cls, mode=mode)
    program = functools.partial(epochs_program, train_fn=train_fn, eval_fn=eval_fn, has_val=bool(num_val))
    run_epochs = parallel.compiled(functools.partial(many, program=program), mode, devices)
    run_eval = parallel.compiled(functools.partial(many_eval, eval_fn=eval_fn), mode, devices, donate_first=False)

    sample = jnp.asarray(splits.train["inputs"][:1])
    host_state = jax.jit(jax.vmap(lambda seed: steps.init_state(model, tx, None, sample, seed)))(
        jnp.asarray(seeds, jnp.int32))
    rng = parallel.replicate(jax.vmap(lambda seed: jax.random.PRNGKey(seed + 1))(jnp.asarray(seeds, jnp.int32)),
                             mode, devices)
    placed = {name: programs.hold(splits, name, "replicated", "device", mode, devices)
              for name in ("train", "validation", "test") if getattr(splits, name) is not None}
    val_batch = config.eval_batch_size
    val_rows, val_mask = shards.eval_order(max(num_val, 1), val_batch)
    val_rows, val_mask = (parallel.shard_batches(a, mode, devices) for a in (val_rows, val_mask))
    val_data = placed.get("validation", placed["train"])

    mngr = checkpoint.manager(workdir, config.checkpoint, parts.best_metric)
    history_path = os.path.join(workdir, "seeds_history.csv")
    histories = [[] for _ in seeds]
    start_epoch = 0
    try:
        saved = sorted(mngr.all_steps(), reverse=True)
        restored, start_epoch = checkpoint.restore_first_usable(mngr, saved, host_state)
        if restored is not None:
            host_state = restored
            histories = read_seed_histories(history_path, seeds, start_epoch)
            console.notice(f"resumed {len(seeds)} seeds from epoch {start_epoch}")
        elif saved:
            raise errors.Error(f"no usable checkpoint in {mngr.directory} (all moved to checkpoints_unreadable/): "
                               "use a new --workdir, or rerun to train the seeds again from epoch 1")
        start_epoch = start_epoch or 0
        state = parallel.replicate(host_state, mode, devices)
        every = config.checkpoint.every_epochs or config.num_epochs
        per_dispatch = max(1, config.epochs_per_dispatch)
        epoch = start_epoch
        while epoch < config.num_epochs:
            next_save = (epoch // every + 1) * every
            count = min(per_dispatch, next_save - epoch, config.num_epochs - epoch)
            epochs = range(epoch + 1, epoch + count + 1)
            orders = np.stack([np.stack([shards.epoch_order(seed, e, num_train, config.batch_size)
                                         for seed in seeds], axis=-1) for e in epochs], axis=2)
            dispatch_started = time.perf_counter()
            state, totals, val, step_losses = run_epochs(
                state, placed["train"], parallel.shard_batches(orders, mode, devices), rng, val_data, val_rows,
                val_mask)
            step_losses = np.asarray(parallel.unreplicate(step_losses, mode))  # [seeds, epochs, steps]
            first_loss = np.asarray(parallel.unreplicate(state.first_loss, mode))
            totals = parallel.unreplicate(totals, mode)
            val = parallel.unreplicate(val, mode) if num_val else None
            columns = batched_compute(totals)  # each [seeds, epochs]
            if num_val:
                columns.update({f"val_{n}": v for n, v in batched_compute(val).items()})
            check_divergence(step_losses, first_loss, seeds, list(epochs), steps_per_epoch,
                             config.divergence_factor)
            for k in range(len(seeds)):
                histories[k].extend({"epoch": e, **{n: float(v[k, i]) for n, v in columns.items()}}
                                    for i, e in enumerate(epochs))
            epoch += count
            mean_row = mean_of([h[-1] for h in histories])
            if jax.process_index() == 0:
                print(report.epoch_line(epoch, config.num_epochs, time.perf_counter() - dispatch_started,
                                        {k: v for k, v in mean_row.items() if k != "epoch"})
                      + f" (mean of {len(seeds)})", flush=True)
                write_seed_histories(history_path, seeds, histories)
            if epoch % every == 0 or epoch == config.num_epochs:
                checkpoint.save(mngr, epoch, parallel.unreplicate(state, mode),
                                {k: v for k, v in mean_row.items() if k != "epoch"})
        checkpoint.finish(mngr)
        per_seed = []
        test_totals = None
        if splits.test is not None:
            rows, mask = shards.eval_order(data.num_examples(splits.test), config.eval_batch_size)
            test_totals = parallel.unreplicate(run_eval(state, placed["test"], parallel.shard_batches(
                rows, mode, devices), parallel.shard_batches(mask, mode, devices)), mode)
        for k, seed in enumerate(seeds):
            test = steps.compute(seed_slice(test_totals, k)) if test_totals is not None else {}
            per_seed.append({"seed": seed, **{f"test_{n}": v for n, v in test.items()},
                             "final": histories[k][-1] if histories[k] else {}, "epochs_run": len(histories[k])})
    finally:
        with contextlib.suppress(Exception):   # a failed save was reported by checkpoint.finish / save
            mngr.wait_until_finished()
        mngr.close()
    return per_seed, histories


# ----------------------------------------------------------------------------------------------------------------
# Summaries, history files, plots.

def mean_of(rows: list[dict[str, float]]) -> dict[str, float]:
    return {name: float(np.mean([row[name] for row in rows])) for name in rows[0]}


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


def write_seed_histories(path: str, seeds, histories) -> None:
    report.write_history(path, [{"epoch": row["epoch"], "seed": seed, **{k: v for k, v in row.items() if k != "epoch"}}
                                for seed, history in zip(seeds, histories) for row in history])


def read_seed_histories(path: str, seeds, up_to_epoch: int) -> list[list[dict[str, float]]]:
    rows = report.read_history(path, up_to_epoch=up_to_epoch)
    by_seed = {seed: [] for seed in seeds}
    for row in rows:
        seed = int(row.pop("seed"))
        if seed in by_seed:
            by_seed[seed].append(row)
    return [by_seed[seed] for seed in seeds]
