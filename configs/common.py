"""Defaults every config starts from (`default_config()`), documented key by key.

Experiment configs import this, override what their experiment needs and add variants through
`get_config(variant)`. Keys are locked at launch: a mistyped `--config.key` is an error that lists close names.
"""
import ml_collections


def default_config() -> ml_collections.ConfigDict:
    config = ml_collections.ConfigDict()
    config.seed = 0                   # init, dropout and data order all derive from it
    config.parallelism = "pmap"       # "pmap" (per-device program, pmean of grads) | "jit" (Mesh + NamedSharding)
    config.num_devices = 0            # 0 = all visible devices
    config.num_epochs = 10
    config.batch_size = 32            # global batch (divides by the device count)
    config.eval_batch_size = 1000
    config.steps_per_dispatch = 0     # 0 = whole epoch per dispatch (≈20 chunks with a progress bar on a terminal)
    config.unroll_steps = -1          # train steps per dispatch as straight-line code, no loop (0 = lax.scan loop);
                                      # -1 = 8 for nets with convolutions on CPU (XLA:CPU's loop slows their
                                      # backward pass ~25×), else 0
    config.input = "device"           # device: splits on the accelerator, batches gathered there | host: batches
                                      # built in host memory and shipped per dispatch (data too big for the device)
    config.data_sharding = "auto"     # replicated: every device holds every row (results independent of the
                                      # device count) | per_device: each device (process) holds only its rows |
                                      # auto: per_device in multi-process runs, else replicated (jaxlab/shards.py)
    config.task = "classification"    # classification | binary | regression | reconstruction
    config.loss = "softmax_cross_entropy"
    config.l2 = 0.0                   # Keras kernel_regularizer=l2(l2) on params whose path matches l2_pattern
    config.l2_pattern = "kernel$"
    config.monitor = "val_accuracy"   # drives the best checkpoint, early stopping and reduce-on-plateau
    config.monitor_mode = "max"
    config.restore_best = False       # evaluate the test split with the best checkpoint instead of the last
    config.num_seeds = 1              # K > 1: K seeds (seed, seed+1, …) trained at once by jaxlab/seeds.py
    config.divergence_factor = 20.0   # stop when a step's loss exceeds this × the first step's (0 = NaN/inf only)

    config.data = ml_collections.ConfigDict()
    config.data.name = "mnist"
    config.data.data_dir = ""         # "" = $TFDS_DATA_DIR or tfds' default
    config.data.validation_split = 0.1  # 0: train on every training row (no best checkpoint, no early stopping)
    config.data.normalize = "unit"    # none | unit | standardize | l2
    config.data.augment = ()          # names from jaxlab/data/augment.py, applied to training batches only

    config.model = ml_collections.ConfigDict()
    config.model.name = "mlp"
    config.model.dtype = "float32"    # compute dtype: "bfloat16" = bf16 compute, float32 parameters and outputs

    config.optimizer = ml_collections.ConfigDict()
    config.optimizer.name = "sgd"     # sgd | momentum | adam | adamw | rmsprop
    config.optimizer.learning_rate = 0.01
    config.optimizer.momentum = 0.0
    config.optimizer.nesterov = False
    config.optimizer.weight_decay = 0.0
    config.optimizer.grad_clip_norm = 0.0
    config.optimizer.schedule = "constant"  # constant | cosine | warmup_cosine | step | exponential
    config.optimizer.warmup_epochs = 0.0
    config.optimizer.final_lr_fraction = 0.0
    config.optimizer.boundaries_epochs = ()  # step schedule
    config.optimizer.decay_factor = 0.1      # step / exponential schedules
    config.optimizer.decay_epochs = 1.0      # exponential schedule

    config.reduce_on_plateau = ml_collections.ConfigDict()
    config.reduce_on_plateau.patience = 0   # epochs without improvement of `monitor`; 0 = off
    config.reduce_on_plateau.factor = 0.1
    config.reduce_on_plateau.min_delta = 1e-4
    config.reduce_on_plateau.cooldown = 0
    config.reduce_on_plateau.min_scale = 0.0

    config.early_stopping = ml_collections.ConfigDict()
    config.early_stopping.patience = 0      # 0 = off
    config.early_stopping.min_delta = 0.0

    config.checkpoint = ml_collections.ConfigDict()
    config.checkpoint.every_epochs = 1
    config.checkpoint.keep = 2              # latest N, plus the best by best_metric
    config.checkpoint.best_metric = "val_accuracy"
    config.checkpoint.best_mode = "max"
    return config


def csv_data(config: ml_collections.ConfigDict, path: str, target: str,
             delimiter: str = ",") -> ml_collections.ConfigDict:
    """`config.data` for a CSV file (jaxlab/data/tabular.py documents each key): every key with its default, so
    each one can be set from the command line; tabular configs then declare their columns and split."""
    data = ml_collections.ConfigDict()
    data.name = "csv"
    data.path = path
    data.delimiter = delimiter
    data.task = config.get_ref("task")
    data.target = target              # a column or an expression ("profit > 0")
    data.numeric = ()
    data.currency = ()                # number strings: "$425,000,000"
    data.categorical = ()             # one-hot, top_k most frequent training values + "other" (0 = all)
    data.top_k = 0
    data.multi_label = ()             # "Action|Comedy" → multi-hot
    data.multi_label_separator = "|"
    data.derived = ()                 # ("profit = gross - budget",)
    data.missing = "mean"             # drop | mean | median | constant (fill_value)
    data.missing_by_column = ml_collections.ConfigDict()
    data.fill_value = 0.0
    data.zero_means_missing = ()
    data.standardize = True
    data.log_columns = ()             # sign(x)·log1p(|x|) before standardising
    data.robust_columns = ()          # (x − median) / IQR
    data.split = "random"             # random (seeded, stratified for classification) | keras
    data.split_seed = -1              # -1 = the run's seed
    data.test_split = 0.2
    data.validation_split = 0.1
    data.stratify = True
    data.num_folds = 0                # k > 0: k folds, `fold` is the validation (and test, with test_split 0) part
    data.fold = 0
    data.data_dir = ""                # unused by csv
    data.normalize = "none"           # unused by csv (its own standardisation above)
    data.augment = ()
    return data
