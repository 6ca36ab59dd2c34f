"""One prepared command for an accelerator: CIFAR-100 VGG16-BN time-to-accuracy, throughput and MFU, then the
float32 recipe's throughput, AlexNet and the tuned MNIST CNN, all inside one wall-clock budget.

    python benchmarks/accelerator.py                                         # on the GPU / TPU machine
    python benchmarks/accelerator.py --output_dir $OUT/acc --data_dir /path/to/tensorflow_datasets --budget_s 480
    python benchmarks/accelerator.py --dry_run --output_dir /tmp/acc_dry     # every stage at toy sizes, CPU, mock data

It installs nothing: it prints the install line it expects (`pip install -U "jax[cuda12]==<the jax installed
here, the version CI tested>"`) and, without --dry_run, stops with one line when jax has only its CPU backend, a
package jaxlab needs is missing, or CIFAR-100 is not prepared in the tfds data_dir. Stages, in order; each starts
with its weight's share of the budget then left (`TESTS_WEIGHT`, `STAGES`), so time one leaves goes to the next:

  environment      device kind and count, jax / jaxlib versions, the install line
  tests            the accelerator-relevant tests (`DEVICE_TESTS`: bf16, pmap = jit, exact evaluation, the real
                   architectures) as a pytest subprocess with a timeout: each test's outcome, the seconds
  vgg16_bf16       configs/cifar_vgg.py:bf16 toward ≥ 74 % top-1: time to 70 % / 74 %, final top-1 / top-5,
                   images/s, step time, MFU
  vgg16_f32        configs/cifar_vgg.py (float32): images/s, step time and MFU of a 3-epoch run
  alexnet_bf16     configs/cifar_alexnet.py:bf16 toward ≥ 55 % top-1
  mnist_cnn_tuned  configs/mnist_cnn.py:tuned toward ≥ 99.4 % (its 15 epochs fit easily)
  sweep_mnist_k64  configs/mnist_mlp.py:sweep widened to 64 learning rates (0.01–3, log grid) × 3 epochs as one
                   vmapped program (jaxlab/sweep.py): wall seconds, lanes per program, the best lane. (The issue's
                   batched Simpsons search is not a stage: the image folder is not a tfds dataset on the device.)

Every training stage is jaxlab itself: the config's `get_config`, `experiment.build`, a probe through
`programs.setup` (XLA's cost analysis of the compiled one-step train program = FLOPs per step; a few timed steps =
the images/s that size the schedule), then `experiment.run_once` (`train.fit`) with the test split as its
per-epoch evaluation (`evaluated_on_test`). When the recipe's epochs do not fit in the stage's share, the stage
runs the recipe with fewer epochs (the cosine schedule then spans the epochs it runs), prints which, and records
it under "schedule". MFU = FLOPs per step ÷ step time ÷ the device's dense bf16 peak (`PEAK_BF16_TFLOPS`, or
--peak_tflops; None with a note for another device).

Writes into --output_dir after every stage and every epoch, so a run cut short keeps what it finished:
results.json (per stage: status, images_per_second, step_time_ms, flops_per_step, mfu, time_to_accuracy, final,
schedule, timeline of test accuracy by epoch and second), results.md (one table) and tests.txt (pytest's output).
The runs' own workdirs (history.csv, summary.json, plots; checkpoints removed) go to --runs_dir, outside it, so
the output folder stays three files (what the device tool brings back: at most 8 files).
"""
import argparse
import collections
import contextlib
import dataclasses
import datetime
import importlib
import io
import importlib.metadata
import importlib.util
import json
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from xml.etree import ElementTree

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)  # configs/, jaxlab/

# Dense bf16 peaks (vendor datasheets, TFLOP/s); the first name found in the lower-cased device_kind wins.
PEAK_BF16_TFLOPS = (
    ("h200", 989.0), ("h100 pcie", 756.0), ("h100", 989.0), ("a100", 312.0),
    ("tpu v4", 275.0), ("v5 lite", 197.0), ("v5e", 197.0), ("v5p", 459.0), ("tpu v5", 459.0),
    ("v6 lite", 918.0), ("v6e", 918.0),
)
# The tests that say something about an accelerator: bf16 steps, pmap = jit, exact (masked) evaluation, the real
# VGG16 / AlexNet shapes, donation. Those that ask for more devices than the machine has fail at once with
# "... devices are visible" and are counted apart ("needs more devices"): tests/conftest.py's 8 fake devices are
# CPU devices, and on a GPU machine jax's default devices are the GPUs.
DEVICE_TESTS = (
    "tests/test_bf16.py::test_bfloat16_train_steps_stay_finite",
    "tests/test_bf16.py::test_bag_sums_in_float32_and_its_gradient_matches_autodiff",
    "tests/test_vision_cifar.py::test_config_end_to_end",
    "tests/test_vision_cifar.py::test_pmap_and_jit_agree_with_batchnorm",
    "tests/test_vision_cifar.py::test_real_architecture_shapes_and_sizes",
    "tests/test_parallel.py::test_same_parameters_as_pmap_on_8_devices",
    "tests/test_parallel.py::test_masked_evaluation_counts_each_example_once",
    "tests/test_steps.py::test_train_step_donates_the_state",
)
# --dry_run: pytest's plumbing (subprocess, junit, counts) on one generated test, without the suite's seconds of
# TensorFlow and jaxlab imports.
DRY_RUN_TEST = "def test_pytest_runs_in_a_subprocess():\n    assert True\n"
TEST_WORKERS = 4               # xdist processes on the device machine (16 cores; compiling is most of a test's time)
REQUIRED_MODULES = ("flax", "optax", "orbax", "clu", "ml_collections", "tensorflow", "tensorflow_datasets")
NEEDS_MORE_DEVICES = "devices are visible"   # jaxlab.parallel.devices_for's message

