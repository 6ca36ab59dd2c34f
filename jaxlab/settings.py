"""Every config key in one place: its default, whether a rerun of a workdir may change it, and the checks that need
no data. Light on purpose (no jax, no TensorFlow): `launch.py` runs these checks before loading either.

Keys fall in two kinds:

* **rerun keys** (`RERUN_KEYS`) may differ when a workdir is run again: how long to train, how to dispatch, save
  and evaluate — not what is learned. `num_epochs` is one only while no schedule spans the run (cosine decays over
  every epoch), `num_devices` only under jit with a data layout that does not split rows by device.
  `parallelism` is not one: pmap draws each device's dropout and augmentation numbers from its own stream, so with
  either a pmap run differs from a jit run and from a pmap run on another device count (jit's draws do not depend
  on the device count; without random draws every mode and device count gives the same steps, to 1e-5).
* **every other key** changes what is learned or reported (data, split, folds, model, loss, optimizer, schedule,
  seed, l2, augmentation, …): a workdir keeps the value it started with. A key this module does not know is of
  this kind too, so a new key is safe by default.
"""
import json
import shlex
from typing import Any

import ml_collections
from ml_collections import ConfigDict

from jaxlab import errors

# Keys a rerun may change (dotted paths); the conditions of the two conditional ones are in `rerun_key`.
RERUN_KEYS = {
    "num_epochs": "more or fewer epochs (not with a cosine schedule, which spans the run)",
    "num_devices": "how many devices (jit only, not with data_sharding=per_device)",
    "input": "device or host input: the same batches",
    "eval_batch_size": "evaluation is exact at any batch size",
    "steps_per_dispatch": "dispatch size: the same steps",
    "dispatch_seconds": "dispatch size: the same steps",
    "unroll_steps": "dispatch form: the same steps",
    "epochs_per_dispatch": "dispatch size (many seeds): the same steps",
    "lanes_vmapped": "dispatch form (many lanes): the same steps",
    "divergence_factor": "a guard; it stops a run, it does not change a step",
    "analyses": "extra analyses of the test outputs",
    "early_stopping.patience": "when to stop, like num_epochs",
    "early_stopping.min_delta": "when to stop, like num_epochs",
    "checkpoint.every_epochs": "how often to save",
    "checkpoint.keep": "how many checkpoints to keep",
    "data.data_dir": "where the tfds data lives, not what it is",
    "search.max_trials": "how many trials the search runs in all",
}
SPANNING_SCHEDULES = ("cosine", "warmup_cosine")


