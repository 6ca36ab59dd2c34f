"""Preemption (a real SIGTERM) and damaged checkpoints: the run saves, stops cleanly and resumes exactly."""
import os
import shutil
import signal
import subprocess
import sys
import time

import pytest

from configs import mnist_mlp
from jaxlab import experiment, predict

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

SCRIPT = """
import sys, tensorflow_datasets as tfds
sys.path.insert(0, {root!r})
from tests.test_reliability import config
from jaxlab import errors, experiment
with tfds.testing.mock_data(num_examples=96):
    try:
        experiment.run(config({every_epochs}), {workdir!r})
        print("FINISHED", flush=True)
    except errors.Preempted as exc:
        print("PREEMPTED", exc, flush=True)
"""


def config(every_epochs: int = 1):
    cfg = mnist_mlp.get_config()
    cfg.num_epochs, cfg.batch_size, cfg.eval_batch_size = 40, 16, 16
    cfg.steps_per_dispatch = 1          # a step boundary (signal check) after every step
    cfg.model.dropout = 0.1
    cfg.checkpoint.every_epochs = every_epochs
    return cfg


@pytest.mark.parametrize("every_epochs", [1, 1000])   # 1000: no epoch checkpoint before the end
def test_sigterm_saves_and_resume_matches_uninterrupted(every_epochs, mock_tfds, tmp_path):
    workdir = str(tmp_path / "interrupted")
    script = SCRIPT.format(root=ROOT, workdir=workdir, every_epochs=every_epochs)
    process = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT,
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    lines = []
    for line in process.stdout:
        lines.append(line)
        if line.startswith("epoch 2/"):
            time.sleep(0.05)
            process.send_signal(signal.SIGTERM)
            break
    out, _ = process.communicate(timeout=300)
    lines.extend(out.splitlines())
    assert process.returncode == 0
    stopped = [line for line in lines if line.startswith("PREEMPTED")]
    assert stopped and "checkpoint saved; rerun the same command to resume" in stopped[0], lines[-3:]
    resumed = experiment.run(config(every_epochs), workdir)
    assert resumed["resumed_from_epoch"] >= 2   # from the mid-epoch checkpoint, not from the start
    straight = experiment.run(config(every_epochs), str(tmp_path / "straight"))
    assert resumed["final"] == straight["final"]
    assert resumed["test_loss"] == straight["test_loss"]


def _corrupt(checkpoint_dir):
    for folder, _, files in os.walk(checkpoint_dir):
        for name in files:
            with open(os.path.join(folder, name), "wb") as f:
                f.write(b"\x00garbage")


def test_corrupted_latest_checkpoint_falls_back_to_previous(mock_tfds, tiny, tmp_path, capsys):
    experiment.run(tiny(mnist_mlp.get_config(), num_epochs=2), str(tmp_path))
    _corrupt(tmp_path / "checkpoints" / "2")
    summary = experiment.run(tiny(mnist_mlp.get_config(), num_epochs=3), str(tmp_path))
    assert summary["resumed_from_epoch"] == 1
    assert "checkpoint of epoch 2 is unusable" in capsys.readouterr().err
    assert os.path.isdir(tmp_path / "checkpoints_unreadable" / "2")  # moved aside, not deleted
    assert predict.load(str(tmp_path), which="latest").epoch == 3
    with open(tmp_path / "history.csv") as f:
        assert [line.split(",")[0] for line in f.read().split()[1:]] == ["1", "2", "3"]
    # The same epoch damaged twice: each unreadable copy is kept (3, then 3.1), none is overwritten.
    for _ in range(2):
        _corrupt(tmp_path / "checkpoints" / "3")
        summary = experiment.run(tiny(mnist_mlp.get_config(), num_epochs=3), str(tmp_path), retest=True)
        assert summary["resumed_from_epoch"] == 2
    assert sorted(os.listdir(tmp_path / "checkpoints_unreadable")) == ["2", "3", "3.1"]


def test_no_readable_checkpoint_is_a_clear_error(mock_tfds, tiny, tmp_path):
    experiment.run(tiny(mnist_mlp.get_config(), num_epochs=1), str(tmp_path))
    shutil.rmtree(tmp_path / "checkpoints" / "1")
    os.makedirs(tmp_path / "checkpoints" / "1")
    with pytest.raises(Exception):
        experiment.run(tiny(mnist_mlp.get_config(), num_epochs=2), str(tmp_path))