# --dry_run models: one convolution each (XLA:CPU compiles a program for seconds per convolution), the same layers.
VGG_TOY = (("model.layers", (8, "M")), ("model.dense", (8,)))
ALEXNET_TOY = (("model.filters", (8,)), ("model.kernels", (3,)), ("model.dense", (8,)))
MNIST_CNN_TOY = (("model.layers", ("conv8", "bn", "pool", "flatten", "dense8", "bn", "dropout0.3")),)
# One step per epoch (86 of the 96 mock training rows; batches divide by 8 fake devices): fit's one-step dispatch is
# then the probe's program, read back from the compilation cache.
DRY_RUN_SIZES = {"batch_size": 80, "eval_batch_size": 48, "num_epochs": 2}
DRY_RUN_EXAMPLES = 96          # mock examples per split
TESTS_WEIGHT = 0.12
SWEEP_STAGE, SWEEP_WEIGHT, SWEEP_LANES, SWEEP_EPOCHS = "sweep_mnist_k64", 0.06, 64, 3
MIN_STAGE_SECONDS = 20.0       # a training stage with less left is skipped (not in a dry run)
EPOCH_HOST_SECONDS = 0.5       # per epoch besides the steps: history, summaries, the evaluation's dispatch
RUN_OVERHEAD_SECONDS = 15.0    # per run: device placement, final test pass, checkpoint, summary and plots
SAFETY = 0.9                   # the share of the estimated seconds an epoch plan may fill


@dataclasses.dataclass(frozen=True)
class Stage:
    name: str
    config: str                       # NAME[:variant] of configs/NAME.py
    weight: float                     # share of the budget left when it starts, against the stages after it
    targets: tuple[float, ...] = ()   # test top-1 accuracies whose time is measured
    max_epochs: int = 0               # 0: the recipe's epochs (fewer when they do not fit)
    toy: tuple = ()                   # --dry_run: dotted overrides that shrink the model


STAGES = (
    Stage("vgg16_bf16", "cifar_vgg:bf16", 0.55, (0.70, 0.74), toy=VGG_TOY),
    Stage("vgg16_f32", "cifar_vgg", 0.10, max_epochs=3, toy=VGG_TOY),
    Stage("alexnet_bf16", "cifar_alexnet:bf16", 0.12, (0.50, 0.55), toy=ALEXNET_TOY),
    Stage("mnist_cnn_tuned", "mnist_cnn:tuned", 0.11, (0.994,), toy=MNIST_CNN_TOY),
)


class BudgetSpent(Exception):
    """Raised between epochs when the next epoch would end after the stage's deadline."""


# ----------------------------------------------------------------------------------------------------------------
# Environment and checks.

def install_line() -> str:
    return f'pip install -U "jax[cuda12]=={importlib.metadata.version("jax")}"'


def peak_flops(device_kind: str, override_tflops: float) -> float | None:
    if override_tflops:
        return override_tflops * 1e12
    kind = device_kind.lower()
    return next((tflops * 1e12 for name, tflops in PEAK_BF16_TFLOPS if name in kind), None)


def environment(args) -> dict:
    import jax
    devices = jax.devices()
    memory = None
    with contextlib.suppress(Exception):
        memory = (devices[0].memory_stats() or {}).get("bytes_limit")
    return {"backend": jax.default_backend(), "device_kind": devices[0].device_kind, "device_count": len(devices),
            "jax": importlib.metadata.version("jax"), "jaxlib": importlib.metadata.version("jaxlib"),
            "python": platform.python_version(), "cpu_count": os.cpu_count(), "device_memory_bytes": memory,
            "peak_bf16_flops": peak_flops(devices[0].device_kind, args.peak_tflops), "install_line": install_line()}


def missing_modules() -> list[str]:
    return [name for name in REQUIRED_MODULES if importlib.util.find_spec(name) is None]


def tfds_data_dir(flag: str) -> str:
    """--data_dir, else $TFDS_DATA_DIR, else a shared/data/tfds of this checkout or of the project's machines."""
    if flag or os.environ.get("TFDS_DATA_DIR"):
        return flag or os.environ["TFDS_DATA_DIR"]
    candidates = (os.path.join(ROOT, "shared", "data", "tfds"), os.path.join(os.path.dirname(ROOT), "shared", "data",
                                                                             "tfds"))
    return next((path for path in candidates if os.path.isdir(path)), os.path.expanduser("~/tensorflow_datasets"))


def unprepared(names, data_dir: str) -> list[str]:
    import tensorflow_datasets as tfds
    return [name for name in names if not tfds.builder(name, data_dir=data_dir).is_prepared()]


