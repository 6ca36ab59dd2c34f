"""Comparison report of several runs: one markdown table (winner marked) and overlaid validation curves.

    python -m jaxlab.compare runs/movies_a runs/movies_b runs/movies_c [--output report.md] [--by val_accuracy]

Rows are runs; columns are the test metrics of summary.json, the best value of ``--by`` over the epochs of
history.csv and its epoch, epochs run, wall time and parameter count. The winner is the finished run with the best
``--by`` (a validation metric by default: the test split is not for choosing). A run without summary.json is shown
as incomplete (it has epochs in history.csv) or failed (nothing). Next to the report,
``<report>_curves.png`` overlays every run's validation curves, one panel per validation metric.
"""
import argparse
import json
import os
import sys
from typing import Any, Sequence

from jaxlab import errors, figures, report

LOWER_IS_BETTER = ("loss", "error", "mae", "mse", "rmse", "bce")


def lower_is_better(metric: str) -> bool:
    return any(metric.endswith(word) for word in LOWER_IS_BETTER)


def read_run(path: str, by: str) -> dict[str, Any]:
    """What the table needs from one run directory."""
    history = report.read_history(os.path.join(path, "history.csv"))
    summary = None
    if os.path.exists(os.path.join(path, "summary.json")):
        with open(os.path.join(path, "summary.json")) as f:
            summary = json.load(f)
    run = {"name": os.path.basename(os.path.normpath(path)) or path, "path": path, "history": history,
           "summary": summary or {}, "best": None, "best_epoch": None}
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


def _cell(value, digits: int = 4) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def table(runs: Sequence[dict[str, Any]], by: str) -> tuple[str, str | None]:
    """The markdown table and the winner's name (None when no run finished with a `by` value)."""
    finished = [run for run in runs if run["status"] == "finished" and run["best"] is not None]
    winner = None
    if finished:
        pick = min if lower_is_better(by) else max
        winner = pick(finished, key=lambda run: run["best"])["name"]
    tests = list(dict.fromkeys(key for run in runs for key, value in run["summary"].items()
                               if key.startswith("test_") and isinstance(value, (int, float))))
    header = ["run", "status", *tests, f"best {by}", "best epoch", "epochs", "wall time (s)", "parameters"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for run in runs:
        summary = run["summary"]
        name = f"**{run['name']}** (winner)" if run["name"] == winner else run["name"]
        wall = summary.get("wall_seconds_this_session")
        cells = [name, run["status"], *[_cell(summary.get(key)) for key in tests], _cell(run["best"]),
                 _cell(run["best_epoch"]), _cell(len(run["history"]) or None),
                 _cell(wall, 1), _cell(f"{summary['num_params']:,}" if "num_params" in summary else None)]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines), winner


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
                ax.plot([row["epoch"] for row in rows], [row[name] for row in rows], marker="o", label=run["name"])
        figures.epoch_panel(ax, name)
    figures.save(fig, path)
    return True


def compare(paths: Sequence[str], output: str, by: str = "val_accuracy") -> str:
    """Writes the report (and its curves) and returns its markdown."""
    missing = [path for path in paths if not os.path.isdir(path)]
    if missing:
        raise errors.Error(f"{len(missing)} of the run directories do not exist: {', '.join(missing[:3])}")
    runs = [read_run(path, by) for path in paths]
    names = [run["name"] for run in runs]
    if len(set(names)) < len(names):  # same basenames (e.g. .../a/run, .../b/run): use the paths
        for run in runs:
            run["name"] = run["path"]
    text, winner = table(runs, by)
    plot_path = os.path.splitext(output)[0] + "_curves.png"
    lines = [f"# Comparison of {len(runs)} runs", "", text, ""]
    lines.append(f"Winner by best {by}: **{winner}**." if winner else f"No finished run has {by}: no winner.")
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
    parser.add_argument("--output", default="comparison.md", help="markdown report to write (default comparison.md)")
    parser.add_argument("--by", default="val_accuracy",
                        help="history.csv column that picks the winner (default val_accuracy; *loss/*mae/… lower)")
    args = parser.parse_args(argv)
    try:
        print(compare(args.runs, args.output, args.by), end="")
    except errors.Error as exc:
        sys.stderr.write(f"jaxlab: error: {exc}\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
