"""Many trials as one compiled program (`config.sweep`): a grid or random points over keys that keep the parameter
shapes, trained as the lanes of one vmapped program (`jaxlab.lanes`), as many seeds are.

`config.sweep` keys:
  ``space``        name → spec: ``key`` (the dotted config key; default: the name) and either ``grid`` (a grid
                   axis: each value) or ``low`` and ``high`` with optional ``log`` (a random axis). Grid axes
                   combine as a product (by name, the last name varying fastest); each of ``num_random`` random
                   points joins every grid point.
  ``num_random``   random points (0: the grid only)      ``random_seed``  seed of the draws (-1: config.seed)
  ``max_lanes``    lanes per compiled program; 0 = as many as half of one device's memory holds (an estimate:
                   `lanes.lane_limit`). More lanes run as several programs, one after another, each in
                   ``WORKDIR/lanes_A-B`` (its own checkpoints).
  ``objective``    a history column, e.g. ``val_accuracy`` ("" = config.monitor); a lane scores its best epoch
  ``direction``    ``maximize`` | ``minimize`` ("" = from config.monitor_mode)

Keys a sweep may set: `SWEEPABLE` and the model's dropout rates (``model.*dropout`` fields of the model). Inside the
program they are traced per-lane numbers (the optimizer is built from the lane's values, L2 and dropout read the
lane's), so the K lanes are one train state and one compile; the lane with value v trains as a run with v does
(tested against separate runs to 1e-5; over thousands of steps the batched program's rounding makes them drift
apart as runs on two machines do: benchmarks/README.md). Other model keys (``model.hidden``, ``model.activations``,
…) change the program itself: as grid axes they group the lanes, one model and one vmapped program per combination
of their values (``WORKDIR/model_G``), the traced keys varying inside each. Keys that change the data, the steps or
other host decisions (``batch_size``, ``data.*``, …) are refused with one line naming them. Configs that decide per
run on the host (early stopping, reduce-on-plateau, restore_best) or
whose model has more than `config.seeds_max_params` parameters train the lanes one after another in
``WORKDIR/lane_K``.

Outputs: ``summary.json`` (``lanes``: one record per lane — its values, score, best epoch, test metrics, last
epoch — and ``best``), ``results.md`` (lanes ranked by the objective), ``trials.csv`` (one row per lane),
``best.json`` (the best lane's values as a ready ``--config.…`` override line), ``lanes_history.csv`` (every lane's
epochs) and ``plots/curves.png`` (every lane on one plot).
"""
import csv
import itertools
import math
import os
import time
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from ml_collections import ConfigDict

from jaxlab import console, data, errors, jsonfile, lanes, models, programs, report, rundir, seeds, settings, single

SWEEPABLE = ("seed", "l2", "divergence_factor", "optimizer.learning_rate", "optimizer.momentum",
             "optimizer.weight_decay", "optimizer.b1", "optimizer.b2", "optimizer.eps", "optimizer.decay",
             "optimizer.final_lr_fraction", "optimizer.decay_factor")
DIRECTIONS = ("maximize", "minimize")


# ----------------------------------------------------------------------------------------------------------------
# The lanes: the sweep's points.

def sweepable(config: ConfigDict) -> tuple[str, ...]:
    """`SWEEPABLE` plus the dropout rates the config's model has as fields."""
    fields = models.MODELS[config.model.name].__dataclass_fields__ if config.model.name in models.MODELS else {}
    return SWEEPABLE + tuple(f"model.{name}" for name in fields if name.endswith("dropout"))


def program_keys(config: ConfigDict) -> list[str]:
    """The swept model keys that change the program (not traced): one program per combination of their values."""
    traced = sweepable(config)
    return sorted(key for key in (spec.get("key", name) for name, spec in config.sweep.space.items())
                  if key.startswith("model.") and key not in traced)


