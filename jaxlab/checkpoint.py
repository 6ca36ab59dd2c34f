"""Checkpoints with orbax: one per saved epoch, keeping the latest N and the best by a validation metric.

Steps on disk are epoch numbers. States are saved unreplicated (one copy) and restored into an abstract state
(shapes and dtypes only), then replicated again by `jaxlab.parallel`.
"""
import os
from typing import Any

import jax
import numpy as np
import orbax.checkpoint as ocp
from ml_collections import ConfigDict

from jaxlab import errors


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


def save(mngr: ocp.CheckpointManager, epoch: int, state: Any, metrics: dict[str, float]) -> None:
    mngr.save(epoch, args=ocp.args.StandardSave(state), metrics=metrics, force=True)


def restore(mngr: ocp.CheckpointManager, epoch: int, like: Any) -> Any:
    """Restores `epoch` into the structure of `like` (any tree of arrays with the right shapes and dtypes)."""
    abstract = jax.tree.map(ocp.utils.to_shape_dtype_struct, like)
    try:
        return mngr.restore(epoch, args=ocp.args.StandardRestore(abstract))
    except (ValueError, KeyError, FileNotFoundError) as exc:
        raise errors.Error(
            f"checkpoint of epoch {epoch} in {mngr.directory} does not match this config's model/optimizer "
            f"({type(exc).__name__}): use a new --workdir or the config the run was made with") from exc


def preemption_manager(workdir: str) -> ocp.CheckpointManager:
    """Mid-epoch checkpoints written on SIGTERM (steps are global train steps); cleared by the next epoch save."""
    return ocp.CheckpointManager(os.path.abspath(os.path.join(workdir, "checkpoints_preempted")),
                                 options=ocp.CheckpointManagerOptions(max_to_keep=1, create=True))


def save_preempted(mngr: ocp.CheckpointManager, state: Any, totals: Any, step: int, steps_per_epoch: int) -> None:
    saved = {"state": jax.device_get(state), "totals": totals, "steps_per_epoch": np.asarray(steps_per_epoch, np.int64)}
    mngr.save(step, args=ocp.args.StandardSave(saved), force=True)
    mngr.wait_until_finished()


def restore_preempted(mngr: ocp.CheckpointManager, step: int, like_state: Any, like_totals: Any) -> Any:
    like = {"state": like_state, "totals": like_totals, "steps_per_epoch": np.zeros((), np.int64)}
    abstract = jax.tree.map(ocp.utils.to_shape_dtype_struct, like)
    return mngr.restore(step, args=ocp.args.StandardRestore(abstract))


def clear(mngr: ocp.CheckpointManager) -> None:
    for step in mngr.all_steps():
        mngr.delete(step)