def default_config() -> ConfigDict:
    """Defaults every config starts from, documented key by key (configs/common.py re-exports it)."""
    config = ml_collections.ConfigDict()
    config.seed = 0                   # init, dropout and data order all derive from it
    config.parallelism = "pmap"       # "pmap" (per-device program, pmean of grads) | "jit" (Mesh + NamedSharding);
                                      # pmap draws dropout/augmentation per device (its runs depend on the device
                                      # count), jit's draws do not
    config.num_devices = 0            # 0 = all visible devices
    config.num_epochs = 10
    config.batch_size = 32            # global batch (divides by the device count); 0 = the whole training split
    config.eval_batch_size = 1000
    config.steps_per_dispatch = 0     # 0 = as many steps as fit in dispatch_seconds (≈20 chunks on a terminal)
    config.dispatch_seconds = 5.0     # a dispatch's length once timed: bounds how late a SIGTERM is honoured
    config.unroll_steps = -1          # train steps per dispatch as straight-line code, no loop (0 = lax.scan loop);
                                      # -1 = 8 for nets with convolutions on CPU (XLA:CPU's loop slows their
                                      # backward pass ~25×), else 0
    config.input = "device"           # device: splits on the accelerator, batches gathered there | host: batches
                                      # built in host memory and shipped per dispatch (data too big for the device)
    config.data_sharding = "auto"     # replicated: every device holds every row (under jit, results independent
                                      # of the device count) | per_device: each device (process) holds only its rows |
                                      # auto: per_device in multi-process runs, else replicated (jaxlab/shards.py)
    config.task = "classification"    # classification | binary | regression | reconstruction
    config.loss = "softmax_cross_entropy"
    config.l2 = 0.0                   # Keras kernel_regularizer=l2(l2) on params whose path matches l2_pattern
    config.l2_pattern = "kernel$"
    config.monitor = "val_accuracy"   # drives the best checkpoint, early stopping and reduce-on-plateau
    config.monitor_mode = "max"
    config.restore_best = False       # evaluate the test split with the best checkpoint instead of the last
    config.num_seeds = 1              # K > 1: K seeds (seed, seed+1, …) trained at once by jaxlab/seeds.py
    config.seeds_max_params = 100_000  # many seeds: above this many parameters they run one after another
    config.epochs_per_dispatch = 100  # many seeds: epochs per compiled call of the vmapped program
    config.lanes_vmapped = -1         # many seeds / sweeps: lanes computed side by side (vmap) in that program, the
                                      # groups one after another (lax.map); -1 = all on GPU/TPU, 1 on CPU (XLA:CPU's
                                      # batched matmuls are slower than the same matmuls one lane at a time)
    config.divergence_factor = 20.0   # stop when a step's loss exceeds this × the first step's (0 = NaN/inf only)
    config.analyses = ()              # analyses of the test outputs (jaxlab/report.py ANALYSES)

    config.data = ml_collections.ConfigDict()
    config.data.name = "mnist"
    config.data.data_dir = ""         # "" = $TFDS_DATA_DIR or tfds' default
    config.data.validation_split = 0.1  # 0: train on every training row (no best checkpoint, no early stopping)
    config.data.normalize = "unit"    # none | unit | standardize | l2
    config.data.augment = ()          # names from jaxlab/data/augment.py, applied to training batches only

    config.model = ml_collections.ConfigDict()
    config.model.name = "mlp"
    config.model.dtype = "float32"    # compute dtype: "bfloat16" = bf16 compute, float32 parameters and outputs

    config.optimizer = ml_collections.ConfigDict()
    config.optimizer.name = "sgd"     # sgd | momentum | adam | adamw | rmsprop
    config.optimizer.learning_rate = 0.01
    config.optimizer.momentum = 0.0   # sgd: 0 = none; momentum: 0 = 0.9
    config.optimizer.nesterov = False
    config.optimizer.b1 = 0.9         # adam, adamw
    config.optimizer.b2 = 0.999       # adam, adamw
    config.optimizer.eps = 1e-7       # adam, adamw, rmsprop (Keras' default)
    config.optimizer.decay = 0.9      # rmsprop
    config.optimizer.weight_decay = 0.0  # adamw
    config.optimizer.grad_clip_norm = 0.0
    config.optimizer.schedule = "constant"  # constant | cosine | warmup_cosine | step | exponential
    config.optimizer.warmup_epochs = 0.0
    config.optimizer.final_lr_fraction = 0.0
    config.optimizer.boundaries_epochs = ()  # step schedule
    config.optimizer.decay_factor = 0.1      # step / exponential schedules
    config.optimizer.decay_epochs = 1.0      # exponential schedule

    config.reduce_on_plateau = ml_collections.ConfigDict()
    config.reduce_on_plateau.patience = 0   # epochs without improvement of `monitor`; 0 = off
    config.reduce_on_plateau.factor = 0.1
    config.reduce_on_plateau.min_delta = 1e-4
    config.reduce_on_plateau.rtol = 0.0
    config.reduce_on_plateau.cooldown = 0
    config.reduce_on_plateau.min_scale = 0.0

    config.early_stopping = ml_collections.ConfigDict()
    config.early_stopping.patience = 0      # 0 = off
    config.early_stopping.min_delta = 0.0

    config.checkpoint = ml_collections.ConfigDict()
    config.checkpoint.every_epochs = 1      # 0 = at the end only (and on SIGTERM or an early stop)
    config.checkpoint.keep = 2              # latest N, plus the best by best_metric
    config.checkpoint.best_metric = "val_accuracy"
    config.checkpoint.best_mode = "max"
    return config


# ----------------------------------------------------------------------------------------------------------------
# A config as plain data: what config.json holds, what two runs are compared by.

def to_dict(config: ConfigDict | dict) -> dict[str, Any]:
    """The config as JSON-able nested dicts (field references resolved, tuples as lists)."""
    if isinstance(config, ConfigDict):
        return json.loads(config.to_json_best_effort())
    return json.loads(json.dumps(config))


