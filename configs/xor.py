"""XOR (the 4 patterns of 2 bits) with two architectures, 100 seeds trained as one vmapped program.

    python launch.py --config configs/xor.py:two_layer --workdir /tmp/runs/xor_two_layer
    python launch.py --config configs/xor.py:concat --workdir /tmp/runs/xor_concat
    python launch.py --config configs/xor.py:concat --config.loss=sigmoid_binary_cross_entropy \\
        --config.optimizer.name=adam --config.optimizer.learning_rate=0.05 --workdir /tmp/runs/xor_concat_bce_adam

Variants: two_layer (2 → 2 tanh → 1, the `mlp` model) and concat (2 → 1 tanh unit, then concatenate(input, hidden)
→ 1, the `concat` model). Choices: --config.data.encoding=01|pm1 (input bits), --config.loss=
sigmoid_binary_cross_entropy (BCE on the logit) | binary_mse (MSE against ±1 targets; the output's sign classifies),
--config.optimizer.name=momentum (default) | sgd (plain full-batch gradient descent) | adam. Full batch: batch = eval batch = the 4 patterns,
so `num_devices` = 1 (4 rows do not split over 8 devices). Train = validation = test = all patterns; "solved" = every
pattern classified correctly after the last epoch. --config.num_seeds=1 trains a single ordinary run.

RESULTS (measured 2026-11-30, 2-core CPU, 100 seeds = seeds 0…99, default recipe, jit mode, 1000 epochs):
    two_layer: 90% of seeds solved, median 20 epochs to solve (mean final accuracy 0.95: the unsolved 10% end at 2 of 4
               patterns, a local minimum of the 2-2-1 net) — the issue's goal of ≥ 95% is NOT reached for this architecture.
    concat:    100% solved, median 17 epochs to solve.
  Each 100-seed run took ≈ 16 s wall (one vmapped program; benchmarks/README.md: 138× faster than 100 sequential
  runs). Other two_layer recipes measured the same way (solved rate over 100 seeds): Adam 0.05 + BCE 54% (0/1
  inputs 47%), Adam 0.01 + BCE 3000 epochs 60%, Adam 0.05 + MSE 75% (0/1 inputs 70%), Adam 0.1 + MSE with a tanh
  output 66%, GD 0.5 + BCE 3000 epochs 73%, momentum 0.9 lr 0.05 + MSE 88%, momentum 0.9 lr 0.1 + BCE 76%;
  concat with Adam 0.05 + BCE: 100% (median 17.5 epochs).
"""
import ml_collections

from configs.common import default_config

VARIANTS = ("two_layer", "concat")


def base(num_bits: int) -> ml_collections.ConfigDict:
    config = default_config()
    config.data.name = "patterns"
    config.data.num_bits = num_bits
    config.data.encoding = "pm1"
    config.data.validation_split = 0.0   # unused: train = validation = test = all patterns
    config.data.normalize = "none"
    config.batch_size = ml_collections.FieldReference(2) ** config.data.get_ref("num_bits")  # full batch
    config.eval_batch_size = config.get_ref("batch_size")
    config.num_devices = 1                # a full batch of 2^N rows does not split over 8 devices
    config.task = "binary"
    config.loss = "binary_mse"            # or sigmoid_binary_cross_entropy (BCE)
    config.num_epochs = 1000              # one epoch = one full-batch step
    config.monitor = "val_accuracy"
    config.divergence_factor = 0.0        # NaN/inf only: full-batch losses start near their plateau
    config.optimizer.name = "momentum"    # full-batch gradient descent with momentum; or sgd, adam
    config.optimizer.learning_rate = 0.1
    config.optimizer.momentum = 0.9
    config.checkpoint.every_epochs = 500
    config.checkpoint.keep = 1
    config.checkpoint.best_metric = ""
    config.num_seeds = 100                # seed k = seed + k, trained as one vmapped program
    config.seeds_max_params = 100_000     # above this, the seeds run one after another
    config.epochs_per_dispatch = 250      # epochs per compiled call of the vmapped program
    return config


def set_model(config: ml_collections.ConfigDict, variant: str) -> ml_collections.ConfigDict:
    if variant not in VARIANTS:
        from jaxlab import errors
        raise errors.Error(f"unknown variant {variant!r}: use one of {', '.join(VARIANTS)} (--config file.py:variant)")
    config.model = ml_collections.ConfigDict()
    if variant == "two_layer":
        config.model.name = "mlp"
        config.model.hidden = config.data.get_ref("num_bits")   # one hidden layer of N tanh units
        config.model.activations = ("tanh",)
        config.model.output_activation = "linear"
    else:
        config.model.name = "concat"
        config.model.hidden = 1
        config.model.activation = "tanh"
        config.model.output_activation = "linear"
    return config


def get_config(variant: str = "two_layer") -> ml_collections.ConfigDict:
    return set_model(base(2), variant)
