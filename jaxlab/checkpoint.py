"""Checkpoints with orbax: one per saved epoch, keeping the latest N and the best by a validation metric.

Steps on disk are epoch numbers. States are saved unreplicated (one copy) and restored into an abstract state
(shapes and dtypes only), then replicated again by `jaxlab.parallel`.

Every checkpoint is verified: once orbax has finished writing it, a manifest (``jaxlab_manifest.json``: the
sha256 of each of its files) is written into it; a restore checks the manifest (a changed or missing file) and
that every restored number is finite. An unusable checkpoint raises `Unusable`; callers move it aside and take
the previous one. A save that fails (a full disk) stops the run with one line: it never trains on unsaved.
"""
import hashlib
import json
import os
from typing import Any, Callable

import jax
import numpy as np
import orbax.checkpoint as ocp
from ml_collections import ConfigDict

from jaxlab import console, errors, parallel

MANIFEST = "jaxlab_manifest.json"


class Unusable(Exception):
    """A checkpoint that cannot be trusted: damaged, incomplete, or holding non-finite numbers."""


def manager(workdir: str, config: ConfigDict, best: str) -> ocp.CheckpointManager:
    """Keeps `config.checkpoint.keep` latest checkpoints and the best one by the metric `best` (none when "") in
    `config.checkpoint.best_mode` (``max``/``min``)."""
    policies = [ocp.checkpoint_managers.LatestN(n=config.get("keep", 2))]
    if best:
        policies.append(ocp.checkpoint_managers.BestN(
            get_metric_fn=lambda metrics: metrics[best], reverse=config.get("best_mode", "max") == "min", n=1,
            keep_checkpoints_without_metrics=False))
    options = ocp.CheckpointManagerOptions(
        preservation_policy=ocp.checkpoint_managers.AnyPreservationPolicy(policies), create=True,
        enable_async_checkpointing=True)
    return ocp.CheckpointManager(os.path.abspath(os.path.join(workdir, "checkpoints")), options=options)


# ----------------------------------------------------------------------------------------------------------------
# Manifests.

def _files(folder: str) -> dict[str, str]:
    """Relative path → sha256 of every file under `folder` but the manifest."""
    digests = {}
    for parent, _, names in os.walk(folder):
        for name in names:
            path = os.path.join(parent, name)
            relative = os.path.relpath(path, folder)
            if relative.startswith(MANIFEST) or relative == "_CHECKPOINT_METADATA":   # orbax may update it
                continue
            digest = hashlib.sha256()
            with open(path, "rb") as f:
                for block in iter(lambda: f.read(1 << 20), b""):
                    digest.update(block)
            digests[relative] = digest.hexdigest()
    return digests


def write_manifest(folder: str) -> None:
    if jax.process_index() != 0 or os.path.exists(os.path.join(folder, MANIFEST)):
        return
    tmp = os.path.join(folder, MANIFEST + ".tmp")
    with open(tmp, "w") as f:
        json.dump(_files(folder), f, indent=0, sort_keys=True)
    os.replace(tmp, os.path.join(folder, MANIFEST))


def verify(folder: str) -> None:
    """Raises `Unusable` when a file the manifest lists is missing or changed (no manifest: a checkpoint from
    before manifests, or one whose manifest was not written yet; its numbers are still checked on restore)."""
    path = os.path.join(folder, MANIFEST)
    if not os.path.isdir(folder):
        raise Unusable("its folder is missing")
    if not os.path.exists(path):
        return
    try:
        with open(path) as f:
            expected = json.load(f)
    except ValueError as exc:
        raise Unusable("its manifest is damaged") from exc
    found = _files(folder)
    missing = sorted(set(expected) - set(found))
    if missing:
        raise Unusable(f"missing part {missing[0]}" + (f" and {len(missing) - 1} more" if len(missing) > 1 else ""))
    changed = sorted(name for name in expected if found[name] != expected[name])
    if changed:
        raise Unusable(f"checksum mismatch in {changed[0]}" + (f" and {len(changed) - 1} more files"
                                                                 if len(changed) > 1 else ""))


def step_folder(mngr: ocp.CheckpointManager, step: int) -> str:
    return os.path.join(str(mngr.directory), str(step))


def finish(mngr: ocp.CheckpointManager) -> None:
    """Waits for the pending save, then writes the manifest of every checkpoint that lacks one. A failed save
    (a full disk, a lost mount) is one line; the checkpoints saved before it are kept."""
    try:
        mngr.wait_until_finished()
    except Exception as exc:  # orbax re-raises the writer thread's error, of any kind
        raise save_error(mngr, exc) from exc
    for step in mngr.all_steps():
        folder = step_folder(mngr, step)
        if os.path.isdir(folder):
            try:
                write_manifest(folder)
            except OSError as exc:
                raise save_error(mngr, exc) from exc


