"""Test setup: 8 fake CPU devices (set before jax is imported), no GPU for TF, mock tfds data, tiny configs."""
import os

os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") + " --xla_force_host_platform_device_count=8").strip()


def _jaxlib_knows(flag: str) -> bool:
    """Whether jaxlib's XLA has `flag` (an unknown flag in XLA_FLAGS aborts every process at its first device)."""
    import glob
    import importlib.util
    import mmap
    folder = os.path.dirname(importlib.util.find_spec("jaxlib").origin)
    for path in glob.glob(os.path.join(folder, "*.so")):
        with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as contents:
            if contents.find(flag.encode()) >= 0:
                return True
    return False


# XLA:CPU compiles the tests' tiny programs in less than half the time with its classic fusion emitters than with
# its newer MLIR ones (backend compilation, the suite's largest cost: 361 → 153 CPU-s; the suite 405 → ~310 s on
# 2 cores). Every comparison in the suite is between programs compiled alike; users' runs keep XLA's defaults.
_EMITTERS_FLAG = "xla_cpu_use_fusion_emitters"
if _EMITTERS_FLAG not in os.environ["XLA_FLAGS"] and _jaxlib_knows(_EMITTERS_FLAG):
    os.environ["XLA_FLAGS"] += f" --{_EMITTERS_FLAG}=false"
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ["TFDS_DATA_DIR"] = os.path.join(os.path.dirname(__file__), "no_such_tfds_dir")  # never real data
# XLA compiles tiny test programs without most of its optimisation passes (flax's examples/imagenet test does the
# same): compilation is most of the suite's time, and every comparison in it is between programs compiled alike.
# (It also found a real fault: JAX's gradient of a max turned BatchNorm → max-pool nets NaN when XLA rounded the
# pooled input differently in two places; jaxlab/models/pooling.py now routes the gradient through argmax.)
os.environ.setdefault("JAX_DISABLE_MOST_OPTIMIZATIONS", "1")
# One persistent compilation cache for the session and the worker processes it starts: many tests compile the same
# programs again (a run and its resumption, the same tiny config in several tests), and XLA compilation is most of
# the suite's time. A fresh directory per session, so no test ever reads a program compiled by an older jax.
_CACHE_MADE_HERE = "JAX_COMPILATION_CACHE_DIR" not in os.environ
if _CACHE_MADE_HERE:
    import tempfile

    os.environ["JAX_COMPILATION_CACHE_DIR"] = tempfile.mkdtemp(prefix="jaxlab-tests-xla-cache-")
# Every program goes into it: jax caches only those that took ≥ 1 s to compile by default, and the tests' programs
# (optimisation passes off, tiny shapes) mostly take 0.1–0.9 s, again and again (72 → 42 s for two test files).
os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from jaxlab import console  # noqa: E402


def pytest_configure(config):
    """TensorFlow (the tests' tfds data), its start-up lines hidden (they would follow pytest's summary) and no GPU
    for it, in the processes that run tests: pytest-xdist's controller runs none, and importing it there would hold
    up the workers' start by ~5 s."""
    if getattr(config.option, "numprocesses", None) and not hasattr(config, "workerinput"):
        return
    console.import_tensorflow(hide_start_up=True).config.set_visible_devices([], "GPU")


def pytest_sessionfinish(session, exitstatus):
    if _CACHE_MADE_HERE:
        import shutil
        shutil.rmtree(os.environ["JAX_COMPILATION_CACHE_DIR"], ignore_errors=True)


@pytest.fixture
def mock_tfds():
    """tfds.load returns `num_examples` random examples per split, following the dataset's features."""
    import tensorflow_datasets as tfds
    with tfds.testing.mock_data(num_examples=96):
        yield


def prepare_tfds_mnist(data_dir: str, num_train: int = 96, num_test: int = 40) -> str:
    """A real prepared tfds "mnist" of seeded random images in `data_dir` (returned): unlike mock data it has split
    sizes and reads tfds slices such as ``train[10:20]``, as a prepared copy of the real dataset does."""
    import tensorflow as tf
    import tensorflow_datasets as tfds
    rng = np.random.default_rng(0)

    def split(num_rows):
        return tf.data.Dataset.from_tensor_slices({
            "image": rng.integers(0, 256, (num_rows, 28, 28, 1), dtype=np.uint8),
            "label": rng.integers(0, 10, num_rows)})

    features = tfds.features.FeaturesDict({"image": tfds.features.Image(shape=(28, 28, 1)),
                                           "label": tfds.features.ClassLabel(num_classes=10)})
    tfds.dataset_builders.store_as_tfds_dataset(
        name="mnist", version="3.0.1", features=features, data_dir=data_dir, disable_shuffling=True,
        split_datasets={"train": split(num_train), "test": split(num_test)})
    return data_dir


@pytest.fixture(scope="session")
def prepared_mnist(tmp_path_factory):
    return prepare_tfds_mnist(str(tmp_path_factory.mktemp("tfds")))


def shrink(config, **overrides):
    """A config shrunk for tests: 1 epoch, small batches that divide by 8 devices, the `lax.scan` dispatch (a conv
    net on CPU would compile 8 unrolled steps: 7.6 s instead of ~1 s; tests/test_steps.py proves both forms compute
    the same), plus overrides (dotted keys, e.g. ``tiny(cfg, **{"model.hidden": (8,)})``)."""
    config.num_epochs = 1
    config.batch_size = 16
    config.eval_batch_size = 16
    config.unroll_steps = 0
    return apply_overrides(config, overrides)


def apply_overrides(config, overrides):
    """Sets dotted keys (``{"model.hidden": (8,)}``) on a config, like ``--config.model.hidden`` would."""
    from jaxlab import settings
    for key, value in overrides.items():
        settings.set_key(config, key, value)
    return config


@pytest.fixture
def tiny():
    return shrink


# The tests that take longest (each starts training processes, or trains many runs), started first: xdist's work
# stealing then ends the session on short tests, instead of one worker finishing a 60-second test alone.
SLOW_FIRST = ("test_distributed.py", "test_sigkill", "test_second_process_stops", "test_console_shows",
              "test_accelerator_dry_run", "test_each_lane_trains", "test_batched_search_trains",
              "test_simpsons_variants", "test_search_runs_trials")


def pytest_collection_modifyitems(items):
    items.sort(key=lambda item: not any(name in item.nodeid for name in SLOW_FIRST))   # stable: order kept within
