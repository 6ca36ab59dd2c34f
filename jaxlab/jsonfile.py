"""JSON files of a run: written atomically (a temporary file, then a rename: a reader never sees half a file),
numpy numbers and arrays as plain JSON. Light: numpy only."""
import json
import os
from typing import Any

import numpy as np


def json_default(value):
    """numpy scalars and arrays as JSON numbers and lists, anything else as its str (`json.dump`'s `default`)."""
    if isinstance(value, (np.floating, np.integer)):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return str(value)


def write_json(path: str, payload: Any) -> None:
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(payload, f, indent=2, default=json_default)
    os.replace(tmp, path)


def read_json(path: str) -> Any:
    with open(path) as f:
        return json.load(f)
