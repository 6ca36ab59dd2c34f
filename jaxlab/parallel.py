"""The only module that knows about devices.

Two modes, chosen by `config.parallelism`:

* ``pmap``: one program per device. Replicated values carry a leading device axis, each device sees its slice of
  the global batch, gradients are averaged with ``lax.pmean`` and BatchNorm statistics are taken across replicas
  through the axis name ``"batch"``.
* ``jit``: global arrays on a one-axis ``Mesh`` (``"data"``) with ``NamedSharding``: replicated values use
  ``P()``, batch indices are split along the batch axis, and XLA inserts the collectives — except where a model
  marks per-example work and sums over the batch with `over_batch` (the bag-of-words layer and its gradient).

Data on the devices is always [devices, rows held, ...], device d holding slice d (in pmap each device sees its
own rows; under jit the leading axis is sharded over the mesh) — the same rows on every device, or each device's
own rows (see `jaxlab.shards`). Batch indices index what the device holds; `gather` reads them where they are.

Multi-process runs (``launch.py --distributed``): the device list spans every process's devices. Each process
holds the same seeds, batch orders and parameters, and the data of its own devices: `replicate` and `per_device`
build global arrays from what each process holds, each process filling only its own devices, and `unreplicate`
reads this process's own replica; the compiled steps run the collectives across processes.

Every function here takes the mode and the device list, so the rest of jaxlab never touches a device.
"""
import json
from typing import Any, Callable, Sequence

import jax
import jax.numpy as jnp
import numpy as np
from jax import custom_batching
from jax.experimental import multihost_utils
from jax.experimental.custom_partitioning import custom_partitioning
from jax.sharding import Mesh, NamedSharding, PartitionSpec as P

from jaxlab import errors, jsonfile

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


def _put(x: Any, sharding: NamedSharding) -> jax.Array:
    """`jax.device_put`, also when `sharding` spans devices of other processes: then every process (holding the
    same full value) places only its own devices' shards — no cross-process transfer, and none of the equality
    check device_put would run (an all-gather of the whole value, which also fails on NaN)."""
    if sharding.is_fully_addressable:
        return jax.device_put(x, sharding)
    x = np.asarray(x)
    return jax.make_array_from_callback(x.shape, sharding, lambda index: x[index], dtype=x.dtype)


def replicate(tree: Any, mode: str, devices: Sequence[jax.Device]) -> Any:
    """Host (or single-device) values → the same value on every device. In a multi-process run every process
    passes the same values (data and seeds are identical everywhere) and fills its own devices."""
    if mode == "pmap":
        sharding = _pmap_sharding(devices)
        return jax.tree.map(
            lambda x: _put(np.broadcast_to(np.asarray(x), (len(devices),) + np.shape(x)), sharding), tree)
    sharding = NamedSharding(_mesh(devices), P())
    if sharding.is_fully_addressable:
        return jax.device_put(tree, sharding)
    return jax.tree.map(lambda x: _put(x, sharding), tree)


def _first_replica(x):
    """One replica of a pmap value, copied from a local device's shard (no computation is launched)."""
    if isinstance(x, jax.Array):
        return np.asarray(x.addressable_shards[0].data)[0, ...]  # [0, ...] keeps 0-d values arrays
    return np.asarray(x)[0, ...]


def unreplicate(tree: Any, mode: str) -> Any:
    """Replicated device values → host numpy values (one copy, read from this process's own devices)."""
    if mode == "pmap":
        return jax.tree.map(_first_replica, tree)
    return jax.device_get(tree)


def local_positions(devices: Sequence[jax.Device]) -> list[int]:
    """Positions in `devices` of this process's own devices."""
    return [index for index, device in enumerate(devices) if device.process_index == jax.process_index()]


def per_device(pieces: Sequence[np.ndarray], axis: int, mode: str, devices: Sequence[jax.Device]) -> jax.Array:
    """The global array that concatenates one piece per device along `axis` (sharded there), built from this
    process's pieces only: one per `local_positions(devices)`, in that order, all of the same shape. Under pmap the
    axis must be 0 and each piece of size 1 along it."""
    if mode == "pmap" and axis != 0:
        raise ValueError("pmap values carry the device axis first")
    sharding = _pmap_sharding(devices) if mode == "pmap" else NamedSharding(
        _mesh(devices), P(*([None] * axis), "data"))
    shape = list(np.shape(pieces[0]))
    shape[axis] *= len(devices)
    positions = local_positions(devices)
    arrays = [jax.device_put(np.asarray(piece), devices[position]) for position, piece in zip(positions, pieces)]
    return jax.make_array_from_single_device_arrays(tuple(shape), sharding, arrays)


