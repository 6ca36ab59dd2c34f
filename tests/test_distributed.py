"""Multi-host: 2 JAX processes × 4 CPU devices train exactly like 1 process × 8 devices, in pmap and jit mode, and
run a hyper-parameter search (pruning included) exactly like it.

Each test starts two `launch.py --distributed` processes (through tests/distributed_worker.py, which adds mock tfds
data): coordinator on 127.0.0.1, gloo CPU collectives, 4 fake devices per process. As on a real cluster both run
the same command with the same --workdir (a shared filesystem), so the test checks the shared folder — one
summary.json, history.csv, plot and TensorBoard event file, orbax checkpoints that a 1-process run restores — and
the worker's record of what each process opened for writing: process 1 wrote nothing outside the checkpoints and
printed no epoch lines. The reference is the same config trained in this pytest process on its 8 devices (while
the two children run).
"""
import json
import os
import re
import signal
import socket
import subprocess
import sys

import numpy as np
import pytest
import tensorflow_datasets as tfds

from configs import imdb_bow, mnist_mlp
from jaxlab import experiment, predict, report

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WORKER = os.path.join(ROOT, "tests", "distributed_worker.py")
OVERRIDES = {"num_epochs": 2, "batch_size": 16, "eval_batch_size": 16, "model.hidden": (8,), "model.dropout": 0.1}
TIMEOUT_S = 240


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def child_env() -> dict:
    """This environment with 4 fake CPU devices instead of conftest's 8 (other XLA flags are kept)."""
    flags = re.sub(r"--xla_force_host_platform_device_count=\d+", "", os.environ.get("XLA_FLAGS", ""))
    return dict(os.environ, XLA_FLAGS=f"{flags} --xla_force_host_platform_device_count=4".strip(),
                JAX_PLATFORMS="cpu", PYTHONPATH=ROOT)


def start_processes(mode: str, workdir: str, records: str, num_processes: int = 2, settings=None,
                    config_path: str = os.path.join(ROOT, "configs", "mnist_mlp.py"), env=None) -> list:
    """The children's stderr goes to records/process_K.err (orbax logs a lot: a pipe nobody reads would fill)."""
    port = free_port()
    overrides = [f"--config.{key}={value!r}" if isinstance(value, tuple) else f"--config.{key}={value}"
                 for key, value in {"parallelism": mode, **(settings or OVERRIDES)}.items()]
    processes = []
    for process_id in range(num_processes):
        command = [sys.executable, WORKER, os.path.join(records, f"process_{process_id}.json"),
                   "--config", config_path, *overrides, "--workdir", workdir,
                   "--distributed", f"--coordinator_address=127.0.0.1:{port}",
                   f"--num_processes={num_processes}", f"--process_id={process_id}"]
        with open(os.path.join(records, f"process_{process_id}.err"), "a") as stderr:
            processes.append(subprocess.Popen(command, cwd=ROOT, env={**child_env(), **(env or {})},
                                              stdout=subprocess.PIPE,
                                              stderr=stderr, text=True))
    return processes


def finish(processes, expected_status: int = 0) -> list[str]:
    """Waits for every child (killing all on timeout); the stdout of each, or a failure showing their stderr when
    one exits with another status than `expected_status`."""
    outputs, failed = [], False
    for process in processes:
        try:
            stdout, _ = process.communicate(timeout=TIMEOUT_S)
            stderr = ""
        except subprocess.TimeoutExpired:
            for other in processes:
                other.kill()
            stdout, _ = process.communicate()
            stderr = f"[killed after {TIMEOUT_S} s]\n"
        record = process.args[2].replace(".json", ".err")
        if os.path.exists(record):
            with open(record) as f:
                stderr = f.read() + stderr
        outputs.append((stdout, stderr))
        failed |= process.returncode != expected_status
    if failed:
        pytest.fail("\n".join(f"--- process {i} (exit {p.returncode}) stdout:\n{out[-3000:]}\nstderr:\n{err[-6000:]}"
                              for i, (p, (out, err)) in enumerate(zip(processes, outputs))))
    return [out for out, _ in outputs]


