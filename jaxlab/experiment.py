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


def build(config: ConfigDict):
    """Data splits and model of a config."""
    splits = data.build(config.data, config.seed)
    model = models.build(config.model, splits.info["num_outputs"], parallel.axis_name(config.parallelism))
    return splits, model


def run(config: ConfigDict, workdir: str, devices=None) -> dict[str, Any]:
    started = time.time()
    os.makedirs(workdir, exist_ok=True)
    splits, model = build(config)
    lead = jax.process_index() == 0
    if lead:
        with open(os.path.join(workdir, "config.json"), "w") as f:
            f.write(config.to_json_best_effort(indent=2))
        report.write_json(os.path.join(workdir, "data_info.json"), splits.info)
    result = train.fit(config, workdir, splits, model, devices)
    history = result.pop("history")
    result.pop("state")
    summary = {
        **result["test"],
        **{key: value for key, value in result.items() if key != "test"},
        "final": history[-1] if history else {},
        "wall_seconds_this_session": time.time() - started,
        "num_train_examples": data.num_examples(splits.train),
        "num_validation_examples": data.num_examples(splits.validation),
        "num_test_examples": data.num_examples(splits.test),
        "library_versions": library_versions(),
        "config": json.loads(config.to_json_best_effort()),
    }
    if lead:
        report.write_json(os.path.join(workdir, "summary.json"), summary)
        report.plot_curves(history, os.path.join(workdir, "plots", "curves.png"))
        if result["test"]:
            print("test: " + report.format_metrics(result["test"]), flush=True)
    return summary


def evaluate(config: ConfigDict, workdir: str, devices=None) -> dict[str, Any]:
    splits, model = build(config)
    results = train.evaluate_checkpoint(config, workdir, splits, model, devices=devices)
    if jax.process_index() == 0:
        report.write_json(os.path.join(workdir, "evaluation.json"), results)
        print(f"epoch {results['epoch']}: " + report.format_metrics(
            {k: v for k, v in results.items() if k != "epoch"}), flush=True)
    return results