def points(config: ConfigDict) -> list[dict[str, Any]]:
    """Every lane's values (dotted key → value), grid points × random points, in a fixed order."""
    sweep = config.sweep
    allowed = sweepable(config)
    grid, random_axes = {}, {}
    if not sweep.get("space", None):
        raise errors.Error("config.sweep.space is empty: declare at least one key to sweep")
    for name in sorted(sweep.space):   # a fixed order, whatever order the config wrote them in
        spec = sweep.space[name]
        key = spec.get("key", name)
        model_key = key.startswith("model.") and key not in allowed
        if model_key and key.removeprefix("model.") not in config.model:
            raise errors.Error(f"sweep key {key!r} is no key of config.model ({', '.join(sorted(config.model))})")
        if model_key and "grid" not in spec:
            raise errors.Error(f"sweep key {key!r} changes the program: give it grid=(…) (one program per value)")
        if key not in allowed and not model_key:
            raise errors.Error(f"sweep key {key!r} cannot vary inside one program (it changes the data, the steps or "
                               f"host decisions, or is no config key): sweep one of {', '.join(allowed)}, or "
                               "model keys as grid axes (one program per value)")
        if "grid" in spec:
            if not spec["grid"]:
                raise errors.Error(f"sweep key {key!r} has an empty grid")
            grid[key] = tuple(spec["grid"])
            if model_key:
                check_values(config, key, grid[key])
        elif "low" in spec and "high" in spec:
            random_axes[key] = spec
        else:
            raise errors.Error(f"sweep key {key!r}: give grid=(…) (each value) or low and high (random points)")
    num_random = sweep.get("num_random", 0)
    if random_axes and num_random < 1:
        raise errors.Error("the sweep has random keys: set config.sweep.num_random to the number of points (≥ 1)")
    grid_points = [dict(zip(grid, combo)) for combo in itertools.product(*grid.values())]
    if not random_axes:
        return grid_points
    seed = sweep.get("random_seed", -1)
    rng = np.random.default_rng(config.seed if seed < 0 else seed)
    drawn = []
    for _ in range(num_random):
        point = {}
        for key, spec in random_axes.items():
            low, high = float(spec["low"]), float(spec["high"])
            value = math.exp(rng.uniform(math.log(low), math.log(high))) if spec.get("log", False) else rng.uniform(
                low, high)
            point[key] = int(round(value)) if key == "seed" else float(value)
        drawn.append(point)
    return [{**g, **r} for g in grid_points for r in drawn]


def check_values(config: ConfigDict, key: str, grid: tuple) -> None:
    """One line when a grid value cannot be set on `key` (e.g. 8 for model.hidden, which takes a tuple)."""
    for value in grid:
        try:
            settings.set_key(settings.copy_config(config), key, value)
        except (TypeError, ValueError) as exc:
            current = settings.flatten(settings.to_dict(config)).get(key)
            raise errors.Error(f"sweep key {key!r}: grid value {value!r} does not fit it (now {current!r}): give "
                               f"values like that one") from exc


def lane_config(config: ConfigDict, values: dict[str, Any]) -> ConfigDict:
    """The ordinary one-run config of a lane (what K separate runs would use). The lanes share the data splits
    drawn with `config.seed`, so a CSV split that follows the run's seed (``data.split_seed = -1``) is pinned to it."""
    copy = settings.copy_config(config)
    copy.sweep = None
    if "seed" in values and copy.data.get("split_seed", None) == -1:
        copy.data.split_seed = config.seed
    for key, value in values.items():
        settings.set_key(copy, key, value)
    return copy


def check(config: ConfigDict) -> None:
    if config.num_seeds > 1:
        raise errors.Error("a sweep and num_seeds > 1 together: sweep the seed instead (space.seed.grid=(0, 1, …))")
    if config.get("search", None):
        raise errors.Error("config.sweep and config.search are both set: choose one")
    direction = config.sweep.get("direction", "")
    if direction and direction not in DIRECTIONS:
        raise errors.Error(f"config.sweep.direction={direction!r}: use maximize or minimize")


