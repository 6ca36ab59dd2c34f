"""Simpsons-MNIST: 28×28 grayscale images of 10 Simpsons characters from an image folder (class = folder name).

    python launch.py --config configs/simpsons_cnn.py:cnn --workdir runs/simpsons_cnn
    python launch.py --config configs/simpsons_cnn.py:mlp --workdir runs/simpsons_mlp
    python launch.py --config configs/simpsons_cnn.py:tuned --workdir runs/simpsons_tuned
    python launch.py --config configs/simpsons_cnn.py:cnn --config.data.path=/my/images --workdir runs/other

The data path defaults to `DEFAULT_PATH` under the data root $JAXLAB_DATA_DIR (train/ and test/ folders, 8,000 /
2,000 images; `python -m jaxlab.data.fetch simpsons`, README "Data"); override it with ``--config.data.path``.
10% of each training class is held out for validation (seeded).

Variants (cnn, mlp: Adam 3e-4, batch 32, early stopping (patience 10), reduce-on-plateau; all: best epoch's weights):
  cnn    (default) the lab's net: Conv 32 → pool → Conv 64 → pool → Dense 512 → Dense 256 (L2 1e-3, dropout 0.2) → 10
  mlp    the lab's dense baseline: Flatten → Dense 512 (L2) → Dropout 0.2 → Dense 256 (L2) → Dropout 0.2 → Dense 10
  tuned  three stages of two 3×3 convs + BatchNorm (32, 64, 128 filters) → Dense 256 (dropout 0.3), 585k parameters;
         ±2 px shifts + horizontal flips, AdamW (weight decay 5e-4) with warm-up cosine over 60 epochs, batch 64

Results (shared 2-core CPU, real data, test split of 2,000 images, best-validation-epoch weights; lab: ~0.58
validation, MLP 0.32 test; Keras 3 re-run of the lab recipes here: CNN 0.610, MLP 0.388):
  tuned  2026-12-01: **0.8365 test accuracy** (best validation 0.8562 at epoch 59 of 60) — goal ≥ 0.80 met (18 min).
  cnn    2026-11-30: 0.539 test accuracy (val 0.548) after 10 epochs (--config.num_epochs=10), still rising.
  mlp    2026-11-30: 0.320 test accuracy (val 0.323, best epoch 15 of 15; --config.num_epochs=15).
Run details and the previous tuned recipe: benchmarks/README.md, "Config notes moved from the config docstrings".
"""
import ml_collections

from configs.common import default_config

DEFAULT_PATH = "simpsons/grayscale"
LAB_CNN = ("conv32", "pool", "conv64", "pool", "flatten", "dense512", "dropout0.2", "dense256", "dropout0.2")
TUNED_CNN = ("conv32", "bn", "conv32", "bn", "pool", "conv64", "bn", "conv64", "bn", "pool",
             "conv128", "bn", "conv128", "bn", "pool", "flatten", "dropout0.3", "dense256", "dropout0.3")


def base() -> ml_collections.ConfigDict:
    config = default_config()
    config.data.name = "image_folder"
    config.data.path = DEFAULT_PATH
    config.data.image_size = (28, 28)
    config.data.color = "grayscale"
    config.data.test_fraction = 0.2        # only used when the folder has no train/ and test/ sub-folders
    config.data.validation_split = 0.1
    config.data.normalize = "unit"
    config.num_epochs = 100
    config.batch_size = 32
    config.eval_batch_size = 500
    config.l2 = 1e-3
    config.l2_pattern = "Dense_[01]/kernel$"   # the two hidden Dense layers, as the lab's kernel_regularizer
    config.optimizer.name = "adam"
    config.optimizer.learning_rate = 3e-4
    config.early_stopping.patience = 10
    config.reduce_on_plateau.patience = 5
    config.reduce_on_plateau.factor = 0.2
    config.restore_best = True
    return config


def get_config(variant: str = "cnn") -> ml_collections.ConfigDict:
    config = base()
    if variant == "cnn":
        config.model.name = "cnn"
        config.model.layers = LAB_CNN
    elif variant == "mlp":
        config.model.name = "mlp"
        config.model.hidden = (512, 256)
        config.model.activations = ("relu",)
        config.model.dropout = 0.2
    elif variant == "tuned":
        config.model.name = "cnn"
        config.model.layers = TUNED_CNN
        config.l2 = 0.0
        config.num_epochs = 60
        config.batch_size = 64
        config.data.augment = ("random_shift", "flip_horizontal")
        config.optimizer.name = "adamw"
        config.optimizer.learning_rate = 2e-3
        config.optimizer.weight_decay = 5e-4
        config.optimizer.schedule = "warmup_cosine"
        config.optimizer.warmup_epochs = 2.0
        config.early_stopping.patience = 0
        config.reduce_on_plateau.patience = 0
    else:
        raise ValueError(f"unknown variant {variant!r}: cnn, mlp, tuned")
    return config
