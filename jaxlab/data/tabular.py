"""Tabular data from a CSV, declared in `config.data` (pandas + scikit-learn, no hand-written parsing).

`config.data` keys (all optional but ``path`` and ``target``):

* ``path``, ``delimiter`` (``","``)
* ``numeric``: columns of numbers; ``currency``: columns of number strings such as ``"$425,000,000"`` or
  ``"1 200,5"`` (currency signs, thousands separators and spaces are stripped); both become one float feature each
* ``categorical``: one-hot columns, capped at the ``top_k`` most frequent training values plus an ``other`` slot
  (``top_k`` 0 = every training value); a missing value counts as the value ``"(missing)"``
* ``multi_label``: columns such as genres ``"Action|Comedy"`` → multi-hot over the labels seen in training
  (separator ``multi_label_separator``)
* ``derived``: ``("profit = gross - budget", ...)`` new columns from pandas expressions over the file's columns
* ``target``: a column, or an expression such as ``"profit > 0"``; rows whose target is missing are dropped;
  ``task``: classification | binary | regression (configs link it to ``config.task`` with ``get_ref``)
* ``missing``: policy for missing numbers, ``drop`` | ``mean`` | ``median`` | ``constant`` (``fill_value``);
  ``missing_by_column``: per-column policies; ``zero_means_missing``: columns where 0 means "not measured"
* ``standardize``: (x − mean) / std; ``log_columns``: sign(x)·log1p(|x|) first (heavy-tailed money columns);
  ``robust_columns``: (x − median) / IQR instead of mean / std
* ``test_split``, ``validation_split``: seeded random fractions (stratified for classification and binary tasks;
  seed ``split_seed``, -1 = the run's seed); ``split = "keras"``: Keras' shuffle-then-tail split instead;
  ``num_folds`` > 0 with ``fold``: k stratified folds of the non-test rows, fold ``fold`` is the validation part
  (and the test part when ``test_split`` is 0)

Every statistic (fill values, categories, labels, means, scales, classes) is fitted on the training part only and
saved in ``info["tabular"]``; `transform` applies it to any frame with the same raw columns (`jaxlab.predict`).
"""
import os
import re
from typing import Any

import numpy as np
import pandas as pd
from ml_collections import ConfigDict
from sklearn import model_selection

from jaxlab import errors

POLICIES = ("drop", "mean", "median", "constant")
CLASSIFICATION_TASKS = ("classification", "binary")
MISSING_CATEGORY = "(missing)"
OTHER = "(other)"


# ----------------------------------------------------------------------------------------------------------------
# Reading and parsing.

def read_frame(path: str, delimiter: str = ",") -> pd.DataFrame:
    if not path:
        raise errors.Error("no CSV file given: set --config.data.path=/path/to/file.csv")
    if not os.path.isfile(path):
        raise errors.Error(f"CSV file {path} does not exist: set --config.data.path to an existing file")
    try:
        frame = pd.read_csv(path, sep=delimiter, skipinitialspace=True)
    except pd.errors.EmptyDataError as exc:
        raise errors.Error(f"CSV file {path} is empty: it needs a header row and data rows") from exc
    except pd.errors.ParserError as exc:
        raise errors.Error(f"CSV file {path} cannot be parsed ({' '.join(str(exc).split())}): check "
                           f"--config.data.delimiter (now {delimiter!r})") from exc
    if frame.empty:
        raise errors.Error(f"CSV file {path} has a header but no data rows")
    frame.columns = [str(name).strip() for name in frame.columns]
    return frame


def check_columns(frame: pd.DataFrame, names, key: str) -> None:
    for name in names:
        if name not in frame.columns:
            raise errors.Error(f"unknown column {name!r} in config.data.{key}: available columns are "
                               f"{', '.join(map(str, frame.columns))}")


