"""benchmarks/: the Keras twins are the same nets as the jaxlab configs they are timed against, and README sections
are replaced in place. Nothing here is timed (benchmarks/run.py --quick checks the suite end to end)."""
import os
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest

sys.path.append(os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "benchmarks"))

import keras_models  # noqa: E402
import readme  # noqa: E402
import run  # noqa: E402

from jaxlab import models  # noqa: E402
from jaxlab.models import vgg  # noqa: E402


@pytest.mark.parametrize("name", sorted(run.BENCHES))
def test_keras_twin_has_the_jaxlab_configs_parameters(name):
    """Same parameter count (Keras' BatchNorm moving statistics = flax's batch_stats) for every suite model."""
    bench = run.BENCHES[name]
    config = run.get_config(bench)
    inputs, _ = run.make_data(bench, 2)
    outputs = 1 if config.task == "binary" else bench.num_classes
    model = models.build(config.model, outputs, info=run.fitted(bench, inputs))
    shapes = jax.eval_shape(lambda x: model.init(jax.random.PRNGKey(0), x, train=False), jnp.asarray(inputs))
    jaxlab_count = sum(int(np.prod(leaf.shape)) for leaf in jax.tree.leaves(shapes))
    assert bench.keras(config).count_params() == jaxlab_count
    assert keras_models.VGG16 == vgg.VGG16


def test_bow_counts_match_jaxlab_word_counts():
    from jaxlab.ops import bag as bag_ops
    ids = np.array([[5, 3, 5, 0, 0], [2, 2, 2, 9, 1]], np.int32)
    idf = np.linspace(1.0, 3.0, 10, dtype=np.float32)  # used by tfidf only
    for counts in bag_ops.COUNTS:
        np.testing.assert_allclose(keras_models.bow_counts(ids, 10, counts, idf),
                                   np.asarray(bag_ops.word_counts(jnp.asarray(ids), 10, counts, idf)), rtol=1e-6)


def test_write_section_replaces_in_place_or_appends(tmp_path):
    path = tmp_path / "README.md"
    path.write_text("# Benchmarks\n\n## A (x)\n\nold a\n\n## B\n\nold b\n")
    readme.write_section("A (x)", "new a\n", str(path))
    readme.write_section("B", "new b", str(path))
    readme.write_section("C", "c", str(path))
    assert path.read_text() == "# Benchmarks\n\n## A (x)\n\nnew a\n\n## B\n\nnew b\n\n## C\n\nc\n"


def test_accelerator_dry_run_writes_every_stage(tmp_path):
    """benchmarks/accelerator.py --dry_run (the prepared GPU command at toy sizes, mock data, 8 fake CPU devices):
    every stage finishes and results.json / results.md carry each stage's figures; the output folder stays the
    three files the device tool can bring back."""
    import json

    import accelerator  # benchmarks/
    output = tmp_path / "out"
    assert accelerator.main(["--dry_run", "--output_dir", str(output), "--runs_dir", str(tmp_path / "runs")]) == 0
    with open(output / "results.json") as f:
        results = json.load(f)
    assert results["dry_run"] and results["environment"]["device_count"] == jax.device_count()
    stages = results["stages"]
    assert list(stages) == ["tests"] + [stage.name for stage in accelerator.STAGES] + [accelerator.SWEEP_STAGE]
    assert stages["tests"]["status"] == "passed" and stages["tests"]["counts"] == {"passed": 1}
    for stage in accelerator.STAGES:
        record = stages[stage.name]
        assert record["status"] == "done", record
        assert record["images_per_second"] > 0 and record["step_time_ms"] > 0 and record["flops_per_step"] > 0
        assert record["mfu"] is None and "peak" in record["mfu_note"]  # no bf16 peak for a CPU
        assert set(record["time_to_accuracy"]) == {f"{target:.3f}" for target in stage.targets}
        assert [row["epoch"] for row in record["timeline"]] == [1, 2] and record["final"]["epochs_run"] == 2
        assert record["schedule"]["num_epochs"] == 2 and record["schedule_note"]
        assert 0.0 <= record["final"]["top1"] <= 1.0
    vgg = stages["vgg16_bf16"]  # XLA's count of one device's step is of the order of 3 × forward × batch / devices
    assert 0.7 < vgg["flops_per_step"] / vgg["analytic_flops_per_step"] < 1.4
    sweep = stages[accelerator.SWEEP_STAGE]   # 8 learning rates as one program at the dry run's toy sizes
    assert sweep["status"] == "done" and sweep["lanes"] == 8 and sweep["num_programs"] == 1, sweep
    assert 0.0 <= sweep["best_val_accuracy"] <= 1.0 and sweep["sweep_seconds"] > 0
    assert (output / "results.md").read_text().count("| done |") == len(accelerator.STAGES) + 1
    assert f"- {accelerator.SWEEP_STAGE}: 8 lanes × 2 epochs" in (output / "results.md").read_text()
    assert sorted(os.listdir(output)) == ["results.json", "results.md", "tests.txt"]
