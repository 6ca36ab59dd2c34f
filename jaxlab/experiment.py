"""`run(config, workdir)`: one training run end to end; `evaluate(config, workdir)`: test metrics of a saved run.

A run writes into `workdir`: config.json, data_info.json (what `jaxlab.predict` needs to rebuild the model and
preprocessing), checkpoints/, TensorBoard events, history.csv, summary.json and plots/curves.png.
"""
import importlib.metadata
import json
import os
import time
from typing import Any

import jax
import numpy as np
from ml_collections import ConfigDict

from jaxlab import data, models, parallel, report, train

LIBRARIES = ("jax", "jaxlib", "flax", "optax", "orbax-checkpoint", "clu", "tensorflow-datasets", "numpy")


def library_versions() -> dict[str, str]:
    versions = {}
    for name in LIBRARIES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def build(config: ConfigDict, share: data.Share = data.whole):
    """Data splits (of each, the rows `share` asks for: see `jaxlab.data`) and model of a config."""
    splits = data.build(config.data, config.seed, share)
    model = models.build(config.model, splits.info["num_outputs"], parallel.axis_name(config.parallelism),
                         splits.info)
    return splits, model


def run(config: ConfigDict, workdir: str, devices=None) -> dict[str, Any]:
    """The kind of experiment a config asks for: a hyper-parameter search (`config.search`), k-fold
    cross-validation (`config.data.num_folds`), K seeds at once (`config.num_seeds`), or one training run."""
    train.check_settings(config)
    if config.get("search", None):
        from jaxlab import search
        return search.run(config, workdir)
    if config.data.get("num_folds", 0):
        from jaxlab import kfold
        return kfold.run(config, workdir, devices)
    if config.get("num_seeds", 1) > 1:
        from jaxlab import seeds
        return seeds.run(config, workdir, devices)
    return run_once(config, workdir, devices)


def run_once(config: ConfigDict, workdir: str, devices=None, on_epoch=None) -> dict[str, Any]:
    """One training run end to end: data, model, fit (resuming), test evaluation, summary.json and plots.
    `on_epoch(history_row)` runs after every epoch (see `train.fit`)."""
    started = time.time()
    os.makedirs(workdir, exist_ok=True)
    lead = jax.process_index() == 0
    analysed = ("test",) if config.get("analyses", ()) and lead else ()  # process 0 analyses every test output
    splits, model = build(config, train.process_share(config, devices, whole_splits=analysed))
    if lead:
        with open(os.path.join(workdir, "config.json"), "w") as f:
            f.write(config.to_json_best_effort(indent=2))
        report.write_json(os.path.join(workdir, "data_info.json"), splits.info)
    result = train.fit(config, workdir, splits, model, devices, on_epoch=on_epoch)
    history = result.pop("history")
    state = result.pop("state")
    analyses = {}
    if config.get("analyses", ()) and splits.test is not None and lead:
        outputs = test_outputs(model, state, splits.test["inputs"], config.eval_batch_size)
        for name in config.analyses:
            analyses.update(report.analysis(name)(outputs, splits.test, splits.info, workdir))
    summary = {
        **result["test"],
        **analyses,
        **{key: value for key, value in result.items() if key != "test"},
        "final": history[-1] if history else {},
        "wall_seconds_this_session": time.time() - started,
        "num_train_examples": data.num_rows(splits, "train"),
        "num_validation_examples": data.num_rows(splits, "validation"),
        "num_test_examples": data.num_rows(splits, "test"),
        "library_versions": library_versions(),
        "config": json.loads(config.to_json_best_effort()),
    }
    if lead:
        report.write_json(os.path.join(workdir, "summary.json"), summary)
        report.plot_curves(history, os.path.join(workdir, "plots", "curves.png"))
        if result["test"]:
            print("test: " + report.format_metrics(result["test"]), flush=True)
    return summary


def test_outputs(model, state, inputs, batch_size: int):
    """Model outputs for every test input (one device, in batches): what analyses and plots work from."""
    variables = {"params": state.params, **({"batch_stats": state.batch_stats} if state.batch_stats else {})}
    apply = jax.jit(lambda x: model.apply(variables, x, train=False))
    return np.concatenate([np.asarray(apply(inputs[i:i + batch_size])) for i in range(0, len(inputs), batch_size)])


def evaluate(config: ConfigDict, workdir: str, devices=None) -> dict[str, Any]:
    train.check_settings(config)
    splits, model = build(config, train.process_share(config, devices))
    results = train.evaluate_checkpoint(config, workdir, splits, model, devices=devices)
    if jax.process_index() == 0:
        report.write_json(os.path.join(workdir, "evaluation.json"), results)
        print(f"epoch {results['epoch']}: " + report.format_metrics(
            {k: v for k, v in results.items() if k != "epoch"}), flush=True)
    return results
