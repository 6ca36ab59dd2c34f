"""Simpsons-MNIST: 28×28 grayscale images of 10 Simpsons characters from an image folder (class = folder name).

    python launch.py --config configs/simpsons_cnn.py:cnn --workdir runs/simpsons_cnn
    python launch.py --config configs/simpsons_cnn.py:mlp --workdir runs/simpsons_mlp
    python launch.py --config configs/simpsons_cnn.py:tuned --workdir runs/simpsons_tuned
    python launch.py --config configs/simpsons_cnn.py:cnn --config.data.path=/my/images --workdir runs/other

The data path defaults to the shared copy `DEFAULT_PATH` (train/ and test/ folders, 8,000 / 2,000 images);
override it with ``--config.data.path``. 10% of each training class is held out for validation (seeded).

Variants:
  cnn   (the lab's net, default) Conv 32 → MaxPool → Conv 64 → MaxPool → Flatten → Dense 512 (L2 1e-3) → Dropout 0.2
        → Dense 256 (L2 1e-3) → Dropout 0.2 → Dense 10; Adam 3e-4, batch 32, early stopping (patience 10) and
        reduce-on-plateau on validation accuracy, the best epoch's weights for the test.
  mlp   the lab's dense baseline: Flatten → Dense 512 (L2) → Dropout 0.2 → Dense 256 (L2) → Dropout 0.2 → Dense 10.
  tuned the improved recipe: three stages of two 3×3 convs (32, 64, 128 filters), each conv with BatchNorm, a
        max-pool per stage, Dropout 0.3 → Dense 256 → Dropout 0.3 → Dense 10 (585k parameters), random shifts of
        ±2 pixels and horizontal flips of training batches, AdamW (weight decay 5e-4) with a warm-up cosine
        schedule over 60 epochs, batch 64; the best validation epoch's weights for the test.

Results measured 2026-11-30 on the shared 2-core CPU (heavily loaded by other runs), real data, test split of
2,000 images, best-validation-epoch weights (lab: ~0.58 validation, MLP 0.32 test; Keras 3 re-run of the lab
recipes here: CNN 0.610, MLP 0.388):
  cnn   0.539 test accuracy (val 0.548) after 10 epochs, still rising; CPU time ran out before early stopping:
        python launch.py --config configs/simpsons_cnn.py:cnn --config.num_epochs=10 --workdir runs/simpsons_cnn
        (1.76M parameters, 36 min wall clock at 34 images/s on the contended CPU)
  mlp   0.320 test accuracy (val 0.323, best epoch 15 of 15):
        python launch.py --config configs/simpsons_cnn.py:mlp --config.num_epochs=15 --workdir runs/simpsons_mlp
        (536k parameters, 47 s)
  tuned 2026-12-01: **0.8365 test accuracy** (best validation 0.8562 at epoch 59 of 60) — goal ≥ 0.80 met:
        python launch.py --config configs/simpsons_cnn.py:tuned --workdir runs/simpsons_tuned
        (18 min on the CPU, shared with a CI run for part of it; ran as the previous tuned config with
        --config.num_epochs=60 --config.model.layers=<TUNED_CNN above>, which is what the config now says).
        The previous tuned recipe (one conv per stage, 391k parameters, 30 epochs) reached 0.7485 test (best
        validation 0.7412 at epoch 30, training accuracy 0.78: under-fitting), hence two convs per stage and 60
        epochs. Both ran after conv training steps were unrolled on CPU (4.3 s per epoch for the one-conv net).
The lab recipes (cnn: 100 epochs with early stopping; mlp) were not rerun today.
"""
import ml_collections

from configs.common import default_config

DEFAULT_PATH = "/work/shared/data/simpsons/grayscale"
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