def stop_line(env: dict, args) -> str | None:
    """The one line that stops the command before any stage, or None."""
    if args.dry_run:
        return None
    if env["backend"] == "cpu":
        return (f"no accelerator: jax {env['jax']} has only its CPU backend here; install the accelerator build "
                f"first: {env['install_line']}  (or pass --dry_run)")
    missing = missing_modules()
    if missing:
        return (f"missing Python packages {', '.join(missing)} (requirements.txt): install or carry them first "
                "(benchmarks/README.md, 'Accelerator run')")
    absent = unprepared(("cifar100",), args.data_dir)
    if absent:
        return (f"{', '.join(absent)} is not prepared in the tfds data_dir {args.data_dir}: pass --data_dir (a "
                "folder holding cifar100/3.0.2 and mnist/3.0.1) or set TFDS_DATA_DIR")
    return None


# ----------------------------------------------------------------------------------------------------------------
# Results: results.json and results.md, rewritten whenever something is recorded.

class Results:
    def __init__(self, output_dir: str, header: dict):
        self.output_dir = output_dir
        self.data = {**header, "stages": {}}

    def stage(self, name: str, **fields) -> dict:
        self.data["stages"][name] = {"status": "running", **fields}
        self.write()
        return self.data["stages"][name]

    def write(self) -> None:
        from jaxlab import jsonfile
        jsonfile.write_json(os.path.join(self.output_dir, "results.json"), self.data)
        path = os.path.join(self.output_dir, "results.md")
        with open(path + ".tmp", "w") as f:
            f.write(markdown(self.data))
        os.replace(path + ".tmp", path)


def cell(value, spec: str = "") -> str:
    return "—" if value is None else format(value, spec)


def accuracy_cell(times: dict) -> str:
    return "; ".join(f"{float(target):.1%}: " + (f"{hit['seconds']:.0f} s (epoch {hit['epoch']})" if hit else "—")
                     for target, hit in (times or {}).items()) or "—"


def stage_row(name: str, stage: dict) -> str:
    final = stage.get("final") or {}
    top = f"{cell(final.get('top1'), '.4f')} / {cell(final.get('top5'), '.4f')}" if final else "—"
    schedule = stage.get("schedule") or {}
    epochs = f"{schedule.get('num_epochs', '—')} ({schedule.get('recipe_epochs', '—')})"
    mfu = cell(stage.get("mfu") and 100 * stage["mfu"], ".1f") + (" %" if stage.get("mfu") else "")
    speeds = f"{cell(stage.get('images_per_second'), ',.0f')} | {cell(stage.get('step_time_ms'), '.2f')} | {mfu}"
    times = accuracy_cell(stage.get("time_to_accuracy"))
    return (f"| {name} | `{stage.get('config', '')}` | {stage['status']} | {speeds} | {times} | {top} | {epochs} | "
            f"{cell(stage.get('seconds'), '.0f')} |")


def tests_line(tests: dict | None) -> str:
    if not tests:
        return "Tests: not run."
    counts = ", ".join(f"{count} {outcome}" for outcome, count in (tests.get("counts") or {}).items()) or "no counts"
    return f"Tests on the device: {tests['status']} ({counts}; {cell(tests.get('seconds'), '.0f')} s)."


def markdown(data: dict) -> str:
    env = data["environment"]
    lines = [f"# jaxlab on {env['device_kind']} × {env['device_count']} — {data['started']}", "",
             f"jax {env['jax']}, jaxlib {env['jaxlib']}, backend {env['backend']}; budget {data['budget_s']:.0f} s"
             f"{'; DRY RUN (toy sizes, mock data)' if data['dry_run'] else ''}. Command: `{data['command']}`", "",
             tests_line(data["stages"].get("tests")), "",
             "| stage | config | status | images/s | step (ms) | MFU | time to test top-1 | final top-1 / top-5 "
             "| epochs (recipe) | seconds |", "|---|---|---|---|---|---|---|---|---|---|"]
    notes = []
    for name, stage in data["stages"].items():
        if name == "tests":
            continue
        lines.append(stage_row(name, stage))
        notes += [f"- {name}: {stage[key]}" for key in ("schedule_note", "mfu_note", "sweep_note") if stage.get(key)]
    return "\n".join(lines + ([""] + notes if notes else [])) + "\n"


# ----------------------------------------------------------------------------------------------------------------
# The tests stage.

def test_outcomes(junit_path: str) -> list[dict]:
    """One {test, outcome, message} per test case of a pytest junit file."""
    outcomes = []
    for case in ElementTree.parse(junit_path).getroot().iter("testcase"):
        outcome, message = "passed", ""
        for child in case:
            text = child.get("message") or ""
            if child.tag in ("failure", "error"):
                outcome = "needs more devices" if NEEDS_MORE_DEVICES in text else "failed"
            elif child.tag == "skipped":
                outcome = "skipped"
            message = (text.splitlines() or [""])[0][:300]
        outcomes.append({"test": f"{case.get('classname')}::{case.get('name')}", "outcome": outcome,
                         "message": message})
    return outcomes


def progress_outcomes(output: str) -> list[dict]:
    """The outcomes pytest -v printed before it was stopped (no junit file then): "tests/x.py::name PASSED", or
    under xdist "[gw0] [ 10%] PASSED tests/x.py::name"."""
    words = {"PASSED": "passed", "FAILED": "failed", "ERROR": "failed", "SKIPPED": "skipped"}
    found = {}
    for line in output.splitlines():
        match = re.search(r"(\S+::\S+) (PASSED|FAILED|ERROR|SKIPPED)|(PASSED|FAILED|ERROR|SKIPPED) (\S+::\S+)", line)
        if match:
            test, word = (match.group(1), match.group(2)) if match.group(1) else (match.group(4), match.group(3))
            found[test] = {"test": test, "outcome": words[word], "message": ""}
    return list(found.values())