def test_two_processes_train_like_one_with_all_devices_reading_only_their_rows(tiny, tmp_path, prepared_mnist):
    """pmap, auto layout, on a prepared tfds dataset (split sizes known, unlike mock data): each process loads only
    its devices' blocks of every split as tfds slices and fits the standardisation on the whole training part by
    summing with the other process; 2 × 4 trains exactly like 1 × 8 (each device holding its own rows)."""
    settings = {**OVERRIDES, "data.data_dir": prepared_mnist, "data.normalize": "standardize"}
    shared, records, single = tmp_path / "shared", tmp_path / "records", tmp_path / "single"
    records.mkdir()
    processes = start_processes("pmap", str(shared), str(records), settings=settings,
                                env={"JAXLAB_TEST_REAL_TFDS": "1"})
    try:
        reference = experiment.run(tiny(mnist_mlp.get_config(), parallelism="pmap", data_sharding="per_device",
                                        **settings), str(single))
    finally:
        stdouts = finish(processes)
    assert reference["device_count"] == 8 and reference["process_count"] == 1
    assert_trained_like_one(shared, single, records, stdouts, reference, num_epochs=2)
    assert "config.json.tmp" in read_json(records / "process_0.json")["written"]
    loaded = [read_json(records / f"process_{i}.json")["loaded"] for i in range(2)]
    # 96 training rows: 86 train (blocks of 11 × 6, 10 × 2), the last 10 validation (2, 2, 1 × 6); 40 test (5 × 8).
    assert loaded[0] == ["train[0:44]", "train[86:92]", "test[0:20]"]
    assert loaded[1] == ["train[44:86]", "train[92:96]", "test[20:40]"]
    assert read_json(shared / "summary.json")["num_train_examples"] == reference["num_train_examples"] == 86
    saved, reference_info = (read_json(path / "data_info.json") for path in (shared, single))
    for statistic in ("mean", "std"):  # of the whole training part, though each process read half of it
        assert saved["preprocessing"][statistic] == pytest.approx(reference_info["preprocessing"][statistic], rel=1e-12)


def assert_trained_like_one(shared, single, records, stdouts, reference, num_epochs: int, sessions: int = 1,
                            rtol: float = 1e-6):
    """The 2-process run in `shared` equals the 1-process `reference` run in `single` (summary, history, orbax
    checkpoints written by both processes, to `rtol`), and only process 0 wrote logs, summaries and plots (in each
    of the workdir's `sessions`) or printed epoch lines."""
    summary = read_json(shared / "summary.json")
    assert summary["device_count"] == 8 and summary["process_count"] == 2 and summary["epochs_run"] == num_epochs
    assert summary["final"] == pytest.approx(reference["final"], rel=rtol)
    device_metrics = [k for k in reference if k.startswith("test_") and k != "test_roc_auc"]
    assert {k: summary[k] for k in device_metrics} == pytest.approx({k: reference[k] for k in device_metrics}, rel=rtol)
    # ROC AUC ranks process 0's outputs for every test row: after many epochs of L2 on the mock reviews most rows
    # score alike (52 of 96 within 1e-6 after 30 epochs: few known words), so float noise at `rtol` reorders them
    # (0.802 vs 0.812 seen); wrong rows or labels would put it near 0.5.
    assert summary.get("test_roc_auc") == pytest.approx(reference.get("test_roc_auc"), abs=0.02)
    history = report.read_history(str(shared / "history.csv"))
    assert [row["epoch"] for row in history] == list(range(1, num_epochs + 1))  # written once, by one process
    for row, reference_row in zip(history, report.read_history(str(single / "history.csv"))):
        assert row == pytest.approx(reference_row, rel=rtol)

    # Orbax checkpoints written by both processes restore in a 1-process run, with the reference's parameters.
    distributed, alone = predict.load(str(shared), which="latest"), predict.load(str(single), which="latest")
    assert distributed.epoch == alone.epoch == num_epochs
    flat, reference_flat = (sorted(leaves(run.variables)) for run in (distributed, alone))
    assert [name for name, _ in flat] == [name for name, _ in reference_flat]
    for (name, value), (_, expected) in zip(flat, reference_flat):
        np.testing.assert_allclose(value, expected, rtol=rtol, atol=rtol / 10, err_msg=name)

    written = [read_json(records / f"process_{i}.json")["written"] for i in range(2)]
    assert written[1] == [], f"process 1 wrote {written[1]}"
    assert {"summary.json.tmp", "history.csv", "plots/curves.png", "sessions.jsonl"} <= set(written[0])
    assert len([name for name in os.listdir(shared) if name.startswith("events.out.tfevents")]) == sessions
    assert os.path.exists(shared / "plots" / "curves.png")
    assert f"epoch {num_epochs}/{num_epochs}" in stdouts[0] and "test:" in stdouts[0]
    assert "epoch" not in stdouts[1] and "test:" not in stdouts[1]


