"""A run directory is a record you can trust: the workdir's config is the run's identity, evaluate uses it, no key
is tied to another, checkpoints are verified, one process per workdir, preemption a scheduler understands, and
errors that need no data come before TensorFlow loads. launch.py runs as a subprocess where the exit status and
the console are what is tested (tests/launcher.py)."""
import errno
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time

import jax
import ml_collections
import numpy as np
import orbax.checkpoint as ocp
import pytest

from configs import diabetes_kfold, mnist_mlp
from jaxlab import checkpoint, errors, experiment, predict, rundir, settings, train
from tests.launcher import ROOT, launch, start
from tests.test_bf16 import _config_modules
from tests.test_tabular import numeric_csv


def files(workdir) -> dict[str, bytes]:
    """Every file under `workdir` and its content: what a refused command must leave as it was."""
    found = {}
    for parent, _, names in os.walk(workdir):
        for name in names:
            path = os.path.join(parent, name)
            with open(path, "rb") as f:
                found[os.path.relpath(path, workdir)] = f.read()
    return found


def tiny_mnist(tiny, **overrides):
    return tiny(mnist_mlp.get_config(), **overrides)


# ----------------------------------------------------------------------------------------------------------------
# 1-3. Identity.

@pytest.mark.parametrize("key,value,shown", [
    ("data.name", "fashion_mnist", "data.name 'mnist' → 'fashion_mnist'"),
    ("model.hidden", (8,), "model.hidden (100,) → (8,)"),
    ("seed", 3, "seed 0 → 3"),
    ("optimizer.learning_rate", 0.5, "optimizer.learning_rate 0.01 → 0.5"),
    ("data.augment", ("random_flip",), "data.augment () → ('random_flip',)"),
    ("parallelism", "jit", "parallelism 'pmap' → 'jit'"),   # pmap draws dropout per device, jit does not
    ("num_devices", 4, "num_devices 0 → 4"),                # under pmap: each device its own dropout stream
])
def test_a_rerun_with_another_learned_key_stops_before_anything_is_written(key, value, shown, mock_tfds, tiny,
                                                                            tmp_path):
    experiment.run(tiny_mnist(tiny), str(tmp_path))
    before = files(tmp_path)
    with pytest.raises(errors.Error, match=re.escape(f"holds a run made with another config: {shown}; use a new")):
        experiment.run(tiny_mnist(tiny, num_epochs=2, **{key: value}), str(tmp_path))
    assert files(tmp_path) == before   # config.json, history, summary, checkpoints, sessions: untouched; no lock
    assert predict.load(str(tmp_path)).epoch == 1


def test_rerun_keys_may_change_and_every_session_is_recorded(mock_tfds, tiny, tmp_path):
    experiment.run(tiny_mnist(tiny), str(tmp_path))
    summary = experiment.run(tiny_mnist(tiny, num_epochs=2, eval_batch_size=8, input="host"), str(tmp_path))
    assert summary["resumed_from_epoch"] == 1 and summary["epochs_run"] == 2
    with open(tmp_path / "config.json") as f:
        assert json.load(f)["num_epochs"] == 1          # the original config stays
    sessions = rundir.sessions(str(tmp_path))
    assert [entry["event"] for entry in sessions] == ["start", "end", "start", "end"]
    assert sessions[2]["changed"] == {"eval_batch_size": [16, 8], "input": ["device", "host"], "num_epochs": [1, 2]}
    assert {"time", "host", "command", "versions"} <= set(sessions[2]) and sessions[3]["status"] == "finished"
    assert summary["wall_seconds_total"] >= sessions[1]["wall_seconds"] > 0


