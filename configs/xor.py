"""XOR (the 4 patterns of 2 bits) with two architectures, 100 seeds trained as one vmapped program.

    python launch.py --config configs/xor.py:two_layer --workdir /tmp/runs/xor_two_layer
    python launch.py --config configs/xor.py:concat --workdir /tmp/runs/xor_concat
    python launch.py --config configs/xor.py:concat --config.loss=sigmoid_binary_cross_entropy \\
        --config.optimizer.name=adam --config.optimizer.learning_rate=0.05 --workdir /tmp/runs/xor_concat_bce_adam

Variants: two_layer (2 → 2 tanh → 1, the `mlp` model) and concat (2 → 1 tanh unit, then concatenate(input, hidden)
→ 1, the `concat` model). Choices: --config.data.encoding=01|pm1 (input bits), --config.loss=
sigmoid_binary_cross_entropy (BCE on the logit) | binary_mse (MSE against ±1 targets; the output's sign classifies),
--config.optimizer.name=momentum (default) | sgd (plain full-batch gradient descent) | adam,
--config.model.kernel_init_scale (two_layer only: × the std of the kernels' init; 1.0 = flax's default). Full batch:
batch = eval batch = the 4 patterns, so `num_devices` = 1 (4 rows do not split over 8 devices). Train = validation =
test = all patterns; "solved" = every pattern classified correctly after the last epoch. --config.num_seeds=1 trains
a single ordinary run.

RESULTS (measured 2026-11-30, 2-core CPU, 100 seeds = seeds 0…99, jit mode, 1000 epochs, momentum 0.9, MSE against
±1, ±1 inputs unless a row says otherwise). Default recipes: two_layer = kernel_init_scale 0.25 (kernels drawn at
0.25 × the std of flax's lecun_normal), lr 0.2; concat = flax's default init, lr 0.1.
    two_layer: 97% of seeds solved, median 37 epochs to solve (mean final accuracy 0.99; unsolved: seed 0 at 2 of 4
               patterns, seeds 45 and 60 at 3 of 4). Seeds 100…199 (--config.seed=100): 97%, median 36 epochs.
               The issue's goal of ≥ 95% is reached.
    concat:    100% solved, median 17 epochs to solve.
  Each 100-seed run took ≈ 16–40 s wall (one vmapped program; benchmarks/README.md: 138× faster than 100 sequential
  runs; load average ≈ 11 on the shared CPU).

  Every two_layer recipe measured ("init" = kernel_init_scale, 1.0 = flax's default):
    recipe                                                       solved   median epochs
    momentum lr 0.1, init 1.0 (the previous default; re-measured   90%        20   (the unsolved 10% end at 2 of 4
      with --config.model.kernel_init_scale=1.0: the same)                          patterns, a local minimum)
    momentum lr 0.05, MSE                                          88%        —
    momentum lr 0.1, BCE                                           76%        —
    Adam 0.05 + BCE                                                54%        —
    Adam 0.05 + BCE, 0/1 inputs                                    47%        —
    Adam 0.01 + BCE, 3000 epochs                                   60%        —
    Adam 0.05 + MSE                                                75%        —
    Adam 0.05 + MSE, 0/1 inputs                                    70%        —
    Adam 0.1 + MSE, tanh output                                    66%        —
    GD (no momentum) 0.5 + BCE, 3000 epochs                        73%        —
    momentum lr 0.1, init 0.2                                      96%        68.5
    momentum lr 0.1, init 0.25                                     96%        55
    momentum lr 0.1, init 0.25, 3000 epochs                        96%        55
    momentum lr 0.1, init 0.3                                      95%        46
    momentum lr 0.15, init 0.25                                    96%        44
    momentum lr 0.2, init 0.25 (the default)                       97%        37
    momentum lr 0.2, init 0.25, seeds 100…199                      97%        36
  (Rows 2–10 were measured before this table existed and recorded the solved rate only.) Larger inits hurt and
  smaller ones help: an exploratory 1000-seed sweep of the same 2-2-1 net outside launch.py (plain JAX, its own
  seeds, not a lab measurement) gave init 1.0 → 90%, 2.0 → 76%, 0.5 → 96%, 0.25 → 98%, 0.1 → 95% (slow) at lr 0.1,
  and 98.3% for the default; 0/1 inputs, BCE and Adam stayed below it with the small init as well.
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
    config.model.dtype = "float32"   # "bfloat16": bf16 compute, float32 parameters
    if variant == "two_layer":
        config.model.name = "mlp"
        config.model.hidden = config.data.get_ref("num_bits")   # one hidden layer of N tanh units
        config.model.activations = ("tanh",)
        config.model.output_activation = "linear"
        config.model.kernel_init_scale = 1.0   # × the std of flax's lecun_normal kernel init (1.0 = flax default)
    else:
        config.model.name = "concat"
        config.model.hidden = 1
        config.model.activation = "tanh"
        config.model.output_activation = "linear"
    return config


def get_config(variant: str = "two_layer") -> ml_collections.ConfigDict:
    config = set_model(base(2), variant)
    if variant == "two_layer":
        # The 2-2-1 net's default recipe: a small init (kernels at 0.25 × lecun_normal's std) starts the net near
        # the symmetric saddle, where momentum GD finds the XOR solution instead of the 2-of-4 local minimum that
        # traps 10% of seeds at flax's default init; lr 0.2 makes up for the slower start (see RESULTS).
        config.model.kernel_init_scale = 0.25
        config.optimizer.learning_rate = 0.2
    return config
