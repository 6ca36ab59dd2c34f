"""Sweeps (`config.sweep`): K lanes that differ in hyper-parameters train as one vmapped program, each exactly as
a separate run with its values; outputs like a search; refused keys; resume; a diverged lane stops counting."""
import csv
import json
import os

import ml_collections
import numpy as np
import pytest

from configs import mnist_mlp, xor
from jaxlab import errors, experiment, sweep


def sweep_block(space, **settings):
    return ml_collections.ConfigDict(dict(space=space, **{"num_random": 0, "random_seed": -1, "max_lanes": 0,
                                                          "objective": "", "direction": "", **settings}))


def tiny_mlp(tiny, **overrides):
    return tiny(mnist_mlp.get_config(), **{"num_epochs": 2, "model.hidden": (8,), "model.dropout": 0.1, **overrides})


SPACE = {"lr": {"key": "optimizer.learning_rate", "grid": (0.05, 0.2)},
         "momentum": {"key": "optimizer.momentum", "grid": (0.5,)},
         "l2": {"grid": (1e-3,)},
         "dropout": {"key": "model.dropout", "grid": (0.0, 0.3)},
         "seed": {"grid": (3,)}}


@pytest.mark.parametrize("mode", ["pmap", "jit"])
def test_each_lane_trains_as_a_separate_run_with_its_values(mode, mock_tfds, tiny, tmp_path):
    """Learning rate, momentum, L2, dropout and seed are traced per lane; 3 lanes per program → 2 programs."""
    config = tiny_mlp(tiny, parallelism=mode)
    config.sweep = sweep_block(SPACE, max_lanes=3)
    together = experiment.run(config, str(tmp_path / "sweep"))
    assert together["how"] == "vmapped" and together["num_lanes"] == 4 and together["num_programs"] == 2
    assert [lane["values"] for lane in together["lanes"]] == [
        {"model.dropout": dropout, "l2": 1e-3, "optimizer.learning_rate": lr, "optimizer.momentum": 0.5, "seed": 3}
        for dropout in (0.0, 0.3) for lr in (0.05, 0.2)]   # by name: dropout, l2, lr, momentum, seed
    for lane in together["lanes"]:
        alone = experiment.run(sweep.lane_config(config, lane["values"]), str(tmp_path / f"alone_{lane['lane']}"))
        for name, value in alone["final"].items():
            np.testing.assert_allclose(lane["final"][name], value, rtol=1e-5, atol=1e-6, err_msg=name)
        np.testing.assert_allclose(lane["test_loss"], alone["test_loss"], rtol=1e-5)
        assert lane["test_accuracy"] == pytest.approx(alone["test_accuracy"], abs=1e-9)
    assert os.path.isdir(tmp_path / "sweep" / "lanes_0-2") and os.path.isdir(tmp_path / "sweep" / "lanes_3-3")


