"""Hyper-parameter search with optuna (`config.search`): KerasTuner's RandomSearch, or TPE, resumable.

`config.search` keys:
  ``space``      name → spec. A spec sets the config key ``key`` (dotted, default: the name) and is one of
                 ``int`` / ``float`` (``low``, ``high``, optional ``step``, ``log``), ``categorical`` (``choices``), or
                 ``sequence`` (``min_length``, ``max_length``, ``low``, ``high``, ``step``, ``log``): a conditional
                 pair, e.g. ``num_layers`` 1–3 then ``units_i`` only for i < num_layers, set as a tuple
                 (``model.hidden``). optuna names them ``NAME.num_layers`` and ``NAME.units_i``.
  ``sampler``    ``random`` (RandomSearch parity) | ``tpe``          ``max_trials``  trials in the whole study
  ``executions_per_trial``  runs per trial with seeds seed, seed+1, …; the trial's score is their mean
  ``objective``  a history.csv column (e.g. ``val_accuracy``); a run scores its best epoch, as KerasTuner does
  ``direction``  ``maximize`` | ``minimize``
  ``pruning``    stop a bad trial early from its per-epoch validation metrics (optuna's MedianPruner): after
                 every epoch the trial reports its score so far — the mean over its finished executions and the
                 best epoch yet of the running one — at step ``execution × num_epochs + epoch``, and is pruned when
                 that is worse than the median of earlier trials at the same step. ``pruning_startup_trials``
                 (default 2) trials run in full first; no trial is pruned before ``pruning_warmup_epochs``
                 (default 1) epochs. A pruned trial keeps its history.csv and checkpoint (no summary.json), counts
                 towards ``max_trials``, and is listed as pruned in results.md (``pruned_at`` in trials.csv).
  ``storage``    "" = SQLite file ``WORKDIR/search.db``: rerunning the command resumes the study and continues the
                 trial count (trials a killed run left "running" are marked failed). An RDB URL, e.g.
                 ``postgresql://user:pass@host/db``, lets several machines run the same command on one study: each
                 runs trials until the study holds ``max_trials`` finished or running trials.
  ``study_name`` (default ``search``)    ``top`` rows of the results table    ``retrain`` retrain the best trial
  ``batch_size`` K > 1: ask K trials at once and train them × their executions as the lanes of ONE vmapped program
                 (`jaxlab.sweep`, `jaxlab.lanes`) in ``WORKDIR/batch_A-B``, then tell them back; every searched key
                 must keep the shapes (a ``sequence`` or ``model.hidden`` is refused with one line). A pruned trial's
                 lanes stop counting while the program runs on; it reports after each epoch the mean over its
                 executions of their best epoch yet (step = epoch). The lanes share one data split: with several
                 executions, a CSV or image folder needs ``data.split_seed``. Configs with early stopping,
                 reduce-on-plateau or restore_best train one at a time.

Multi-host (several JAX processes): process 0 alone opens the study; it asks for each trial and hands the trial's
number and parameters, then each pruning decision, to the other processes (`parallel.from_process_zero`); every
process trains every trial (the runs are collective) and only process 0 writes the search's files.

Each trial runs `single.run_once` on a copy of the config with the sampled overrides in
``WORKDIR/trial_NNN`` (``WORKDIR/trial_NNN/exec_K`` when executions_per_trial > 1). The search writes
``results.md`` (the top trials with parameters and scores, like ``tuner.results_summary()``), ``trials.csv`` and
``best.json`` (parameters, a ready ``--config.…`` override line); with ``retrain`` the best parameters train once
more in ``WORKDIR/best_trial_NNN`` and the test metrics of that run are reported.
"""
import os
from typing import Any

import jax
import numpy as np
import optuna
from ml_collections import ConfigDict

from jaxlab import errors, jsonfile, parallel, report, search_batch, settings, single, sweep

SAMPLERS = ("random", "tpe")
TYPES = ("int", "float", "categorical", "sequence")