def test_a_run_whose_steps_depend_on_the_device_count_continues_only_on_as_many(mock_tfds, tiny, tmp_path):
    """With dropout, pmap on 8 devices and on 4 (or jit) train differently (each pmap device draws its own
    numbers): a pmap run started on 8 devices stops with one line on 4, though its config is the same (all visible
    devices); a jit run (its draws do not depend on the device count) continues on 4 exactly as on 8."""
    devices = jax.devices()
    pmap_run = tiny_mnist(tiny, **{"model.dropout": 0.1, "model.hidden": (8,)})
    experiment.run(pmap_run, str(tmp_path / "pmap"))
    before = files(tmp_path / "pmap")
    with pytest.raises(errors.Error, match=re.escape("was trained on 8 devices and this session has 4: its steps "
                                                     "depend on the device count")):
        experiment.run(tiny_mnist(tiny, num_epochs=2, **{"model.dropout": 0.1, "model.hidden": (8,)}),
                       str(tmp_path / "pmap"), devices=devices[:4])
    assert {name: data for name, data in files(tmp_path / "pmap").items() if name != "sessions.jsonl"} == {
        name: data for name, data in before.items() if name != "sessions.jsonl"}
    jit_run = dict(parallelism="jit", **{"model.dropout": 0.1, "model.hidden": (8,)})
    experiment.run(tiny_mnist(tiny, **jit_run), str(tmp_path / "jit"))
    resumed = experiment.run(tiny_mnist(tiny, num_epochs=2, **jit_run), str(tmp_path / "jit"), devices=devices[:4])
    straight = experiment.run(tiny_mnist(tiny, num_epochs=2, **jit_run), str(tmp_path / "straight"))
    assert resumed["resumed_from_epoch"] == 1 and resumed["device_count"] == 4
    assert resumed["final"] == pytest.approx(straight["final"], rel=1e-5)


def test_num_epochs_is_learned_when_a_schedule_spans_the_run(mock_tfds, tiny, tmp_path):
    experiment.run(tiny_mnist(tiny, **{"optimizer.schedule": "cosine"}), str(tmp_path))
    with pytest.raises(errors.Error, match="another config: num_epochs 1 → 2;"):
        experiment.run(tiny_mnist(tiny, num_epochs=2, **{"optimizer.schedule": "cosine"}), str(tmp_path))


def test_a_first_session_that_stops_before_training_does_not_pin_its_config(mock_tfds, tiny, tmp_path):
    """A bad sweep key stops the first session with one line: no config.json is left to refuse the corrected rerun;
    a run that saved a checkpoint keeps its identity."""
    config = tiny_mnist(tiny, **{"model.hidden": (8,)})
    config.sweep = ml_collections.ConfigDict({"space": {"x": {"key": "batch_size", "grid": (8, 16)}}})
    with pytest.raises(errors.Error, match="cannot vary inside one program"):
        experiment.run(config, str(tmp_path))
    assert sorted(os.listdir(tmp_path)) == ["sessions.jsonl"]
    config.sweep.space.x.key = "optimizer.learning_rate"
    config.sweep.space.x.grid = (0.01, 0.1)
    assert experiment.run(config, str(tmp_path))["num_lanes"] == 2
    with pytest.raises(errors.Error, match="holds a run made with another config"):
        experiment.run(tiny_mnist(tiny, **{"model.hidden": (8,), "seed": 7}), str(tmp_path))
    assert os.path.exists(tmp_path / "config.json")


def test_kfold_rerun_with_other_folds_is_refused(tiny, tmp_path):
    path = numeric_csv(tmp_path / "pima.csv", diabetes_kfold.get_config().data.numeric, "Outcome", 96, binary=True)
    config = tiny(diabetes_kfold.get_config(), **{"data.path": path, "data.num_folds": 3})
    experiment.run(config, str(tmp_path / "run"))
    with pytest.raises(errors.Error, match="data.num_folds 3 → 2"):
        experiment.run(tiny(diabetes_kfold.get_config(), **{"data.path": path, "data.num_folds": 2}),
                       str(tmp_path / "run"))


def test_evaluate_takes_the_runs_own_config(mock_tfds, tiny, tmp_path):
    summary = experiment.run(tiny_mnist(tiny, **{"data.name": "fashion_mnist"}), str(tmp_path))
    results = experiment.evaluate(None, str(tmp_path))            # no config: the run's config.json
    assert results["test_accuracy"] == summary["test_accuracy"] and results["epoch"] == 1
    with pytest.raises(errors.Error, match="data.name 'fashion_mnist' → 'mnist'"):
        experiment.evaluate(tiny_mnist(tiny), str(tmp_path))     # a forgotten override is refused
    assert experiment.evaluate(tiny_mnist(tiny, eval_batch_size=8, **{"data.name": "fashion_mnist"}),
                               str(tmp_path))["test_accuracy"] == pytest.approx(summary["test_accuracy"])


