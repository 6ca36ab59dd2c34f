"""XOR (the 4 patterns of 2 bits) with two architectures, 100 seeds trained as one vmapped program.

    python launch.py --config configs/xor.py:two_layer --workdir runs/xor_two_layer
    python launch.py --config configs/xor.py:concat --workdir runs/xor_concat
    python launch.py --config configs/xor.py:concat --config.loss=sigmoid_binary_cross_entropy \\
        --config.optimizer.name=adam --config.optimizer.learning_rate=0.05 --workdir runs/xor_concat_bce_adam

Variants:
  two_layer  2 → 2 tanh → 1 (the `mlp` model); kernel_init_scale 0.25 (× the std of flax's lecun_normal), lr 0.2
  concat     2 → 1 tanh unit, then concatenate(input, hidden) → 1 (the `concat` model); flax's default init, lr 0.1
Choices: --config.data.encoding=01|pm1 (input bits), --config.loss=sigmoid_binary_cross_entropy (BCE on the logit)
| binary_mse (MSE against ±1 targets; the output's sign classifies), --config.optimizer.name=momentum (default) | sgd
| adam, --config.model.kernel_init_scale (two_layer only; 1.0 = flax's default). Full batch of the 4 patterns, so
`num_devices` = 1; train = validation = test = all patterns; "solved" = every pattern classified correctly after the
last epoch. --config.num_seeds=1 trains a single ordinary run.

RESULTS (measured 2026-11-30, 2-core CPU, 100 seeds = seeds 0…99, jit mode, 1000 epochs, momentum 0.9, MSE against
±1, ±1 inputs), the default recipes above:
    two_layer: 97% of seeds solved, median 37 epochs to solve (mean final accuracy 0.99; unsolved: seed 0 at 2 of 4
               patterns, seeds 45 and 60 at 3 of 4). Seeds 100…199 (--config.seed=100): 97%, median 36 epochs.
               The issue's goal of ≥ 95% is reached (lr 0.1 at flax's default init, the previous default: 90%).
    concat:    100% solved, median 17 epochs to solve; with Adam 0.05 + BCE (the third command): 100% (median 17.5).
  Each 100-seed run took ≈ 16–40 s wall (one vmapped program; 138× faster than 100 sequential runs). Every
  two_layer recipe measured: benchmarks/README.md, "Config notes moved from the config docstrings (2026-12-03)".
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
    config.batch_size = 0                 # 0 = full batch: all 2^N patterns in one step
    config.eval_batch_size = 2 ** num_bits  # one batch (evaluation is exact at any batch size)
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
    config.model.dtype = "float32"   # "bfloat16": bf16 compute, float32 parameters
    if variant == "two_layer":
        config.model.name = "mlp"
        config.model.hidden = config.data.num_bits   # one hidden layer of N tanh units
        config.model.activations = ("tanh",)
        config.model.output_activation = "linear"
        config.model.kernel_init_scale = 1.0   # × the std of flax's lecun_normal kernel init (1.0 = flax default)
    else:
        config.model.name = "concat"
        config.model.hidden = 1
        config.model.activation = "tanh"
        config.model.output_activation = "linear"
    return config


def parse(argument: str, default_bits: int) -> tuple[str, int]:
    """``variant[,num_bits]`` → (variant, N): the number of bits also sets two_layer's hidden width."""
    variant, _, bits = argument.partition(",")
    return variant, int(bits) if bits else default_bits


def get_config(argument: str = "two_layer") -> ml_collections.ConfigDict:
    variant, num_bits = parse(argument, 2)
    config = set_model(base(num_bits), variant)
    if variant == "two_layer":
        # The 2-2-1 net's default recipe: a small init (kernels at 0.25 × lecun_normal's std) starts the net near
        # the symmetric saddle, where momentum GD finds the XOR solution instead of the 2-of-4 local minimum that
        # traps 10% of seeds at flax's default init; lr 0.2 makes up for the slower start (see RESULTS).
        config.model.kernel_init_scale = 0.25
        config.optimizer.learning_rate = 0.2
    return config