def check_traceable(parts, values: dict[str, np.ndarray], params) -> None:
    """One line when the optimizer cannot take a swept key as a traced number (e.g. a schedule that branches on it)."""
    one_lane = {key: jnp.asarray(value[0], jnp.float32) for key, value in values.items()}
    for key in one_lane:
        try:
            jax.eval_shape(lambda v, p: parts.lane(v)[2].update(p, parts.lane(v)[2].init(p), p)[0],
                           {key: one_lane[key]}, params)
        except (jax.errors.ConcretizationTypeError, TypeError) as exc:
            raise errors.Error(f"sweep key {key!r} cannot vary inside one program with this optimizer/schedule "
                               f"({type(exc).__name__}): sweep another key, or run one config per value") from exc


# ----------------------------------------------------------------------------------------------------------------
# Running the lanes.

def run(config: ConfigDict, workdir: str, devices=None) -> dict[str, Any]:
    started = time.time()
    check(config)
    lane_points = points(config)
    splits, model = single.build(config)
    single.check_data(workdir, splits.info, config, devices)
    config = settings.with_batch_size(config, data.num_rows(splits, "train"))
    objective = config.sweep.get("objective", "") or config.monitor
    direction = config.sweep.get("direction", "") or ("maximize" if config.monitor_mode == "max" else "minimize")
    num_params = seeds.count_params(model, splits.train["inputs"][:1])
    reason = seeds.sequential_reason(config, num_params)
    if reason:
        console.notice(f"training {len(lane_points)} lanes one after another: {reason}")
        per_lane, histories = sequential(config, workdir, lane_points, devices)
        how, limit = f"sequential ({reason})", 1
    else:
        per_lane, histories, limit, num_programs = grouped(config, workdir, splits, model, lane_points, devices,
                                                           objective, direction)
        how = "vmapped"
    records = []
    for k, (values, entry, history) in enumerate(zip(lane_points, per_lane, histories)):
        score, best_epoch = lane_score(history, objective, direction) if "diverged" not in entry else (np.nan, 0)
        records.append({"lane": k, "values": values, "score": score, "best_epoch": best_epoch, **entry})
    best = best_lane(records, direction)
    summary = {"objective": objective, "direction": direction, "num_lanes": len(records), "lanes": records,
               "best": best, "how": how, "lanes_per_program": min(limit, len(records)),
               "num_programs": num_programs if how == "vmapped" else len(records),
               "num_params": num_params, "wall_seconds_this_session": time.time() - started,
               "library_versions": rundir.library_versions(), "config": settings.to_dict(config)}
    if jax.process_index() == 0:
        write_outputs(workdir, summary, histories)
        print(f"best of {len(records)} lanes: lane {best['lane']} {settings.override_line(best['values'])} - "
              f"{objective} {best['score']:.4f} (epoch {best['best_epoch']})"
              + "".join(f" - {name} {value:.4f}" for name, value in best.items() if name.startswith("test_")),
              flush=True)
    return summary


def grouped(config, workdir, splits, model, lane_points, devices, objective, direction):
    """The lanes by the values of the swept model keys (`program_keys`): each group its own model, trained by
    `vmapped` in ``WORKDIR/model_G`` (in WORKDIR itself when no model key is swept). Returns every lane's entry and
    history in lane order, the most lanes one program holds, and how many programs ran."""
    shaping = program_keys(config)
    combos = list(dict.fromkeys(tuple(point[key] for key in shaping) for point in lane_points))
    per_lane, histories, limits, num_programs = [None] * len(lane_points), [None] * len(lane_points), [], 0
    for g, combo in enumerate(combos):
        ids = [k for k, point in enumerate(lane_points) if tuple(point[key] for key in shaping) == combo]
        group_config = lane_config(config, dict(zip(shaping, combo))) if shaping else config
        group_model = single.build_model(group_config, splits.info) if shaping else model
        limit = lanes.lane_limit(group_config, group_model, splits, devices or jax.devices(),
                                 config.sweep.get("max_lanes", 0))
        traced = [{key: value for key, value in lane_points[k].items() if key not in shaping} for k in ids]
        group_dir = os.path.join(workdir, f"model_{g}") if shaping else workdir
        entries, group_histories = vmapped(group_config, group_dir, splits, group_model, traced, devices, limit,
                                           objective, direction, ids=ids)
        for k, entry, history in zip(ids, entries, group_histories):
            per_lane[k], histories[k] = entry, history
        limits.append(limit)
        num_programs += math.ceil(len(ids) / limit)
    return per_lane, histories, max(limits), num_programs


