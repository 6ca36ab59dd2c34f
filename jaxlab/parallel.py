"""The only module that knows about devices.

Two modes, chosen by `config.parallelism`:

* ``pmap``: one program per device. Replicated values carry a leading device axis, each device sees its slice of
  the global batch, gradients are averaged with ``lax.pmean`` and BatchNorm statistics are taken across replicas
  through the axis name ``"batch"``.
* ``jit``: global arrays on a one-axis ``Mesh`` (``"data"``) with ``NamedSharding``: replicated values use
  ``P()``, batch indices are split along the batch axis, and XLA inserts the collectives.

Every function here takes the mode and the device list, so the rest of jaxlab never touches a device.
"""
from typing import Any, Callable, Sequence

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec as P

from jaxlab import errors

MODES = ("pmap", "jit")
AXIS_NAME = "batch"


def check(mode: str, global_batch: int, devices: Sequence[jax.Device]) -> None:
    if mode not in MODES:
        raise errors.Error(f"unknown parallelism {mode!r}: use --config.parallelism=pmap or jit")
    if global_batch % len(devices):
        raise errors.Error(
            f"batch size {global_batch} does not divide by the {len(devices)} devices: set "
            f"--config.batch_size (and eval_batch_size) to a multiple of {len(devices)}")


def axis_name(mode: str) -> str | None:
    """The collective axis name models must use for cross-replica statistics (None under jit)."""
    return AXIS_NAME if mode == "pmap" else None


def _mesh(devices):
    return Mesh(np.asarray(devices), ("data",))


def _pmap_sharding(devices) -> NamedSharding:
    """Per-device placement exactly as pmap returns its outputs (a mesh axis named after the pmap axis), so
    values fed back into a pmapped function never trigger a second compilation."""
    return NamedSharding(Mesh(np.asarray(devices), (AXIS_NAME,)), P(AXIS_NAME))


def replicate(tree: Any, mode: str, devices: Sequence[jax.Device]) -> Any:
    """Host (or single-device) values → the same value on every device."""
    if mode == "pmap":
        sharding = _pmap_sharding(devices)
        return jax.tree.map(
            lambda x: jax.device_put(np.broadcast_to(np.asarray(x), (len(devices),) + np.shape(x)), sharding), tree)
    return jax.device_put(tree, NamedSharding(_mesh(devices), P()))


def _first_replica(x):
    """One replica of a pmap value, copied from a local device's shard (no computation is launched)."""
    if isinstance(x, jax.Array):
        return np.asarray(x.addressable_shards[0].data)[0, ...]  # [0, ...] keeps 0-d values arrays
    return np.asarray(x)[0, ...]


def unreplicate(tree: Any, mode: str) -> Any:
    """Replicated device values → host numpy values (one copy)."""
    if mode == "pmap":
        return jax.tree.map(_first_replica, tree)
    return jax.device_get(tree)


def shard_batches(indices: np.ndarray, mode: str, devices: Sequence[jax.Device]) -> jax.Array:
    """Per-step global batch rows ``[steps, global_batch, ...]`` → split across devices along the batch axis."""
    if mode == "pmap":
        steps, batch = indices.shape[:2]
        per_device = indices.reshape((steps, len(devices), batch // len(devices)) + indices.shape[2:])
        per_device = np.moveaxis(per_device, 1, 0)
        return jax.device_put(per_device, _pmap_sharding(devices))
    return jax.device_put(indices, NamedSharding(_mesh(devices), P(None, "data")))


def compile(fn: Callable, mode: str, devices: Sequence[jax.Device], donate_first: bool = True) -> Callable:
    """Compiles ``fn`` for the mode; every argument must come from `replicate` or `shard_batches`.

    Outputs are replicated (identical on every device). The first argument (the train state) is donated.
    """
    donate = (0,) if donate_first else ()
    if mode == "pmap":
        return jax.pmap(fn, axis_name=AXIS_NAME, devices=list(devices), donate_argnums=donate)
    return jax.jit(fn, out_shardings=NamedSharding(_mesh(devices), P()), donate_argnums=donate)


def cross_replica_sum(tree: Any, mode: str) -> Any:
    """Inside a compiled function: sums per-device values (identity under jit, where values are global)."""
    if mode == "pmap":
        return jax.lax.psum(tree, AXIS_NAME)
    return tree


def cross_replica_mean(tree: Any, mode: str) -> Any:
    if mode == "pmap":
        return jax.lax.pmean(tree, AXIS_NAME)
    return tree


def device_index(mode: str) -> jax.Array | int:
    return jax.lax.axis_index(AXIS_NAME) if mode == "pmap" else 0


def devices_for(config) -> list[jax.Device]:
    """The devices a run uses: all of them, or the first `config.num_devices`."""
    devices = jax.devices()
    wanted = config.get("num_devices", 0) or len(devices)
    if wanted > len(devices):
        raise errors.Error(f"--config.num_devices={wanted} but only {len(devices)} devices are visible")
    return devices[:wanted]