def _tuples(value):
    if isinstance(value, dict):
        return {key: _tuples(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return tuple(_tuples(item) for item in value)
    return value


def from_dict(values: dict[str, Any]) -> ConfigDict:
    """A ConfigDict from `to_dict`'s output (sequences back to tuples, as configs write them)."""
    return ConfigDict(_tuples(values))


def _merged(defaults: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    merged = dict(defaults)
    for key, value in values.items():
        both_dicts = isinstance(value, dict) and isinstance(defaults.get(key), dict)
        merged[key] = _merged(defaults[key], value) if both_dicts else value
    return merged


def with_defaults(values: dict[str, Any]) -> ConfigDict:
    """A saved config (config.json) with the default of every key it lacks: a run made before a key was added
    reads as made with its default, as `differences` compares it."""
    return from_dict(_merged(to_dict(default_config()), values))


def copy_config(config: ConfigDict) -> ConfigDict:
    """An unlocked, independent copy (field references resolved: nothing ties two keys)."""
    return from_dict(to_dict(config))


def with_batch_size(config: ConfigDict, num_train: int) -> ConfigDict:
    """`config` itself, or for ``batch_size = 0`` (full batch) a copy whose batch is the `num_train` rows."""
    if config.batch_size:
        return config
    return set_key(copy_config(config), "batch_size", num_train)


def set_key(config: ConfigDict, key: str, value: Any) -> ConfigDict:
    """Sets the dotted `key` ("model.hidden"), as `--config.model.hidden=…` would."""
    *parents, leaf = key.split(".")
    target = config
    for parent in parents:
        target = target[parent]
    target[leaf] = value
    return config


def flatten(values: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat = {}
    for key, value in values.items():
        if isinstance(value, dict) and value:
            flat.update(flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = _tuples(value)
    return flat


def override_line(overrides: dict[str, Any]) -> str:
    """``--config.a.b=value …`` ready to paste after ``python launch.py --config …``."""
    parts = []
    for key, value in overrides.items():
        text = repr(tuple(value)) if isinstance(value, (list, tuple)) else repr(value)
        parts.append(f"--config.{key}={shlex.quote(text)}")
    return " ".join(parts)


_ABSENT = "(absent)"


def differences(old: dict[str, Any], new: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    """Dotted key → (old, new) for every key whose value differs; a key only one side has counts as its default
    there (older runs lack keys added since), or as absent when there is none."""
    old_flat, new_flat = flatten(old), flatten(new)
    defaults = flatten(to_dict(default_config()))
    changed = {}
    for key in sorted(set(old_flat) | set(new_flat)):
        before = old_flat.get(key, defaults.get(key, _ABSENT))
        after = new_flat.get(key, defaults.get(key, _ABSENT))
        if before != after:
            changed[key] = (before, after)
    return changed


def rerun_key(key: str, new: dict[str, Any]) -> bool:
    """Whether a rerun may change `key` (see the module docstring), given the new config `new`."""
    if key not in RERUN_KEYS:
        return False
    flat = flatten(new)
    if key == "num_epochs":
        return flat.get("optimizer.schedule", "constant") not in SPANNING_SCHEDULES
    if key == "num_devices":
        return not stream_depends_on_devices(flat.get("parallelism", "pmap"), flat.get("data_sharding", "auto"))
    return True


def stream_depends_on_devices(parallelism: str, layout: str) -> bool:
    """Whether a run's steps depend on its device count: pmap draws each device's dropout and augmentation numbers
    from its own stream, and the per_device layout gives each device its own rows (jaxlab/shards.py)."""
    return parallelism == "pmap" or layout == "per_device"


def learned_differences(old: dict[str, Any], new: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    return {key: change for key, change in differences(old, new).items() if not rerun_key(key, new)}


def describe(changes: dict[str, tuple[Any, Any]]) -> str:
    return ", ".join(f"{key} {_show(old)} → {_show(new)}" for key, (old, new) in changes.items())


def _show(value: Any) -> str:
    if isinstance(value, tuple):
        return "(" + ", ".join(_show(item) for item in value) + ("," if len(value) == 1 else "") + ")"
    return repr(value) if isinstance(value, str) and value != _ABSENT else str(value)


# ----------------------------------------------------------------------------------------------------------------
# Checks that need no data.

def check(config: ConfigDict) -> None:
    """One clear line, before any data is read, for settings that would otherwise fail deep inside training."""
    for key, least in (("batch_size", 0), ("eval_batch_size", 1)):
        value = config[key]
        if not isinstance(value, int) or isinstance(value, bool) or value < least:
            raise errors.Error(f"--config.{key}={value!r}: must be a whole number ≥ {least}"
                               + (" (0 = the whole training split)" if least == 0 else ""))
    for key in ("num_epochs", "seed", "steps_per_dispatch"):
        value = config[key]
        if not isinstance(value, int) or value < 0:
            raise errors.Error(f"--config.{key}={value!r}: must be a whole number ≥ 0")
    every = config.checkpoint.every_epochs
    if not isinstance(every, int) or every < 0:
        raise errors.Error(f"--config.checkpoint.every_epochs={every!r}: must be a whole number ≥ 0 (0 = at the end "
                           "only)")
    seconds = config.dispatch_seconds
    if not isinstance(seconds, (int, float)) or not seconds > 0:
        raise errors.Error(f"--config.dispatch_seconds={seconds!r}: must be a number of seconds > 0")
    for key, value in config.model.items():
        if key.endswith("dropout") and not (isinstance(value, (int, float)) and 0 <= value < 1):
            raise errors.Error(f"--config.model.{key}={value!r}: a dropout rate is a fraction in [0, 1)")
    hidden = config.model.get("hidden", ())
    widths = hidden if isinstance(hidden, (tuple, list)) else (hidden,)  # an int: one hidden layer
    if any(not isinstance(units, int) or units < 1 for units in widths):
        raise errors.Error(f"--config.model.hidden={hidden!r}: layer widths must be whole numbers ≥ 1")
    for key, value in (("monitor_mode", config.monitor_mode), ("checkpoint.best_mode", config.checkpoint.best_mode)):
        if value not in ("max", "min"):
            raise errors.Error(f"--config.{key}={value!r}: use max or min")