def vmapped(config, workdir, splits, model, lane_points, devices, limit, objective, direction, after_dispatch=None,
            ids=None):
    """The lanes in programs of at most `limit` lanes, one after another (each in its own folder when several).
    `ids`: the lanes' numbers in the sweep (default 0, 1, …). `after_dispatch`: see `lanes.fit`, with lane numbers
    counted over every program."""
    per_lane, histories = [], []
    all_ids = list(range(len(lane_points))) if ids is None else list(ids)
    keys = [key for key in lane_points[0] if key != "seed"]
    if keys:   # once: whether a key can be traced does not depend on its values
        params = jax.eval_shape(lambda x: model.init(jax.random.PRNGKey(0), x, train=False),
                                jnp.asarray(splits.train["inputs"][:1]))["params"]
        check_traceable(programs.step_parts(config, splits, model, devices),
                        {key: np.asarray([lane_points[0][key]]) for key in keys}, params)
    for first in range(0, len(lane_points), limit):
        group = lane_points[first:first + limit]
        ids = all_ids[first:first + len(group)]
        group_dir = workdir if len(lane_points) <= limit else os.path.join(workdir, f"lanes_{ids[0]}-{ids[-1]}")
        lane_seeds = [int(point.get("seed", config.seed)) for point in group]
        values = {key: np.asarray([point[key] for point in group], np.float64) for key in keys}

        def print_row(epoch, seconds, lane_histories, ids=ids):
            scores = np.asarray([lane_score(h, objective, direction)[0] for h in lane_histories])
            if np.isnan(scores).all():
                print(f"epoch {epoch}/{config.num_epochs} - {seconds:.1f}s - every lane has diverged", flush=True)
                return
            pick = int(np.nanargmax(scores) if direction == "maximize" else np.nanargmin(scores))
            row = {k: v for k, v in lane_histories[pick][-1].items() if k != "epoch"}
            span = f"{ids[0]}–{ids[-1]}" if ids == list(range(ids[0], ids[-1] + 1)) else ", ".join(map(str, ids))
            print(report.epoch_line(epoch, config.num_epochs, seconds, row)
                  + f" (lane {ids[pick]}, the best of lanes {span} by {objective})", flush=True)

        def group_hook(epoch, lane_histories, first=first):
            stops = after_dispatch(epoch, histories + lane_histories)   # every lane so far, this program's last
            return {k - first: reason for k, reason in stops.items() if first <= k < first + len(lane_histories)}

        entries, group_histories = lanes.fit(config, group_dir, splits, model, lane_seeds, values, devices,
                                             column="lane", ids=ids, print_row=print_row, diverged_lane_stops=True,
                                             after_dispatch=group_hook if after_dispatch else None)
        per_lane.extend(entries)
        histories.extend(group_histories)
    return per_lane, histories


def sequential(config, workdir, lane_points, devices):
    per_lane, histories = [], []
    for k, values in enumerate(lane_points):
        run_dir = os.path.join(workdir, f"lane_{k}")
        result = single.run_once(lane_config(config, values), run_dir, devices)
        per_lane.append({**{n: v for n, v in result.items() if n.startswith("test_")}, "final": result["final"],
                         "epochs_run": result["epochs_run"]})
        histories.append(report.read_history(os.path.join(run_dir, "history.csv")))
    return per_lane, histories


# ----------------------------------------------------------------------------------------------------------------
# Scores and outputs.

