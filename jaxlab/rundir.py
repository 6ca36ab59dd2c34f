"""The run directory as a record: one module owns what a workdir says about its run.

* ``lock.json``: one process (one multi-host run) per workdir. Taken before anything is written; a second process
  stops at once naming the holder; a lock left by a process that no longer runs on this host is taken over.
* ``config.json``: the run's identity, written by its first session and never overwritten (removed again when that
  session stops with a one-line error before any checkpoint: `forget_untrained`). A rerun whose config
  differs in a key that changes what is learned stops before anything is written (`jaxlab.settings`).
* ``data_info.json``: what the data looked like (shapes, classes, fitted statistics); a rerun on other data stops.
* ``sessions.jsonl``: one line when a session starts (command, changed rerun keys, time, host, versions) and one
  when it ends (status, wall seconds).

Light on purpose (no jax, no TensorFlow): `launch.py` opens the session before loading either, so these errors
come within a second or two of the command.
"""
import contextlib
import datetime
import importlib.metadata
import json
import os
import platform
import signal
import socket
import sys
import time
from typing import Any, Callable

from ml_collections import ConfigDict

from jaxlab import baseline, console, errors, history, settings
from jaxlab.jsonfile import json_default, read_json, write_json

LOCK = "lock.json"
DEVICE_COUNT = "device_count"   # in data_info.json: see check_data_info
CONFIG = "config.json"
DATA_INFO = "data_info.json"
SESSIONS = "sessions.jsonl"
PREEMPTED_EXIT = 128 + signal.SIGTERM   # 143: what a process killed by SIGTERM returns; schedulers restart it
LIBRARIES = ("jax", "jaxlib", "flax", "optax", "orbax-checkpoint", "clu", "tensorflow-datasets", "numpy")

_open: dict[str, dict[str, Any]] = {}    # real path → this process's open session there


def library_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in LIBRARIES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def _now() -> str:
    return datetime.datetime.now().astimezone().isoformat(timespec="seconds")


# ----------------------------------------------------------------------------------------------------------------
# The directory and its lock.

def prepare(workdir: str) -> None:
    """Creates the workdir; one line when it is a file or cannot be written."""
    if os.path.exists(workdir) and not os.path.isdir(workdir):
        raise errors.Error(f"--workdir {workdir} is a file, not a directory: give a directory path")
    try:
        os.makedirs(workdir, exist_ok=True)
    except OSError as exc:
        raise errors.Error(f"--workdir {workdir} cannot be created ({exc.strerror}): choose a writable "
                           "directory") from exc
    if not os.access(workdir, os.W_OK | os.X_OK):
        raise errors.Error(f"--workdir {workdir} is not writable: choose a writable directory or fix its "
                           "permissions")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:   # someone else's process
        return True
    return True


def acquire_lock(workdir: str) -> None:
    """Takes `workdir`'s lock or stops with one line naming its holder (a stale one on this host is taken over)."""
    path = os.path.join(workdir, LOCK)
    me = {"pid": os.getpid(), "host": socket.gethostname(), "started": _now(), "command": " ".join(sys.argv)}
    for _ in range(3):
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            try:
                holder = read_json(path)
            except (OSError, ValueError):
                holder = {}
            if not holder:   # a lock being written this instant, or an empty one left by a crash
                time.sleep(0.2)
                try:
                    holder = read_json(path)
                except (OSError, ValueError):
                    holder = {"pid": -1, "host": me["host"], "started": "?"}
            stale = holder.get("host") == me["host"] and not _alive(int(holder.get("pid", -1)))
            if not stale:
                raise errors.Error(
                    f"{workdir} is in use by process {holder.get('pid')} on {holder.get('host')} (started "
                    f"{holder.get('started')}): wait for it to finish or use another --workdir; if that process "
                    f"is gone, delete {path}") from None
            console.notice(f"took over the lock of {workdir} from process {holder.get('pid')} (started "
                          f"{holder.get('started')}), which no longer runs")
            with contextlib.suppress(FileNotFoundError):
                os.remove(path)
            continue
        except OSError as exc:
            raise errors.Error(f"--workdir {workdir} is not writable ({exc.strerror}): choose a writable "
                               "directory") from exc
        with os.fdopen(fd, "w") as f:
            json.dump(me, f)
        return
    raise errors.Error(f"could not take the lock {path}: another process keeps taking it; use another --workdir")


