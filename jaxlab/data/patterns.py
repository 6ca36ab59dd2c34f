"""Every pattern of N bits with its parity as the label (N = 2 is XOR): a problem to solve, not to generalise.

`config.data`: ``num_bits`` (N, 1…16) and ``encoding`` (``"01"``: bits are 0/1, ``"pm1"``: bits are −1/+1). Labels
are 0/1 (1 = odd number of ones), a ``binary`` task. Train, validation and test are the same 2^N patterns (the
info says so under ``all_patterns``): "solved" means every pattern is classified correctly.
"""
import numpy as np
from ml_collections import ConfigDict

from jaxlab import errors
from jaxlab.data.splits import Splits

ENCODINGS = ("01", "pm1")


def enumerate_bits(num_bits: int) -> np.ndarray:
    """All 2^N bit patterns as a [2^N, N] int array of 0/1, pattern i = the binary digits of i (MSB first)."""
    codes = np.arange(2 ** num_bits)[:, None]
    return ((codes >> np.arange(num_bits - 1, -1, -1)) & 1).astype(np.int32)


def parity(bits: np.ndarray) -> np.ndarray:
    return (bits.sum(axis=1) % 2).astype(np.int32)


def load(config: ConfigDict, seed: int):
    del seed  # the patterns are enumerated, not drawn
    num_bits, encoding = config.get("num_bits", 2), config.get("encoding", "01")
    if not 1 <= num_bits <= 16:
        raise errors.Error(f"config.data.num_bits must be in 1…16, got {num_bits}")
    if encoding not in ENCODINGS:
        raise errors.Error(f"unknown pattern encoding {encoding!r}: use --config.data.encoding=01 or pm1")
    bits = enumerate_bits(num_bits)
    inputs = (bits if encoding == "01" else 2 * bits - 1).astype(np.float32)
    patterns = {"inputs": inputs, "label": parity(bits)}
    info = {"task": "binary", "num_classes": 2, "num_outputs": 1, "input_shape": [num_bits],
            "preprocessing": None, "all_patterns": True,
            "note": f"train = validation = test = all {len(bits)} patterns of {num_bits} bits (label = parity)",
            "generator": {"num_bits": num_bits, "encoding": encoding}}
    return Splits(patterns, patterns, patterns, info)
