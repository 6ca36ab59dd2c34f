"""Tabular data from a CSV, declared in `config.data` (pandas + scikit-learn, no hand-written parsing).

`config.data` keys (all optional but ``path`` and ``target``):

* ``path``, ``delimiter`` (``","``), ``encoding`` (``"utf-8"``; e.g. ``latin-1`` or ``cp1252`` for files that are not
  UTF-8: a byte that does not decode is an error naming its offset and line)
* ``numeric``: columns of numbers; ``currency``: columns of number strings such as ``"$425,000,000"`` or
  ``"1 200,5"`` (currency signs, thousands separators and spaces are stripped); both become one float feature each.
  Empty cells and ``nan``/``NA`` are missing values. ``inf``, ``-inf`` and numbers too large to use (|x| > 1e150,
  whose square overflows float64) are errors that name the column, the file line (the header is line 1) and the
  value; ``nonfinite = "missing"`` treats them as missing values instead (default ``"error"``)
* ``dates``: date columns, each turned into the numeric features ``<column>_<part>`` for every part of
  ``date_parts`` (``year`` | ``month`` | ``day`` | ``weekday``, Monday = 0; default ``("year", "month")``), which are
  then fitted (missing-value policy, log, standardisation) like every numeric column and can be used in ``derived``
  expressions. Without ``date_format`` each value is read with the first of these formats it matches: ISO 8601
  (``2009-12-18``, ``2009-12-18 10:30``), ``18-Dec-09``, ``18-Dec-2009``, ``Dec 18, 2009``, ``December 18, 2009``,
  ``Dec 18 2009``, ``18 Dec 2009``, ``18 December 2009``, ``12/18/2009``, ``12/18/09`` (slashes are month first;
  day-first files set ``date_format = "%d/%m/%Y"``); time-zone offsets are converted to UTC. Two-digit years
  follow Python's ``strptime`` ``%y`` pivot: 00–68 → 2000–2068, 69–99 → 1969–1999. ``date_format``: one strftime
  format (e.g. ``"%d.%m.%Y"``) that every value must match. A value that is no date is an error naming the column,
  the line, the value and ``date_format``
* ``categorical``: one-hot columns, capped at the ``top_k`` most frequent training values plus an ``other`` slot
  (``top_k`` 0 = every training value); a missing value counts as the value ``"(missing)"``
* ``multi_label``: columns such as genres ``"Action|Comedy"`` → multi-hot over the labels seen in training
  (separator ``multi_label_separator``)
* ``derived``: ``("profit = gross - budget", ...)`` new columns from pandas expressions over the file's columns
  (a non-finite result, e.g. a division by zero, is an error like a non-finite value in the file)
* ``target``: a column, or an expression such as ``"profit > 0"``; rows whose target is missing are dropped;
  ``task``: classification | binary | regression (configs link it to ``config.task`` with ``get_ref``); a regression
  target must be numbers
* ``missing``: policy for missing numbers, ``drop`` | ``mean`` | ``median`` | ``constant`` (``fill_value``);
  ``missing_by_column``: per-column policies (a date part takes the policy of ``<column>_<part>``, else of its date
  column); ``zero_means_missing``: columns where 0 means "not measured"
* ``standardize``: (x − mean) / std; ``log_columns``: sign(x)·log1p(|x|) first (heavy-tailed money columns);
  ``robust_columns``: (x − median) / IQR instead of mean / std (the std when the IQR is 0)
* ``test_split``, ``validation_split``: seeded random fractions (stratified for classification and binary tasks;
  seed ``split_seed``, -1 = the run's seed); ``split = "keras"``: Keras' shuffle-then-tail split instead;
  ``num_folds`` > 0 with ``fold``: k stratified folds of the non-test rows, fold ``fold`` is the validation part
  (and the test part when ``test_split`` is 0)

Every statistic (fill values, categories, labels, means, scales, classes) is fitted on the training part only and
saved in ``info["tabular"]``; `transform` applies it to any frame with the same raw columns (`jaxlab.predict`). A
number column that is constant or empty in the training part (of a fold), a statistic that comes out non-finite or
a feature that overflows float32 after the transforms is an error naming the column: never a silent constant or
NaN feature.

This module holds the declared columns, the splits and `load`; `jaxlab.data.csv_columns` reads the file and parses
its columns, `jaxlab.data.feature_encoding` fits the statistics and encodes the features.
"""
from typing import Any

import numpy as np
import pandas as pd
from ml_collections import ConfigDict
from sklearn import model_selection

from jaxlab import errors
from jaxlab.data.csv_columns import (DATE_PARTS, NONFINITE, check_columns, parse, read_frame, referenced,
                                     split_derived, to_number)
from jaxlab.data.feature_encoding import encode, feature_names, fit_columns, missing_policy, numeric_columns
from jaxlab.data.splits import Splits

CLASSIFICATION_TASKS = ("classification", "binary")


# ----------------------------------------------------------------------------------------------------------------
# Declared columns.