def release_lock(workdir: str) -> None:
    path = os.path.join(workdir, LOCK)
    try:
        holder = read_json(path)
    except (OSError, ValueError):
        return
    if holder.get("pid") == os.getpid() and holder.get("host") == socket.gethostname():
        with contextlib.suppress(FileNotFoundError):
            os.remove(path)


# ----------------------------------------------------------------------------------------------------------------
# Identity: config.json and data_info.json.

def load_config(workdir: str) -> ConfigDict:
    """The config the run in `workdir` was made with (its config.json)."""
    path = os.path.join(workdir, CONFIG)
    if not os.path.isfile(path):
        raise errors.Error(f"{workdir} holds no run ({CONFIG} is missing): train first with --config and this "
                           "--workdir, or give the run's directory")
    try:
        return settings.with_defaults(read_json(path))
    except ValueError as exc:
        raise errors.Error(f"{path} is not valid JSON ({exc}): the run directory is damaged") from exc


def check_config(config: ConfigDict, workdir: str) -> dict[str, tuple[Any, Any]]:
    """The rerun keys that differ from the run's config.json (none when there is no run yet); one line listing
    every other differing key as old → new when there is any."""
    path = os.path.join(workdir, CONFIG)
    if not os.path.exists(path):
        return {}
    saved = settings.to_dict(load_config(workdir))
    new = settings.to_dict(config)
    learned = settings.learned_differences(saved, new)
    if learned:
        raise errors.Error(f"{workdir} holds a run made with another config: {settings.describe(learned)}; use a "
                           "new --workdir for a different experiment (the README's Reliability section lists the "
                           "keys a rerun may change)")
    return settings.differences(saved, new)


def check_data_info(workdir: str, info: dict[str, Any], device_count: int | None = None) -> None:
    """Writes data_info.json at the run's first session; later sessions must see the same data (same rows,
    classes and fitted statistics), else one line naming what changed. `device_count`: a training session whose
    steps depend on how many devices take part (`settings.stream_depends_on_devices`) must have as many as the run
    started with (runs made before the count was recorded are not checked)."""
    path = os.path.join(workdir, DATA_INFO)
    new = json.loads(json.dumps(info, default=json_default))
    if device_count is not None:
        new[DEVICE_COUNT] = device_count
    if not os.path.exists(path):
        write_json(path, new)
        return
    saved = read_json(path)
    started_on = saved.pop(DEVICE_COUNT, None)
    new.pop(DEVICE_COUNT, None)
    changed = sorted(key for key in set(saved) | set(new) if saved.get(key) != new.get(key))
    if changed:
        raise errors.Error(f"the data differ from what the run in {workdir} was trained on ({', '.join(changed)} "
                           f"changed in {DATA_INFO}): restore the original data or use a new --workdir")
    if device_count is not None and started_on is not None and device_count != started_on:
        raise errors.Error(f"the run in {workdir} was trained on {started_on} devices and this session has "
                           f"{device_count}: its steps depend on the device count (pmap draws dropout and "
                           f"augmentation per device; data_sharding=per_device gives each device its rows), so "
                           f"run it on {started_on} devices (--config.num_devices={started_on} when more are "
                           f"visible) or use a new --workdir (under --config.parallelism=jit a run's draws do not "
                           f"depend on the device count)")


# ----------------------------------------------------------------------------------------------------------------
# Sessions.

def record(workdir: str, entry: dict[str, Any]) -> None:
    with open(os.path.join(workdir, SESSIONS), "a") as f:
        f.write(json.dumps(entry, default=str) + "\n")


def sessions(workdir: str) -> list[dict[str, Any]]:
    path = os.path.join(workdir, SESSIONS)
    if not os.path.exists(path):
        return []
    entries = []
    with open(path) as f:
        for line in f:
            with contextlib.suppress(ValueError):
                entries.append(json.loads(line))
    return entries


def wall_seconds(workdir: str) -> float:
    """Wall time of every ended session of the run in `workdir`."""
    return sum(entry.get("wall_seconds", 0.0) for entry in sessions(workdir) if entry.get("event") == "end")


