"""Pattern data, the concat model, and many seeds in one program: equal to separate runs, resumable, end to end."""
import json
import os

import numpy as np
import pytest
from conftest import apply_overrides
from ml_collections import ConfigDict

from configs import parity, xor
from jaxlab import data, experiment, lanes, seeds
from jaxlab.data import patterns


@pytest.mark.parametrize("num_bits", [1, 2, 3, 6])
@pytest.mark.parametrize("encoding", ["01", "pm1"])
def test_patterns_enumerate_every_input_once_with_its_parity(num_bits, encoding):
    splits = data.build(ConfigDict({"name": "patterns", "num_bits": num_bits, "encoding": encoding}), seed=0)
    inputs, labels = splits.train["inputs"], splits.train["label"]
    assert inputs.shape == (2 ** num_bits, num_bits) and len({tuple(row) for row in inputs}) == 2 ** num_bits
    assert set(np.unique(inputs)) == ({0.0, 1.0} if encoding == "01" else {-1.0, 1.0})
    ones = (inputs > 0).sum(axis=1)
    np.testing.assert_array_equal(labels, ones % 2)
    assert splits.validation is splits.train and splits.test is splits.train and splits.info["all_patterns"]


def test_xor_labels():
    bits = patterns.enumerate_bits(2)
    assert bits.tolist() == [[0, 0], [0, 1], [1, 0], [1, 1]] and patterns.parity(bits).tolist() == [0, 1, 1, 0]


def small(config, **overrides):
    config.num_epochs = 6
    config.epochs_per_dispatch = 4
    config.checkpoint.every_epochs = 3
    return apply_overrides(config, overrides)


@pytest.mark.parametrize("mode,lanes_vmapped", [("pmap", 1), ("jit", 2)])
def test_vmapped_seeds_equal_separate_runs(mode, lanes_vmapped, tmp_path):
    """Every seed equals its own run, with the lanes one after another in the program (1) and in vmapped pairs, the
    third alone (2); tests/test_sweep.py has them all side by side."""
    config = small(xor.get_config("two_layer"), num_seeds=3, seed=5, parallelism=mode, lanes_vmapped=lanes_vmapped)
    together = experiment.run(config, str(tmp_path / "together"))
    assert together["how"] == "vmapped"
    for k, entry in enumerate(together["seeds"]):
        alone = experiment.run(small(xor.get_config("two_layer"), num_seeds=1, seed=5 + k, parallelism=mode),
                               str(tmp_path / f"alone_{k}"))
        assert entry["seed"] == 5 + k
        for name, value in alone["final"].items():
            np.testing.assert_allclose(entry["final"][name], value, atol=1e-5, err_msg=name)
        np.testing.assert_allclose(entry["test_loss"], alone["test_loss"], atol=1e-5)
        assert entry["test_accuracy"] == alone["test_accuracy"]


def test_lanes_run_side_by_side_except_larger_nets_on_cpu():
    config = xor.get_config("two_layer")
    cpu, accelerator = [ConfigDict({"platform": "cpu"})], [ConfigDict({"platform": "tpu"})]
    limit = lanes.SIDE_BY_SIDE_MAX_PARAMS
    assert [lanes.lanes_vmapped(config, cpu, limit - 1), lanes.lanes_vmapped(config, cpu, limit),
            lanes.lanes_vmapped(config, accelerator, 10 * limit)] == [0, 1, 0]
    config.lanes_vmapped = 4
    assert lanes.lanes_vmapped(config, cpu, limit) == lanes.lanes_vmapped(config, accelerator, 1) == 4


def test_sequential_fallback_has_the_same_outputs(tmp_path):
    config = small(xor.get_config("concat"), num_seeds=2, parallelism="jit")
    vmapped = experiment.run(config, str(tmp_path / "vmapped"))
    config.seeds_max_params = 1
    sequential = experiment.run(config, str(tmp_path / "sequential"))
    assert sequential["how"].startswith("sequential") and os.path.isdir(tmp_path / "sequential" / "seed_1")
    assert set(sequential) == set(vmapped)
    for a, b in zip(vmapped["seeds"], sequential["seeds"]):
        np.testing.assert_allclose(a["test_loss"], b["test_loss"], atol=1e-5)
    np.testing.assert_allclose(vmapped["mean"]["test_loss"], sequential["mean"]["test_loss"], atol=1e-5)


def test_vmapped_resume_equals_uninterrupted(tmp_path):
    def train(workdir, epochs):
        return experiment.run(small(xor.get_config("concat"), num_seeds=4, num_epochs=epochs), str(workdir))

    straight = train(tmp_path / "straight", 6)
    train(tmp_path / "stopped", 3)
    resumed = train(tmp_path / "stopped", 6)
    assert [s["final"] for s in resumed["seeds"]] == [s["final"] for s in straight["seeds"]]
    assert resumed["mean"] == straight["mean"]
    with open(tmp_path / "stopped" / "seeds_history.csv") as f:
        assert len(f.readlines()) == 1 + 4 * 6


@pytest.mark.parametrize("module,variant,num_bits", [
    (xor, "two_layer", 2), (xor, "concat", 2), (parity, "two_layer", 3), (parity, "concat", 5)])
def test_variant_end_to_end(module, variant, num_bits, tmp_path):
    config = small(module.get_config(f"{variant},{num_bits}"), num_seeds=5)
    summary = experiment.run(config, str(tmp_path))
    assert config.batch_size == 0 and config.data.num_bits == num_bits   # full batch: all 2^N patterns per step
    assert summary["num_seeds"] == 5 and len(summary["seeds"]) == 5
    if variant == "two_layer":
        assert summary["num_params"] == num_bits * num_bits + num_bits + num_bits + 1
    assert 0.0 <= summary["solved_rate"] <= 1.0 and set(summary["std"]) == {"test_loss", "test_accuracy"}
    for name in ("summary.json", "history.csv", "seeds_history.csv", "config.json", "plots/curves.png"):
        assert os.path.exists(tmp_path / name), name
    with open(tmp_path / "summary.json") as f:
        assert json.load(f)["seeds"][4]["seed"] == 4


def test_epochs_to_solve_and_solved_rate():
    histories = [[{"epoch": 1, "val_accuracy": 0.5}, {"epoch": 2, "val_accuracy": 1.0}],
                 [{"epoch": 1, "val_accuracy": 0.75}, {"epoch": 2, "val_accuracy": 0.75}]]
    per_seed = [{"seed": 0, "test_accuracy": 1.0, "test_loss": 0.1},
                {"seed": 1, "test_accuracy": 0.75, "test_loss": 1.0}]
    summary = seeds.summarise(per_seed, histories, {"all_patterns": True}, None)
    assert summary["solved_rate"] == 0.5 and summary["median_epochs_to_solve"] == 2.0
    assert per_seed[1]["epochs_to_solve"] is None