def to_number(series: pd.Series, name: str, currency: bool = False) -> pd.Series:
    """Floats from a column; strings such as "$1,200" when `currency`. A value that is no number is an error that
    names the file line and the value."""
    values = series
    if series.dtype == object or pd.api.types.is_string_dtype(series):
        values = series.astype("string").str.strip()
        if currency:
            values = values.str.replace(r"[^\d.eE+\-]", "", regex=True)
        values = values.replace("", pd.NA)
    numbers = pd.to_numeric(values, errors="coerce").astype(np.float64)
    bad = numbers.isna() & series.notna() & (series.astype("string").str.strip() != "")
    if bad.any():
        row = bad.idxmax()
        raise errors.Error(f"column {name!r} has a non-numeric value {series[row]!r} at line {row + 2}: fix the "
                           "file or declare the column as currency/categorical")
    return numbers


def referenced(expression: str, columns) -> list[str]:
    """Column names an expression uses (bare identifiers or `backquoted names`)."""
    names = set(re.findall(r"`([^`]+)`", expression)) | set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", expression))
    return [name for name in columns if name in names]


def split_derived(definition: str) -> tuple[str, str]:
    if "=" not in definition.replace("==", ""):
        raise errors.Error(f"derived column {definition!r} needs the form 'name = expression' "
                           "(config.data.derived)")
    name, expression = definition.split("=", 1)
    return name.strip(), expression.strip()


def evaluate(frame: pd.DataFrame, expression: str, key: str) -> pd.Series:
    try:
        return frame.eval(expression, engine="python")
    except Exception as exc:  # pandas raises UndefinedVariableError, SyntaxError, TypeError …
        raise errors.Error(f"cannot evaluate {expression!r} in config.data.{key} ({type(exc).__name__}: "
                           f"{' '.join(str(exc).split())}): available columns are "
                           f"{', '.join(map(str, frame.columns))}") from exc


def parse(raw: pd.DataFrame, spec: dict[str, Any], with_target: bool = True) -> pd.DataFrame:
    """Parses the numeric/currency columns and any column used by an expression, adds the derived columns,
    marks zeros as missing where declared, and (with_target) adds the ``__target__`` column (NaN where missing)."""
    frame = raw.copy()
    expressions = [expression for _, expression in map(split_derived, spec["derived"])]
    target_is_column = spec["target"] in frame.columns
    if with_target and not target_is_column:
        expressions.append(spec["target"])
    for name in spec["currency"]:
        frame[name] = to_number(frame[name], name, currency=True)
    for name in spec["numeric"]:
        if name in raw.columns and name not in spec["currency"]:
            frame[name] = to_number(frame[name], name)
    for expression in expressions:
        for name in referenced(expression, raw.columns):
            if not pd.api.types.is_numeric_dtype(frame[name]):
                frame[name] = to_number(frame[name], name, currency=True)
    for definition in spec["derived"]:
        name, expression = split_derived(definition)
        used = referenced(expression, frame.columns)
        values = evaluate(frame, expression, "derived").astype(np.float64)
        frame[name] = values.where(~frame[used].isna().any(axis=1)) if used else values
    for name in spec["zero_means_missing"]:
        frame[name] = frame[name].mask(frame[name] == 0)
    if with_target:
        if target_is_column:
            target = frame[spec["target"]]
        else:
            used = referenced(spec["target"], frame.columns)
            target = evaluate(frame, spec["target"], "target")
            if used:
                target = target.where(~frame[used].isna().any(axis=1))
        frame["__target__"] = target
    return frame


# ----------------------------------------------------------------------------------------------------------------
# Splits.

def keras_split(num_rows: int, seed: int, test_split: float, validation_split: float) -> dict[str, np.ndarray]:
    """Keras' `boston_housing.load_data` split: rows shuffled by `np.random.RandomState(seed)`, the last
    `test_split` of them are the test split, then the last `validation_split` of the rest (`validation_split`)."""
    rows = np.arange(num_rows)
    np.random.RandomState(seed).shuffle(rows)
    cut = int(num_rows * (1 - test_split))
    rest, test = rows[:cut], rows[cut:]
    cut_val = len(rest) - int(round(len(rest) * validation_split))
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
# Fitting the feature transform on the training rows and applying it.

