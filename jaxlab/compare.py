"""Comparison report of several runs: one markdown table (winners marked) and overlaid validation curves.

    python -m jaxlab.compare runs/movies_a runs/movies_b runs/movies_c [--output report.md] [--by val_accuracy]

Rows are runs; columns are the run's dataset (``data.name``, with the file and target of csv / image_folder data),
task and model (``model.name`` and the config keys in which it differs from the other runs on the same data and
task), the test metrics of summary.json, the best value of ``--by`` over the epochs of history.csv and its epoch,
epochs run, wall time summed over every session of the run (``sessions.jsonl``) and parameter count. A winner is
named only among runs of the same dataset and task: the finished run with the best ``--by`` (a validation metric
by default: the test split is not for choosing); runs of several datasets or tasks get one winner per group. A run
without summary.json is shown as incomplete (it has epochs in history.csv) or failed (nothing).

The report goes to ``--output``, by default ``compare_<run names>.md`` beside the first run directory; next to it,
``<report>_curves.png`` overlays every run's validation curves, one panel per validation metric.
"""
import argparse
import json
import os
import re
import sys
from collections.abc import Sequence
from typing import Any

from jaxlab import errors, figures, report, settings

LOWER_IS_BETTER = ("loss", "error", "mae", "mse", "rmse", "bce")
# Config keys shown in their own columns, or that never change what a run learns: not listed as differences.
NOT_A_DIFFERENCE = ("data.name", "data.path", "data.target", "data.task", "task", "model.name", "data.data_dir")
MAX_DIFFERENCES = 3
UNKNOWN = "—"


def lower_is_better(metric: str) -> bool:
    return any(metric.endswith(word) for word in LOWER_IS_BETTER)


def _read_json(path: str) -> dict[str, Any] | None:
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return json.load(f)


def wall_seconds(path: str, summary: dict[str, Any]) -> tuple[float | None, bool]:
    """(seconds, whether that counts every session): the larger of the ended sessions' ``wall_seconds`` summed over
    sessions.jsonl and summary.json's ``wall_seconds_total`` (a session killed after writing the summary never logs
    its end), else ``wall_seconds_this_session`` (the last session only: maybe not all)."""
    totals = [total for total in (_sessions_total(path), summary.get("wall_seconds_total"))
              if isinstance(total, (int, float))]
    if totals:
        return float(max(totals)), True
    return summary.get("wall_seconds_this_session"), False


def _sessions_total(path: str) -> float | None:
    """Sum of ``wall_seconds`` of the ended sessions in sessions.jsonl (None without one)."""
    sessions = os.path.join(path, "sessions.jsonl")
    if not os.path.exists(sessions):
        return None
    seconds = []
    with open(sessions) as f:
        for line in f:
            try:
                entry = json.loads(line)
                if entry.get("event", "end") == "end":
                    seconds.append(float(entry["wall_seconds"]))
            except (ValueError, KeyError, TypeError, AttributeError):  # a start line, or a line cut short
                continue
    return sum(seconds) if seconds else None


def read_run(path: str, by: str) -> dict[str, Any]:
    """What the table needs from one run directory."""
    history = report.read_history(os.path.join(path, "history.csv"))
    summary = _read_json(os.path.join(path, "summary.json"))
    config = _read_json(os.path.join(path, "config.json")) or (summary or {}).get("config") or {}
    run = {"name": os.path.basename(os.path.normpath(path)) or path, "path": path, "history": history,
           "summary": summary or {}, "config": config, "best": None, "best_epoch": None,
           "data": dataset(config), "task": config.get("task", UNKNOWN)}
    run["wall"], run["all_sessions"] = wall_seconds(path, run["summary"])
    if summary is not None:
        run["status"] = "finished"
    elif history:
        run["status"] = f"incomplete ({len(history)} epochs)"
    else:
        run["status"] = "failed (no history)"
    values = [(row[by], int(row["epoch"])) for row in history if by in row]
    if values:
        pick = min if lower_is_better(by) else max
        run["best"], run["best_epoch"] = pick(values, key=lambda value_epoch: value_epoch[0])
    return run


