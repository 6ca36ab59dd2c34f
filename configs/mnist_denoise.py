"""Denoising convolutional autoencoder on MNIST: noisy (Gaussian × 0.4, clipped to [0, 1]) → clean images.

    python launch.py --config configs/mnist_denoise.py --workdir runs/mnist_denoise

Model: Conv 32 → pool → Conv 16 → pool → ConvTranspose 16 ↑2 → ConvTranspose 32 ↑2 → Conv 1 (12,193 parameters;
the lab's had ~12.5k). Per-pixel binary cross-entropy (`reconstruction_bce`), Adam 1e-3, batch 128. Writes
plots/reconstructions.png (noisy / denoised / clean rows of test images). Goal: validation BCE ≤ 0.084 (keras-io
anchor 0.0839).

Result (2026-12-01, 2-core CPU shared with one other run, real MNIST, the command above, 12.6 min): validation
BCE 0.0915 after 10 epochs, test BCE 0.0906 (mean absolute pixel error 0.032) — the lab-size net does not
reach the ≤ 0.084 goal; `tuned` below does.
Validation BCE per epoch: 0.1111, 0.1027, 0.0990, 0.0968, 0.0956, 0.0941, 0.0932, 0.0926, 0.0920, 0.0915 — falling
by ~0.001 per epoch at the end, so more epochs (keras-io trains 100 on noisy data) and/or a wider bottleneck
(keras-io: 32 filters in both stages, ~28k parameters) are the next things to try. Epochs took 66 s (before the
reshape max-pool landed in the autoencoder; its values are the same).

tuned (2026-12-01, 2-core CPU shared with tests and other runs, real MNIST, 40 epochs, 83 min; transposed
convolutions are sub-pixel, see jaxlab/models/upsample.py):

    python launch.py --config configs/mnist_denoise.py:tuned --workdir runs/mnist_denoise_tuned

features (32, 32) as keras-io, U-Net skips (each decoder stage also sees the encoder's map of its size), cosine
decay of Adam 1e-3 over 40 epochs; 37,857 parameters. Validation BCE 0.0930, 0.0904, 0.0887, 0.0877, 0.0868,
0.0862, 0.0857, 0.0854, 0.0851, 0.0849, 0.0848, 0.0847, 0.0843, 0.0843, 0.0842, 0.0841, 0.0839, 0.0842, 0.0838,
0.0837, … 0.0834 (epoch 25), … 0.0832 (epochs 34–40) → best 0.0832 (epoch 39): the ≤ 0.084 goal is MET (keras-io
anchor 0.0839); test BCE 0.0825, mean absolute pixel error 0.027. Epochs took 76–163 s (the CPU was shared).
The same recipe over 20 epochs reached 0.0844 (test 0.0837): the longer cosine schedule is what closed the gap.
Probes, 3 epochs at constant lr 1e-3 (validation BCE after epoch 3): (32, 16) 0.0990, (32, 64) 0.0912,
(32, 32) + skips 0.0887.
"""
import ml_collections

from configs.common import default_config


def get_config(variant: str = "default") -> ml_collections.ConfigDict:
    """Variants: default (the lab's ~12.5k-parameter net) | tuned (keras-io widths, U-Net skips, cosine decay)."""
    if variant not in ("default", "tuned"):
        raise ValueError(f"unknown variant {variant!r}: default, tuned")
    config = default_config()
    config.task = "reconstruction"
    config.loss = "reconstruction_bce"
    config.monitor = "val_loss"
    config.monitor_mode = "min"
    config.checkpoint.best_metric = "val_loss"
    config.checkpoint.best_mode = "min"
    config.analyses = ("reconstructions",)
    config.data.name = "mnist"
    config.data.normalize = "unit"
    config.data.noise_factor = 0.4
    config.data.noise_seed = 0
    config.model.name = "conv_autoencoder"
    config.model.features = (32, 16)
    config.model.skips = False
    config.optimizer.name = "adam"
    config.optimizer.learning_rate = 1e-3
    config.num_epochs = 10
    config.batch_size = 128
    if variant == "tuned":
        config.model.features = (32, 32)
        config.model.skips = True
        config.optimizer.schedule = "cosine"
        config.num_epochs = 40
    return config