def stacked(pieces: Sequence[np.ndarray], mode: str, devices: Sequence[jax.Device]) -> jax.Array:
    """One array per device of this process (e.g. what it holds of a split) → [devices, ...], device d holding
    slice d."""
    return per_device([np.asarray(piece)[None] for piece in pieces], 0, mode, devices)


def batches(pieces: Sequence[np.ndarray], mode: str, devices: Sequence[jax.Device]) -> jax.Array:
    """Each local device's share of a run of batches, ``[steps, batch / devices, ...]`` → pmap: [devices, steps,
    batch / devices, ...]; jit: [steps, batch, ...] split along the batch axis."""
    if mode == "pmap":
        return stacked(pieces, mode, devices)
    return per_device(pieces, 1, mode, devices)


def shard_batches(indices: np.ndarray, mode: str, devices: Sequence[jax.Device]) -> jax.Array:
    """Per-step global batch rows ``[steps, global_batch, ...]`` → split across devices along the batch axis."""
    steps, batch = indices.shape[:2]
    split = indices.reshape((steps, len(devices), batch // len(devices)) + indices.shape[2:])
    return batches([split[:, position] for position in local_positions(devices)], mode, devices)


def gather(held: jax.Array, rows: jax.Array, mode: str) -> jax.Array:
    """Inside a compiled function: the batch `rows` of a split placed by `stacked`. pmap: this device's rows of
    what it holds. jit: `rows` is the global batch, slice d indexing what device d holds; each device gathers its
    own slice (no communication) and the result is the global batch."""
    if mode == "pmap":
        return jnp.take(held, rows, axis=0)
    num_devices = held.shape[0]
    rows = rows.reshape((num_devices, -1) + rows.shape[1:])
    taken = jax.vmap(lambda device_rows, device_held: jnp.take(device_held, device_rows, axis=0))(rows, held)
    return taken.reshape((-1,) + taken.shape[2:])


def compiled(fn: Callable, mode: str, devices: Sequence[jax.Device], donate_first: bool = True) -> Callable:
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


def over_batch(fn: Callable, sharding_rule: str) -> Callable:
    """`fn(*args)` for jit on several devices with the batch split over them: each device applies `fn` to its own
    examples. `sharding_rule` is Shardy's einsum-like rule with the batch factor named ``b``: arguments with a ``b``
    factor are split along it, the others replicated; a result with a ``b`` factor stays split along it (e.g.
    ``"v d, b l -> b d"``: one output row per example, no communication), a result without one is a sum over the
    batch's examples, added up by one all-reduce (e.g. ``"b l, b d -> v d"``: a gradient table). Several results:
    ``"b l -> b, l b"``. Left to the partitioner, a loop inside `fn` that accumulates into a replicated value
    all-reduces it at every iteration, and a sort over the batch gathers every example to every device. One device
    or pmap: `fn` itself; under vmap: `fn` vmapped (a partitioned op has no batching rule)."""
    operands, results = (part.strip() for part in sharding_rule.split("->"))

    def batch_dims(factors: str) -> list[int | None]:
        return [each.split().index("b") if "b" in each.split() else None for each in factors.split(",")]

    arg_dims, result_dims = batch_dims(operands), batch_dims(results)
    several = len(result_dims) > 1

    @custom_partitioning
    def partitioned(*args):
        return fn(*args)

    def batch_axes_of(arg_shapes):
        index = next(i for i, dim in enumerate(arg_dims) if dim is not None)
        spec = getattr(arg_shapes[index].sharding, "spec", None)
        dim = arg_dims[index]
        return spec[dim] if spec is not None and len(spec) > dim else None  # None: the batch is not split

    def sharding(mesh, batch_axes, dim: int | None, rank: int):
        spec = [None] * rank
        if dim is not None:
            spec[dim] = batch_axes
        return NamedSharding(mesh, P(*spec))

    def result_shardings(mesh, batch_axes, result_shape):
        shapes = result_shape if several else (result_shape,)
        out = tuple(sharding(mesh, batch_axes, dim, len(shape.shape)) for dim, shape in zip(result_dims, shapes))
        return out if several else out[0]

    def partition(mesh, arg_shapes, result_shape):
        batch_axes = batch_axes_of(arg_shapes)

        def per_device(*args):
            out = fn(*args)
            if batch_axes is None:
                return out
            summed = [value if dim is not None else jax.lax.psum(value, batch_axes)
                      for dim, value in zip(result_dims, out if several else (out,))]
            return tuple(summed) if several else summed[0]

        in_shardings = tuple(sharding(mesh, batch_axes, dim, len(shape.shape))
                             for dim, shape in zip(arg_dims, arg_shapes))
        return mesh, per_device, result_shardings(mesh, batch_axes, result_shape), in_shardings

    def infer(mesh, arg_shapes, result_shape):
        return result_shardings(mesh, batch_axes_of(arg_shapes), result_shape)

    partitioned.def_partition(partition, sharding_rule=sharding_rule, infer_sharding_from_operands=infer)

    @custom_batching.custom_vmap
    def mapped(*args):
        return partitioned(*args)

    @mapped.def_vmap
    def _vmapped(axis_size, in_batched, *args):
        args = [arg if batched else jnp.broadcast_to(arg, (axis_size,) + arg.shape)
                for arg, batched in zip(args, in_batched)]
        out = jax.vmap(fn)(*args)
        return out, jax.tree.map(lambda _: True, out)

    return mapped


def device_index(mode: str) -> jax.Array | int:
    return jax.lax.axis_index(AXIS_NAME) if mode == "pmap" else 0


def devices_for(config) -> list[jax.Device]:
    """The devices a run uses: all of them (of every process in a multi-process run), or the first
    `config.num_devices`."""
    devices = jax.devices()
    wanted = config.get("num_devices", 0) or len(devices)
    if wanted > len(devices):
        raise errors.Error(f"--config.num_devices={wanted} but only {len(devices)} devices are visible")
    if jax.process_count() > 1 and wanted != len(devices):
        raise errors.Error(f"--config.num_devices={wanted} in a run of {jax.process_count()} processes: every "
                           f"process must take part, so leave it at 0 (all {len(devices)} devices)")
    return devices[:wanted]


def sync_processes(name: str) -> None:
    """Waits until every process reaches the barrier `name` (nothing to wait for in a 1-process run)."""
    if jax.process_count() > 1:
        multihost_utils.sync_global_devices(name)


def any_process(flag: bool) -> bool:
    """`flag` OR-ed over every process, the same answer on all of them; a collective, so every process must call
    it at the same point. A SIGTERM that reached one host thus stops every host at the same step."""
    if jax.process_count() == 1:
        return bool(flag)
    return bool(np.max(multihost_utils.process_allgather(np.int32(flag))))


def summed_over_processes(values: np.ndarray) -> np.ndarray:
    """`values` (float64) summed over every process, exactly, the same on all of them; a collective, as
    `any_process`. Loaders that read only their process's rows sum training statistics this way. The float64 bits
    travel as int32 pairs (jax arrays are 32-bit here)."""
    values = np.ascontiguousarray(values, np.float64)
    if jax.process_count() == 1:
        return values
    gathered = np.asarray(multihost_utils.process_allgather(values.view(np.int32)))
    return np.ascontiguousarray(gathered).view(np.float64).reshape((-1,) + values.shape).sum(axis=0)


def from_process_zero(value: Any) -> Any:
    """Process 0's `value` (anything JSON can hold, numpy numbers as `jsonfile.json_default` writes them; the others
    pass None), the same on every process; a collective, as `any_process`. The multi-host search agrees on each
    trial's parameters and pruning decisions this way."""
    if jax.process_count() == 1:
        return value
    lead = jax.process_index() == 0
    encoded = np.frombuffer(json.dumps(value, default=jsonfile.json_default).encode(), np.uint8) if lead \
        else np.zeros(0, np.uint8)
    size = int(multihost_utils.broadcast_one_to_all(np.int32(encoded.size)))
    buffer = encoded if lead else np.zeros(size, np.uint8)
    return json.loads(np.asarray(multihost_utils.broadcast_one_to_all(buffer)).tobytes().decode())