def _policy(config: ConfigDict, name: str) -> str:
    by_column = config.get("missing_by_column", None) or {}
    policy = by_column.get(name, config.get("missing", "mean"))
    if policy not in POLICIES:
        raise errors.Error(f"unknown missing-value policy {policy!r} for column {name!r}: choose one of "
                           f"{', '.join(POLICIES)}")
    return policy


def _labels(value, separator: str) -> list[str]:
    if not isinstance(value, str):
        return []
    return [label.strip() for label in value.split(separator) if label.strip()]


def fit_columns(train: pd.DataFrame, spec: dict[str, Any], config: ConfigDict) -> list[dict[str, Any]]:
    columns = []
    for name in spec["numeric"] + [n for n in spec["currency"] if n not in spec["numeric"]]:
        values = train[name].astype(np.float64)
        policy = _policy(config, name)
        fill = {"mean": values.mean(), "median": values.median(), "constant": config.get("fill_value", 0.0),
                "drop": None}[policy]
        log = name in tuple(config.get("log_columns", ()))
        filled = values.fillna(fill if fill is not None else np.nan)
        if log:
            filled = np.sign(filled) * np.log1p(np.abs(filled))
        center, scale = 0.0, 1.0
        if name in tuple(config.get("robust_columns", ())):
            q1, median, q3 = np.nanpercentile(filled, [25, 50, 75])
            center, scale = median, (q3 - q1) or (np.nanstd(filled) or 1.0)
        elif config.get("standardize", True):
            center, scale = np.nanmean(filled), np.nanstd(filled) or 1.0
        columns.append({"name": name, "kind": "numeric", "fill": None if fill is None else float(fill),
                        "log": log, "center": float(center), "scale": float(scale)})
    top_k = config.get("top_k", 0)
    for name in spec["categorical"]:
        counts = train[name].astype("string").fillna(MISSING_CATEGORY).value_counts(sort=True)
        categories = [str(c) for c in counts.index[:top_k or len(counts)]]
        columns.append({"name": name, "kind": "categorical", "categories": categories,
                        "other": len(categories) < len(counts) or bool(top_k)})
    separator = config.get("multi_label_separator", "|")
    for name in spec["multi_label"]:
        counts = pd.Series([label for value in train[name] for label in _labels(value, separator)]).value_counts()
        labels = sorted(str(c) for c in counts.index[:top_k or len(counts)])
        columns.append({"name": name, "kind": "multi_label", "labels": labels, "separator": separator})
    return columns


def feature_names(columns: list[dict[str, Any]]) -> list[str]:
    names = []
    for column in columns:
        if column["kind"] == "numeric":
            names.append(column["name"])
        elif column["kind"] == "categorical":
            names += [f"{column['name']}={c}" for c in column["categories"]]
            names += [f"{column['name']}={OTHER}"] if column["other"] else []
        else:
            names += [f"{column['name']}:{label}" for label in column["labels"]]
    return names


def encode(frame: pd.DataFrame, columns: list[dict[str, Any]]) -> np.ndarray:
    """Features [rows, F] float32 of a parsed frame, with the fitted statistics of `columns`."""
    parts = []
    for column in columns:
        values = frame[column["name"]]
        if column["kind"] == "numeric":
            x = values.astype(np.float64)
            if column["fill"] is not None:
                x = x.fillna(column["fill"])
            x = x.to_numpy()
            if column["log"]:
                x = np.sign(x) * np.log1p(np.abs(x))
            parts.append(((x - column["center"]) / column["scale"])[:, None])
        elif column["kind"] == "categorical":
            index = {c: i for i, c in enumerate(column["categories"])}
            other = len(index) if column["other"] else -1
            ids = values.astype("string").fillna(MISSING_CATEGORY).map(lambda v: index.get(str(v), other))
            width = len(index) + int(column["other"])
            one_hot = np.zeros((len(values), width))
            ids = ids.to_numpy(np.int64)
            one_hot[np.arange(len(values))[ids >= 0], ids[ids >= 0]] = 1.0
            parts.append(one_hot)
        else:
            index = {label: i for i, label in enumerate(column["labels"])}
            multi_hot = np.zeros((len(values), len(index)))
            for row, value in enumerate(values):
                for label in _labels(value, column["separator"]):
                    if label in index:
                        multi_hot[row, index[label]] = 1.0
            parts.append(multi_hot)
    return np.concatenate(parts, axis=1).astype(np.float32)


