"""Movie profitability (worldwide gross − budget > 0) from IMDB 5000 movie metadata: the lab's three nets.

    python launch.py --config configs/movies_profit.py:bn --workdir runs/movies_profit_bn
    python launch.py --config configs/movies_profit.py:dropout --workdir runs/movies_profit_dropout
    python launch.py --config configs/movies_profit.py:l2 --workdir runs/movies_profit_l2
    (another file: --config.data.path=/path/movies.csv --config.data.delimiter=",")

Variants (Adam, 200 epochs, validation 25% of the non-test rows, test 20%, stratified, seed 0):
  bn       Dense 64-128-128-64-64 relu, each followed by BatchNorm → 2 (softmax), batch 40
  dropout  Dense 128-256-256 LeakyReLU, 128-128 tanh, dropout 0.2 between → 2, batch 40
  l2       Dense 32 relu → Dense 64 relu, L2 → 2, batch 20
Inputs: 14 numeric columns (counts and likes log-transformed, heavy-tailed), budget (currency, log), content rating
(top 10 + other, one-hot) and genres (multi-hot), all standardised with training statistics; gross is used only for
the target. Rows lacking gross or budget are dropped. The lab's unscaled net collapsed to the majority class (0.72).

Measured 2026-11-30 on the shared 2-core CPU, real file (3,891 rows kept; test 779 rows, majority class rate
0.526), the commands above: test accuracy bn 0.745 (ROC AUC 0.812), dropout 0.741 (AUC 0.826), l2 0.738
(AUC 0.818): +21, +21 and +21 points over the majority rate (goal +5). Validation loss is lowest at epochs 5 / 6 / 12
(overfitting afterwards, as the lab saw); the figures are the last epoch's.
"""
import ml_collections

from configs.common import csv_data, default_config

PATH = "csv/movie_metadata.csv"   # under $JAXLAB_DATA_DIR: a semicolon-separated copy of Kaggle's IMDB 5000
COUNTS = ("num_critic_for_reviews", "director_facebook_likes", "actor_3_facebook_likes", "actor_1_facebook_likes",
          "num_voted_users", "cast_total_facebook_likes", "num_user_for_reviews", "actor_2_facebook_likes",
          "movie_facebook_likes")
VARIANTS = ("bn", "dropout", "l2")


def base() -> ml_collections.ConfigDict:
    config = default_config()
    config.parallelism = "jit"        # one compile per run (pmap recompiles its train program once)
    config.task = "classification"
    config.loss = "softmax_cross_entropy"
    config.num_epochs = 200
    config.batch_size = 40
    config.eval_batch_size = 200
    config.monitor = "val_loss"
    config.monitor_mode = "min"
    config.checkpoint.every_epochs = 0   # tiny epochs: save at the end only
    config.checkpoint.best_metric = "val_loss"
    config.checkpoint.best_mode = "min"
    config.analyses = ("roc_auc",)

    data = config.data = csv_data(config, PATH, target="profit > 0", delimiter=";")
    data.numeric = COUNTS + ("duration", "facenumber_in_poster", "title_year", "imdb_score", "aspect_ratio")
    data.currency = ("budget",)
    data.categorical = ("content_rating",)
    data.multi_label = ("genres",)
    data.top_k = 10
    data.derived = ("profit = gross - budget",)
    data.missing = "median"
    data.log_columns = COUNTS + ("budget",)
    data.validation_split = 0.25

    config.model.name = "mlp"
    config.model.output_activation = "linear"
    config.model.batch_norm = False
    config.model.dropout = 0.0
    config.optimizer.name = "adam"
    config.optimizer.learning_rate = 1e-3
    return config


def get_config(variant: str = "bn") -> ml_collections.ConfigDict:
    config = base()
    if variant == "bn":
        config.model.hidden = (64, 128, 128, 64, 64)
        config.model.activations = ("relu",)
        config.model.batch_norm = True
    elif variant == "dropout":
        config.model.hidden = (128, 256, 256, 128, 128)
        config.model.activations = ("leaky_relu",) * 3 + ("tanh",) * 2
        config.model.dropout = 0.2
    elif variant == "l2":
        config.model.hidden = (32, 64)
        config.model.activations = ("relu",)
        config.l2 = 1e-3
        config.batch_size = 20
    else:
        raise ValueError(f"unknown variant {variant!r}: {', '.join(VARIANTS)}")
    return config
