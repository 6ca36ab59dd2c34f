"""The feature transform of a CSV run: statistics of each declared column fitted on the training rows only, and
the float32 features they encode a parsed frame (`jaxlab.data.csv_columns.parse`) into.

A number column (numeric, currency, date part) gets a fill value (its missing-value policy), a log flag, a center and
a scale; a categorical column the one-hot slots of its most frequent training values (and an "other" slot); a
multi-label column the multi-hot slots of its training labels. The fitted columns are JSON-able dicts, saved in
``info["tabular"]["columns"]`` (`jaxlab.data.tabular`).
"""
from typing import Any

import numpy as np
import pandas as pd
from ml_collections import ConfigDict

from jaxlab import errors

POLICIES = ("drop", "mean", "median", "constant")
MISSING_CATEGORY = "(missing)"
OTHER = "(other)"


def numeric_columns(spec: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(frame column, the ``config.data`` key that declares it, the column whose ``missing_by_column`` entry is its
    fallback) of every column encoded as one number: numeric, currency, then the date parts."""
    columns = [(name, "numeric", name) for name in spec["numeric"]]
    columns += [(name, "currency", name) for name in spec["currency"] if name not in spec["numeric"]]
    columns += [(f"{name}_{part}", "date_parts", name) for name in spec.get("dates", ())
                for part in spec.get("date_parts", ())]
    return columns


def missing_policy(config: ConfigDict, name: str, source: str = "") -> str:
    by_column = config.get("missing_by_column", None) or {}
    policy = by_column.get(name, by_column.get(source or name, config.get("missing", "mean")))
    if policy not in POLICIES:
        raise errors.Error(f"unknown missing-value policy {policy!r} for column {name!r}: choose one of "
                           f"{', '.join(POLICIES)} (config.data.missing / missing_by_column)")
    return policy


def _labels(value, separator: str) -> list[str]:
    if not isinstance(value, str):
        return []
    return [label.strip() for label in value.split(separator) if label.strip()]


def scaling(values: pd.Series, robust: bool, standardize: bool) -> tuple[float, float]:
    """(center, scale): median and IQR (the std when the IQR is 0) | mean and std | 0 and 1, in float64."""
    with np.errstate(over="ignore", invalid="ignore"):
        if robust:
            q1, median, q3 = np.nanpercentile(values, [25, 50, 75])
            return float(median), float((q3 - q1) or np.nanstd(values))
        if standardize:
            return float(np.nanmean(values)), float(np.nanstd(values))
    return 0.0, 1.0


def fit_numeric(train: pd.DataFrame, column: tuple[str, str, str], config: ConfigDict,
                where: str) -> dict[str, Any]:
    """Fill value, log flag, center and scale of one number column (`numeric_columns`) fitted on the training rows.
    A column without values or constant there, or a statistic that is not finite or zero, is an error naming it."""
    name, key, source = column
    values = train[name].astype(np.float64)
    folds = ", num_folds" if "fold" in where else ""
    remedy = f"remove it from config.data.{key}, or draw other training rows (config.data.split_seed{folds})"
    if values.isna().all():
        raise errors.Error(f"column {name!r} has no values in {where}: {remedy}")
    fill = {"mean": values.mean(), "median": values.median(), "constant": config.get("fill_value", 0.0),
            "drop": None}[missing_policy(config, name, source)]
    filled = values if fill is None else values.fillna(fill)
    log = name in tuple(config.get("log_columns", ()))
    if log:
        filled = np.sign(filled) * np.log1p(np.abs(filled))
    if filled.nunique(dropna=True) < 2:
        raise errors.Error(f"column {name!r} is constant ({values.dropna().iloc[0].item()!r}) in {where}: it would "
                           f"be a constant feature there; {remedy}")
    center, scale = scaling(filled, name in tuple(config.get("robust_columns", ())), config.get("standardize", True))
    if not (np.isfinite([center, scale, 0.0 if fill is None else fill]).all() and scale > 0):
        raise errors.Error(f"column {name!r} gets unusable statistics in {where} (fill {fill}, center {center:.4g}, "
                           f"scale {scale:.4g}): its values are too large; fix the file, lower "
                           "config.data.fill_value or list the column in config.data.log_columns")
    return {"name": name, "kind": "numeric", "fill": None if fill is None else float(fill), "log": log,
            "center": center, "scale": scale}


def fit_columns(train: pd.DataFrame, spec: dict[str, Any], config: ConfigDict,
                where: str = "the training rows") -> list[dict[str, Any]]:
    """The fitted transform of every feature column (JSON-able dicts); `where` names the training rows in errors."""
    columns = [fit_numeric(train, column, config, where) for column in numeric_columns(spec)]
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
            ids = values.astype("string").fillna(MISSING_CATEGORY).map(index).fillna(other)
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
    with np.errstate(over="ignore"):
        return check_features(np.concatenate(parts, axis=1).astype(np.float32), columns, frame.index)


def check_features(features: np.ndarray, columns: list[dict[str, Any]], index: pd.Index) -> np.ndarray:
    """`features` when all finite; else an error naming the first feature that is not (e.g. overflows float32)."""
    bad = ~np.isfinite(features)
    if not bad.any():
        return features
    row, at = np.argwhere(bad)[0]
    raise errors.Error(f"feature {feature_names(columns)[at]!r} at line {index[row] + 2} is {features[row, at]} in "
                       "float32 after the transforms: keep config.data.standardize on, list the column in "
                       "config.data.log_columns, or fix the file")
