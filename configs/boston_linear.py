"""Boston housing price (MEDV, k$): linear regression (one Dense with L2) and an MLP, on a fixed seeded 80/20 split.

    python launch.py --config configs/boston_linear.py:linear --workdir runs/boston_linear
    python launch.py --config configs/boston_linear.py:mlp --workdir runs/boston_mlp

The 13 columns are standardised with training statistics. The split is Keras' own `boston_housing` split
(rows shuffled by RandomState(113), the last 102 of 506 are the test split; OLS on it: RMSE 4.82), and the last
10% of the 404 training rows are the validation split. Test MAE / RMSE / R² go to summary.json and
plots/predictions.png shows predicted vs true prices.
  linear  log1p of LSTAT, CRIM, DIS (LOG_COLUMNS below), then Dense 1, L2 1e-4 on the kernel (the lab's λ),
          Adam 0.02 with cosine decay, batch 16, 500 epochs, MSE (the lab's lr 1e-3 left the bias far from the mean
          price after 500 epochs: RMSE 13.7, seed-0 split)
  mlp     Dense 64-64 relu → 1, Adam 1e-3, batch 16, 300 epochs, MSE

Measured on the shared 2-core CPU, real file, the commands above (test split, 102 rows):
  linear  2026-12-01: RMSE 4.64, MAE 3.25, R² 0.741 — goal RMSE ≤ 4.75 met. Without the log columns (raw
          standardised inputs, measured 2026-11-30) RMSE 4.87, MAE 3.52, R² 0.715 = ordinary least squares (sklearn
          OLS on the same 364 rows: 4.87); only the LOG_COLUMNS choice below differs, and it was made on training rows.
  mlp     2026-11-30: MAE 2.40, RMSE 3.47, R² 0.855 (goal MAE ≤ 2.5 met).
"""
import ml_collections

from configs.common import csv_data, default_config

PATH = "csv/boston_housing.csv"   # under the data root $JAXLAB_DATA_DIR: python -m jaxlab.data.fetch boston
COLUMNS = ("CRIM", "ZN", "INDUS", "CHAS", "NOX", "RM", "AGE", "DIS", "RAD", "TAX", "PTRATIO", "B", "LSTAT")
VARIANTS = ("linear", "mlp")
# log1p of these three before standardising (linear variant): picked by 10-fold CV on the 364 training rows among
# none / LSTAT / CRIM / LSTAT+CRIM / LSTAT+CRIM+DIS / the seven skewed columns (CV RMSE 4.86 / 4.30 / 4.95 / 4.36 /
# 4.28 / 4.29, sklearn OLS) — the test split played no part in the choice.
LOG_COLUMNS = ("LSTAT", "CRIM", "DIS")


def base() -> ml_collections.ConfigDict:
    config = default_config()
    config.parallelism = "jit"        # one compile per run (pmap recompiles its train program once)
    config.task = "regression"
    config.loss = "mse"
    config.batch_size = 16
    config.eval_batch_size = 64
    config.monitor = "val_loss"
    config.monitor_mode = "min"
    config.checkpoint.every_epochs = 0   # tiny epochs: save at the end only
    config.checkpoint.best_metric = "val_loss"
    config.checkpoint.best_mode = "min"
    config.analyses = ("regression",)

    data = config.data = csv_data(config, PATH, target="MEDV")
    data.numeric = COLUMNS
    data.split = "keras"       # Keras' boston_housing split: RandomState(113) shuffle, last 20% test (404/102)
    data.split_seed = 113
    data.stratify = False

    config.model.name = "mlp"
    config.model.batch_norm = False
    config.model.dropout = 0.0
    config.model.output_activation = "linear"
    config.optimizer.name = "adam"
    config.optimizer.learning_rate = 1e-3
    return config


def get_config(variant: str = "linear") -> ml_collections.ConfigDict:
    config = base()
    if variant == "linear":
        config.num_epochs = 500
        config.model.hidden = ()
        config.model.activations = ("linear",)
        config.l2 = 1e-4
        config.optimizer.learning_rate = 0.02
        config.optimizer.schedule = "cosine"
        config.data.log_columns = LOG_COLUMNS
    elif variant == "mlp":
        config.num_epochs = 300
        config.model.hidden = (64, 64)
        config.model.activations = ("relu",)
    else:
        raise ValueError(f"unknown variant {variant!r}: {', '.join(VARIANTS)}")
    return config
