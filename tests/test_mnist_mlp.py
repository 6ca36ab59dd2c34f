"""End to end: every mnist_mlp variant under mock tfds data, in both parallel modes; resume; evaluate; predict."""
import json
import os

import numpy as np
import pytest

from configs import mnist_mlp
from jaxlab import errors, experiment, predict

VARIANTS = ["default", "linear_hidden", "relu_before_softmax", "deep", "tuned"]


@pytest.mark.parametrize("mode", ["pmap", "jit"])
@pytest.mark.parametrize("variant", VARIANTS)
def test_variant_end_to_end(variant, mode, mock_tfds, tiny, tmp_path):
    config = tiny(mnist_mlp.get_config(variant), parallelism=mode)
    summary = experiment.run(config, str(tmp_path))
    assert summary["epochs_run"] == 1
    assert 0.0 <= summary["test_accuracy"] <= 1.0 and np.isfinite(summary["test_loss"])
    assert summary["num_test_examples"] == 96 and summary["device_count"] == 8
    for name in ("history.csv", "summary.json", "config.json", "plots/curves.png"):
        assert os.path.exists(tmp_path / name), name
    assert any(name.startswith("events.out.tfevents") for name in os.listdir(tmp_path))
    with open(tmp_path / "summary.json") as f:
        written = json.load(f)
    assert written["library_versions"]["jax"] and written["config"]["parallelism"] == mode


def test_raw_variant_stops_with_divergence_error(mock_tfds, tiny, tmp_path):
    """The lab's raw-pixel setting blows the loss up; the run stops naming the step (no silent NaN epochs)."""
    config = tiny(mnist_mlp.get_config("raw"), num_epochs=3)
    with pytest.raises(errors.Error, match=r"training diverged: loss .* at step \d+ \(epoch 1\); normalise"):
        experiment.run(config, str(tmp_path))


def test_divergence_keeps_saved_checkpoints(mock_tfds, tiny, tmp_path):
    config = tiny(mnist_mlp.get_config(), num_epochs=1)
    experiment.run(config, str(tmp_path))
    # The guard is a key a rerun may change: a factor of 1e-6 calls epoch 2's first step a divergence.
    config = tiny(mnist_mlp.get_config(), num_epochs=3, divergence_factor=1e-6)
    with pytest.raises(errors.Error, match=r"training diverged: loss .* \(epoch 2\)"):
        experiment.run(config, str(tmp_path))
    assert sorted(os.listdir(tmp_path / "checkpoints")) == ["1"]
    assert predict.load(str(tmp_path)).epoch == 1


def test_resume_equals_uninterrupted(mock_tfds, tiny, tmp_path):
    def train(workdir, epochs):
        config = tiny(mnist_mlp.get_config("deep"), num_epochs=epochs, **{"model.dropout": 0.1})
        return experiment.run(config, str(workdir))

    straight = train(tmp_path / "straight", 2)
    train(tmp_path / "stopped", 1)
    resumed = train(tmp_path / "stopped", 2)
    assert resumed["resumed_from_epoch"] == 1
    assert resumed["final"] == straight["final"]
    assert resumed["test_loss"] == straight["test_loss"]
    a = predict.load(str(tmp_path / "straight"), which="latest").variables
    b = predict.load(str(tmp_path / "stopped"), which="latest").variables
    for x, y in zip(np.asarray(a["params"]["Dense_0"]["kernel"]), np.asarray(b["params"]["Dense_0"]["kernel"])):
        np.testing.assert_array_equal(x, y)
    with open(tmp_path / "stopped" / "history.csv") as f:
        assert len(f.read().strip().splitlines()) == 3  # header + 2 epochs, no duplicate rows


def test_evaluate_and_predict_agree(mock_tfds, tiny, tmp_path):
    config = tiny(mnist_mlp.get_config(), num_epochs=2)
    summary = experiment.run(config, str(tmp_path))
    results = experiment.evaluate(config, str(tmp_path))
    run = predict.load(str(tmp_path))
    assert results["epoch"] == run.epoch
    if run.epoch == 2:
        assert results["test_accuracy"] == pytest.approx(summary["test_accuracy"])
    from jaxlab.data import tfds_images
    test = tfds_images.read_split("mnist", "test", None)
    probabilities = run.predict(test["image"])
    assert probabilities.shape == (96, 10)
    np.testing.assert_allclose(probabilities.sum(-1), 1.0, rtol=1e-5)
    assert (probabilities.argmax(-1) == test["label"]).mean() == pytest.approx(results["test_accuracy"])
    assert run.predict(test["image"][0]).shape == (1, 10)  # a single image, as the lab's model.predict


def test_missing_dataset_is_one_clear_error(tiny, tmp_path):
    config = tiny(mnist_mlp.get_config(), **{"data.data_dir": str(tmp_path / "empty")})
    with pytest.raises(errors.Error, match=r"dataset 'mnist' split 'train' is not prepared in .*TFDS_DATA_DIR"):
        experiment.run(config, str(tmp_path / "run"))


def test_batch_that_does_not_divide_by_devices(mock_tfds, tiny, tmp_path):
    config = tiny(mnist_mlp.get_config(), batch_size=12)
    with pytest.raises(errors.Error, match="batch size 12 does not divide by the 8 devices"):
        experiment.run(config, str(tmp_path))