def test_sigterm_on_one_process_stops_every_process_and_the_rerun_resumes(tiny, tmp_path):
    """A SIGTERM that reaches only process 1 stops both processes at the same step (a checkpoint is saved, each
    exits cleanly); rerunning the same command on both resumes and ends exactly where 1 process × 8 devices does
    without a stop. jit, replicated layout (every process holds every row), with the BoW net, whose table gradient is
    a partitioned op (`parallel.over_batch`: each device sums its own reviews, one all-reduce across processes);
    every check of `assert_trained_like_one`. (The per-device layout under jit: the search test below.)"""
    settings = {"num_epochs": 8, "batch_size": 16, "eval_batch_size": 16, "data.vocab_size": 50,
                "data.max_length": 12, "data_sharding": "replicated", "steps_per_dispatch": 1,
                "checkpoint.every_epochs": 1000, "early_stopping.patience": 0,
                "restore_best": False}   # both test the last epoch (the resumed run holds a checkpoint of epoch 2)
    config_path = os.path.join(ROOT, "configs", "imdb_bow.py") + ":l2"
    shared, records, single = tmp_path / "shared", tmp_path / "records", tmp_path / "single"
    records.mkdir()
    processes = start_processes("jit", str(shared), str(records), settings=settings, config_path=config_path)
    try:
        for line in processes[0].stdout:
            if line.startswith("epoch 2/"):
                processes[1].send_signal(signal.SIGTERM)
                break
    finally:
        stdouts = finish(processes, expected_status=143)   # preempted: both exit 143, so a scheduler restarts them
    assert "preempted (SIGTERM)" in stdouts[0] and "checkpoint saved" in stdouts[0], stdouts
    assert not (shared / "summary.json").exists()

    resumed = start_processes("jit", str(shared), str(records), settings=settings, config_path=config_path)
    try:
        with tfds.testing.mock_data(num_examples=96):
            reference = experiment.run(tiny(imdb_bow.get_config("l2"), parallelism="jit", **settings), str(single))
    finally:
        stdouts = finish(resumed)
    summary = read_json(shared / "summary.json")
    assert summary["resumed_from_epoch"] >= 2, summary["resumed_from_epoch"]
    assert_trained_like_one(shared, single, records, stdouts, reference, num_epochs=8, sessions=2, rtol=1e-5)


SEARCH_CONFIG = """
import ml_collections
from configs import mnist_mlp


def get_config():
    config = mnist_mlp.get_config()
    config.search = ml_collections.ConfigDict(dict(
        space=dict(learning_rate=dict(type="float", key="optimizer.learning_rate", low=1e-3, high=0.3, log=True),
                   hidden=dict(type="sequence", key="model.hidden", min_length=1, max_length=2, low=4, high=12,
                               step=4)),
        sampler="random", max_trials=3, executions_per_trial=1, objective="val_loss", direction="minimize",
        pruning=True, pruning_startup_trials=1, pruning_warmup_epochs=0, retrain=True))
    return config
"""


def test_two_processes_search_like_one_with_all_devices(tiny, tmp_path):
    """A hyper-parameter search over 2 processes × 4 devices: process 0 holds the study and hands every trial's
    parameters (and each pruning decision) to process 1; both train each trial together. Trials, scores, pruned
    trials, the best trial and its retrained test metrics equal those of 1 process × 8 devices; process 1 writes
    nothing outside the checkpoints."""
    config_path = tmp_path / "search_config.py"
    config_path.write_text(SEARCH_CONFIG)
    shared, records, single = tmp_path / "shared", tmp_path / "records", tmp_path / "single"
    records.mkdir()
    settings = {**OVERRIDES, "model.dropout": 0.0}
    processes = start_processes("jit", str(shared), str(records), settings=settings, config_path=str(config_path))
    try:
        import importlib.util
        spec = importlib.util.spec_from_file_location("search_config", config_path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        with tfds.testing.mock_data(num_examples=96):
            reference = experiment.run(tiny(module.get_config(), parallelism="jit", data_sharding="per_device",
                                            **settings), str(single))
    finally:
        stdouts = finish(processes)
    best = read_json(shared / "best.json")
    assert best["trial"] == reference["trial"] and best["params"] == pytest.approx(reference["params"], rel=1e-9)
    assert best["value"] == pytest.approx(reference["value"], rel=1e-6)
    assert best["retrain"] == pytest.approx(reference["retrain"], rel=1e-6)
    states = [(row["number"], row["state"], row["value"]) for row in csv_rows(shared / "trials.csv")]
    reference_states = [(row["number"], row["state"], row["value"]) for row in csv_rows(single / "trials.csv")]
    assert [s[:2] for s in states] == [s[:2] for s in reference_states] and len(states) == 3
    assert {"COMPLETE", "PRUNED"} <= {state for _, state, _ in states}  # pruning decided on process 0, obeyed by 1
    assert [float(s[2] or "nan") for s in states] == pytest.approx([float(s[2] or "nan") for s in reference_states],
                                                                   rel=1e-6, nan_ok=True)
    written = [read_json(records / f"process_{i}.json")["written"] for i in range(2)]
    assert written[1] == [], f"process 1 wrote {written[1]}"
    assert {"results.md", "trials.csv", "best.json.tmp", "trial_000/summary.json.tmp"} <= set(written[0])
    assert "best trial" in stdouts[0] and "search: trial" not in stdouts[1]


def csv_rows(path):
    import csv
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def read_json(path):
    with open(path) as f:
        return json.load(f)


def leaves(tree, prefix=""):
    """(path, array) for every leaf of a nested dict."""
    if isinstance(tree, dict):
        return [leaf for key, value in tree.items() for leaf in leaves(value, f"{prefix}/{key}")]
    return [(prefix, np.asarray(tree))]