# ----------------------------------------------------------------------------------------------------------------
# The space: optuna suggestions → config overrides.

def check_space(space: ConfigDict) -> None:
    if not space:
        raise errors.Error("config.search.space is empty: declare at least one parameter")
    for name, spec in space.items():
        kind = spec.get("type", "")
        if kind not in TYPES:
            raise errors.Error(f"search parameter {name!r} has type {kind!r}: choose one of {', '.join(TYPES)}")
        if kind == "categorical" and not spec.get("choices", ()):
            raise errors.Error(f"search parameter {name!r} is categorical but has no choices")
        if kind != "categorical" and ("low" not in spec or "high" not in spec):
            raise errors.Error(f"search parameter {name!r} ({kind}) needs low and high")


def _number(trial: optuna.Trial, name: str, spec: ConfigDict, kind: str):
    log = spec.get("log", False)
    step = spec.get("step", None)
    if kind == "int":
        return trial.suggest_int(name, int(spec.low), int(spec.high), step=int(step or 1), log=log)
    return trial.suggest_float(name, float(spec.low), float(spec.high), step=None if log else step, log=log)


def suggest(trial: optuna.Trial, space: ConfigDict) -> dict[str, Any]:
    """Config overrides (dotted key → value) sampled for `trial`; conditional parameters only when active."""
    overrides = {}
    for name, spec in space.items():
        key = spec.get("key", name)
        kind = spec.type
        if kind == "categorical":
            overrides[key] = trial.suggest_categorical(name, list(spec.choices))
        elif kind == "sequence":
            length = trial.suggest_int(f"{name}.num_layers", int(spec.min_length), int(spec.max_length))
            overrides[key] = tuple(_number(trial, f"{name}.units_{i}", spec, "int") for i in range(length))
        else:
            overrides[key] = _number(trial, name, spec, kind)
    return overrides


def apply(config: ConfigDict, overrides: dict[str, Any], seed: int) -> ConfigDict:
    """A copy of `config` with `overrides` (dotted keys), `seed`, and no search (a trial is one training run)."""
    trial_config = settings.copy_config(config)
    trial_config.seed = seed
    trial_config.search = None
    known = settings.flatten(settings.to_dict(config))
    for key, value in overrides.items():
        if key not in known and not any(name.startswith(key + ".") for name in known):
            raise errors.Error(f"search key {key!r}: the config has no such key; use an existing dotted key")
        settings.set_key(trial_config, key, value)
    return trial_config


# ----------------------------------------------------------------------------------------------------------------
# Scores of runs.

def run_score(workdir: str, objective: str, direction: str) -> float:
    """The best epoch's value of `objective` in a run's history.csv."""
    history = report.read_history(os.path.join(workdir, "history.csv"))
    if not any(np.isfinite(row.get(objective, np.nan)) for row in history):
        columns = ", ".join(sorted(history[0])) if history else "none"
        raise errors.Error(f"search objective {objective!r} is not in {workdir}/history.csv (columns: {columns}): "
                           "set config.search.objective to one of them")
    return sweep.lane_score(history, objective, direction)[0]


def trial_dir(workdir: str, number: int, execution: int, executions: int) -> str:
    path = os.path.join(workdir, f"trial_{number:03d}")
    return os.path.join(path, f"exec_{execution}") if executions > 1 else path