def transform(raw: pd.DataFrame, tabular: dict[str, Any]) -> np.ndarray:
    """The saved transform of a run (``info["tabular"]``) applied to raw rows with the file's columns."""
    check_columns(raw, [c for c in tabular["source_columns"]], "predict input")
    frame = parse(raw, tabular, with_target=False)
    missing = [c["name"] for c in tabular["columns"] if c["kind"] == "numeric" and c["fill"] is None
               and frame[c["name"]].isna().any()]
    if missing:
        raise errors.Error(f"column {missing[0]!r} has missing values and the run drops such rows: fill them first")
    return encode(frame, tabular["columns"])


# ----------------------------------------------------------------------------------------------------------------

def declared(config: ConfigDict) -> dict[str, Any]:
    spec = {key: [str(name) for name in config.get(key, ())]
            for key in ("numeric", "currency", "categorical", "multi_label", "derived", "zero_means_missing")}
    spec["target"] = str(config.get("target", ""))
    if not spec["target"]:
        raise errors.Error("no target: set config.data.target to a column or an expression (e.g. 'profit > 0')")
    if not (spec["numeric"] or spec["currency"] or spec["categorical"] or spec["multi_label"]):
        raise errors.Error("no feature columns: list them in config.data.numeric / currency / categorical / "
                           "multi_label")
    return spec


def check_values(frame: pd.DataFrame, spec: dict[str, Any]) -> None:
    for key in ("numeric", "currency", "categorical", "multi_label"):
        for name in spec[key]:
            values = frame[name]
            if values.isna().all():
                raise errors.Error(f"column {name!r} has no values (all missing): remove it from config.data.{key}")
            if values.nunique(dropna=True) == 1:
                value = values.dropna().iloc[0]
                value = value.item() if hasattr(value, "item") else value
                raise errors.Error(f"column {name!r} is constant ({value!r}): it carries no information, "
                                   f"remove it from config.data.{key}")


def load(config: ConfigDict, seed: int):
    from jaxlab.data import Splits  # the registry imports this module
    spec = declared(config)
    raw = read_frame(config.get("path", ""), config.get("delimiter", ","))
    source = [n for key in ("numeric", "currency", "categorical", "multi_label", "zero_means_missing")
              for n in spec[key]]
    derived_names = [split_derived(d)[0] for d in spec["derived"]]
    check_columns(raw, [n for n in source if n not in derived_names], "numeric/currency/categorical/multi_label")
    frame = parse(raw, spec)
    used_by_derived = {n for d in spec["derived"] for n in referenced(split_derived(d)[1], raw.columns)}
    spec["source_columns"] = sorted({n for n in source if n not in derived_names} | used_by_derived)
    frame = frame[frame["__target__"].notna()]
    drop = [n for n in spec["numeric"] + spec["currency"] if _policy(config, n) == "drop"]
    if drop:
        frame = frame[frame[drop].notna().all(axis=1)]
    if frame.empty:
        raise errors.Error(f"no rows left in {config.path} after dropping rows with a missing target or a missing "
                           f"value in a 'drop' column ({', '.join(drop) or 'none'})")
    check_values(frame, spec)
    task = config.get("task", "")
    target = frame["__target__"]
    classes = None
    if task in CLASSIFICATION_TASKS:
        classes = sorted(pd.unique(target).tolist(), key=lambda v: (str(type(v)), v))
        if len(classes) < 2:
            raise errors.Error(f"target {spec['target']!r} has a single class ({classes[0]!r}) in the "
                               f"{len(frame)} rows kept: a classifier needs at least two")
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
    spec["columns"] = fit_columns(frame.iloc[rows["train"]], spec, config)

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