def run_tests(selection, timeout_s: float, workers: int, junit_path: str, log_path: str) -> dict:
    """pytest on `selection` in a subprocess, over `workers` xdist processes when there are any (each one's GPU
    memory grows on demand: this process holds most of it)."""
    parallel = ["-n", str(workers)] if workers and importlib.util.find_spec("xdist") else []
    command = [sys.executable, "-m", "pytest", "-v", "-p", "no:cacheprovider", *parallel, f"--junitxml={junit_path}",
               *selection]
    env = dict(os.environ, XLA_PYTHON_CLIENT_PREALLOCATE="false", PYTHONPATH=ROOT)
    started = time.perf_counter()
    # Its own process group, so that a timeout ends the xdist workers with it.
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True, process_group=0)
    try:
        output, _ = process.communicate(timeout=timeout_s)
        exit_code, timed_out = process.returncode, False
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        output, _ = process.communicate()
        exit_code, timed_out = None, True
    seconds = time.perf_counter() - started
    with open(log_path, "w") as f:
        f.write(" ".join(command) + "\n\n" + output)
    outcomes = test_outcomes(junit_path) if os.path.exists(junit_path) else progress_outcomes(output)
    counts = dict(collections.Counter(item["outcome"] for item in outcomes))
    return {"status": tests_status(exit_code, timed_out, counts, timeout_s), "seconds": round(seconds, 1),
            "timeout_s": round(timeout_s), "selection": list(selection), "workers": workers, "counts": counts,
            "not_passed": [item for item in outcomes if item["outcome"] != "passed"],
            "last_line": (output.strip().splitlines() or [""])[-1][:300]}


def tests_status(exit_code, timed_out: bool, counts: dict, timeout_s: float) -> str:
    if timed_out:
        return f"timed out after {timeout_s:.0f} s"
    if exit_code == 0:
        return "passed"
    if counts and not counts.get("failed") and counts.get("needs more devices"):
        return "passed (except tests that need more devices)"
    return f"failed (pytest exit {exit_code})"


# ----------------------------------------------------------------------------------------------------------------
# Training stages.

def apply_overrides(config, overrides: dict) -> None:
    """Dotted keys (``{"model.layers": (8, "M")}``) set on a config, as ``--config.model.layers`` would."""
    for key, value in overrides.items():
        *parents, leaf = key.split(".")
        target = config
        for parent in parents:
            target = target[parent]
        target[leaf] = value


def stage_config(stage: Stage, args):
    """The stage's config (the recipe), with the settings that change how a run is dispatched and saved, not
    what it learns: --parallelism, no confusion analysis, one checkpoint at the end, --data_dir."""
    module, _, variant = stage.config.partition(":")
    config = importlib.import_module(f"configs.{module}").get_config(variant or "default")
    config.parallelism = args.parallelism
    config.analyses = ()
    config.checkpoint.every_epochs = 0
    config.data.data_dir = args.data_dir
    if args.dry_run:
        apply_overrides(config, {**DRY_RUN_SIZES, **dict(stage.toy)})
    if config.restore_best or config.early_stopping.patience or config.reduce_on_plateau.patience:
        raise ValueError(f"{stage.config} selects on its validation metric: the test split cannot stand in for it")
    return config


_SPLITS = {}  # data config → splits: the three CIFAR stages read CIFAR-100 once


def build(config):
    """`experiment.build`'s splits and model (the splits of a data config read once per command)."""
    from jaxlab import experiment, models, parallel, settings
    key = json.dumps([settings.to_dict(config.data), config.seed, config.task], sort_keys=True)
    if key not in _SPLITS:
        _SPLITS[key] = experiment.build(config)[0]
    splits = _SPLITS[key]
    model = models.build(config.model, splits.info["num_outputs"], parallel.axis_name(config.parallelism),
                         splits.info)
    return splits, model


@contextlib.contextmanager
def evaluated_on_test(splits, model):
    """`single.run_once` gets these splits with the test split as its validation split, so that `train.fit`'s
    exact per-epoch evaluation measures test accuracy. Training keeps the recipe's 45,000 images (the 5,000
    held-out ones go unused) and nothing is selected on the test split: `stage_config` refuses configs that
    restore the best epoch, stop early or reduce on plateau."""
    from jaxlab import single
    original = single.build
    single.build = lambda config, share=None: (dataclasses.replace(splits, validation=splits.test), model)
    try:
        yield
    finally:
        single.build = original


def xla_cost(compiled) -> dict:
    """FLOPs and bytes of one compiled program (per device) from XLA's cost analysis: a dict, or in older jax a
    list of one dict per program."""
    analysis = compiled.cost_analysis()
    if isinstance(analysis, (list, tuple)):
        analysis = analysis[0] if analysis else {}
    analysis = analysis or {}
    flops = float(analysis.get("flops", 0.0) or 0.0)
    return {"flops_per_step": flops if flops > 0 else None, "bytes_accessed_per_step": analysis.get("bytes accessed")}