def run_trial(config: ConfigDict, workdir: str, trial: optuna.Trial | None, number: int,
              overrides: dict[str, Any]) -> float:
    """Trial `number` with `overrides`, trained on every process (each execution is one `experiment.run_once`).
    `trial` is the optuna trial on process 0 and None on the others, which only train: process 0 scores, records
    and decides pruning (`pruning_hook`). Returns the mean score of the executions (NaN: the trial failed)."""
    search = config.search
    executions = search.get("executions_per_trial", 1)
    direction = search.get("direction", "maximize")
    if trial is not None:
        trial.set_user_attr("overrides", {k: list(v) if isinstance(v, tuple) else v for k, v in overrides.items()})
        print(f"search: trial {number} " + settings.override_line(overrides), flush=True)
    scores, tests = [], []
    for execution in range(executions):
        path = trial_dir(workdir, number, execution, executions)
        on_epoch = pruning_hook(trial, search, scores, execution, config.num_epochs) \
            if search.get("pruning", False) else None
        try:
            summary = single.run_once(apply(config, overrides, config.seed + execution), path,
                                          on_epoch=on_epoch)
        except errors.Error as exc:  # e.g. a diverging run (seen by every process alike): the trial fails, the
            if trial is not None:    # search goes on
                print(f"search: trial {number} failed: {exc}", flush=True)
                trial.set_user_attr("error", str(exc))
            return float("nan")  # optuna records a NaN objective as a failed trial
        if trial is not None:
            scores.append(run_score(path, search.objective, direction))
            tests.append({k: v for k, v in summary.items() if k.startswith("test_")})
            trial.set_user_attr("scores", scores)
            trial.set_user_attr("test", tests)
    return float(np.mean(scores)) if trial is not None else float("nan")


def pruning_hook(trial: optuna.Trial | None, search: ConfigDict, scores: list[float], execution: int,
                 num_epochs: int):
    """An `on_epoch` callback reporting the trial's score so far and raising optuna.TrialPruned when the pruner
    says so. `scores` are the finished executions' scores. Process 0 (`trial` given) decides; every process
    raises together."""
    better = max if search.get("direction", "maximize") == "maximize" else min
    best = None   # the running execution's best epoch so far

    def on_epoch(row: dict[str, float]) -> None:
        nonlocal best
        prune, score, epoch = False, float("nan"), int(row["epoch"])
        value = row.get(search.objective, float("nan"))
        if trial is not None and np.isfinite(value):
            best = value if best is None else better(best, value)
            score = float(np.mean(scores + [best]))
            trial.report(score, execution * num_epochs + epoch)
            prune = bool(trial.should_prune())  # a numpy bool from the pruner would not survive JSON
        if not parallel.from_process_zero(prune if trial is not None else None):
            return
        if trial is not None:
            trial.set_user_attr("pruned_at", {"execution": execution, "epoch": epoch})
            print(f"search: trial {trial.number} pruned at execution {execution} epoch {epoch} "
                  f"({search.objective} {score:.4f} is worse than the median of earlier trials)", flush=True)
        raise optuna.TrialPruned(f"{search.objective} {score:.4f} at step {execution * num_epochs + epoch}")

    return on_epoch


# ----------------------------------------------------------------------------------------------------------------
# The study.

def storage_url(search: ConfigDict, workdir: str) -> str:
    return search.get("storage", "") or "sqlite:///" + os.path.abspath(os.path.join(workdir, "search.db"))


def sampler(search: ConfigDict, seed: int) -> optuna.samplers.BaseSampler:
    name = search.get("sampler", "random")
    if name == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    if name == "tpe":
        return optuna.samplers.TPESampler(seed=seed, multivariate=True, group=True,
                                          n_startup_trials=search.get("startup_trials", 5))
    raise errors.Error(f"unknown search sampler {name!r}: choose one of {', '.join(SAMPLERS)} "
                       "(--config.search.sampler=...)")


def open_study(config: ConfigDict, workdir: str) -> optuna.Study:
    """Creates or resumes the study. The sampler's seed moves on with the trial count, so a resumed random search
    does not repeat the parameters of its first trials."""
    search = config.search
    url = storage_url(search, workdir)
    name = search.get("study_name", "search")
    direction = search.get("direction", "maximize")
    if direction not in ("maximize", "minimize"):
        raise errors.Error(f"search direction {direction!r}: choose maximize or minimize")
    study = optuna.create_study(study_name=name, storage=url, direction=direction, load_if_exists=True)
    if url.startswith("sqlite:///"):  # one machine: a "running" trial is one a killed run left behind
        for trial in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,)):
            study.tell(trial.number, state=optuna.trial.TrialState.FAIL)
    pruner = optuna.pruners.MedianPruner(n_startup_trials=search.get("pruning_startup_trials", 2),
                                         n_warmup_steps=search.get("pruning_warmup_epochs", 1)) \
        if search.get("pruning", False) else optuna.pruners.NopPruner()
    return optuna.load_study(study_name=name, storage=url, pruner=pruner,
                             sampler=sampler(search, config.seed + len(study.trials)))