def test_a_run_made_before_a_key_existed_reads_as_made_with_its_default(mock_tfds, tiny, tmp_path):
    """config.json of an older jaxlab lacks keys added since: evaluate, predict and a rerun take their defaults."""
    summary = experiment.run(tiny_mnist(tiny), str(tmp_path))
    saved = json.loads((tmp_path / "config.json").read_text())
    del saved["dispatch_seconds"], saved["optimizer"]["b1"], saved["optimizer"]["eps"]
    (tmp_path / "config.json").write_text(json.dumps(saved))
    assert experiment.evaluate(None, str(tmp_path))["test_accuracy"] == summary["test_accuracy"]
    assert predict.load(str(tmp_path)).config.optimizer.b1 == 0.9
    assert experiment.run(tiny_mnist(tiny, num_epochs=2), str(tmp_path))["resumed_from_epoch"] == 1


def _references(config: ml_collections.ConfigDict, prefix: str = ""):
    for key, value in config._fields.items():
        if isinstance(value, ml_collections.FieldReference):
            yield prefix + key
        elif isinstance(value, ml_collections.ConfigDict):
            yield from _references(value, f"{prefix}{key}.")


@pytest.mark.parametrize("module,variant", _config_modules())
def test_no_config_ties_two_keys(module, variant):
    """A `get_ref` tie makes the last override of either key set both (num_epochs=20 every_epochs=5 trained 5)."""
    config = module.get_config() if variant is None else module.get_config(variant)
    assert not list(_references(config))
    flat = settings.flatten(settings.to_dict(config))
    for key in flat:                      # every key a user can set is a plain value
        assert not isinstance(flat[key], ml_collections.FieldReference), key


def test_every_default_key_is_read_without_a_fallback_default():
    """optimizer.b1/b2/eps could not be set (the locked config lacked them); now every default is in one place."""
    defaults = settings.flatten(settings.to_dict(settings.default_config()))
    for key in ("optimizer.b1", "optimizer.b2", "optimizer.eps", "optimizer.decay", "reduce_on_plateau.rtol",
                "dispatch_seconds", "analyses", "seeds_max_params", "epochs_per_dispatch"):
        assert key in defaults
    for key in settings.RERUN_KEYS:
        assert key in defaults or key.startswith("search."), key


# ----------------------------------------------------------------------------------------------------------------
# 4. Verified checkpoints.

def _array_file(checkpoint_dir) -> str:
    """The largest file of a checkpoint's arrays."""
    candidates = [os.path.join(parent, name) for parent, _, names in os.walk(os.path.join(checkpoint_dir, "default"))
                  for name in names]
    return max(candidates, key=os.path.getsize)