def dataset(config: dict[str, Any]) -> str:
    """``mnist``; ``csv movies.csv → imdb_score``; ``image_folder simpsons`` (— when the run has no config)."""
    data = config.get("data") or {}
    name = data.get("name", UNKNOWN)
    if name in ("csv", "image_folder") and data.get("path"):
        name += " " + os.path.basename(os.path.normpath(data["path"]))
    if name.startswith("csv") and data.get("target"):
        name += f" → {data['target']}"
    return name


def _short(value) -> str:
    if isinstance(value, (list, tuple)):
        return ",".join(map(_short, value))
    return f"{value:g}" if isinstance(value, float) else str(value)


def describe_models(runs: Sequence[dict[str, Any]]) -> None:
    """Sets each run's "model": ``model.name`` and the config keys that differ between it and the other runs of its
    group (same data and task), at most MAX_DIFFERENCES of them."""
    for group in groups(runs).values():
        flats = [settings.flatten(run["config"]) for run in group]
        keys = list(dict.fromkeys(key for flat in flats for key in flat if key not in NOT_A_DIFFERENCE))
        differing = [key for key in keys if len({json.dumps(flat.get(key), sort_keys=True) for flat in flats}) > 1]
        for run, flat in zip(group, flats):
            shown = [f"{key}={_short(flat.get(key, UNKNOWN))}" for key in differing[:MAX_DIFFERENCES]]
            if len(differing) > MAX_DIFFERENCES:
                shown.append(f"+{len(differing) - MAX_DIFFERENCES} more")
            model = flat.get("model.name", UNKNOWN)
            run["model"] = f"{model} ({', '.join(shown)})" if shown else model


def groups(runs: Sequence[dict[str, Any]]) -> dict[tuple[str, str], list[dict[str, Any]]]:
    """Runs by (dataset, task), in the order they were given."""
    grouped: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for run in runs:
        grouped.setdefault((run["data"], run["task"]), []).append(run)
    return grouped


def winners(runs: Sequence[dict[str, Any]], by: str) -> dict[tuple[str, str], str | None]:
    """(dataset, task) → the name of its finished run with the best `by` value (None when none has one). Runs of
    unknown data or task (no config) never win."""
    pick = min if lower_is_better(by) else max
    result = {}
    for key, group in groups(runs).items():
        if UNKNOWN in key:
            continue
        finished = [run for run in group if run["status"] == "finished" and run["best"] is not None]
        result[key] = pick(finished, key=lambda run: run["best"])["name"] if finished else None
    return result


