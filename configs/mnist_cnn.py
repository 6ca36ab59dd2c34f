"""MNIST / Fashion-MNIST CNNs: the lab's small CNN (`default`) and an efficient recipe (`tuned`).

    python launch.py --config configs/mnist_cnn.py --workdir runs/mnist_cnn
    python launch.py --config configs/mnist_cnn.py:tuned --workdir runs/mnist_cnn_tuned
    python launch.py --config configs/mnist_cnn.py:tuned --config.data.name=fashion_mnist --workdir runs/fmnist_cnn

Variants:
  default  Conv 32 (3×3, same, relu) → MaxPool 2 → BN → Conv 16 → MaxPool 2 → BN → Flatten → Dense 10;
           Adam 1e-3, batch 32, 10 epochs, pixels / 255 (lab: 0.98 test; Keras 3 re-run here: 0.985).
  tuned    compact BN CNN, Conv 32 → BN → pool → Conv 64 → BN → pool → Conv 128 → BN → pool → Dense 128 → BN →
           Dropout 0.3 → Dense 10; AdamW 3e-3 with warm-up + cosine, batch 128, 15 epochs, random ±2 px shifts.

Results (2-core CPU, real test splits, seed 0, the commands above):
  default  2026-11-30, MNIST: 0.9831 test accuracy (val 0.9843; best val 0.9877 at epoch 6 — it overfits after
           that), 68–110 s per epoch while other jobs ran.
  tuned    2026-12-01, MNIST: 0.9950 test accuracy (last epoch; best val 0.9958 at 13; 11.8 min with other runs on the
           CPU) — goal ≥ 0.994 met. Fashion-MNIST: 0.9325 test (best val 0.9358 at epoch 14; 9.1 min) — goal ≥ 0.930
           met. With 8 epochs (the recipe before) MNIST reached 0.9958 but Fashion-MNIST 0.9255, its validation
           accuracy still rising, hence 15. Epochs take 31–46 s here now that conv steps run unrolled on CPU (one
           epoch took 3037 s on 2026-11-30 under load 10–14, inside the lax.scan loop).
"""
import ml_collections

from configs.common import default_config

LAB_CNN = ("conv32", "pool", "bn", "conv16", "pool", "bn", "flatten")
TUNED_CNN = ("conv32", "bn", "pool", "conv64", "bn", "pool", "conv128", "bn", "pool", "flatten",
             "dense128", "bn", "dropout0.3")


def get_config(variant: str = "default") -> ml_collections.ConfigDict:
    config = default_config()
    config.data.name = "mnist"           # or fashion_mnist / kmnist: same shapes, no other change
    config.data.normalize = "unit"
    config.model.name = "cnn"
    config.model.activation = "relu"
    config.optimizer.name = "adam"
    config.optimizer.learning_rate = 1e-3
    if variant == "default":
        config.model.layers = LAB_CNN
        config.num_epochs = 10
        config.batch_size = 32
    elif variant == "tuned":
        config.model.layers = TUNED_CNN
        config.num_epochs = 15
        config.batch_size = 128
        config.data.augment = ("random_shift",)
        config.optimizer.name = "adamw"
        config.optimizer.learning_rate = 3e-3
        config.optimizer.weight_decay = 5e-4
        config.optimizer.schedule = "warmup_cosine"
        config.optimizer.warmup_epochs = 1.0
    else:
        raise ValueError(f"unknown variant {variant!r}: default, tuned")
    return config