def test_flipped_bytes_missing_parts_and_nan_weights_fall_back_to_the_previous_checkpoint(mock_tfds, tiny, tmp_path,
                                                                                           capsys):
    experiment.run(tiny_mnist(tiny, num_epochs=2, **{"checkpoint.keep": 5}), str(tmp_path))
    path = _array_file(tmp_path / "checkpoints" / "2")
    with open(path, "r+b") as f:                       # a few flipped bytes in the middle of the arrays
        f.seek(os.path.getsize(path) // 2)
        chunk = f.read(4)
        f.seek(os.path.getsize(path) // 2)
        f.write(bytes(b ^ 0xFF for b in chunk))
    assert predict.load(str(tmp_path), which="latest").epoch == 1   # predict skips it and leaves it in place
    assert "epoch 2 is unusable (checksum mismatch" in capsys.readouterr().err
    assert os.path.isdir(tmp_path / "checkpoints" / "2")
    summary = experiment.run(tiny_mnist(tiny, num_epochs=3, **{"checkpoint.keep": 5}), str(tmp_path))
    assert summary["resumed_from_epoch"] == 1
    assert "checkpoint of epoch 2 is unusable (checksum mismatch in default/" in capsys.readouterr().err

    shutil.rmtree(tmp_path / "checkpoints" / "3" / "default")   # the latest one lost its arrays
    summary = experiment.run(tiny_mnist(tiny, num_epochs=4, **{"checkpoint.keep": 5}), str(tmp_path))
    assert summary["resumed_from_epoch"] == 2 and "epoch 3 is unusable (missing part" in capsys.readouterr().err
    assert sorted(os.listdir(tmp_path / "checkpoints_unreadable")) == ["2", "3"]   # moved aside, not deleted

    for _ in range(2):   # the same epoch damaged twice: each unreadable copy is kept (4, then 4.1), none overwritten
        shutil.rmtree(tmp_path / "checkpoints" / "4" / "default")
        summary = experiment.run(tiny_mnist(tiny, num_epochs=4, **{"checkpoint.keep": 5}), str(tmp_path),
                                 retest=True)
        assert summary["resumed_from_epoch"] == 3
    assert sorted(os.listdir(tmp_path / "checkpoints_unreadable")) == ["2", "3", "4", "4.1"]
    assert predict.load(str(tmp_path), which="latest").epoch == 4
    with open(tmp_path / "history.csv") as f:    # one row per epoch, the retrained ones replacing the lost ones
        assert [line.split(",")[0] for line in f.read().split()[1:]] == ["1", "2", "3", "4"]


def test_nan_weights_in_a_verified_checkpoint_are_not_restored(mock_tfds, tiny, tmp_path, monkeypatch, capsys):
    """A checkpoint written whole (its manifest matches) but holding NaN weights: the restored numbers are checked."""
    save = checkpoint.save

    def save_nan_at_epoch_2(mngr, epoch, state, metrics):
        if epoch == 2:
            state = state.replace(params=jax.tree.map(lambda x: np.full_like(x, np.nan), state.params))
        save(mngr, epoch, state, metrics)

    monkeypatch.setattr(checkpoint, "save", save_nan_at_epoch_2)
    experiment.run(tiny_mnist(tiny, num_epochs=2), str(tmp_path))
    monkeypatch.setattr(checkpoint, "save", save)
    summary = experiment.run(tiny_mnist(tiny, num_epochs=3), str(tmp_path))
    assert summary["resumed_from_epoch"] == 1
    assert "epoch 2 is unusable (non-finite values in .params" in capsys.readouterr().err


def test_no_usable_checkpoint_writes_no_result(mock_tfds, tiny, tmp_path):
    experiment.run(tiny_mnist(tiny), str(tmp_path))
    with open(tmp_path / "summary.json") as f:
        summary = f.read()
    path = _array_file(tmp_path / "checkpoints" / "1")
    with open(path, "r+b") as f:
        f.write(b"\xff\xff\xff\xff")
    with pytest.raises(errors.Error, match="no usable checkpoint in .*nothing to evaluate"):
        experiment.evaluate(None, str(tmp_path))
    assert not os.path.exists(tmp_path / "evaluation.json")
    with open(tmp_path / "summary.json") as f:
        assert f.read() == summary
    with pytest.raises(errors.Error, match="no usable checkpoint in .*use a new --workdir"):
        experiment.run(tiny_mnist(tiny, num_epochs=2), str(tmp_path))
    with open(tmp_path / "summary.json") as f:
        assert f.read() == summary


# ----------------------------------------------------------------------------------------------------------------
# 5-6. One process per workdir; a full disk.

def _write_lock(workdir, pid: int, host: str) -> None:
    os.makedirs(workdir, exist_ok=True)
    with open(os.path.join(workdir, rundir.LOCK), "w") as f:
        json.dump({"pid": pid, "host": host, "started": "2026-12-03T10:00:00+00:00"}, f)


def test_a_held_lock_stops_a_second_run_and_a_stale_one_is_taken_over(mock_tfds, tiny, tmp_path, capsys):
    _write_lock(tmp_path, os.getpid(), "another-host")
    with pytest.raises(errors.Error, match=rf"{tmp_path} is in use by process {os.getpid()} on another-host "
                                           r"\(started 2026-12-03T10:00:00\+00:00\)"):
        experiment.run(tiny_mnist(tiny), str(tmp_path))
    assert sorted(os.listdir(tmp_path)) == [rundir.LOCK]
    dead = 2 ** 22 + 12345                                # above the default pid_max: no such process
    _write_lock(tmp_path, dead, socket.gethostname())
    experiment.run(tiny_mnist(tiny), str(tmp_path))
    assert f"took over the lock of {tmp_path} from process {dead}" in capsys.readouterr().out
    assert not os.path.exists(tmp_path / rundir.LOCK)     # released at the end


def test_a_failed_save_stops_the_run_and_keeps_the_saved_checkpoints(mock_tfds, tiny, tmp_path, monkeypatch):
    save = ocp.CheckpointManager.save

    def disk_full(self, step, *args, **kwargs):
        if step == 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        return save(self, step, *args, **kwargs)

    monkeypatch.setattr(ocp.CheckpointManager, "save", disk_full)
    with pytest.raises(errors.Error, match=r"could not save a checkpoint in .*checkpoints \(No space left on device\): "
                                           "the run stopped"):
        experiment.run(tiny_mnist(tiny, num_epochs=3), str(tmp_path))
    assert sorted(os.listdir(tmp_path / "checkpoints")) == ["1"] and not os.path.exists(tmp_path / "summary.json")
    assert not os.path.exists(tmp_path / rundir.LOCK)


def test_workdir_that_cannot_be_written_is_one_line(tmp_path, monkeypatch):
    (tmp_path / "file").write_text("x")
    with pytest.raises(errors.Error, match="is a file, not a directory"):
        rundir.prepare(str(tmp_path / "file"))
    monkeypatch.setattr(os, "access", lambda *args: False)   # root may write anywhere: ask os.access
    with pytest.raises(errors.Error, match="is not writable: choose a writable directory"):
        rundir.prepare(str(tmp_path / "run"))


# ----------------------------------------------------------------------------------------------------------------
# 6. Work per dispatch bounded by time.

class _Setup:
    def __init__(self, steps_per_epoch, unroll_steps=0, input="device"):
        self.steps_per_epoch, self.unroll_steps, self.input = steps_per_epoch, unroll_steps, input


def test_dispatch_size_follows_the_measured_step_time():
    config = ml_collections.ConfigDict({"steps_per_dispatch": 0, "dispatch_seconds": 5.0})
    dispatcher = train.Dispatcher(config, _Setup(1000), tty=False)
    assert dispatcher.steps == 50                                # 1/20 of the epoch until one has been timed
    dispatcher.timed(50, 30.0)                                   # the first of its size: compile time, ignored
    assert dispatcher.steps == 50
    dispatcher.timed(50, 0.5)                                    # 10 ms a step: 500 steps fit in 5 s
    assert dispatcher.steps == 500                               # 1000 / 2
    dispatcher.timed(500, 30.0)                                  # compiles
    dispatcher.timed(500, 0.5)                                   # faster now: the whole epoch fits
    assert dispatcher.steps == 1000
    dispatcher.timed(1000, 30.0)
    dispatcher.timed(1000, 40.0)                                 # much slower: 40 ms a step
    assert dispatcher.steps == 125                               # 1000 / 8
    assert train.Dispatcher(config, _Setup(12), tty=False).steps == 12      # ≤ 20 steps: one dispatch
    terminal = train.Dispatcher(config, _Setup(1000), tty=True)
    terminal.timed(50, 0.1), terminal.timed(50, 0.1)
    assert terminal.steps == 50                                  # a progress bar: at most 1/20 of an epoch
    unrolled = train.Dispatcher(config, _Setup(352, unroll_steps=8), tty=False)   # VGG on a CPU: seconds a step
    assert unrolled.steps == 1
    unrolled.timed(1, 60.0), unrolled.timed(1, 5.0)
    assert unrolled.steps == 1                                   # 5 s a step: one step a dispatch
    unrolled.timed(1, 0.1)
    assert unrolled.steps == 6                                   # fast: at most the 8 unrolled steps (352 / 64)
    assert train.Dispatcher(config, _Setup(5, unroll_steps=8), tty=False).steps == 5
    fixed = train.Dispatcher(ml_collections.ConfigDict({"steps_per_dispatch": 7, "dispatch_seconds": 5.0}),
                             _Setup(1000), tty=False)
    fixed.timed(7, 100.0), fixed.timed(7, 100.0)
    assert fixed.steps == 7


def test_epoch_metrics_do_not_depend_on_the_dispatch_sizes(mock_tfds, tiny, tmp_path):
    whole = experiment.run(tiny_mnist(tiny, num_epochs=2), str(tmp_path / "whole"))
    steps = experiment.run(tiny_mnist(tiny, num_epochs=2, steps_per_dispatch=2), str(tmp_path / "steps"))
    assert whole["final"] == steps["final"] and whole["test_loss"] == steps["test_loss"]


# ----------------------------------------------------------------------------------------------------------------
# launch.py as a user runs it.

MNIST = ["--config", "configs/mnist_mlp.py", "--config.batch_size=16", "--config.eval_batch_size=16"]
ALLOWED_LINES = (r"(fold \d+/\d+ )?epoch \d+/\d+ - \d+\.\ds - loss ", r"jaxlab: ", r"test: loss ")


def _kinds_ok(lines) -> bool:
    return all(any(re.match(pattern, line) for pattern in ALLOWED_LINES) for line in lines)


def test_console_shows_epoch_lines_notices_and_the_test_line_only(mock_tfds, tiny, tmp_path, capsys):
    """launch.py's console, nothing on stderr; then the resumed run's lines (in this process)."""
    workdir = str(tmp_path / "run")
    status, out, err = launch(MNIST + ["--config.num_epochs=3", f"--workdir={workdir}"], mock=True)
    assert status == 0 and err == [] and len(out) == 4 and _kinds_ok(out), (out, err)
    assert out[-1].startswith("test: loss ") and " - majority " in out[-1]
    experiment.run(tiny_mnist(tiny, num_epochs=4), workdir)
    out = capsys.readouterr().out.splitlines()
    assert _kinds_ok(out) and len(out) == 3, out
    assert out[0] == "jaxlab: resumed from epoch 3" and out[1].startswith("epoch 4/4 - ")


FAKE_TENSORFLOW = """import os
os.write(2, b"I0000 port.cc:153] a start-up line written before logging is set up\\n")
{rest}
"""


@pytest.mark.parametrize("fails", [False, True])
def test_tensorflow_start_up_lines_are_hidden_unless_its_import_fails(fails, tmp_path):
    """What TensorFlow writes to file descriptor 2 while it loads (below TF_CPP_MIN_LOG_LEVEL's reach) stays off
    the console; when the import fails, it is shown with the error. (A stand-in tensorflow package: no real load.)"""
    os.makedirs(tmp_path / "tensorflow")
    (tmp_path / "tensorflow" / "__init__.py").write_text(
        FAKE_TENSORFLOW.format(rest="raise ImportError('no libtensorflow')" if fails else "LOADED = True"))
    code = "from jaxlab import console; console.quiet_libraries(); print(console.import_tensorflow().LOADED)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                            env={**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), ROOT])})
    if fails:
        assert result.returncode == 1 and "a start-up line" in result.stderr and "no libtensorflow" in result.stderr
    else:
        assert (result.returncode, result.stdout, result.stderr) == (0, "True\n", "")


def test_a_finished_run_reprints_its_summary_without_testing_again(mock_tfds, tiny, tmp_path, capsys, monkeypatch):
    summary = experiment.run(tiny_mnist(tiny, num_epochs=2), str(tmp_path))
    test_line = capsys.readouterr().out.splitlines()[-1]
    monkeypatch.setattr(train, "fit", lambda *args, **kwargs: pytest.fail("a finished run trained or tested again"))
    assert experiment.run(tiny_mnist(tiny, num_epochs=2), str(tmp_path)) == summary
    out = capsys.readouterr().out.splitlines()
    assert out == [f"jaxlab: the run in {tmp_path} has already finished (2 epochs); its test metrics from summary.json "
                   "(--retest to test again):", test_line]


def test_second_process_stops_at_once_and_sigterm_saves_exits_143_and_the_rerun_resumes_exactly(mock_tfds, tiny,
                                                                                                  tmp_path):
    """A second launch on a held workdir stops at once (before TensorFlow loads), naming the holder. A SIGTERM
    mid-run, with no epoch checkpoint to fall back on (every_epochs 1000), saves where the run stopped and exits 143;
    the rerun resumes from there and ends exactly where a run without the stop does."""
    workdir = str(tmp_path / "run")
    learned = {"model.dropout": 0.1, "checkpoint.every_epochs": 1000}
    args = MNIST + ["--config.num_epochs=400", "--config.steps_per_dispatch=1", f"--workdir={workdir}"] + [
        f"--config.{key}={value}" for key, value in learned.items()]
    first = start(args, mock=True)
    for line in first.stdout:
        if line.startswith("epoch 2/"):
            break
    status, out, err = launch(args, timeout=60)
    assert status == 1 and len(err) == 1, err
    assert err[0].startswith(f"jaxlab: error: {workdir} is in use by process {first.pid} on {socket.gethostname()}")
    first.send_signal(signal.SIGTERM)
    out, err = first.communicate(timeout=120)
    assert first.returncode == 143, err
    assert "checkpoint saved; rerun the same command to resume" in out and not os.path.exists(
        os.path.join(workdir, rundir.LOCK))
    assert rundir.sessions(workdir)[-1]["status"].startswith("Preempted")
    last_epoch = max(int(line.split("/")[0].split()[1]) for line in out.splitlines() if line.startswith("epoch "))
    config = tiny_mnist(tiny, num_epochs=last_epoch + 2, **learned)   # num_epochs: a key a rerun may change
    resumed = experiment.run(config, workdir)
    assert resumed["resumed_from_epoch"] >= 2   # from the checkpoint the SIGTERM saved, not from the start
    straight = experiment.run(config, str(tmp_path / "straight"))
    assert resumed["final"] == straight["final"] and resumed["test_loss"] == straight["test_loss"]


FAKE_MODULE = "raise ImportError('this check must come before {name} is imported')\n"


@pytest.mark.parametrize("args,message", [
    (MNIST + ["--config.batch_size=-1"], "jaxlab: error: --config.batch_size=-1: must be a whole number ≥ 0"),
    (MNIST + ["--workdir_is_a_file"], "is a file, not a directory: give a directory path"),
    (MNIST + ["--held_lock"], "is in use by process"),
    (MNIST + ["--config.data.name=fashion_mnist"], "data.name 'mnist' → 'fashion_mnist'"),
    (["--mode=evaluate"], "holds no run (config.json is missing)"),
    (["--config", "configs/mnist_mlp.py:nonsense"], "jaxlab: error: "),
])
def test_errors_that_need_no_data_come_before_tensorflow_and_jax_load(args, message, tmp_path):
    """tensorflow and jax here fail to import: each error is reported before either is needed."""
    for name in ("tensorflow", "jax"):
        os.makedirs(tmp_path / "fake" / name)
        (tmp_path / "fake" / name / "__init__.py").write_text(FAKE_MODULE.format(name=name))
    workdir = tmp_path / "run"
    if "--workdir_is_a_file" in args:
        workdir.write_text("x")
    if "--held_lock" in args:
        _write_lock(workdir, os.getpid(), "another-host")
    if "data.name" in " ".join(args):
        os.makedirs(workdir)
        (workdir / "config.json").write_text(json.dumps(settings.to_dict(mnist_mlp.get_config())))
    args = [arg for arg in args if arg not in ("--workdir_is_a_file", "--held_lock")] + [f"--workdir={workdir}"]
    started = time.perf_counter()
    status, out, err = launch(args, env={"PYTHONPATH": str(tmp_path / "fake")}, timeout=60)
    assert status == 1 and len(err) == 1 and message in err[0], err
    assert time.perf_counter() - started < 30   # generous: the point is that nothing heavy loads (~0.5 s here)


# ----------------------------------------------------------------------------------------------------------------
# SIGKILL at random moments: the rerun continues exactly.

def test_sigkill_at_random_moments_then_rerun_equals_an_uninterrupted_run(mock_tfds, tiny, tmp_path):
    overrides = ["--config.num_epochs=8", "--config.steps_per_dispatch=1", "--config.model.dropout=0.1",
                 "--config.checkpoint.every_epochs=2"]
    workdir = str(tmp_path / "killed")
    rng = np.random.default_rng(0)
    for kill in range(2):
        process = start(MNIST + overrides + [f"--workdir={workdir}"], mock=True)
        wait_for = int(rng.integers(1, 4)) + 3 * kill
        for line in process.stdout:
            if line.startswith(f"epoch {wait_for}/"):
                time.sleep(float(rng.uniform(0.0, 0.3)))
                break
        process.kill()
        process.communicate(timeout=60)
    # The rerun, in this process: the same config (a different one would be refused), the dead holder's lock.
    config = tiny(mnist_mlp.get_config(), num_epochs=8, steps_per_dispatch=1,
                  **{"model.dropout": 0.1, "checkpoint.every_epochs": 2})
    assert experiment.run(config, workdir)["resumed_from_epoch"] >= 2
    experiment.run(config, str(tmp_path / "straight"))
    with open(os.path.join(workdir, "history.csv")) as f, open(tmp_path / "straight" / "history.csv") as g:
        assert f.read() == g.read()
    killed = predict.load(workdir, which="latest").variables["params"]
    straight = predict.load(str(tmp_path / "straight"), which="latest").variables["params"]
    for layer in straight:
        for name in straight[layer]:
            np.testing.assert_array_equal(killed[layer][name], straight[layer][name])
