"""`run(config, workdir)`: the experiment a config asks for — one training run, k-fold cross-validation, K seeds at
once or a hyper-parameter search; `evaluate(config, workdir)`: test metrics of a saved run.

A run writes into `workdir`: config.json, data_info.json and sessions.jsonl (the run's record, `jaxlab.rundir`),
checkpoints/, TensorBoard events, history.csv, summary.json and plots/curves.png.
"""
import os
from typing import Any

import jax
from ml_collections import ConfigDict

from jaxlab import jsonfile, kfold, programs, report, rundir, seeds, settings, single, sweep, train
from jaxlab.single import build, run_once, session  # noqa: F401  (build and run_once: the public API)


def run(config: ConfigDict, workdir: str, devices=None, retest: bool = False) -> dict[str, Any]:
    """The kind of experiment a config asks for: a hyper-parameter search (`config.search`), a sweep of K lanes in
    one program (`config.sweep`), k-fold cross-validation (`config.data.num_folds`), K seeds at once
    (`config.num_seeds`), or one training run.
    `retest`: test a finished run again instead of reprinting its summary."""
    settings.check(config)
    with session(config, workdir):
        if config.get("search", None):
            from jaxlab import search   # optuna loads only for searches
            return search.run(config, workdir)
        if config.get("sweep", None):
            return sweep.run(config, workdir, devices)
        if config.data.get("num_folds", 0):
            return kfold.run(config, workdir, devices)
        if config.num_seeds > 1:
            return seeds.run(config, workdir, devices)
        return single.run_once(config, workdir, devices, retest=retest)


def evaluate(config: ConfigDict | None, workdir: str, devices=None) -> dict[str, Any]:
    """Validation and test metrics of the best usable checkpoint in `workdir`, with the run's own config
    (`config` None = its config.json; a given config must not differ from it in a key that changes what is
    learned). Writes evaluation.json."""
    config = rundir.load_config(workdir) if config is None else config
    settings.check(config)
    with session(config, workdir, mode="evaluate"):
        splits, model = single.build(config, programs.process_share(config, devices))
        single.check_data(workdir, splits.info)
        results = train.evaluate_checkpoint(config, workdir, splits, model, devices=devices)
        if jax.process_index() == 0:
            jsonfile.write_json(os.path.join(workdir, "evaluation.json"), results)
            print(f"epoch {results['epoch']}: " + report.format_metrics(
                {k: v for k, v in results.items() if k != "epoch"}), flush=True)
        return results