def probe(config, splits, model, workdir: str, timed_steps: int) -> dict:
    """jaxlab's train program (`programs.setup`'s `train_fn`) compiled for one step: its XLA cost analysis, the
    compile seconds, and images/s over `timed_steps` dispatches of it after two warm-up ones."""
    import jax

    from jaxlab import data, parallel, programs, shards
    s = programs.setup(config, workdir, splits, model)
    try:
        order = shards.device_epoch_order(config.seed, 1, data.num_rows(splits, "train"), config.batch_size,
                                          len(s.devices), s.layout)
        batch_data, rows = programs.inputs(s, "train", order[:, :1])
        totals = parallel.replicate(s.metrics_cls.empty(), s.mode, s.devices)  # the arguments `train.fit` passes
        started = time.perf_counter()
        compiled = s.train_fn.lower(s.state, batch_data, rows, s.rng, totals).compile()
        compile_seconds = time.perf_counter() - started
        state = s.state
        for _ in range(2):
            state, _, losses = compiled(state, batch_data, rows, s.rng, totals)
        jax.block_until_ready(losses)
        started = time.perf_counter()
        for _ in range(timed_steps):
            state, _, losses = compiled(state, batch_data, rows, s.rng, totals)
        jax.block_until_ready((state, losses))
        seconds = time.perf_counter() - started
    finally:
        s.mngr.close()
    return {"compile_seconds": round(compile_seconds, 2), "timed_steps": timed_steps,
            "images_per_second": timed_steps * config.batch_size / seconds, **xla_cost(compiled)}


def plan_epochs(config, most: int, seconds: float, probed: dict, num_train: int, num_eval: int) -> dict:
    """The most epochs (at most `most`) whose estimated time fits in `seconds`: each epoch its training images at
    the probe's rate, the test pass (forward ≈ 1/3 of a step), host work; fit compiles two programs."""
    rate = probed["images_per_second"]
    epoch_seconds = num_train / rate + num_eval / (3 * rate) + EPOCH_HOST_SECONDS
    overhead = 2 * probed["compile_seconds"] + RUN_OVERHEAD_SECONDS
    fitting = int(max(0.0, seconds - overhead) * SAFETY / epoch_seconds)
    return {"recipe_epochs": config.num_epochs, "num_epochs": max(1, min(most, fitting)),
            "estimated_epoch_seconds": round(epoch_seconds, 2), "estimated_overhead_seconds": round(overhead, 1),
            "stage_seconds": round(seconds, 1), "full_recipe_estimated_seconds": round(
                overhead + config.num_epochs * epoch_seconds)}


def shorten(config, plan: dict, stage: Stage, recipe_epochs: int) -> str:
    """Sets the planned epochs on `config` (warm-up ≤ a tenth of them) and says what schedule the run uses."""
    optimizer = config.optimizer
    recipe_warmup = optimizer.warmup_epochs
    config.num_epochs = plan["num_epochs"]
    if plan["num_epochs"] < recipe_epochs:
        optimizer.warmup_epochs = min(recipe_warmup, plan["num_epochs"] / 10)
    plan.update(recipe_epochs=recipe_epochs, schedule=optimizer.schedule, warmup_epochs=optimizer.warmup_epochs,
                recipe_warmup_epochs=recipe_warmup, full_recipe=plan["num_epochs"] == recipe_epochs)
    if stage.max_epochs:
        return (f"a {plan['num_epochs']}-epoch throughput run of the recipe ({recipe_epochs} epochs); its schedule "
                "does not change the speed")
    if plan["full_recipe"]:
        return f"the full recipe: {recipe_epochs} epochs, {optimizer.schedule}, {recipe_warmup:g} warm-up"
    return (f"the recipe with {plan['num_epochs']} of its {recipe_epochs} epochs: {optimizer.schedule} over "
            f"{plan['num_epochs']} epochs, {optimizer.warmup_epochs:g} warm-up (recipe {recipe_warmup:g}); the full "
            f"recipe needs ≈ {plan['full_recipe_estimated_seconds']:.0f} s at the probe's rate, this stage had "
            f"{plan['stage_seconds']:.0f} s")


def timeline_row(row: dict, seconds: float) -> dict:
    return {"epoch": int(row["epoch"]), "seconds": round(seconds, 2), "test_top1": row.get("val_accuracy"),
            "test_top5": row.get("val_top5_accuracy"), "train_loss": row.get("loss"),
            "train_top1": row.get("accuracy")}


def time_to_accuracy(timeline: list[dict], targets) -> dict:
    """Per target, the first epoch whose test top-1 reached it and the seconds since the run started (compilation
    and the per-epoch test passes included), or None."""
    def first(target):
        hit = next((row for row in timeline if (row["test_top1"] or 0.0) >= target), None)
        return None if hit is None else {"epoch": hit["epoch"], "seconds": hit["seconds"]}
    return {f"{target:.3f}": first(target) for target in targets}