def save_error(mngr: ocp.CheckpointManager, exc: BaseException) -> errors.Error:
    reason = getattr(exc, "strerror", None) or " ".join(str(exc).split())[:200] or type(exc).__name__
    return errors.Error(f"could not save a checkpoint in {mngr.directory} ({reason}): the run stopped; free disk "
                        "space (or fix the directory) and rerun the same command to resume from the last saved "
                        "checkpoint")


def save(mngr: ocp.CheckpointManager, epoch: int, state: Any, metrics: dict[str, float]) -> None:
    finish(mngr)
    try:
        mngr.save(epoch, args=ocp.args.StandardSave(state), metrics=metrics, force=True)
    except Exception as exc:
        raise save_error(mngr, exc) from exc


def check_finite(tree: Any) -> None:
    for path, leaf in jax.tree_util.tree_leaves_with_path(tree):
        values = np.asarray(leaf)
        if np.issubdtype(values.dtype, np.inexact) and not np.isfinite(values).all():
            raise Unusable(f"non-finite values in {jax.tree_util.keystr(path)}")


def restore(mngr: ocp.CheckpointManager, epoch: int, like: Any) -> Any:
    """Restores `epoch` into the structure of `like` (any tree of arrays with the right shapes and dtypes; None:
    as saved, nested dicts); `Unusable` when it fails verification, cannot be read, or holds non-finite numbers."""
    verify(step_folder(mngr, epoch))
    abstract = None if like is None else jax.tree.map(ocp.utils.to_shape_dtype_struct, like)
    try:
        restored = mngr.restore(epoch, args=ocp.args.StandardRestore(abstract))
    except Exception as exc:  # orbax raises many kinds for damaged or foreign files
        raise Unusable(f"unreadable ({type(exc).__name__})") from exc
    check_finite(restored)
    return restored


def _unused_path(path: str) -> str:
    """`path`, or `path.1`, `path.2`, … when it is taken (an earlier unusable copy of the same epoch is kept)."""
    candidate, number = path, 0
    while os.path.exists(candidate):
        number += 1
        candidate = f"{path}.{number}"
    return candidate


def move_aside(mngr: ocp.CheckpointManager, epoch: int, reason: str) -> None:
    """Moves the unusable checkpoint of `epoch` to `checkpoints_unreadable/` next to the checkpoints (kept for
    inspection, never restored again) with a one-line warning."""
    aside = _unused_path(os.path.join(os.path.dirname(str(mngr.directory)), "checkpoints_unreadable", str(epoch)))
    if jax.process_index() == 0:  # one process moves the shared folder; the others wait for it
        os.makedirs(os.path.dirname(aside), exist_ok=True)
        if os.path.isdir(step_folder(mngr, epoch)):
            os.replace(step_folder(mngr, epoch), aside)
    console.warn(f"checkpoint of epoch {epoch} is unusable ({reason}); moved it to {aside}")
    parallel.sync_processes(f"jaxlab_moved_checkpoint_{epoch}")
    mngr.reload()


def restore_first_usable(mngr: ocp.CheckpointManager, epochs, like: Any,
                         on_unusable: Callable[[ocp.CheckpointManager, int, str], None] = move_aside
                         ) -> tuple[Any, int | None]:
    """The first usable checkpoint among `epochs` (in that order of preference) restored like `like`, and its
    epoch; (None, None) when none is. `on_unusable(mngr, epoch, reason)` for each unusable one: it is moved aside
    by default."""
    for epoch in epochs:
        try:
            return restore(mngr, epoch, like), epoch
        except Unusable as exc:
            on_unusable(mngr, epoch, str(exc))
    return None, None


def preemption_manager(workdir: str) -> ocp.CheckpointManager:
    """Mid-epoch checkpoints written on SIGTERM (steps are global train steps); cleared by the next epoch save."""
    return ocp.CheckpointManager(os.path.abspath(os.path.join(workdir, "checkpoints_preempted")),
                                 options=ocp.CheckpointManagerOptions(max_to_keep=1, create=True))


def save_preempted(mngr: ocp.CheckpointManager, state: Any, totals: Any, step: int, steps_per_epoch: int) -> None:
    saved = {"state": jax.device_get(state), "totals": totals, "steps_per_epoch": np.asarray(steps_per_epoch, np.int64)}
    try:
        mngr.save(step, args=ocp.args.StandardSave(saved), force=True)
    except Exception as exc:
        raise save_error(mngr, exc) from exc
    finish(mngr)


def restore_preempted(mngr: ocp.CheckpointManager, step: int, like_state: Any, like_totals: Any) -> Any:
    like = {"state": like_state, "totals": like_totals, "steps_per_epoch": np.zeros((), np.int64)}
    return restore(mngr, step, like)


def clear(mngr: ocp.CheckpointManager) -> None:
    for step in mngr.all_steps():
        mngr.delete(step)