def _open_session(config: ConfigDict, workdir: str, mode: str) -> dict[str, Any]:
    config_path = os.path.join(workdir, CONFIG)
    if mode != "train" and not os.path.isfile(config_path):
        raise errors.Error(f"{workdir} holds no run ({CONFIG} is missing): train first with --config and this "
                           "--workdir")
    prepare(workdir)
    acquire_lock(workdir)
    try:
        changed = check_config(config, workdir)
        first = not os.path.exists(config_path)
        if first:   # the run's first session
            write_json(config_path, settings.to_dict(config))
        record(workdir, {"event": "start", "mode": mode, "time": _now(), "host": socket.gethostname(),
                         "pid": os.getpid(), "command": " ".join(sys.argv),
                         "changed": {key: list(change) for key, change in changed.items()},
                         "versions": library_versions()})
    except BaseException:
        release_lock(workdir)
        raise
    return {"started": time.time(), "changed": changed, "first": first}


@contextlib.contextmanager
def session(config: ConfigDict, workdir: str, mode: str = "train", lead: bool = True,
            agree: Callable[[str], str] | None = None):
    """Holds `workdir` for one session of its run: checks, lock, identity, session log (see the module docstring).

    Nested sessions on the same workdir in one process are one session. In a multi-process run only the `lead`
    process checks, locks and writes; `agree` (a collective, `jaxlab.parallel.from_process_zero`) hands its
    verdict to the others, so all stop with the same line or all go on."""
    key = os.path.realpath(workdir)
    if key in _open:
        yield _open[key]
        return
    opened, problem = None, ""
    if lead:
        try:
            opened = _open_session(config, workdir, mode)
        except errors.Error as exc:
            problem = str(exc)
    if agree is not None:
        problem = agree(problem)
    if problem:
        raise errors.Error(problem)
    opened = opened or {"started": time.time(), "changed": {}}
    _open[key] = opened
    status = "failed"
    try:
        yield opened
        status = "finished"
    except BaseException as exc:
        status = f"{type(exc).__name__}: {str(exc)[:300]}"
        if lead and opened.get("first") and isinstance(exc, errors.Error):
            forget_untrained(workdir)
        raise
    finally:
        del _open[key]
        if lead:
            with contextlib.suppress(OSError):
                record(workdir, {"event": "end", "mode": mode, "time": _now(), "status": status,
                                 "wall_seconds": round(time.time() - opened["started"], 3)})
            release_lock(workdir)


def forget_untrained(workdir: str) -> None:
    """After a first session that stopped with a one-line error (a bad config key, sweep or data) before saving any
    checkpoint: config.json and data_info.json go, so the corrected command may use this workdir (it would be
    refused as another config). sessions.jsonl keeps the attempt."""
    folder = os.path.join(workdir, "checkpoints")
    if os.path.isdir(folder) and any(name.isdigit() for name in os.listdir(folder)):
        return
    for name in (CONFIG, DATA_INFO):
        with contextlib.suppress(FileNotFoundError):
            os.remove(os.path.join(workdir, name))


# ----------------------------------------------------------------------------------------------------------------
# A finished run.

def finished_summary(config: ConfigDict, workdir: str) -> dict[str, Any] | None:
    """The summary.json of a run in `workdir` that has trained every epoch `config` asks for (or stopped early),
    else None."""
    path = os.path.join(workdir, "summary.json")
    if not os.path.exists(path):
        return None
    rows = history.read_history(os.path.join(workdir, "history.csv"))
    try:
        summary = read_json(path)
    except ValueError:
        return None
    if not rows or summary.get("epochs_run") != len(rows):
        return None
    if len(rows) >= config.num_epochs or history.should_stop_early(rows, config):
        return summary
    return None


def say_finished(summary: dict[str, Any], workdir: str, label: str = "") -> None:
    console.notice(f"{label + ': ' if label else ''}the run in {workdir} has already finished "
                   f"({summary['epochs_run']} epochs); its test metrics from summary.json (--retest to test again):")
    if console.is_lead():
        print(baseline.test_line(summary), flush=True)