def train_run(config, splits, model, workdir: str, deadline: float, record: dict, results: Results,
              targets) -> dict | None:
    """`experiment.run_once` (the run's summary), each epoch's test accuracy recorded as it comes; stops between
    epochs (None) when the next one would end after `deadline`."""
    from jaxlab import experiment, settings
    settings.check(config)
    timeline = record.setdefault("timeline", [])
    started = time.perf_counter()

    def on_epoch(row):
        now = time.perf_counter()
        timeline.append(timeline_row(row, now - started))
        record["time_to_accuracy"] = time_to_accuracy(timeline, targets)
        results.write()
        last = timeline[-1]["seconds"] - (timeline[-2]["seconds"] if len(timeline) > 1 else 0.0)
        if row["epoch"] < config.num_epochs and now + last > deadline:
            raise BudgetSpent(f"stopped by the budget after epoch {int(row['epoch'])} of {config.num_epochs}")

    try:
        with evaluated_on_test(splits, model):
            return experiment.run_once(config, workdir, on_epoch=on_epoch)
    except BudgetSpent as exc:
        record["status"] = str(exc)
        return None


def speed(record: dict, config, probed: dict, env: dict, summary: dict | None, analytic: float | None) -> None:
    """images/s (fit's steady epochs, else the probe), step time, FLOPs and MFU into `record`."""
    rate = (summary or {}).get("examples_per_second")
    record["images_per_second_source"] = "fit: epochs after the first" if rate else "probe: one-step dispatches"
    rate = rate or probed["images_per_second"]
    step_seconds = config.batch_size / rate
    record.update(images_per_second=rate, step_time_ms=1000 * step_seconds, flops_per_step=probed["flops_per_step"],
                  peak_flops_per_second=env["peak_bf16_flops"], mfu=None, analytic_flops_per_step=analytic)
    if not probed["flops_per_step"]:
        record["mfu_note"] = "XLA's cost analysis gave no FLOP count"
    elif not env["peak_bf16_flops"]:
        record["mfu_note"] = f"no dense bf16 peak known for {env['device_kind']!r}: pass --peak_tflops"
    else:
        # The compiled program is one device's share of the step (batch / devices), so its FLOPs over the step time
        # against one device's peak.
        record["mfu"] = probed["flops_per_step"] / step_seconds / env["peak_bf16_flops"]
        if analytic:  # the nominal count (padding taps included), the usual basis of published MFU figures
            record["mfu_analytic"] = analytic / step_seconds / env["peak_bf16_flops"]
        if config.model.dtype != "bfloat16":
            record["mfu_note"] = "float32 compute, against the bf16 dense peak"


def vgg_forward_flops(layers, dense, num_outputs: int, image_shape) -> int:
    """Nominal FLOPs (2 per multiply-add, the 'same' padding's zero taps included) of VGG's 3×3 convolutions and
    dense layers for one image; BatchNorm, relu and pooling left out. XLA's cost analysis leaves the padding taps
    out of a convolution's count (not of the im2col matrix products at 2×2): VGG16 forward 0.528 against 0.627
    GFLOP."""
    size, _, width = image_shape
    flops = 0
    for layer in layers:
        if layer == "M":
            size //= 2
            continue
        flops += 2 * 9 * width * int(layer) * size * size
        width = int(layer)
    features = width * size * size
    for units in (*dense, num_outputs):
        flops += 2 * features * units
        features = units
    return flops


def analytic_flops_per_step(config, model, image_shape, num_devices: int) -> float | None:
    """3 × forward (forward + backward) × the batch, per device, for VGG; None for other models."""
    if config.model.name != "vgg":
        return None
    forward = vgg_forward_flops(model.layers, model.dense, model.num_outputs, image_shape)
    return 3.0 * forward * config.batch_size / num_devices


def final_metrics(summary: dict | None, timeline: list[dict]) -> dict | None:
    if summary:
        return {"top1": summary.get("test_accuracy"), "top5": summary.get("test_top5_accuracy"),
                "loss": summary.get("test_loss"), "epochs_run": summary.get("epochs_run")}
    if timeline:
        last = timeline[-1]
        return {"top1": last["test_top1"], "top5": last["test_top5"], "loss": None, "epochs_run": last["epoch"]}
    return None


def train_stage(stage: Stage, args, env: dict, seconds: float, results: Results) -> None:
    from jaxlab import data
    deadline = time.perf_counter() + seconds
    config = stage_config(stage, args)
    record = results.stage(stage.name, config=stage.config, dtype=config.model.dtype, batch_size=config.batch_size,
                           parallelism=config.parallelism, stage_seconds=round(seconds, 1))
    print(f"== {stage.name}: {stage.config}, {seconds:.0f} s", flush=True)
    workdir = os.path.join(args.runs_dir, stage.name)
    shutil.rmtree(workdir, ignore_errors=True)
    started = time.perf_counter()
    splits, model = build(config)
    record["data_seconds"] = round(time.perf_counter() - started, 1)
    num_train, num_test = data.num_rows(splits, "train"), data.num_rows(splits, "test")
    config.steps_per_dispatch = num_train // config.batch_size  # one compiled epoch per dispatch
    probed = probe(config, splits, model, os.path.join(workdir, "probe"), args.probe_steps)
    record.update(probe=probed, num_train=num_train, num_test=num_test)
    most = min(config.num_epochs, stage.max_epochs or config.num_epochs)
    plan = plan_epochs(config, most, deadline - time.perf_counter(), probed, num_train, num_test)
    record["schedule_note"] = shorten(config, plan, stage, plan["recipe_epochs"])
    record["schedule"] = plan
    print(f"   {stage.name}: {record['schedule_note']}", flush=True)
    results.write()
    summary = train_run(config, splits, model, os.path.join(workdir, "run"), deadline, record, results,
                        stage.targets)
    analytic = analytic_flops_per_step(config, model, splits.info["input_shape"], env["device_count"])
    speed(record, config, probed, env, summary, analytic)
    record.update(time_to_accuracy=time_to_accuracy(record["timeline"], stage.targets),
                  final=final_metrics(summary, record["timeline"]), workdir=os.path.join(workdir, "run"))
    if summary is not None:
        record["status"] = "done"
    if not args.keep_checkpoints:
        shutil.rmtree(os.path.join(workdir, "run", "checkpoints"), ignore_errors=True)
    shutil.rmtree(os.path.join(workdir, "probe"), ignore_errors=True)