def test_outputs_like_a_search(mock_tfds, tiny, tmp_path, capsys):
    config = tiny_mlp(tiny)
    config.sweep = sweep_block({"lr": {"key": "optimizer.learning_rate", "low": 0.01, "high": 0.5, "log": True}},
                               num_random=3, objective="val_loss", direction="minimize")
    summary = experiment.run(config, str(tmp_path))
    lanes = summary["lanes"]
    assert len(lanes) == 3 and len({lane["values"]["optimizer.learning_rate"] for lane in lanes}) == 3
    assert all(0.01 <= lane["values"]["optimizer.learning_rate"] <= 0.5 for lane in lanes)
    best = min(lanes, key=lambda lane: lane["score"])
    assert summary["best"] == best and best["score"] <= best["final"]["val_loss"]   # its best epoch
    with open(tmp_path / "summary.json") as f:
        assert json.load(f)["lanes"] == json.loads(json.dumps(lanes))
    with open(tmp_path / "best.json") as f:
        best_lr = best["values"]["optimizer.learning_rate"]
        assert json.load(f)["override_line"] == f"--config.optimizer.learning_rate={best_lr!r}"
    with open(tmp_path / "trials.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [int(row["lane"]) for row in rows] == [0, 1, 2] and "test_accuracy" in rows[0]
    results = (tmp_path / "results.md").read_text()
    assert results.index(f"| 1 | {best['lane']} |") > 0
    assert os.path.exists(tmp_path / "plots" / "curves.png") and os.path.exists(tmp_path / "lanes_history.csv")
    out = capsys.readouterr().out.splitlines()
    assert out[-1].startswith(f"best of 3 lanes: lane {best['lane']} --config.optimizer.learning_rate=")
    assert sweep.points(config) == [lane["values"] for lane in lanes]   # seeded draws: a rerun has the same lanes


@pytest.mark.parametrize("key,spec,message", [
    ("batch_size", {"grid": (8, 16)}, "sweep key 'batch_size' cannot vary inside one program"),
    ("data.validation_split", {"grid": (0.1, 0.2)}, "sweep key 'data.validation_split' cannot vary inside one"),
    ("model.hidden", {"low": 4, "high": 16}, "sweep key 'model.hidden' changes the program: give it grid="),
    ("model.widths", {"grid": (8, 16)}, "sweep key 'model.widths' is no key of config.model"),
    ("model.hidden", {"grid": (8, 16)}, r"sweep key 'model.hidden': grid value 8 does not fit it \(now \(8,\)\)"),
])
def test_keys_that_change_the_data_or_host_decisions_are_refused(key, spec, message, tiny, tmp_path):
    config = tiny_mlp(tiny)
    config.sweep = sweep_block({"x": {"key": key, **spec}})
    with pytest.raises(errors.Error, match=message):
        experiment.run(config, str(tmp_path))
    config.sweep = sweep_block({"lr": {"key": "optimizer.learning_rate", "grid": (0.1,)}})
    config.num_seeds = 2
    with pytest.raises(errors.Error, match="sweep the seed instead"):
        experiment.run(config, str(tmp_path / "seeds"))


def test_model_keys_group_the_lanes_into_one_program_per_value(mock_tfds, tiny, tmp_path):
    """model.hidden as a grid axis: one model and one vmapped program per hidden size (model_0, model_1), the
    learning rates traced inside each; a lane of each program (the second of the first, the first of the second)
    equals a separate run with its values (every lane of a program: the test above), lanes keep the grid's order,
    and the best lane's override line carries its hidden size."""
    config = tiny_mlp(tiny, parallelism="jit")
    config.sweep = sweep_block({"hidden": {"key": "model.hidden", "grid": ((8,), (4, 4))},
                                "lr": {"key": "optimizer.learning_rate", "grid": (0.05, 0.2)}})
    together = experiment.run(config, str(tmp_path / "sweep"))
    assert (together["how"], together["num_lanes"], together["num_programs"]) == ("vmapped", 4, 2)
    assert [lane["values"] for lane in together["lanes"]] == [
        {"model.hidden": hidden, "optimizer.learning_rate": lr} for hidden in ((8,), (4, 4)) for lr in (0.05, 0.2)]
    assert os.path.isdir(tmp_path / "sweep" / "model_0") and os.path.isdir(tmp_path / "sweep" / "model_1")
    for lane in (together["lanes"][1], together["lanes"][2]):
        alone = experiment.run(sweep.lane_config(config, lane["values"]), str(tmp_path / f"alone_{lane['lane']}"))
        for name, value in alone["final"].items():
            np.testing.assert_allclose(lane["final"][name], value, rtol=1e-5, atol=1e-6, err_msg=name)
        np.testing.assert_allclose(lane["test_loss"], alone["test_loss"], rtol=1e-5)
    with open(tmp_path / "sweep" / "best.json") as f:
        assert "--config.model.hidden=" in json.load(f)["override_line"]


def test_a_diverged_lane_stops_counting_and_the_others_train_on(mock_tfds, tiny, tmp_path, capsys):
    config = tiny_mlp(tiny, num_epochs=3, **{"data.normalize": "none"})
    config.sweep = sweep_block({"lr": {"key": "optimizer.learning_rate", "grid": (0.001, 50.0)}})
    summary = experiment.run(config, str(tmp_path))
    calm, wild = summary["lanes"]
    assert "diverged" in wild and "training diverged" in wild["diverged"] and np.isnan(wild["score"])
    assert "diverged" not in calm and calm["epochs_run"] == 3 and summary["best"]["lane"] == 0
    assert "lane 1 stopped counting: training diverged" in capsys.readouterr().out


def test_stacked_state_resumes_exactly(tmp_path):
    def run(workdir, epochs):
        config = xor.get_config("two_layer")
        config.num_epochs, config.epochs_per_dispatch, config.checkpoint.every_epochs = epochs, 4, 3
        config.num_seeds = 1
        config.sweep = sweep_block({"lr": {"key": "optimizer.learning_rate", "grid": (0.1, 0.5, 1.0)}})
        return experiment.run(config, str(workdir))

    straight = run(tmp_path / "straight", 6)
    run(tmp_path / "stopped", 3)
    resumed = run(tmp_path / "stopped", 6)
    assert [lane["final"] for lane in resumed["lanes"]] == [lane["final"] for lane in straight["lanes"]]
    with open(tmp_path / "stopped" / "lanes_history.csv") as f:
        assert len(f.readlines()) == 1 + 3 * 6


def test_host_decisions_train_the_lanes_one_after_another(mock_tfds, tiny, tmp_path):
    config = tiny_mlp(tiny, **{"early_stopping.patience": 5})
    config.sweep = sweep_block({"lr": {"key": "optimizer.learning_rate", "grid": (0.05, 0.2)}})
    summary = experiment.run(config, str(tmp_path))
    assert summary["how"].startswith("sequential") and os.path.isdir(tmp_path / "lane_1")
    assert [lane["values"] for lane in summary["lanes"]] == [{"optimizer.learning_rate": 0.05},
                                                            {"optimizer.learning_rate": 0.2}]
    assert os.path.exists(tmp_path / "lanes_history.csv") and os.path.exists(tmp_path / "results.md")
