"""Which rows of a split each device holds and reads, in the two layouts of `config.data_sharding`.

* ``replicated``: every device (of every process) holds every row. A step's global batch is one slice of the
  epoch's permutation (`epoch_order`), split across the devices, so the batches do not depend on how many devices
  or processes run (nor do the results under jit; pmap draws dropout and augmentation per device).
* ``per_device``: device d (its position among the run's D devices) holds one contiguous block of rows, the d-th
  of D blocks whose sizes differ by at most one, and each process keeps only its own devices' blocks (about 1/P of
  every split in host and device memory); a loader that can read part of a split reads only `process_window`.
  Device d's batches are its rows in the order the epoch's permutation visits them, so results depend on D but not
  on how the devices are spread over processes: 2 processes × 4 devices train exactly like 1 × 8. Evaluation pads
  every device to the same number of batches (padding masked), so every process runs the same steps.
* ``auto`` (the default): per_device in a multi-process run, replicated otherwise.

Everything here is a pure function of sizes, seeds and positions: every process computes the same orders.
"""
import math

import numpy as np

from jaxlab import errors
from jaxlab.data import Dataset

LAYOUTS = ("auto", "replicated", "per_device")


def layout(config, process_count: int) -> str:
    """The layout a run uses: `config.data_sharding`, with auto resolved."""
    wanted = config.get("data_sharding", "auto")
    if wanted not in LAYOUTS:
        raise errors.Error(f"unknown data_sharding {wanted!r}: use --config.data_sharding=auto, replicated or "
                           "per_device")
    if wanted == "auto":
        return "per_device" if process_count > 1 else "replicated"
    return wanted


def rows_per_device(num_rows: int, num_devices: int) -> np.ndarray:
    """per_device layout: how many real rows each device holds ([num_devices]; they differ by at most one)."""
    return (num_rows - np.arange(num_devices) + num_devices - 1) // num_devices


def block_starts(num_rows: int, num_devices: int) -> np.ndarray:
    """per_device layout: the first row of each device's block ([num_devices])."""
    counts = rows_per_device(num_rows, num_devices)
    return np.cumsum(counts) - counts


def held_rows(num_rows: int, num_devices: int, device: int) -> np.ndarray:
    """per_device layout: the rows `device` holds (its block), padded with the block's first row (the split's last
    row for an empty block) to ceil(num_rows / D) so every device holds an array of the same shape (padding is never
    trained on and masked in evaluation)."""
    per_device = math.ceil(num_rows / num_devices)
    start = int(block_starts(num_rows, num_devices)[device])
    count = int(rows_per_device(num_rows, num_devices)[device])
    rows = start + np.arange(per_device, dtype=np.int64)
    return np.where(np.arange(per_device) < count, rows, min(start, max(num_rows - 1, 0)))


def process_window(num_rows: int, num_devices: int, positions: list[int], data_layout: str) -> tuple[int, int]:
    """[first, stop): the rows of a split a process needs, for devices at `positions` — every row (replicated) or
    the span of its devices' blocks (per_device: contiguous when its devices are, as jax orders them)."""
    if data_layout == "replicated" or num_rows == 0:
        return 0, num_rows
    rows = np.concatenate([held_rows(num_rows, num_devices, position) for position in positions])
    return int(rows.min()), int(rows.max()) + 1


def hold(split: Dataset, num_devices: int, positions: list[int], data_layout: str, num_rows: int | None = None,
         first_row: int = 0) -> dict[str, list[np.ndarray]]:
    """key → one array per device of this process (`positions`): the whole split for each (replicated, no copy)
    or the device's own rows (per_device). `split` holds rows [first_row, first_row + its length) of a split of
    `num_rows` rows (default: the whole split), at least this process's `process_window`."""
    num_rows = len(next(iter(split.values()))) if num_rows is None else num_rows
    if data_layout == "replicated":
        return {key: [value] * len(positions) for key, value in split.items()}
    rows = [held_rows(num_rows, num_devices, position) - first_row for position in positions]
    return {key: [value[device_rows] for device_rows in rows] for key, value in split.items()}


def epoch_order(seed: int, epoch: int, num_rows: int, batch_size: int) -> np.ndarray:
    """Global row indices of one epoch as [steps, batch]; the incomplete last batch is dropped (it is seen in other
    epochs, since every epoch has its own permutation)."""
    steps = num_rows // batch_size
    permutation = np.random.default_rng([seed, epoch]).permutation(num_rows)
    return permutation[: steps * batch_size].reshape(steps, batch_size).astype(np.int32)


def eval_order(num_rows: int, batch_size: int) -> tuple[np.ndarray, np.ndarray]:
    """Every row once, in order, padded to whole batches: ([steps, batch] rows, mask), the mask 0 on padding."""
    steps = max(1, math.ceil(num_rows / batch_size))
    rows = np.arange(steps * batch_size, dtype=np.int32)
    mask = (rows < num_rows).astype(np.float32)
    return np.where(rows < num_rows, rows, 0).reshape(steps, batch_size), mask.reshape(steps, batch_size)


def _split_batches(global_rows: np.ndarray, num_devices: int) -> np.ndarray:
    """[steps, batch] → [devices, steps, batch / devices]: device d takes the d-th slice of every batch."""
    steps, batch = global_rows.shape
    return global_rows.reshape(steps, num_devices, batch // num_devices).transpose(1, 0, 2)


def device_epoch_order(seed: int, epoch: int, num_rows: int, batch_size: int, num_devices: int,
                       data_layout: str) -> np.ndarray:
    """[devices, steps, batch / devices]: for each device, the indices (into what it holds) of its share of each
    step's batch. `num_rows // batch_size` steps in both layouts."""
    if data_layout == "replicated":
        return _split_batches(epoch_order(seed, epoch, num_rows, batch_size), num_devices)
    per_device = batch_size // num_devices
    steps = num_rows // batch_size
    permutation = np.random.default_rng([seed, epoch]).permutation(num_rows)
    starts = block_starts(num_rows, num_devices)
    owner = np.searchsorted(starts, permutation, side="right") - 1  # the device whose block holds each row
    by_device = permutation[np.argsort(owner, kind="stable")]       # device 0's rows first, in visiting order
    order = np.stack([by_device[start:start + steps * per_device] - start for start in starts])
    return order.reshape(num_devices, steps, per_device).astype(np.int32)


def device_eval_order(num_rows: int, batch_size: int, num_devices: int,
                      data_layout: str) -> tuple[np.ndarray, np.ndarray]:
    """([devices, steps, batch / devices] indices into what each device holds, mask of the same shape): every row
    once, each device padded (mask 0) to the same number of steps."""
    if data_layout == "replicated":
        rows, mask = eval_order(num_rows, batch_size)
        return _split_batches(rows, num_devices), _split_batches(mask, num_devices)
    per_device = batch_size // num_devices
    held = math.ceil(num_rows / num_devices)
    steps = max(1, math.ceil(held / per_device))
    index = np.arange(steps * per_device, dtype=np.int32)
    real = index[None, :] < rows_per_device(num_rows, num_devices)[:, None]
    rows = np.where(real, index[None, :], 0).reshape(num_devices, steps, per_device)
    return rows.astype(np.int32), real.astype(np.float32).reshape(num_devices, steps, per_device)