def run_stage(name: str, work, results: Results) -> bool:
    """Runs `work()`; a failure is recorded as the stage's status (the next stage still runs). False when the
    command must stop (SIGTERM)."""
    from jaxlab import errors
    started = time.perf_counter()
    keep_going = True
    try:
        work()
    except errors.Preempted as exc:
        results.data["stages"].setdefault(name, {})["status"] = f"stopped: {exc}"
        keep_going = False
    except Exception as exc:  # one stage's failure must not cost the others
        record = results.data["stages"].setdefault(name, {})
        record["status"] = f"failed: {type(exc).__name__}: {str(exc).splitlines()[0][:300] if str(exc) else ''}"
        record["traceback_tail"] = traceback.format_exc().splitlines()[-12:]
    record = results.data["stages"].setdefault(name, {})
    record["seconds"] = round(time.perf_counter() - started, 1)
    results.write()
    print(f"   {name}: {record['status']} ({record['seconds']:.0f} s)", flush=True)
    return keep_going


def seconds_for(weight: float, weights_left: float, deadline: float) -> float:
    return max(0.0, deadline - time.perf_counter()) * weight / weights_left


def run_tests_stage(args, deadline: float, weights_left: float, results: Results) -> None:
    seconds = seconds_for(TESTS_WEIGHT, weights_left, deadline)
    selection = DEVICE_TESTS
    if args.dry_run:
        selection = (os.path.join(args.runs_dir, "test_dry_run.py"),)
        with open(selection[0], "w") as f:
            f.write(DRY_RUN_TEST)
    junit = os.path.join(args.runs_dir, "tests_junit.xml")
    print(f"== tests: {len(selection)} selections, at most {seconds:.0f} s", flush=True)
    workers = 0 if args.dry_run else TEST_WORKERS
    run_stage("tests", lambda: results.data["stages"].update(tests=run_tests(
        selection, seconds, workers, junit, os.path.join(args.output_dir, "tests.txt"))), results)


def sweep_stage(args, results: Results) -> None:
    """`SWEEP_LANES` learning rates of the lab MNIST MLP × `SWEEP_EPOCHS` epochs as one sweep (dry run: 8 lanes, toy
    sizes): wall seconds of `experiment.run` (data, compile, every epoch, outputs) and the best lane."""
    import ml_collections
    import numpy as np

    from configs import mnist_mlp
    from jaxlab import experiment
    lanes = 8 if args.dry_run else SWEEP_LANES
    config = mnist_mlp.get_config("sweep")
    config.sweep.space = ml_collections.ConfigDict({"learning_rate": {
        "key": "optimizer.learning_rate", "grid": tuple(float(lr) for lr in np.geomspace(0.01, 3.0, lanes))}})
    config.num_epochs, config.parallelism, config.data.data_dir = SWEEP_EPOCHS, args.parallelism, args.data_dir
    if args.dry_run:
        apply_overrides(config, DRY_RUN_SIZES)
    record = results.stage(SWEEP_STAGE, config="mnist_mlp:sweep", lanes=lanes, epochs=config.num_epochs)
    print(f"== {SWEEP_STAGE}: {lanes} learning rates × {config.num_epochs} epochs, one program", flush=True)
    workdir = os.path.join(args.runs_dir, SWEEP_STAGE)
    shutil.rmtree(workdir, ignore_errors=True)
    started = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):
        summary = experiment.run(config, workdir)
    best = summary["best"]
    record.update(status="done", sweep_seconds=round(time.perf_counter() - started, 1),
                  lanes_per_program=summary["lanes_per_program"], num_programs=summary["num_programs"],
                  best_learning_rate=best["values"]["optimizer.learning_rate"], best_val_accuracy=best["score"],
                  best_test_accuracy=best.get("test_accuracy"))
    record["sweep_note"] = (f"{lanes} lanes × {config.num_epochs} epochs in {record['sweep_seconds']:.0f} s "
                            f"({summary['num_programs']} program(s) of ≤ {summary['lanes_per_program']} lanes); "
                            f"best lr {record['best_learning_rate']:.3g}: val {best['score']:.4f}")
    shutil.rmtree(os.path.join(workdir, "checkpoints"), ignore_errors=True)


