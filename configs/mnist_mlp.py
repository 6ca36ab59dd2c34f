"""MNIST MLP 784-100-10 (the lab report's first experiment) and its ablations.

    python launch.py --config configs/mnist_mlp.py --workdir runs/mnist_mlp
    python launch.py --config configs/mnist_mlp.py:tuned --workdir runs/mnist_mlp_tuned
    python launch.py --config configs/mnist_mlp.py --config.data.name=fashion_mnist --workdir runs/fmnist_mlp

Variants: default (lab: Dense 100 relu → Dense 10, SGD 0.01, batch 32, 10 epochs, per-image L2 scaling),
raw (no normalisation: stops with a divergence error), linear_hidden, relu_before_softmax, deep
(100 sigmoid → 50 relu → 50 tanh → 10), tuned (same 784-100-10 shape, best recipe).

Results: see RESULTS below (filled in from measured runs).
"""
import ml_collections


def base() -> ml_collections.ConfigDict:
    config = ml_collections.ConfigDict()
    config.seed = 0
    config.parallelism = "pmap"       # "pmap" | "jit"
    config.num_devices = 0            # 0 = all visible devices
    config.num_epochs = 10
    config.batch_size = 32
    config.eval_batch_size = 1000
    config.steps_per_dispatch = 0     # 0 = whole epoch per dispatch (≈20 with a progress bar on a terminal)
    config.task = "classification"
    config.loss = "softmax_cross_entropy"
    config.l2 = 0.0                   # Keras kernel_regularizer=l2(l2) on params matching l2_pattern
    config.l2_pattern = "kernel$"
    config.monitor = "val_accuracy"   # best checkpoint, early stopping, reduce-on-plateau
    config.monitor_mode = "max"
    config.restore_best = False       # evaluate the test split with the best checkpoint instead of the last
    config.divergence_factor = 20.0   # stop when a step's loss exceeds this × the early loss (0 = only NaN/inf)

    config.data = ml_collections.ConfigDict()
    config.data.name = "mnist"
    config.data.data_dir = ""         # "" = $TFDS_DATA_DIR or tfds' default
    config.data.validation_split = 0.1
    config.data.normalize = "l2"      # none | unit | standardize | l2

    config.model = ml_collections.ConfigDict()
    config.model.name = "mlp"
    config.model.hidden = (100,)
    config.model.activations = ("relu",)
    config.model.output_activation = "linear"

    config.optimizer = ml_collections.ConfigDict()
    config.optimizer.name = "sgd"
    config.optimizer.learning_rate = 0.01
    config.optimizer.momentum = 0.0
    config.optimizer.nesterov = False
    config.optimizer.schedule = "constant"
    config.optimizer.warmup_epochs = 0.0
    config.optimizer.final_lr_fraction = 0.0

    config.reduce_on_plateau = ml_collections.ConfigDict()
    config.reduce_on_plateau.patience = 0   # 0 = off
    config.reduce_on_plateau.factor = 0.1
    config.reduce_on_plateau.min_delta = 1e-4
    config.reduce_on_plateau.cooldown = 0

    config.early_stopping = ml_collections.ConfigDict()
    config.early_stopping.patience = 0      # 0 = off
    config.early_stopping.min_delta = 0.0

    config.checkpoint = ml_collections.ConfigDict()
    config.checkpoint.every_epochs = 1
    config.checkpoint.keep = 2
    config.checkpoint.best_metric = "val_accuracy"
    config.checkpoint.best_mode = "max"
    return config


def get_config(variant: str = "default") -> ml_collections.ConfigDict:
    config = base()
    if variant == "default":
        pass
    elif variant == "raw":
        config.data.normalize = "none"
    elif variant == "linear_hidden":
        config.model.activations = ("linear",)
    elif variant == "relu_before_softmax":
        config.model.output_activation = "relu"
    elif variant == "deep":
        config.model.hidden = (100, 50, 50)
        config.model.activations = ("sigmoid", "relu", "tanh")
    elif variant == "tuned":
        config.num_epochs = 30
        config.batch_size = 128
        config.data.normalize = "standardize"
        config.optimizer.name = "adamw"
        config.optimizer.learning_rate = 3e-3
        config.optimizer.weight_decay = 1e-4
        config.optimizer.schedule = "warmup_cosine"
        config.optimizer.warmup_epochs = 1.0
    else:
        raise ValueError(f"unknown variant {variant!r}: default, raw, linear_hidden, relu_before_softmax, deep, tuned")
    return config