def _cell(value, digits: int = 4) -> str:
    if value is None:
        return UNKNOWN
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def table(runs: Sequence[dict[str, Any]], by: str, won: set[str]) -> str:
    """The markdown table; runs named in `won` are marked winners."""
    tests = list(dict.fromkeys(key for run in runs for key, value in run["summary"].items()
                               if key.startswith("test_") and isinstance(value, (int, float))))
    header = ["run", "data", "task", "model", "status", *tests, f"best {by}", "best epoch", "epochs",
              "wall time (s)", "parameters"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for run in runs:
        summary = run["summary"]
        name = f"**{run['name']}** (winner)" if run["name"] in won else run["name"]
        wall = _cell(run["wall"], 1)
        if run["wall"] is not None and not run["all_sessions"]:
            wall = "≥ " + wall
        cells = [name, run["data"], run["task"], run["model"], run["status"],
                 *[_cell(summary.get(key)) for key in tests], _cell(run["best"]), _cell(run["best_epoch"]),
                 _cell(len(run["history"]) or None), wall,
                 _cell(f"{summary['num_params']:,}" if "num_params" in summary else None)]
        lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    return "\n".join(lines)


def verdict(won: dict[tuple[str, str], str | None], by: str) -> list[str]:
    """The lines under the table (`won`: `winners`' answer): the winner, or one per dataset and task and why."""
    if len(won) == 1:
        (winner,) = won.values()
        if winner:
            return [f"Winner by best {by}: **{winner}**."]
        return [f"No finished run has {by}: no winner (choose the column with --by, e.g. --by val_loss)."]
    if not won:
        return ["No run has a config.json: its data and task are unknown, so no winner."]
    spans = "; ".join(f"{data}, {task}" for data, task in won)
    why = (f"The runs span {len(won)} datasets or tasks ({spans}): their metrics are not comparable, so there is "
           "one winner per dataset and task, not one overall.")
    lines = [why]
    for (data, task), winner in won.items():
        lines.append(f"- {data}, {task}: winner by best {by} **{winner}**." if winner
                     else f"- {data}, {task}: no finished run has {by}, no winner (see --by).")
    return lines


def plot_validation(runs: Sequence[dict[str, Any]], path: str) -> bool:
    """One panel per validation metric, one line per run; False when no run has a validation curve."""
    plt = figures.pyplot()

    names = list(dict.fromkeys(key for run in runs for row in run["history"] for key in row
                               if key.startswith("val_")))
    if not names:
        return False
    fig, axes = plt.subplots(1, len(names), figsize=(5 * len(names), 4), squeeze=False)
    for ax, name in zip(axes[0], names):
        for run in runs:
            rows = [row for row in run["history"] if name in row]
            if rows:
                figures.curve(ax, [row["epoch"] for row in rows], [row[name] for row in rows], run["name"])
        figures.epoch_panel(ax, name)
    figures.save(fig, path)
    return True


def default_output(paths: Sequence[str]) -> str:
    """``compare_<run names>.md`` beside the first run directory (names shortened when there are many)."""
    names = [re.sub(r"[^A-Za-z0-9._-]+", "-", os.path.basename(os.path.normpath(p))) for p in paths]
    stem = "_".join(names)
    if len(stem) > 80:
        stem = f"{names[0]}_and_{len(names) - 1}_more"
    return os.path.join(os.path.dirname(os.path.abspath(os.path.normpath(paths[0]))), f"compare_{stem}.md")


def compare(paths: Sequence[str], output: str | None = None, by: str = "val_accuracy") -> str:
    """Writes the report (and its curves) to `output` (default: `default_output`) and returns its markdown."""
    missing = [path for path in paths if not os.path.isdir(path)]
    if missing:
        raise errors.Error(f"{len(missing)} of the run directories do not exist: {', '.join(missing[:3])}")
    output = output or default_output(paths)
    runs = [read_run(path, by) for path in paths]
    names = [run["name"] for run in runs]
    if len(set(names)) < len(names):  # same basenames (e.g. .../a/run, .../b/run): use the paths
        for run in runs:
            run["name"] = run["path"]
    describe_models(runs)
    won = winners(runs, by)
    plot_path = os.path.splitext(output)[0] + "_curves.png"
    lines = [f"# Comparison of {len(runs)} runs", "", table(runs, by, set(won.values())), ""]
    if any(run["wall"] is not None and not run["all_sessions"] for run in runs):
        lines += ["≥: no sessions.jsonl in the run, so its last session's wall time only.", ""]
    lines += verdict(won, by)
    if plot_validation(runs, plot_path):
        lines += ["", f"![validation curves]({os.path.basename(plot_path)})"]
    markdown = "\n".join(lines) + "\n"
    os.makedirs(os.path.dirname(os.path.abspath(output)), exist_ok=True)
    with open(output, "w") as f:
        f.write(markdown)
    return markdown


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m jaxlab.compare", description=__doc__.split("\n")[0])
    parser.add_argument("runs", nargs="+", help="run directories (workdirs of launch.py)")
    parser.add_argument("--output", default=None,
                        help="markdown report to write (default: compare_<run names>.md beside the first run)")
    parser.add_argument("--by", default="val_accuracy",
                        help="history.csv column that picks the winner (default val_accuracy; *loss/*mae/… lower)")
    args = parser.parse_args(argv)
    output = args.output or default_output(args.runs)
    try:
        print(compare(args.runs, output, args.by), end="")
    except errors.Error as exc:
        sys.stderr.write(f"jaxlab: error: {exc}\n")
        return 1
    sys.stderr.write(f"jaxlab: wrote {output}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