def declared(config: ConfigDict) -> dict[str, Any]:
    """The JSON-able description of the columns (saved in ``info["tabular"]``), its keys checked."""
    spec = {key: [str(name) for name in config.get(key, ())] for key in
            ("numeric", "currency", "dates", "categorical", "multi_label", "derived", "zero_means_missing")}
    spec["target"] = str(config.get("target", ""))
    spec["date_parts"] = [str(part) for part in config.get("date_parts", ("year", "month"))]
    spec["date_format"] = str(config.get("date_format", "") or "")
    spec["nonfinite"] = str(config.get("nonfinite", "error"))
    if not spec["target"]:
        raise errors.Error("no target: set config.data.target to a column or an expression (e.g. 'profit > 0')")
    if not (spec["numeric"] or spec["currency"] or spec["dates"] or spec["categorical"] or spec["multi_label"]):
        raise errors.Error("no feature columns: list them in config.data.numeric / currency / dates / categorical / "
                           "multi_label")
    check_date_keys(spec)
    if spec["nonfinite"] not in NONFINITE:
        raise errors.Error(f"unknown config.data.nonfinite {spec['nonfinite']!r}: use error (stop at an inf or too "
                           "large number) or missing (treat it as a missing value)")
    return spec


def check_date_keys(spec: dict[str, Any]) -> None:
    unknown = [part for part in spec["date_parts"] if part not in DATE_PARTS]
    if unknown or (spec["dates"] and not spec["date_parts"]):
        raise errors.Error(f"unknown date part {(unknown or [''])[0]!r} in config.data.date_parts: list some of "
                           f"{', '.join(DATE_PARTS)}")
    both = [name for name in spec["dates"] if name in spec["numeric"] + spec["currency"]]
    if both:
        raise errors.Error(f"column {both[0]!r} is in config.data.dates and in config.data.numeric/currency: keep it "
                           "in config.data.dates only")


def check_values(frame: pd.DataFrame, spec: dict[str, Any]) -> None:
    """Every feature column has values and more than one value in the rows kept (`feature_encoding.fit_numeric`
    checks the training rows again, with their fill values)."""
    columns = [(name, "dates") for name in spec.get("dates", ())]
    columns += [(name, key) for name, key, _ in numeric_columns(spec)]
    columns += [(name, key) for key in ("categorical", "multi_label") for name in spec[key]]
    for name, key in columns:
        values = frame[name]
        if values.isna().all():
            raise errors.Error(f"column {name!r} has no values (all missing): remove it from config.data.{key}")
        if values.nunique(dropna=True) == 1:
            value = values.dropna().iloc[0]
            value = value.item() if hasattr(value, "item") else value
            raise errors.Error(f"column {name!r} is constant ({value!r}): it carries no information, "
                               f"remove it from config.data.{key}")


# ----------------------------------------------------------------------------------------------------------------
# Splits.

def keras_split(num_rows: int, seed: int, test_split: float, validation_split: float) -> dict[str, np.ndarray]:
    """Keras' `boston_housing.load_data` split: rows shuffled by `np.random.RandomState(seed)`, the last
    `test_split` of them are the test split, then the last `validation_split` of the rest (`validation_split`)."""
    rows = np.arange(num_rows)
    np.random.RandomState(seed).shuffle(rows)
    cut = int(num_rows * (1 - test_split))
    rest, test = rows[:cut], rows[cut:]
    cut_val = len(rest) - round(len(rest) * validation_split)
    return {"train": rest[:cut_val], "validation": rest[cut_val:], "test": test}


def split_rows(labels: np.ndarray, stratify: bool, seed: int, test_split: float, validation_split: float,
               num_folds: int = 0, fold: int = 0, style: str = "random") -> dict[str, np.ndarray]:
    """Row indices of train / validation / test: seeded, stratified by `labels` when `stratify` (style
    ``random``), or Keras' shuffle-and-take-the-tail split (style ``keras``)."""
    rows = np.arange(len(labels))
    for name, fraction in (("test_split", test_split), ("validation_split", validation_split)):
        if not 0.0 <= fraction < 1.0:
            raise errors.Error(f"config.data.{name} must be in [0, 1), got {fraction}")
    if style not in ("random", "keras"):
        raise errors.Error(f"unknown split style {style!r}: use --config.data.split=random or keras")
    if style == "keras":
        if num_folds:
            raise errors.Error("k folds need --config.data.split=random")
        return keras_split(len(labels), seed, test_split, validation_split)

    def cut(indices, fraction, salt):
        if fraction == 0.0:
            return indices, indices[:0]
        return model_selection.train_test_split(
            indices, test_size=fraction, random_state=seed + salt,
            stratify=labels[indices] if stratify else None)

    rest, test = cut(rows, test_split, 0)
    if num_folds:
        if not 0 <= fold < num_folds:
            raise errors.Error(f"config.data.fold must be in [0, {num_folds}), got {fold}")
        splitter = (model_selection.StratifiedKFold if stratify else model_selection.KFold)(
            num_folds, shuffle=True, random_state=seed)
        train_at, val_at = list(splitter.split(rest, labels[rest] if stratify else None))[fold]
        train, validation = rest[train_at], rest[val_at]
        if not test_split:
            test = validation
    else:
        train, validation = cut(rest, validation_split, 1)
    return {"train": np.sort(train), "validation": np.sort(validation), "test": np.sort(test)}


