"""Defaults every config starts from (`default_config()`, defined and documented key by key in
jaxlab/settings.py) and the CSV data block (`csv_data`).

Experiment configs import this, override what their experiment needs and add variants through
`get_config(variant)`. Keys are locked at launch: a mistyped `--config.key` is an error that lists close names.
"""
import ml_collections

from jaxlab.settings import default_config  # noqa: F401  (the single source of defaults)


def csv_data(config: ml_collections.ConfigDict, path: str, target: str,
             delimiter: str = ",") -> ml_collections.ConfigDict:
    """`config.data` for a CSV file (jaxlab/data/tabular.py documents each key): every key with its default, so
    each one can be set from the command line; tabular configs then declare their columns and split."""
    data = ml_collections.ConfigDict()
    data.name = "csv"
    data.path = path
    data.delimiter = delimiter
    data.encoding = "utf-8"           # the file's text encoding: latin-1, cp1252, … for files that are not UTF-8
    data.target = target              # a column or an expression ("profit > 0")
    data.numeric = ()
    data.currency = ()                # number strings: "$425,000,000"
    data.nonfinite = "error"          # inf or |x| > 1e150 in a number column: error | missing (a missing value)
    data.dates = ()                   # date columns → numeric features <column>_<part> ("18-Dec-09", "2009-12-18", …)
    data.date_parts = ("year", "month")  # of each date: year | month | day | weekday (Monday = 0)
    data.date_format = ""             # "" = the common formats (tabular.py); else one strftime format, e.g. "%d.%m.%Y"
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