def run_stages(args, env: dict, deadline: float, results: Results) -> None:
    names = args.stages.split(",") if args.stages else ["tests"] + [stage.name for stage in STAGES] + [SWEEP_STAGE]
    chosen = [stage for stage in STAGES if stage.name in names]
    weights_left = (TESTS_WEIGHT * ("tests" in names) + sum(stage.weight for stage in chosen)
                    + SWEEP_WEIGHT * (SWEEP_STAGE in names))
    if "tests" in names:
        run_tests_stage(args, deadline, weights_left, results)
        weights_left -= TESTS_WEIGHT
    for stage in chosen:
        seconds = seconds_for(stage.weight, weights_left, deadline)
        weights_left -= stage.weight
        if seconds < MIN_STAGE_SECONDS and not args.dry_run:
            results.stage(stage.name, config=stage.config, status=f"skipped: {seconds:.0f} s of the budget left")
            continue
        if not run_stage(stage.name, lambda stage=stage, seconds=seconds: train_stage(
                stage, args, env, seconds, results), results):
            return
    if SWEEP_STAGE in names:
        if seconds_for(SWEEP_WEIGHT, weights_left, deadline) < MIN_STAGE_SECONDS and not args.dry_run:
            results.stage(SWEEP_STAGE, config="mnist_mlp:sweep", status="skipped: budget spent")
            return
        run_stage(SWEEP_STAGE, lambda: sweep_stage(args, results), results)


# ----------------------------------------------------------------------------------------------------------------

def parse_args(argv=None):
    stamp = datetime.datetime.now().strftime("%Y%m%d_%H%M%S")
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--budget_s", type=float, default=480.0, help="wall-clock seconds for every stage together")
    parser.add_argument("--output_dir", default=os.path.join(ROOT, "runs", f"accelerator_{stamp}"),
                        help="results.json, results.md, tests.txt")
    parser.add_argument("--runs_dir", default="", help="the runs' workdirs (default: a folder in the temp dir)")
    parser.add_argument("--data_dir", default="", help="tfds data_dir (default: $TFDS_DATA_DIR, shared/data/tfds)")
    parser.add_argument("--parallelism", default="jit", choices=("jit", "pmap"))
    parser.add_argument("--probe_steps", type=int, default=0, help="timed one-step dispatches (default 50; dry 2)")
    parser.add_argument("--peak_tflops", type=float, default=0.0, help="the device's dense bf16 peak, if not known")
    parser.add_argument("--stages", default="", help="comma-separated stage names to run (default: all, in order)")
    parser.add_argument("--keep_checkpoints", action="store_true", help="keep the runs' orbax checkpoints")
    parser.add_argument("--dry_run", action="store_true", help="every stage at toy sizes on CPU under tfds mock data")
    args = parser.parse_args(argv)
    unknown = set(filter(None, args.stages.split(","))) - {"tests", SWEEP_STAGE, *(stage.name for stage in STAGES)}
    if unknown:
        parser.error(f"unknown stages {', '.join(sorted(unknown))}: tests, {', '.join(s.name for s in STAGES)}, "
                     f"{SWEEP_STAGE}")
    args.runs_dir = args.runs_dir or os.path.join(tempfile.gettempdir(), f"jaxlab_accelerator_{stamp}")
    args.probe_steps = args.probe_steps or (2 if args.dry_run else 50)
    args.data_dir = os.path.join(args.runs_dir, "no_tfds_data") if args.dry_run else tfds_data_dir(args.data_dir)
    return args


@contextlib.contextmanager
def mock_data_if(dry_run: bool):
    if not dry_run:
        yield
        return
    import tensorflow_datasets as tfds
    with tfds.testing.mock_data(num_examples=DRY_RUN_EXAMPLES):
        yield


def hide_gpus_from_tensorflow() -> None:
    """TensorFlow only reads the data (a no-op once TensorFlow has started, as under pytest's conftest)."""
    import tensorflow as tf
    with contextlib.suppress(RuntimeError):
        tf.config.set_visible_devices([], "GPU")


def use_compilation_cache(runs_dir: str) -> None:
    """jax's persistent compilation cache in `runs_dir` (unless one is set already): a program compiled twice
    (each `programs.setup` compiles the model's init; the probe and a one-step fit dispatch) is compiled once."""
    import jax
    if not jax.config.jax_compilation_cache_dir:
        jax.config.update("jax_compilation_cache_dir", os.path.join(runs_dir, "xla_cache"))


def main(argv=None) -> int:
    args = parse_args(argv)
    deadline = time.perf_counter() + args.budget_s
    use_compilation_cache(args.runs_dir)
    env = environment(args)
    print(f"device: {env['device_kind']} × {env['device_count']} ({env['backend']}); jax {env['jax']}, jaxlib "
          f"{env['jaxlib']}; expects: {env['install_line']}", flush=True)
    stop = stop_line(env, args)
    if stop:
        print(stop, flush=True)
        return 1
    hide_gpus_from_tensorflow()
    os.makedirs(args.output_dir, exist_ok=True)
    os.makedirs(args.runs_dir, exist_ok=True)
    results = Results(args.output_dir, {
        "command": " ".join([os.path.relpath(__file__, ROOT)] + (sys.argv[1:] if argv is None else list(argv))),
        "started": datetime.datetime.now().astimezone().isoformat(timespec="seconds"), "budget_s": args.budget_s,
        "dry_run": args.dry_run, "data_dir": args.data_dir, "runs_dir": args.runs_dir, "environment": env})
    results.write()
    print(f"writing {args.output_dir}/results.json and results.md; runs in {args.runs_dir}", flush=True)
    try:
        with mock_data_if(args.dry_run):
            run_stages(args, env, deadline, results)
    finally:
        _SPLITS.clear()
    print(markdown(results.data), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