def lane_score(history: list[dict[str, float]], objective: str, direction: str) -> tuple[float, int]:
    """The best epoch's value of `objective` and that epoch (NaN, 0 when the lane never reported a finite one)."""
    if history and objective not in history[0]:
        raise errors.Error(f"sweep objective {objective!r} is not a history column ({', '.join(sorted(history[0]))}):"
                           " set config.sweep.objective to one of them")
    rows = [row for row in history if np.isfinite(row.get(objective, np.nan))]
    if not rows:
        return float("nan"), 0
    pick = max if direction == "maximize" else min
    row = pick(rows, key=lambda r: r[objective])
    return float(row[objective]), int(row["epoch"])


def best_lane(records: list[dict], direction: str) -> dict:
    finite = [r for r in records if np.isfinite(r["score"])]
    if not finite:
        raise errors.Error("no sweep lane reported a finite objective: see lanes_history.csv")
    return (max if direction == "maximize" else min)(finite, key=lambda r: r["score"])


def ranked(records: list[dict], direction: str) -> list[dict]:
    finite = [r for r in records if np.isfinite(r["score"])]
    rest = [r for r in records if not np.isfinite(r["score"])]
    return sorted(finite, key=lambda r: r["score"], reverse=direction == "maximize") + rest


def label(values: dict[str, Any]) -> str:
    return ", ".join(f"{key.split('.')[-1]}={value:.4g}" if isinstance(value, float) else f"{key.split('.')[-1]}="
                     f"{value}" for key, value in values.items())


def results_table(summary: dict) -> str:
    records = ranked(summary["lanes"], summary["direction"])
    keys = list(records[0]["values"])
    tests = [name for name in records[0] if name.startswith("test_")]
    lines = [f"| rank | lane | {summary['objective']} (best epoch) | epoch | " + " | ".join(keys + tests) + " |",
             "|" + "---|" * (4 + len(keys) + len(tests))]
    for rank, r in enumerate(records, 1):
        cells = [f"{r['values'][k]:.4g}" if isinstance(r["values"][k], float) else str(r["values"][k]) for k in keys]
        cells += [f"{r[name]:.4f}" for name in tests]
        lines.append(f"| {rank} | {r['lane']} | {r['score']:.4f} | {r['best_epoch']} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def write_outputs(workdir: str, summary: dict, histories) -> None:
    jsonfile.write_json(os.path.join(workdir, "summary.json"), summary)
    best = summary["best"]
    jsonfile.write_json(os.path.join(workdir, "best.json"), {
        "lane": best["lane"], "values": best["values"], "objective": summary["objective"], "score": best["score"],
        "best_epoch": best["best_epoch"], "override_line": settings.override_line(best["values"])})
    with open(os.path.join(workdir, "results.md"), "w") as f:
        f.write(f"# Sweep: {summary['num_lanes']} lanes ({summary['how']}, {summary['num_programs']} program(s))\n\n"
                + results_table(summary) + "\n")
    records = summary["lanes"]
    keys = list(records[0]["values"])
    tests = [name for name in records[0] if name.startswith("test_")]
    with open(os.path.join(workdir, "trials.csv"), "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["lane", *keys, "score", "best_epoch", *tests, "epochs_run"])
        for r in records:
            writer.writerow([r["lane"], *(r["values"][k] for k in keys), r["score"], r["best_epoch"],
                             *(r[name] for name in tests), r["epochs_run"]])
    if summary["num_programs"] > 1 or summary["how"] != "vmapped":
        lanes.write_histories(os.path.join(workdir, "lanes_history.csv"), "lane", range(len(histories)), histories)
    first_rows = [history[0] for history in histories if history]
    metric = summary["objective"].removeprefix("val_")
    metric = metric if first_rows and metric in first_rows[0] else "loss"
    report.plot_lanes(histories, [label(r["values"]) for r in records], os.path.join(workdir, "plots", "curves.png"),
                      metric)