def counted(study: optuna.Study) -> int:
    states = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED, optuna.trial.TrialState.RUNNING)
    return len(study.get_trials(deepcopy=False, states=states))


def next_trial(study: optuna.Study | None, config: ConfigDict) -> tuple[optuna.Trial | None, dict | None]:
    """Process 0 asks the study for the next trial while it holds fewer than max_trials; every process gets the
    trial's (number, overrides), or None when the search is done."""
    trial, agreed = None, None
    if study is not None and counted(study) < config.search.get("max_trials", 10):
        trial = study.ask()
        agreed = {"number": trial.number, "overrides": suggest(trial, config.search.space)}
    agreed = parallel.from_process_zero(agreed)
    if agreed is not None:
        agreed["overrides"] = overrides_from_json(agreed["overrides"])
    return trial, agreed


def overrides_from_json(overrides: dict[str, Any]) -> dict[str, Any]:
    """Overrides read back from JSON (a broadcast, best.json): its lists are sequence parameters, tuples again."""
    return {k: tuple(v) if isinstance(v, list) else v for k, v in overrides.items()}


def run(config: ConfigDict, workdir: str) -> dict[str, Any]:
    """The search. Several processes (multi-host) run it together: process 0 holds the study, all of them train
    each trial (its parameters and pruning decisions come from process 0), process 0 writes the results."""
    search = config.search
    check_space(search.space)
    os.makedirs(workdir, exist_ok=True)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    lead = jax.process_index() == 0
    study = open_study(config, workdir) if lead else None
    max_trials = search.get("max_trials", 10)
    batch_size = search_batch.batch_size(config)
    failures = 0
    while True:
        batch = next_trials(study, config, batch_size)
        if not batch:
            break
        try:
            if batch_size > 1:
                outcomes = search_batch.run(config, apply(config, {}, config.seed), workdir, batch)
            else:
                outcomes = [run_trial(config, workdir, batch[0][0], batch[0][1]["number"], batch[0][1]["overrides"])]
        except optuna.TrialPruned:
            if lead:
                study.tell(batch[0][0], state=optuna.trial.TrialState.PRUNED)
            continue
        except BaseException:
            if lead:
                for trial, _ in batch:
                    study.tell(trial, state=optuna.trial.TrialState.FAIL)
            raise
        for (trial, _), value in zip(batch, outcomes):
            if value is search_batch.PRUNED:
                if lead:
                    study.tell(trial, state=optuna.trial.TrialState.PRUNED)
                continue
            failed = parallel.from_process_zero(bool(not np.isfinite(value)) if lead else None)
            if lead:
                study.tell(trial, None if failed else value, state=optuna.trial.TrialState.FAIL if failed else None)
            failures += failed
        if failures >= max_trials:
            raise errors.Error(f"{failures} search trials failed in this session (see {workdir}/trial_*): "
                               "fix the config before searching")
    return finish(config, workdir, study)


def next_trials(study: optuna.Study | None, config: ConfigDict, count: int) -> list[tuple[optuna.Trial | None, dict]]:
    """Up to `count` trials asked by process 0 (`next_trial`), the same list on every process; [] when done."""
    batch = []
    for _ in range(count):
        trial, agreed = next_trial(study, config)
        if agreed is None:
            break
        batch.append((trial, agreed))
    return batch


# ----------------------------------------------------------------------------------------------------------------
# Results.