@pytest.mark.parametrize("key,value,message", [
    ("model.name", "resnet", "unknown model 'resnet': choose one of"),
    ("optimizer.name", "adamax", "unknown optimizer 'adamax'"),
    ("data.normalize", "zscore", "unknown normalisation 'zscore'"),
    ("data.name", "imagenet2", "unknown dataset 'imagenet2'"),
    ("monitor", "val_acc", r"--config.monitor='val_acc' is not a metric this run reports: choose one of loss, "
                           "accuracy, val_loss, val_accuracy"),
    ("checkpoint.best_metric", "acc", r"--config.checkpoint.best_metric='acc' is not a metric this run reports"),
])
def test_bad_names_are_clear_errors(key, value, message, mock_tfds, tiny, tmp_path):
    with pytest.raises(errors.Error, match=message):
        experiment.run(tiny(mnist_mlp.get_config(), **{key: value}), str(tmp_path))


@pytest.mark.parametrize("key,value,message", [
    ("batch_size", -1, r"--config.batch_size=-1: must be a whole number ≥ 0 \(0 = the whole training split\)"),
    ("eval_batch_size", 0, "--config.eval_batch_size=0: must be a whole number ≥ 1"),
    ("checkpoint.every_epochs", -1, r"--config.checkpoint.every_epochs=-1: must be a whole number ≥ 0 \(0 = at the "
                                    r"end only\)"),
    ("dispatch_seconds", 0.0, r"--config.dispatch_seconds=0.0: must be a number of seconds > 0"),
    ("num_epochs", -1, "--config.num_epochs=-1: must be a whole number ≥ 0"),
    ("seed", -1, "--config.seed=-1: must be a whole number ≥ 0"),
    ("steps_per_dispatch", -1, "--config.steps_per_dispatch=-1: must be a whole number ≥ 0"),
    ("model.dropout", 1.5, r"--config.model.dropout=1.5: a dropout rate is a fraction in \[0, 1\)"),
    ("model.hidden", (0,), r"--config.model.hidden=\(0,\): layer widths must be whole numbers ≥ 1"),
    ("monitor_mode", "maximum", "--config.monitor_mode='maximum': use max or min"),
    ("checkpoint.best_mode", "low", "--config.checkpoint.best_mode='low': use max or min"),
])
def test_bad_settings_stop_before_anything_is_read(key, value, message, tiny, tmp_path):
    """No mock data: the check comes before the dataset is read (it would fail as not prepared), when training and
    when evaluating."""
    for entry in (experiment.run, experiment.evaluate):
        with pytest.raises(errors.Error, match=message):
            entry(tiny(mnist_mlp.get_config(), **{key: value}), str(tmp_path))
    assert not os.listdir(tmp_path)


def test_run_without_validation_rows(mock_tfds, tiny, tmp_path):
    """validation_split=0: the run trains on every training row, keeps its latest checkpoints (no best one by a
    validation metric) and tests the last epoch. Early stopping or reduce-on-plateau watching a validation metric
    is one clear error before training, and the run's checkpoints stay."""
    config = tiny(mnist_mlp.get_config(), num_epochs=3, restore_best=True, **{"data.validation_split": 0.0})
    summary = experiment.run(config, str(tmp_path))
    assert summary["num_validation_examples"] == 0 and summary["epochs_run"] == 3
    assert summary["best_epoch"] is None and 0 <= summary["test_accuracy"] <= 1
    checkpoints = sorted(os.listdir(tmp_path / "checkpoints"))
    assert checkpoints == ["2", "3"]  # the latest 2 (checkpoint.keep)
    with open(tmp_path / "history.csv") as f:
        assert "val_" not in f.readline()
    # early_stopping.patience may change on a rerun of this workdir; reduce_on_plateau changes what is learned, so
    # it is a new run (a new workdir).
    for key, workdir in (("early_stopping", tmp_path), ("reduce_on_plateau", tmp_path / "plateau")):
        config = tiny(mnist_mlp.get_config(), num_epochs=4, restore_best=True,
                      **{"data.validation_split": 0.0, f"{key}.patience": 2})
        with pytest.raises(errors.Error, match=rf"--config.{key}.patience watches val_accuracy, but this run has no "
                                               rf"validation rows: set --config.data.validation_split"):
            experiment.run(config, str(workdir))
        assert sorted(os.listdir(tmp_path / "checkpoints")) == checkpoints


def test_restore_best_says_when_the_best_epoch_was_not_saved(mock_tfds, tiny, tmp_path, capsys):
    """restore_best with a checkpoint every 3 epochs: the best epoch (1 here) has no checkpoint, so the last one is
    tested, and the warning says the best was not saved (not that its checkpoint is unusable)."""
    config = tiny(mnist_mlp.get_config(), num_epochs=3, restore_best=True, **{"checkpoint.every_epochs": 3})
    summary = experiment.run(config, str(tmp_path))
    assert summary["best_epoch"] == 1 and sorted(os.listdir(tmp_path / "checkpoints")) == ["3"]
    err = capsys.readouterr().err
    assert "tested epoch 3 instead of the best epoch 1, which was not saved (checkpoint.every_epochs=3" in err, err
