"""The data types every loader returns, and the row counts of a split that a process may hold only in part.

A `Dataset` is a dict of equally long numpy arrays (``inputs``, ``label``, …); `Splits` holds train / validation /
test and the JSON-able ``info``. A `Share` says which rows of each split a process reads (`whole`: all of them);
`Splits.windows` records the splits a process read only in part, so that `num_rows` and `first_row` still give the
whole split's numbers while `num_held_rows` counts the rows held.
"""
import dataclasses
from typing import Any, Callable

import numpy as np

Dataset = dict[str, np.ndarray]


@dataclasses.dataclass
class Splits:
    train: Dataset
    validation: Dataset | None
    test: Dataset | None
    info: dict[str, Any]    # num_outputs, num_classes, task, input_shape, preprocessing (all JSON-able)
    windows: dict[str, tuple[int, int]] = dataclasses.field(default_factory=dict)
    # split name → (first row held, rows in the whole split) for a split this process read only in part


Share = Callable[[str, int], tuple[int, int]]


def whole(split: str, num_rows: int) -> tuple[int, int]:
    """The share of a single-process run: every row of every split."""
    del split
    return 0, num_rows


def num_held_rows(dataset: Dataset | None) -> int:
    """Rows of a split as held (this process's window of it, when read in part)."""
    return 0 if dataset is None else len(next(iter(dataset.values())))


def num_rows(splits: Splits, name: str) -> int:
    """Rows in the whole split `name` (train / validation / test), also when this process read only part of it."""
    return splits.windows[name][1] if name in splits.windows else num_held_rows(getattr(splits, name))


def first_row(splits: Splits, name: str) -> int:
    """The whole split's index of the first row this process holds of `name`."""
    return splits.windows[name][0] if name in splits.windows else 0