# ----------------------------------------------------------------------------------------------------------------
# Loading, and applying a run's saved transform.

def load(config: ConfigDict, seed: int):
    spec = declared(config)
    raw = read_frame(config.get("path", ""), config.get("delimiter", ","), config.get("encoding", "utf-8"))
    keys = ("numeric", "currency", "dates", "categorical", "multi_label", "zero_means_missing")
    source = [n for key in keys for n in spec[key]]
    derived_names = [split_derived(d)[0] for d in spec["derived"]]
    for key in keys:
        check_columns(raw, [n for n in spec[key] if n not in derived_names], key)
    frame = parse(raw, spec)
    used_by_derived = {n for d in spec["derived"] for n in referenced(split_derived(d)[1], raw.columns)}
    spec["source_columns"] = sorted({n for n in source if n not in derived_names} | used_by_derived)
    task = config.get("task", "")
    if task not in CLASSIFICATION_TASKS:
        frame["__target__"] = to_number(frame["__target__"], spec["target"], nonfinite=spec["nonfinite"],
                                        key="target")
    frame = frame[frame["__target__"].notna()]
    drop = [name for name, _, source in numeric_columns(spec) if missing_policy(config, name, source) == "drop"]
    if drop:
        frame = frame[frame[drop].notna().all(axis=1)]
    if frame.empty:
        raise errors.Error(f"no rows left in {config.path} after dropping rows with a missing target or a missing "
                           f"value in a 'drop' column ({', '.join(drop) or 'none'}): check config.data.target, or "
                           "fill those columns instead (config.data.missing / missing_by_column)")
    check_values(frame, spec)
    target = frame["__target__"]
    classes = None
    if task in CLASSIFICATION_TASKS:
        classes = sorted(pd.unique(target).tolist(), key=lambda v: (str(type(v)), v))
        if len(classes) < 2:
            raise errors.Error(f"target {spec['target']!r} has a single class ({classes[0]!r}) in the "
                               f"{len(frame)} rows kept: a classifier needs at least two; check "
                               "config.data.target")
        if task == "binary" and len(classes) != 2:
            raise errors.Error(f"target {spec['target']!r} has {len(classes)} classes but the task is binary: "
                               "use --config.task=classification")
        labels = target.map({c: i for i, c in enumerate(classes)}).to_numpy(np.int32)
    else:
        labels = target.to_numpy(np.float32)
    split_seed = config.get("split_seed", -1)
    rows = split_rows(labels, task in CLASSIFICATION_TASKS and config.get("stratify", True),
                      seed if split_seed < 0 else split_seed, config.get("test_split", 0.2),
                      config.get("validation_split", 0.0), config.get("num_folds", 0), config.get("fold", 0),
                      config.get("split", "random"))
    where = f"the training rows of fold {config.get('fold', 0)}" if config.get("num_folds", 0) else "the training rows"
    spec["columns"] = fit_columns(frame.iloc[rows["train"]], spec, config, where)

    def part(name):
        if not len(rows[name]):
            return None
        return {"inputs": encode(frame.iloc[rows[name]], spec["columns"]), "label": labels[rows[name]]}

    train = part("train")
    names = feature_names(spec["columns"])
    spec["classes"] = None if classes is None else [c.item() if hasattr(c, "item") else c for c in classes]
    info = {"task": task or "regression", "num_classes": len(classes) if classes else 0,
            "num_outputs": 1 if task != "classification" else len(classes), "input_shape": [len(names)],
            "feature_names": names, "num_rows": len(frame), "split_rows": {k: len(v) for k, v in rows.items()},
            "tabular": spec, "preprocessing": None}
    if classes is not None:
        info["class_counts"] = {str(k): np.bincount(labels[rows[k]], minlength=len(classes)).tolist()
                                for k in ("train", "validation", "test")}
    return Splits(train, part("validation"), part("test"), info)


def transform(raw: pd.DataFrame, tabular: dict[str, Any]) -> np.ndarray:
    """The saved transform of a run (``info["tabular"]``) applied to raw rows with the file's columns."""
    absent = [name for name in tabular["source_columns"] if name not in raw.columns]
    if absent:
        raise errors.Error(f"the rows to transform lack column {absent[0]!r} that the run was trained on: give a "
                           f"frame with the file's columns ({', '.join(tabular['source_columns'])})")
    frame = parse(raw, tabular, with_target=False)
    missing = [c["name"] for c in tabular["columns"] if c["kind"] == "numeric" and c["fill"] is None
               and frame[c["name"]].isna().any()]
    if missing:
        raise errors.Error(f"column {missing[0]!r} has missing values and the run drops such rows: fill them first")
    return encode(frame, tabular["columns"])
