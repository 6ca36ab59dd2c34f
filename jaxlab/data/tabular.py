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
"""
import re
from typing import Any

import numpy as np
import pandas as pd
from absl import logging
from ml_collections import ConfigDict
from sklearn import model_selection

from jaxlab import errors

POLICIES = ("drop", "mean", "median", "constant")
CLASSIFICATION_TASKS = ("classification", "binary")
MISSING_CATEGORY = "(missing)"
OTHER = "(other)"
NONFINITE = ("error", "missing")  # what an inf or too large number becomes: an error | a missing value
LARGEST = 1e150                   # larger numbers are unusable: their square (in the std) overflows float64
MISSING_TEXT = ("nan", "na", "n/a", "null", "none")  # spelled-out missing values (pandas reads most as NaN)
# Tried in this order for each value when no data.date_format is set (see the module docstring).
DATE_FORMATS = ("ISO8601", "%d-%b-%y", "%d-%b-%Y", "%b %d, %Y", "%B %d, %Y", "%b %d %Y", "%B %d %Y", "%d %b %Y",
                "%d %B %Y", "%m/%d/%Y", "%m/%d/%y")
DATE_PARTS = {"year": "year", "month": "month", "day": "day", "weekday": "day_of_week"}  # part → pandas .dt name


# ----------------------------------------------------------------------------------------------------------------
# Reading and parsing.

def read_frame(path: str, delimiter: str = ",", encoding: str = "utf-8") -> pd.DataFrame:
    if not path:
        raise errors.Error("no CSV file given: set --config.data.path=/path/to/file.csv")
    from jaxlab.data import paths  # a relative path lies under the data root ($JAXLAB_DATA_DIR)
    path = paths.existing(path, "CSV file")
    try:
        frame = pd.read_csv(path, sep=delimiter, skipinitialspace=True, encoding=encoding)
    except UnicodeDecodeError as exc:
        raise not_decodable(path, encoding) from exc
    except LookupError as exc:
        raise errors.Error(f"unknown encoding {encoding!r} in config.data.encoding: use a Python codec name such "
                           "as utf-8, latin-1 or cp1252") from exc
    except pd.errors.EmptyDataError as exc:
        raise errors.Error(f"CSV file {path} is empty: it needs a header row and data rows") from exc
    except pd.errors.ParserError as exc:
        raise errors.Error(f"CSV file {path} cannot be parsed ({' '.join(str(exc).split())}): check "
                           f"--config.data.delimiter (now {delimiter!r})") from exc
    if frame.empty:
        raise errors.Error(f"CSV file {path} has a header but no data rows")
    frame.columns = [str(name).strip() for name in frame.columns]
    return frame


def not_decodable(path: str, encoding: str) -> errors.Error:
    """The error for a file that is not `encoding` text: the first undecodable byte, its offset and line (pandas
    reports offsets within one field only, so the file's bytes are decoded here once more)."""
    with open(path, "rb") as file:
        data = file.read()
    try:
        data.decode(encoding)
        where = ""
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        where = f": byte 0x{data[exc.start]:02x} at byte offset {exc.start} (line {line}) does not decode"
    return errors.Error(f"CSV file {path} is not {encoding} text{where}; set its encoding with "
                        "--config.data.encoding=latin-1 (or cp1252, …)")


def check_columns(frame: pd.DataFrame, names, key: str) -> None:
    for name in names:
        if name not in frame.columns:
            raise errors.Error(f"unknown column {name!r} in config.data.{key}: available columns are "
                               f"{', '.join(map(str, frame.columns))}")


def missing_as_na(series: pd.Series) -> pd.Series:
    """Stripped strings of a column, with empty cells and spelled-out missing values (`MISSING_TEXT`) as NA."""
    text = series.astype("string").str.strip()
    return text.mask((text == "") | text.str.lower().isin(MISSING_TEXT))


def to_number(series: pd.Series, name: str, currency: bool = False, nonfinite: str = "error",
              key: str = "") -> pd.Series:
    """Floats from a column; strings such as "$1,200" when `currency`. A value that is no number is an error that
    names the file line, the value and the config key that fixes it (`key`: where the column is declared);
    inf and too large values go through `check_finite`."""
    values = series
    if series.dtype == object or pd.api.types.is_string_dtype(series):
        values = missing_as_na(series)
    numbers = pd.to_numeric(values, errors="coerce").astype(np.float64)
    if currency and values is not series:  # plain numbers ("inf", "1e300") first, then stripped number strings
        stripped = values.str.replace(r"[^\d.eE+\-]", "", regex=True).replace("", pd.NA)
        numbers = numbers.fillna(pd.to_numeric(stripped, errors="coerce").astype(np.float64))
    bad = numbers.isna() & values.notna()
    if bad.any():
        row = bad.idxmax()
        advice = number_advice(str(series[row]), key or ("currency" if currency else "numeric"))
        raise errors.Error(f"column {name!r} has a non-numeric value {series[row]!r} at line {row + 2}: {advice}")
    return check_finite(numbers, series, name, nonfinite)


def number_advice(value: str, key: str) -> str:
    """What fixes a `value` that is no number, in a column declared under ``config.data.<key>``."""
    if key in ("numeric", "currency") and parse_dates(pd.Series([value], dtype="string"), DATE_FORMATS).notna().all():
        return f"it is a date: move the column from config.data.{key} to config.data.dates"
    stripped = re.sub(r"[^\d.eE+\-]", "", value)
    if key == "numeric" and not np.isnan(pd.to_numeric(stripped or "x", errors="coerce")):
        return "it is a number string: move the column from config.data.numeric to config.data.currency"
    if key == "target":
        return "fix the file, or set --config.task=classification if the target holds classes"
    if key == "expression":
        return "fix the file, or change the expression in config.data.derived / config.data.target"
    return f"fix the file, or move the column from config.data.{key} to config.data.categorical if it holds categories"


def check_finite(numbers: pd.Series, shown: pd.Series, name: str, nonfinite: str = "error") -> pd.Series:
    """`numbers` (float64) whose inf and too large (|x| > `LARGEST`) values are an error naming the first one (its
    line and its text in `shown`), or missing values with ``nonfinite="missing"``."""
    unusable = numbers.abs() > LARGEST  # inf included; NaN is not
    if not unusable.any():
        return numbers
    if nonfinite == "missing":
        logging.warning("column %r: %d inf or too large value(s) treated as missing (data.nonfinite=missing)",
                        name, int(unusable.sum()))
        return numbers.mask(unusable)
    row = unusable.idxmax()
    problem = "infinite" if np.isinf(numbers[row]) else f"too large to use (|x| > {LARGEST:.0e})"
    value = shown[row].item() if hasattr(shown[row], "item") else shown[row]
    raise errors.Error(f"column {name!r} has the value {value!r} at line {row + 2}, which is {problem}: fix the "
                       "file, or set --config.data.nonfinite=missing to treat such values as missing")


def parse_dates(text: pd.Series, formats) -> pd.Series:
    """UTC datetimes of strings (NA = missing): each value is read with the first of `formats` it matches, NaT
    when none does."""
    dates = pd.Series(pd.NaT, index=text.index, dtype="datetime64[us, UTC]")
    for date_format in formats:
        left = dates.isna() & text.notna()
        if not left.any():
            break
        dates[left] = pd.to_datetime(text[left], format=date_format, errors="coerce", utc=True)
    return dates


def to_dates(series: pd.Series, name: str, date_format: str = "") -> pd.Series:
    """Datetimes of a date column (`DATE_FORMATS`, or `date_format` alone); a value that is no date is an error
    naming the line, the value and ``data.date_format``."""
    text = missing_as_na(series)
    try:
        dates = parse_dates(text, (date_format,) if date_format else DATE_FORMATS)
    except ValueError as exc:  # a bad directive such as %Q
        if not date_format:
            raise
        raise errors.Error(f"config.data.date_format {date_format!r} is not a strftime format ({exc}): use e.g. "
                           "--config.data.date_format='%d.%m.%Y'") from exc
    bad = dates.isna() & text.notna()
    if bad.any():
        row = bad.idxmax()
        expected = (f"the format {date_format!r}" if date_format else
                    "any known format ('2009-12-18', '18-Dec-09', 'Dec 18, 2009', '12/18/2009', …)")
        raise errors.Error(f"column {name!r} has a value {series[row]!r} at line {row + 2} that is not a date in "
                           f"{expected}: fix the file or set --config.data.date_format to its strftime format "
                           "(e.g. '%d.%m.%Y')")
    return dates


def add_date_parts(frame: pd.DataFrame, spec: dict[str, Any]) -> None:
    """Adds the numeric column ``<date column>_<part>`` of every date column and part (NaN where missing)."""
    for name in spec.get("dates", ()):
        dates = to_dates(frame[name], name, spec.get("date_format", ""))
        for part in spec.get("date_parts", ()):
            frame[f"{name}_{part}"] = getattr(dates.dt, DATE_PARTS[part]).astype(np.float64)


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
    nonfinite = spec.get("nonfinite", "error")
    for name in spec["currency"]:
        frame[name] = to_number(frame[name], name, currency=True, nonfinite=nonfinite)
    for name in spec["numeric"]:
        if name in raw.columns and name not in spec["currency"]:
            frame[name] = to_number(frame[name], name, nonfinite=nonfinite)
    add_date_parts(frame, spec)
    for expression in expressions:
        for name in referenced(expression, raw.columns):
            if not pd.api.types.is_numeric_dtype(frame[name]):
                frame[name] = to_number(frame[name], name, currency=True, nonfinite=nonfinite, key="expression")
    for definition in spec["derived"]:
        name, expression = split_derived(definition)
        used = referenced(expression, frame.columns)
        values = evaluate(frame, expression, "derived").astype(np.float64)
        values = values.where(~frame[used].isna().any(axis=1)) if used else values
        frame[name] = check_finite(values, values, name, nonfinite)
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
# Fitting the feature transform on the training rows and applying it.

def numeric_columns(spec: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(frame column, the ``config.data`` key that declares it, the column whose ``missing_by_column`` entry is its
    fallback) of every column encoded as one number: numeric, currency, then the date parts."""
    columns = [(name, "numeric", name) for name in spec["numeric"]]
    columns += [(name, "currency", name) for name in spec["currency"] if name not in spec["numeric"]]
    columns += [(f"{name}_{part}", "date_parts", name) for name in spec.get("dates", ())
                for part in spec.get("date_parts", ())]
    return columns


def _policy(config: ConfigDict, name: str, source: str = "") -> str:
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
            "drop": None}[_policy(config, name, source)]
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


# ----------------------------------------------------------------------------------------------------------------

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
    """Every feature column has values and more than one value in the rows kept (`fit_numeric` checks the training
    rows again, with their fill values)."""
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


def load(config: ConfigDict, seed: int):
    from jaxlab.data import Splits  # the registry imports this module
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
    drop = [name for name, _, source in numeric_columns(spec) if _policy(config, name, source) == "drop"]
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
