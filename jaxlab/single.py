"""One training run end to end (`run_once`): data, model, fit (resuming), test evaluation, summary.json and plots;
and `build` (a config's data and model) and `session` (the run directory's lock and record, on every process).
`jaxlab.experiment.run` dispatches here, and so do k-fold, many seeds and search, once per run."""
import os
import time
from typing import Any

import jax
import numpy as np
from ml_collections import ConfigDict

from jaxlab import (baseline, console, data, errors, jsonfile, models, parallel, programs, report, rundir, settings,
                    shards, train)


def build(config: ConfigDict, share: data.Share = data.whole):
    """Data splits (of each, the rows `share` asks for: see `jaxlab.data`) and model of a config."""
    data_config = settings.copy_config(config.data)
    data_config.task = config.task   # the CSV loader encodes the target for the run's task
    splits = data.build(data_config, config.seed, share)
    return splits, build_model(config, splits.info)


def build_model(config: ConfigDict, info: dict[str, Any]):
    """The model of a config, for data described by `info` (`Splits.info`)."""
    return models.build(config.model, info["num_outputs"], parallel.axis_name(config.parallelism), info)


def session(config: ConfigDict, workdir: str, mode: str = "train"):
    """`rundir.session` for every process: process 0 checks, locks and records; the others follow its verdict."""
    lead = jax.process_index() == 0
    console.set_lead(lead)
    return rundir.session(config, workdir, mode, lead=lead, agree=parallel.from_process_zero)


def check_data(workdir: str, info: dict[str, Any], config: ConfigDict | None = None, devices=None) -> None:
    """`rundir.check_data_info` on process 0, its verdict on every process (a collective): all stop or all go on.
    With `config` (a training session), the device count too where the run's steps depend on it."""
    device_count = None
    if config is not None and settings.stream_depends_on_devices(
            config.parallelism, shards.layout(config, jax.process_count())):
        device_count = len(devices or parallel.devices_for(config))
    problem = ""
    if jax.process_index() == 0:
        try:
            rundir.check_data_info(workdir, info, device_count)
        except errors.Error as exc:
            problem = str(exc)
    problem = parallel.from_process_zero(problem)
    if problem:
        raise errors.Error(problem)


def run_once(config: ConfigDict, workdir: str, devices=None, on_epoch=None, label: str = "",
             retest: bool = False) -> dict[str, Any]:
    """One training run end to end: data, model, fit (resuming), test evaluation, summary.json and plots.
    `on_epoch(history_row)` runs after every epoch (see `train.fit`); `label` starts each epoch line. A run that
    has already finished says so and returns its summary (unless `retest`)."""
    with session(config, workdir):
        done = None if retest else rundir.finished_summary(config, workdir)
        if done is not None:
            rundir.say_finished(done, workdir, label)
            return done
        return _train_and_test(config, workdir, devices, on_epoch, label)


def _train_and_test(config, workdir, devices, on_epoch, label) -> dict[str, Any]:
    started = time.time()
    lead = jax.process_index() == 0
    analysed = ("test",) if config.analyses and lead else ()  # process 0 analyses every test output
    splits, model = build(config, programs.process_share(config, devices, whole_splits=analysed))
    check_data(workdir, splits.info, config, devices)
    config = settings.with_batch_size(config, data.num_rows(splits, "train"))
    state, history, test, facts = train.fit(config, workdir, splits, model, devices, on_epoch=on_epoch, label=label)
    analyses = {}
    if config.analyses and splits.test is not None and lead:
        outputs = test_outputs(model, state, splits.test["inputs"], config.eval_batch_size)
        for name in config.analyses:
            analyses.update(report.analysis(name)(outputs, splits.test, splits.info, workdir))
    trivial = {}
    if test and splits.test is not None:
        trivial = baseline.trivial_baseline(config.task, splits.train["label"], splits.test["label"],
                                            splits.info.get("num_classes", 0), parallel.summed_over_processes)
    this_session = time.time() - started
    summary = {
        **test,
        **trivial,
        **baseline.margin({**test, **analyses}, trivial),
        **analyses,
        **facts,
        "final": history[-1] if history else {},
        "wall_seconds_this_session": this_session,
        "wall_seconds_total": rundir.wall_seconds(workdir) + this_session,
        "num_train_examples": data.num_rows(splits, "train"),
        "num_validation_examples": data.num_rows(splits, "validation"),
        "num_test_examples": data.num_rows(splits, "test"),
        "library_versions": rundir.library_versions(),
        "config": settings.to_dict(config),
    }
    if lead:
        jsonfile.write_json(os.path.join(workdir, "summary.json"), summary)
        report.plot_curves(history, os.path.join(workdir, "plots", "curves.png"))
        if test:
            print((label + " " if label else "") + baseline.test_line(summary), flush=True)
    return summary


def test_outputs(model, state, inputs, batch_size: int):
    """Model outputs for every test input (one device, in batches): what analyses and plots work from."""
    variables = {"params": state.params, **({"batch_stats": state.batch_stats} if state.batch_stats else {})}
    apply = jax.jit(lambda x: model.apply(variables, x, train=False))
    return np.concatenate([np.asarray(apply(inputs[i:i + batch_size])) for i in range(0, len(inputs), batch_size)])
