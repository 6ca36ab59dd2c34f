"""Image-folder loader, the Simpsons configs end to end, the optuna search and the comparison report,
all on data the tests generate in tmp_path."""
import csv
import json
import os

import numpy as np
import pytest
from PIL import Image

from configs import simpsons_cnn, simpsons_search
from jaxlab import compare, errors, experiment, report, search
from jaxlab.data import augment, image_folder

CLASSES = ("apu", "bart", "homer")


def make_folder(root, per_class=20, size=(28, 28), classes=CLASSES, ext="png", mode="L"):
    """Class k: a bright square in a class-specific corner plus noise (learnable), files named img_NN."""
    rng = np.random.default_rng(0)
    for k, name in enumerate(classes):
        os.makedirs(root / name, exist_ok=True)
        for i in range(per_class):
            pixels = rng.integers(0, 60, size=size, dtype=np.uint8)
            h, w = size[0] // 2, size[1] // 2
            pixels[(k % 2) * h:(k % 2) * h + h, (k // 2) * w:(k // 2) * w + w] = 220
            image = Image.fromarray(pixels, "L").convert(mode)
            image.save(root / name / f"img_{i:02d}.{ext}")
    return root


def folder_config(path, **data):
    config = simpsons_cnn.get_config("cnn").data
    config.path = str(path)
    for key, value in data.items():
        config[key] = value
    return config


# ----------------------------------------------------------------------------------------------------------------
# Loader.

def test_train_test_folders_grayscale_and_rgb(tmp_path):
    make_folder(tmp_path / "train", per_class=20, ext="jpg")
    make_folder(tmp_path / "test", per_class=4, size=(40, 30), mode="RGB")
    splits = image_folder.load(folder_config(tmp_path, validation_split=0.25), seed=0)
    assert splits.info["class_names"] == list(CLASSES) and splits.info["split"] == "folders"
    assert splits.train["inputs"].shape == (45, 28, 28, 1) and splits.validation["inputs"].shape == (15, 28, 28, 1)
    assert splits.test["inputs"].shape == (12, 28, 28, 1)   # 40x30 RGB files resized to 28x28 and made grayscale
    np.testing.assert_array_equal(np.bincount(splits.validation["label"]), [5, 5, 5])  # stratified hold-out
    assert splits.train["inputs"].dtype == np.float32 and splits.train["inputs"].max() <= 1.0
    rgb = image_folder.load(folder_config(tmp_path, color="rgb", image_size=(16, 16)), seed=0)
    assert rgb.train["inputs"].shape[1:] == (16, 16, 3) and rgb.info["input_shape"] == [16, 16, 3]


def test_stratified_split_without_train_test_folders_is_seeded(tmp_path):
    make_folder(tmp_path, per_class=10)
    first = image_folder.load(folder_config(tmp_path, test_fraction=0.2, validation_split=0.0), seed=3)
    again = image_folder.load(folder_config(tmp_path, test_fraction=0.2, validation_split=0.0), seed=3)
    other = image_folder.load(folder_config(tmp_path, test_fraction=0.2, validation_split=0.0), seed=4)
    assert first.info["split"] == "stratified" and first.validation is None
    np.testing.assert_array_equal(np.bincount(first.test["label"]), [2, 2, 2])
    np.testing.assert_array_equal(first.test["inputs"], again.test["inputs"])
    assert not np.array_equal(first.test["inputs"], other.test["inputs"])
    assert len(first.train["label"]) + len(first.test["label"]) == 30


def test_corrupt_files_are_one_error_with_count_and_paths(tmp_path):
    make_folder(tmp_path, per_class=4)
    (tmp_path / "bart" / "broken.jpg").write_bytes(b"not a jpeg")
    (tmp_path / "homer" / "cut.png").write_bytes((tmp_path / "homer" / "img_00.png").read_bytes()[:40])
    with pytest.raises(errors.Error, match=r"^2 unreadable image file\(s\): .*bart/broken.jpg .*homer/cut.png"):
        image_folder.load(folder_config(tmp_path), seed=0)


def test_empty_class_and_empty_directory(tmp_path):
    make_folder(tmp_path / "data", per_class=4)
    os.makedirs(tmp_path / "data" / "lisa")
    (tmp_path / "data" / "lisa" / "notes.txt").write_text("no images here")
    with pytest.raises(errors.Error, match=r"^1 empty class folder\(s\) without .jpg/.png images: .*data/lisa;"):
        image_folder.load(folder_config(tmp_path / "data"), seed=0)
    os.makedirs(tmp_path / "nothing")
    with pytest.raises(errors.Error, match=r"^no images in .*nothing: expected"):
        image_folder.load(folder_config(tmp_path / "nothing"), seed=0)
    with pytest.raises(errors.Error, match=r"image folder .*missing does not exist"):
        image_folder.load(folder_config(tmp_path / "missing"), seed=0)


def test_mixed_sizes_need_an_image_size(tmp_path):
    make_folder(tmp_path, per_class=4)
    make_folder(tmp_path, per_class=2, size=(20, 24), classes=("extra",))
    with pytest.raises(errors.Error, match=r"^2 image\(s\) differ from the first image's size 28x28 .*extra/img_00"
                                           r".*--config.data.image_size=H,W"):
        image_folder.load(folder_config(tmp_path, image_size=()), seed=0)
    splits = image_folder.load(folder_config(tmp_path, image_size=(12, 12), test_fraction=0.5), seed=0)
    assert splits.train["inputs"].shape[1:] == (12, 12, 1) and splits.info["num_classes"] == 4


def test_other_files_are_reported_not_silently_skipped(tmp_path):
    make_folder(tmp_path, per_class=4)
    (tmp_path / "apu" / "readme.txt").write_text("x")
    splits = image_folder.load(folder_config(tmp_path, test_fraction=0.25), seed=0)
    assert splits.info["ignored_files"] == [str(tmp_path / "apu" / "readme.txt")]


# ----------------------------------------------------------------------------------------------------------------
# Simpsons configs end to end.

# The variants' layer kinds and order at a few filters each (the real widths: test_real_simpsons_nets_have_...).
TINY_LAYERS = {"cnn": ("conv4", "pool", "conv8", "pool", "flatten", "dense16", "dropout0.2", "dense8", "dropout0.2"),
               "tuned": ("conv4", "bn", "conv4", "bn", "pool", "conv8", "bn", "pool", "flatten", "dropout0.3",
                         "dense8", "dropout0.3")}


@pytest.mark.parametrize("variant", ["cnn", "mlp", "tuned"])
def test_simpsons_variants_end_to_end(variant, tiny, tmp_path):
    make_folder(tmp_path / "images" / "train", per_class=20)
    make_folder(tmp_path / "images" / "test", per_class=4)
    config = tiny(simpsons_cnn.get_config(variant), **{"data.path": str(tmp_path / "images"), "num_epochs": 2})
    if variant in TINY_LAYERS:
        config.model.layers = TINY_LAYERS[variant]
    if not set(config.data.augment) <= set(augment.OPS):  # the augmentation ops land with the CIFAR work
        config.data.augment = ()
    summary = experiment.run(config, str(tmp_path / "run"))
    assert summary["epochs_run"] == 2 and summary["num_test_examples"] == 12
    assert 0.0 <= summary["test_accuracy"] <= 1.0 and np.isfinite(summary["test_loss"])
    with open(tmp_path / "run" / "data_info.json") as f:
        assert json.load(f)["class_names"] == list(CLASSES)


@pytest.mark.parametrize("variant,num_params,num_batch_stats", [("cnn", 1_758_858, 0), ("mlp", 535_818, 0),
                                                                  ("tuned", 585_066, 896)])
def test_real_simpsons_nets_have_their_documented_sizes(variant, num_params, num_batch_stats):
    """The configs' own widths on 28×28 grayscale, 10 classes (shapes only: nothing is compiled)."""
    import jax
    import jax.numpy as jnp

    from jaxlab import models
    model = models.build(simpsons_cnn.get_config(variant).model, 10)
    shapes = jax.eval_shape(lambda: model.init(jax.random.PRNGKey(0), jnp.zeros((2, 28, 28, 1)), train=False))
    assert sum(np.prod(leaf.shape) for leaf in jax.tree.leaves(shapes["params"])) == num_params
    assert sum(np.prod(leaf.shape) for leaf in jax.tree.leaves(shapes.get("batch_stats", {}))) == num_batch_stats


# ----------------------------------------------------------------------------------------------------------------
# Search.

def search_config(tiny, path, **overrides):
    config = tiny(simpsons_search.get_config(), **{"data.path": str(path), "data.image_size": (8, 8),
                                                   "num_epochs": 1, "num_devices": 1})
    config.search.space.hidden.update(dict(low=8, high=32, step=8))
    config.search.max_trials = 2
    config.search.executions_per_trial = 1
    config.search.retrain = False
    for key, value in overrides.items():
        config.search[key] = value
    return config


@pytest.fixture
def images(tmp_path):
    make_folder(tmp_path / "images" / "train", per_class=16, size=(8, 8))
    make_folder(tmp_path / "images" / "test", per_class=4, size=(8, 8))
    return tmp_path / "images"


def trial_hidden(workdir, number, execution=None):
    path = workdir / f"trial_{number:03d}" / (f"exec_{execution}" if execution is not None else "")
    with open(path / "config.json") as f:
        return json.load(f)["model"]["hidden"]


@pytest.mark.parametrize("sampler", ["random", "tpe"])
def test_search_runs_trials_and_writes_results(sampler, images, tiny, tmp_path):
    workdir = tmp_path / "search"
    executions = 2 if sampler == "random" else 1
    config = search_config(tiny, images, sampler=sampler, executions_per_trial=executions, retrain=sampler == "random",
                           max_trials=3 if sampler == "tpe" else 2, startup_trials=2)
    best = experiment.run(config, str(workdir))
    with open(workdir / "best.json") as f:
        written = json.load(f)
    assert written["trial"] == best["trial"] and 0.0 <= best["value"] <= 1.0
    assert len(best["execution_scores"]) == executions and best["value"] == pytest.approx(
        np.mean(best["execution_scores"]))
    assert "--config.optimizer.learning_rate=" in best["override_line"]
    assert "--config.model.hidden='(" in best["override_line"]
    results = (workdir / "results.md").read_text()
    trials = 3 if sampler == "tpe" else 2
    assert "| rank | trial | val_accuracy (mean) | executions |" in results and f"{trials} complete" in results
    for number in range(trials):
        assert (workdir / f"trial_{number:03d}" / ("exec_1" if executions == 2 else "") / "summary.json").exists()
    if sampler == "random":
        assert 0.0 <= best["retrain"]["test_accuracy"] <= 1.0
        assert os.path.exists(os.path.join(best["retrain_workdir"], "summary.json"))


def test_conditional_parameters_follow_num_layers(images, tiny, tmp_path):
    workdir = tmp_path / "search"
    config = search_config(tiny, images, max_trials=3)
    config.search.space.hidden.min_length = 2   # trials with 2 and 3 layers
    experiment.run(config, str(workdir))
    with open(workdir / "trials.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 3
    for row in rows:
        layers = int(row["params_hidden.num_layers"])
        assert 2 <= layers <= 3
        for i in range(3):
            assert (row[f"params_hidden.units_{i}"] != "") == (i < layers)
        hidden = trial_hidden(workdir, int(row["number"]))
        assert len(hidden) == layers and all(8 <= units <= 32 and units % 8 == 0 for units in hidden)


def test_rerunning_resumes_and_continues_the_trial_count(images, tiny, tmp_path):
    workdir = tmp_path / "search"
    experiment.run(search_config(tiny, images, max_trials=1), str(workdir))
    first = (workdir / "trial_000" / "summary.json").stat().st_mtime_ns
    experiment.run(search_config(tiny, images, max_trials=2), str(workdir))
    assert sorted(p for p in os.listdir(workdir) if p.startswith("trial_")) == ["trial_000", "trial_001"]
    assert (workdir / "trial_000" / "summary.json").stat().st_mtime_ns == first   # not run again
    with open(workdir / "best.json") as f:
        assert json.load(f)["trial"] in (0, 1)
    assert "2 complete" in (workdir / "results.md").read_text()
    study = search.open_study(search_config(tiny, images, max_trials=2), str(workdir))
    lrs = [t.params["learning_rate"] for t in study.trials]
    assert len(set(lrs)) == 2  # the resumed sampler did not repeat the first trial


def test_trials_left_running_by_a_killed_search_are_marked_failed(images, tiny, tmp_path):
    config = search_config(tiny, images)
    study = search.open_study(config, str(tmp_path))
    study.ask()   # a trial that a killed process left "running"
    study = search.open_study(config, str(tmp_path))
    assert [t.state.name for t in study.trials] == ["FAIL"] and search.counted(study) == 0


def test_a_diverging_trial_is_recorded_as_failed(images, tiny, tmp_path):
    """A failed trial does not count towards max_trials; as many failures as max_trials stop the search."""
    config = search_config(tiny, images, max_trials=1)
    config.data.normalize = "none"
    config.search.space.learning_rate.update(dict(low=1e3, high=1e4))   # diverges at once
    with pytest.raises(errors.Error, match="1 search trials failed in this session"):
        experiment.run(config, str(tmp_path / "search"))
    (trial,) = search.open_study(config, str(tmp_path / "search")).trials
    assert trial.state.name == "FAIL" and "training diverged" in trial.user_attrs["error"]


def test_pruning_stops_a_bad_trial_from_its_per_epoch_validation_metrics(images, tiny, tmp_path):
    """Two good trials run in full and report every epoch; a third whose learning rate cannot learn is pruned
    right after the warm-up epochs, keeping the history and checkpoint of the epochs it ran."""
    workdir = tmp_path / "search"
    config = search_config(tiny, images, max_trials=3, pruning=True, pruning_warmup_epochs=2)
    config.num_epochs = 4
    config.search.space.learning_rate.update(dict(low=1e-9, high=1e-2))
    os.makedirs(workdir)
    study = search.open_study(config, str(workdir))
    good = {"hidden.num_layers": 1, "hidden.units_0": 32, "dropout": 0.1, "learning_rate": 1e-2}
    for params in (good, good, {**good, "learning_rate": 1e-9}):
        study.enqueue_trial(params)
    best = experiment.run(config, str(workdir))
    trials = search.open_study(config, str(workdir)).trials
    assert [t.state.name for t in trials] == ["COMPLETE", "COMPLETE", "PRUNED"]
    assert sorted(trials[0].intermediate_values) == [1, 2, 3, 4]
    assert trials[2].user_attrs["pruned_at"] == {"execution": 0, "epoch": 2}
    assert max(trials[2].intermediate_values.values()) < trials[0].intermediate_values[2]
    pruned = workdir / "trial_002"
    assert [int(row["epoch"]) for row in report.read_history(str(pruned / "history.csv"))] == [1, 2]
    assert (pruned / "checkpoints").exists() and not (pruned / "summary.json").exists()
    assert "1 pruned" in (workdir / "results.md").read_text() and best["trial"] in (0, 1)


def test_bad_space_is_a_clear_error(images, tiny, tmp_path):
    config = search_config(tiny, images)
    config.search.space.dropout.type = "uniform"
    with pytest.raises(errors.Error, match="search parameter 'dropout' has type 'uniform'"):
        experiment.run(config, str(tmp_path / "search"))


# ----------------------------------------------------------------------------------------------------------------
# Comparison report.

def fake_run(path, accuracies, summary=True, params=1000, data="mnist", task="classification", **config):
    """A run directory as experiment.run leaves it: config.json (data, task, model + dotted `config` keys),
    history.csv and (when `summary`) summary.json."""
    os.makedirs(path, exist_ok=True)
    settings = {"task": task, "data": {"name": data, "path": "", "data_dir": str(path)},
                "model": {"name": "mlp", "hidden": [64]}, "optimizer": {"learning_rate": 0.01}}
    for key, value in config.items():
        section, leaf = key.split("__")
        settings[section][leaf] = value
    with open(path / "config.json", "w") as f:
        json.dump(settings, f)
    if accuracies:
        with open(path / "history.csv", "w") as f:
            f.write("epoch,loss,accuracy,val_loss,val_accuracy\n")
            f.writelines(f"{epoch},{1 - acc},{acc},{1.1 - acc},{acc}\n" for epoch, acc in enumerate(accuracies, 1))
    if summary:
        with open(path / "summary.json", "w") as f:
            json.dump({"test_accuracy": max(accuracies) - 0.01, "test_loss": 0.5, "num_params": params,
                       "wall_seconds_this_session": 12.5, "best_epoch": 2, "config": settings}, f)


def report_lines(text, *names):
    return {name: line for line in text.splitlines() for name in names
            if line.startswith((f"| {name} |", f"| **{name}** "))}


def test_comparison_table_marks_winner_and_failed_runs(tmp_path):
    fake_run(tmp_path / "small", [0.5, 0.7, 0.6], params=1000)
    fake_run(tmp_path / "large", [0.6, 0.8, 0.75], params=250000, model__hidden=[512])
    fake_run(tmp_path / "stopped", [0.9], summary=False)      # killed after one epoch: no summary.json
    fake_run(tmp_path / "crashed", [], summary=False)
    output = tmp_path / "report" / "comparison.md"
    code = compare.main([str(tmp_path / name) for name in ("small", "large", "stopped", "crashed")]
                        + ["--output", str(output)])
    assert code == 0
    text = output.read_text()
    lines = report_lines(text, "small", "large", "stopped", "crashed")
    assert "| run | data | task | model | status | test_accuracy | test_loss | best val_accuracy | best epoch |" in text
    assert ("**large** (winner) | mnist | classification | mlp (model.hidden=512) | finished | 0.7900 | 0.5000 | "
            "0.8000 | 2 | 3 | ≥ 12.5 | 250,000 |") in lines["large"]
    assert "| small | mnist | classification | mlp (model.hidden=64) |" in lines["small"]
    assert "| incomplete (1 epochs) |" in lines["stopped"] and "(winner)" not in lines["stopped"]
    assert "| failed (no history) | — |" in lines["crashed"]
    assert "Winner by best val_accuracy: **large**." in text
    assert "≥: no sessions.jsonl" in text   # the wall time of the last session only is marked as such
    assert (tmp_path / "report" / "comparison_curves.png").stat().st_size > 0
    compare.compare([str(tmp_path / "small"), str(tmp_path / "large")], str(tmp_path / "by_loss.md"), by="val_loss")
    assert "Winner by best val_loss: **large**." in (tmp_path / "by_loss.md").read_text()


def test_comparison_writes_beside_the_first_run_by_default(tmp_path, monkeypatch):
    fake_run(tmp_path / "runs" / "a", [0.5, 0.6])
    fake_run(tmp_path / "other" / "b", [0.7])
    os.makedirs(tmp_path / "cwd")
    monkeypatch.chdir(tmp_path / "cwd")
    assert compare.main([str(tmp_path / "runs" / "a"), "../other/b/"]) == 0
    assert (tmp_path / "runs" / "compare_a_b.md").exists() and (tmp_path / "runs" / "compare_a_b_curves.png").exists()
    assert os.listdir(tmp_path / "cwd") == []


def test_comparison_names_a_winner_only_within_one_dataset_and_task(tmp_path):
    fake_run(tmp_path / "mnist_a", [0.6, 0.9])
    fake_run(tmp_path / "mnist_b", [0.7, 0.8], optimizer__learning_rate=0.1)
    fake_run(tmp_path / "fashion", [0.95], data="fashion_mnist")          # the best number, on another dataset
    fake_run(tmp_path / "rating", [0.97], data="csv", task="regression", data__path="/data/movies.csv",
             data__target="imdb_score")
    text = compare.compare([str(tmp_path / name) for name in ("mnist_a", "mnist_b", "fashion", "rating")],
                           str(tmp_path / "mixed.md"))
    lines = report_lines(text, "mnist_a", "mnist_b", "fashion", "rating")
    assert "| **mnist_a** (winner) | mnist | classification | mlp (optimizer.learning_rate=0.01) |" in lines["mnist_a"]
    assert "| mnist_b | mnist | classification | mlp (optimizer.learning_rate=0.1) |" in lines["mnist_b"]
    assert "| **fashion** (winner) | fashion_mnist | classification | mlp |" in lines["fashion"]
    assert "| **rating** (winner) | csv movies.csv → imdb_score | regression | mlp |" in lines["rating"]
    assert "The runs span 3 datasets or tasks" in text and "not one overall" in text
    assert "- mnist, classification: winner by best val_accuracy **mnist_a**." in text
    assert "Winner by best" not in text


def test_comparison_sums_wall_time_over_sessions(tmp_path):
    fake_run(tmp_path / "resumed", [0.5, 0.6])
    with open(tmp_path / "resumed" / "sessions.jsonl", "w") as f:
        f.writelines(json.dumps(entry) + "\n" for entry in (
            {"event": "start", "time": 1}, {"event": "end", "wall_seconds": 100.0},
            {"event": "start", "time": 2}, {"event": "end", "wall_seconds": 20.5}, {"event": "start", "time": 3}))
        f.write('{"event": "end", "wall_sec')                   # a line cut short
    fake_run(tmp_path / "total", [0.5])
    summary = json.loads((tmp_path / "total" / "summary.json").read_text())
    (tmp_path / "total" / "summary.json").write_text(json.dumps({**summary, "wall_seconds_total": 40.0}))
    (tmp_path / "total" / "sessions.jsonl").write_text('{"event": "start"}\n')   # killed: no end line
    text = compare.compare([str(tmp_path / "resumed"), str(tmp_path / "total")], str(tmp_path / "wall.md"))
    lines = report_lines(text, "resumed", "total")
    assert "| 120.5 | 1,000 |" in lines["resumed"] and "| 40.0 | 1,000 |" in lines["total"]
    assert "≥" not in text


def test_comparison_of_missing_directory_is_an_error(tmp_path, capsys):
    assert compare.main([str(tmp_path / "nope"), "--output", str(tmp_path / "r.md")]) == 1
    assert "1 of the run directories do not exist" in capsys.readouterr().err


def batched_search_config(tiny, images, **overrides):
    """A space that keeps the shapes (dropout, learning rate), 2 epochs, no per-run host decisions."""
    config = search_config(tiny, images, **{"max_trials": 4, "executions_per_trial": 1, **overrides})
    del config.search.space["hidden"]
    config.model.hidden = (16,)
    config.num_epochs = 2
    config.restore_best = False
    config.data.split_seed = 0   # every execution on one split (a batch's lanes share it)
    return config


def test_batched_search_trains_the_trials_each_batch_as_one_program_with_the_same_results(images, tiny, tmp_path):
    """search.batch_size = 2: the random sampler asks the same trials; each trial (2 executions) scores as when it
    trains alone."""
    alone = experiment.run(batched_search_config(tiny, images, executions_per_trial=2), str(tmp_path / "alone"))
    batched = experiment.run(batched_search_config(tiny, images, batch_size=2, executions_per_trial=2),
                             str(tmp_path / "batched"))
    assert sorted(p for p in os.listdir(tmp_path / "batched") if p.startswith("batch_")) == ["batch_000-001",
                                                                                              "batch_002-003"]
    with open(tmp_path / "alone" / "trial_000" / "exec_0" / "data_info.json") as f:
        trial_data = json.load(f)
    for batch in ("batch_000-001", "batch_002-003"):   # what a resumed batch is checked against (rundir)
        with open(tmp_path / "batched" / batch / "data_info.json") as f:
            assert json.load(f) == trial_data
    rows = {}
    for name in ("alone", "batched"):
        with open(tmp_path / name / "trials.csv", newline="") as f:
            rows[name] = list(csv.DictReader(f))
    assert len(rows["batched"]) == 4 and {row["state"] for row in rows["batched"]} == {"COMPLETE"}
    for a, b in zip(rows["alone"], rows["batched"]):
        assert a["params_learning_rate"] == b["params_learning_rate"] and a["params_dropout"] == b["params_dropout"]
        assert float(b["value"]) == pytest.approx(float(a["value"]), abs=1e-6)
    assert batched["trial"] == alone["trial"] and batched["value"] == pytest.approx(alone["value"], abs=1e-6)


def test_batched_search_refuses_shape_keys_and_prunes_within_a_batch(images, tiny, tmp_path):
    with pytest.raises(errors.Error, match="model.hidden change shapes or host decisions"):
        experiment.run(search_config(tiny, images, batch_size=2, restore_best=False), str(tmp_path / "shapes"))
    config = batched_search_config(tiny, images, batch_size=2, executions_per_trial=2)
    config.data.split_seed = -1
    with pytest.raises(errors.Error, match="draws its split from each run's seed: set --config.data.split_seed"):
        experiment.run(config, str(tmp_path / "split"))
    config = batched_search_config(tiny, images, batch_size=2, executions_per_trial=2, pruning=True,
                                   pruning_startup_trials=1, pruning_warmup_epochs=0, max_trials=6)
    config.num_epochs = 3
    best = experiment.run(config, str(tmp_path / "pruned"))
    with open(tmp_path / "pruned" / "trials.csv", newline="") as f:
        states = [row["state"] for row in csv.DictReader(f)]
    assert len(states) == 6 and {"COMPLETE", "PRUNED"} <= set(states)   # trial 2 is pruned within batch 2
    assert len(best["execution_scores"]) == 2