def ranked(study: optuna.Study) -> list[optuna.trial.FrozenTrial]:
    done = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    return sorted(done, key=lambda t: t.value, reverse=study.direction == optuna.study.StudyDirection.MAXIMIZE)


def results_table(study: optuna.Study, objective: str, top: int) -> str:
    """Markdown: the top trials (score, per-execution scores, parameters) and a count by state."""
    rows = ranked(study)[:top]
    names = list(dict.fromkeys(name for t in rows for name in t.params))
    lines = [f"| rank | trial | {objective} (mean) | executions | " + " | ".join(names) + " |",
             "|" + "---|" * (4 + len(names))]
    for rank, t in enumerate(rows, 1):
        scores = ", ".join(f"{s:.4f}" for s in t.user_attrs.get("scores", []))
        params = [_format(t.params[n]) if n in t.params else "—" for n in names]
        lines.append(f"| {rank} | {t.number} | {t.value:.4f} | {scores} | " + " | ".join(params) + " |")
    states: dict[str, int] = {}
    for t in study.trials:
        states[t.state.name.lower()] = states.get(t.state.name.lower(), 0) + 1
    lines.append("")
    lines.append("trials: " + ", ".join(f"{count} {state}" for state, count in sorted(states.items())))
    return "\n".join(lines)


def _format(value) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def trials_csv(study: optuna.Study, path: str) -> None:
    frame = study.trials_dataframe(attrs=("number", "value", "state", "params", "duration", "user_attrs"))
    frame.to_csv(path, index=False)


def finish(config: ConfigDict, workdir: str, study: optuna.Study | None) -> dict[str, Any]:
    """results.md, trials.csv and best.json from process 0's study; with ``retrain`` every process trains the best
    parameters once more. Returns best.json's content (on every process)."""
    search = config.search
    result = summarize(config, workdir, study) if study is not None else None
    result = parallel.from_process_zero(result)
    if "error" in result:
        raise errors.Error(result["error"])
    if search.get("retrain", False):
        # One directory per best trial: a later session whose best is another trial retrains that one afresh.
        retrain_dir = os.path.join(workdir, f"best_trial_{result['trial']:03d}")
        retrained = single.run_once(apply(config, overrides_from_json(result["overrides"]), config.seed),
                                        retrain_dir)
        result["retrain"] = {k: v for k, v in retrained.items() if k.startswith(("test_", "best_"))}
        result["retrain_workdir"] = retrain_dir
    if study is not None:
        jsonfile.write_json(os.path.join(workdir, "best.json"), result)
        print(f"best trial {result['trial']}: {search.objective} {result['value']:.4f}\n  {result['override_line']}",
              flush=True)
        if "retrain" in result:
            print("best retrained: " + report.format_metrics(
                {k: v for k, v in result["retrain"].items() if isinstance(v, float)}), flush=True)
    return result


def summarize(config: ConfigDict, workdir: str, study: optuna.Study) -> dict[str, Any]:
    """Writes results.md and trials.csv; the best trial (or {"error": ...} when none completed)."""
    search = config.search
    table = results_table(study, search.objective, search.get("top", 10))
    with open(os.path.join(workdir, "results.md"), "w") as f:
        f.write(f"# Search results ({search.get('sampler', 'random')}, objective {search.objective}, "
                f"{search.get('direction', 'maximize')})\n\n{table}\n")
    trials_csv(study, os.path.join(workdir, "trials.csv"))
    print(table, flush=True)
    best_trials = ranked(study)
    if not best_trials:
        return {"error": f"no search trial completed (see {workdir}/trials.csv for the failed ones)"}
    best = best_trials[0]
    overrides = best.user_attrs["overrides"]
    return {"trial": best.number, "value": best.value, "objective": search.objective, "params": best.params,
            "overrides": overrides, "override_line": settings.override_line(overrides),
            "execution_scores": best.user_attrs.get("scores", []),
            "execution_test_metrics": best.user_attrs.get("test", [])}
