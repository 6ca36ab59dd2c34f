"""Denoising convolutional autoencoder on MNIST: noisy (Gaussian × 0.4, clipped to [0, 1]) → clean images.

    python launch.py --config configs/mnist_denoise.py --workdir runs/mnist_denoise
    python launch.py --config configs/mnist_denoise.py:tuned --workdir runs/mnist_denoise_tuned

Variants:
  default  Conv 32 → pool → Conv 16 → pool → ConvTranspose 16 ↑2 → ConvTranspose 32 ↑2 → Conv 1 (12,193 parameters;
           the lab's had ~12.5k); 10 epochs
  tuned    features (32, 32) as keras-io, U-Net skips (each decoder stage also sees the encoder's map of its size),
           cosine decay of Adam 1e-3 over 40 epochs; 37,857 parameters (transposed convolutions are sub-pixel, see
           jaxlab/models/upsample.py)
Per-pixel binary cross-entropy (`reconstruction_bce`), Adam 1e-3, batch 128. Writes plots/reconstructions.png
(noisy / denoised / clean rows of test images). Goal: validation BCE ≤ 0.084 (keras-io anchor 0.0839).

Results (real MNIST, 2-core CPU shared with other runs, the commands above):
  default  2026-12-01, 12.6 min: validation BCE 0.0915 after 10 epochs, test BCE 0.0906 (mean absolute pixel error
           0.032) — the lab-size net does not reach the ≤ 0.084 goal; `tuned` does.
  tuned    2026-12-01, 40 epochs, 83 min: best validation BCE 0.0832 (epoch 39): the ≤ 0.084 goal is MET (keras-io
           anchor 0.0839); test BCE 0.0825, mean absolute pixel error 0.027. The same recipe over 20 epochs reached
           0.0844 (test 0.0837): the longer cosine schedule is what closed the gap.
Per-epoch validation BCE and the probes: benchmarks/README.md, "Config notes moved from the config docstrings".
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
