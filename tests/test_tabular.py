"""Tabular and synthetic data: the CSV loader on small CSVs written here (bad inputs, currency strings, multi-label,
derived target, train-only statistics, k-fold partitions), Huber/regression metrics, the logistic map, and every
tabular config end to end with tiny overrides (k-fold included) and predict on raw rows."""
import json
import os
import re

import numpy as np
import optax
import pandas as pd
import pytest
from ml_collections import ConfigDict

from configs import boston_linear, diabetes_kfold, logistic_map, movies_profit, movies_rating
from jaxlab import errors, experiment, losses, predict, regression
from jaxlab.data import logistic_map as logistic_source
from jaxlab.data import tabular


def write_csv(path, text: str) -> str:
    path.write_text(text)
    return str(path)


def data_config(path: str, **overrides) -> ConfigDict:
    config = ConfigDict({"name": "csv", "path": path, "delimiter": ",", "numeric": ("a",), "target": "y",
                         "task": "regression", "test_split": 0.0, "validation_split": 0.0})
    config.update(overrides)
    return config


# ----------------------------------------------------------------------------------------------------------------
# Bad input: one clear line each.

def test_missing_file(tmp_path):
    with pytest.raises(errors.Error, match=r"CSV file .*nope.csv does not exist: set --config.data.path"):
        tabular.load(data_config(str(tmp_path / "nope.csv")), 0)


def test_empty_file_and_header_only(tmp_path):
    with pytest.raises(errors.Error, match=r"CSV file .* is empty"):
        tabular.load(data_config(write_csv(tmp_path / "empty.csv", "")), 0)
    with pytest.raises(errors.Error, match=r"has a header but no data rows"):
        tabular.load(data_config(write_csv(tmp_path / "header.csv", "a,y\n")), 0)


def test_unknown_column_lists_available(tmp_path):
    path = write_csv(tmp_path / "d.csv", "a,b,y\n1,2,3\n2,3,4\n")
    with pytest.raises(errors.Error, match=r"unknown column 'c' in config.data.* available columns are a, b, y"):
        tabular.load(data_config(path, numeric=("a", "c")), 0)
    with pytest.raises(errors.Error, match=r"cannot evaluate .*available columns are a, b, y"):
        tabular.load(data_config(path, target="zz > 0"), 0)


def test_non_numeric_value_names_line_and_value(tmp_path):
    path = write_csv(tmp_path / "d.csv", "a,y\n1,1\n2,2\nabc,3\n4,4\n")
    with pytest.raises(errors.Error, match=r"column 'a' has a non-numeric value 'abc' at line 4"):
        tabular.load(data_config(path), 0)


def test_constant_and_all_missing_columns(tmp_path):
    path = write_csv(tmp_path / "d.csv", "a,b,c,y\n1,5,,1\n2,5,,2\n3,5,,3\n")
    with pytest.raises(errors.Error, match=r"column 'b' is constant \(5.0\)"):
        tabular.load(data_config(path, numeric=("a", "b")), 0)
    with pytest.raises(errors.Error, match=r"column 'c' has no values \(all missing\)"):
        tabular.load(data_config(path, numeric=("a", "c")), 0)


def test_one_class_target(tmp_path):
    path = write_csv(tmp_path / "d.csv", "a,y\n1,1\n2,1\n3,1\n4,\n")
    with pytest.raises(errors.Error, match=r"target 'y' has a single class \(1.0\) in the 3 rows kept"):
        tabular.load(data_config(path, task="binary"), 0)


def test_bad_missing_policy_and_fractions(tmp_path):
    path = write_csv(tmp_path / "d.csv", "a,y\n1,1\n2,2\n3,3\n4,4\n")
    with pytest.raises(errors.Error, match="unknown missing-value policy 'mode' for column 'a'"):
        tabular.load(data_config(path, missing="mode"), 0)
    with pytest.raises(errors.Error, match=r"config.data.test_split must be in \[0, 1\)"):
        tabular.load(data_config(path, test_split=1.5), 0)


# ----------------------------------------------------------------------------------------------------------------
# Bad numbers are caught, never absorbed; other encodings; dates.

@pytest.mark.parametrize("text, value", [("inf", "inf"), ("-inf", "-inf"), ("1e300", "1e+300"),
                                         ("-2e200", "-2e+200")])
def test_infinite_or_huge_numbers_name_column_line_and_value(tmp_path, text, value):
    path = write_csv(tmp_path / "d.csv", f"a,y\n1,1\n2,2\n{text},3\n4,4\n")
    with pytest.raises(errors.Error, match=rf"column 'a' has the value {re.escape(value)} at line 4, which is .*"
                                           r"fix the file, or set --config.data.nonfinite=missing"):
        tabular.load(data_config(path), 0)
    currency = write_csv(tmp_path / "c.csv", f"a,y\n$1,1\n$2,2\n{text},3\n$4,4\n")  # plain numbers, too
    with pytest.raises(errors.Error, match=rf"column 'a' has the value '{re.escape(text)}' at line 4, which is "):
        tabular.load(data_config(currency, numeric=(), currency=("a",)), 0)
    with pytest.raises(errors.Error, match=r"column 'a' has .* at line 4"):  # "$inf" is no number string either
        tabular.load(data_config(write_csv(tmp_path / "e.csv", f"a,y\n$1,1\n$2,2\n${text},3\n$4,4\n"),
                                 numeric=(), currency=("a",)), 0)


def test_nonfinite_missing_policy_and_nan_strings_are_missing(tmp_path):
    path = write_csv(tmp_path / "d.csv", "a,y\n1,1\nnan,2\n1e300,3\n3,4\nNaN,5\n-inf,6\n")
    with pytest.raises(errors.Error, match="line 4"):  # "nan" is a missing value, 1e300 the first bad one
        tabular.load(data_config(path), 0)
    splits = tabular.load(data_config(path, nonfinite="missing", standardize=False), 0)
    np.testing.assert_array_equal(splits.train["inputs"][:, 0], [1, 2, 2, 3, 2, 2])  # 4 missing → the mean 2
    with pytest.raises(errors.Error, match=r"unknown config.data.nonfinite 'drop': use error .* or missing"):
        tabular.load(data_config(path, nonfinite="drop"), 0)


def test_derived_division_by_zero_is_an_error(tmp_path):
    path = write_csv(tmp_path / "d.csv", "a,b,y\n1,1,1\n2,0,2\n3,3,3\n")
    with pytest.raises(errors.Error, match=r"column 'r' has the value inf at line 3, which is infinite"):
        tabular.load(data_config(path, numeric=("a", "r"), derived=("r = a / b",)), 0)


def test_column_constant_in_the_training_rows_of_a_fold_is_named(tmp_path):
    # b differs from 0 in one row only: the fold that validates on that row would train on a constant b
    rows = "".join(f"{i},{5 if i == 7 else 0},{i % 2}\n" for i in range(12))
    path = write_csv(tmp_path / "d.csv", "a,b,y\n" + rows)
    raised = []
    for fold in range(3):
        config = data_config(path, numeric=("a", "b"), task="binary", num_folds=3, fold=fold)
        try:
            tabular.load(config, 0)
        except errors.Error as exc:
            raised.append((fold, str(exc)))
    assert len(raised) == 1, raised
    fold, message = raised[0]
    assert message.startswith(f"column 'b' is constant (0.0) in the training rows of fold {fold}: ")
    assert "remove it from config.data.numeric" in message and "num_folds" in message


def test_statistics_that_overflow_or_features_that_overflow_float32_are_named(tmp_path):
    path = write_csv(tmp_path / "d.csv", "a,y\n1,1\n,2\n3,3\n4,4\n")
    with pytest.raises(errors.Error, match=r"column 'a' gets unusable statistics in the training rows .*scale inf"):
        tabular.load(data_config(path, missing="constant", fill_value=1e300), 0)
    path = write_csv(tmp_path / "e.csv", "a,y\n1,1\n2,2\n1e50,3\n4,4\n")
    with pytest.raises(errors.Error, match=r"feature 'a' at line 4 is inf in float32 after the transforms"):
        tabular.load(data_config(path, standardize=False), 0)
    assert np.isfinite(tabular.load(data_config(path), 0).train["inputs"]).all()  # standardised: fine


def test_non_numeric_values_suggest_the_key_that_fixes_them(tmp_path):
    cases = [("18-Dec-09", "it is a date: move the column from config.data.numeric to config.data.dates"),
             ("2009-12-18", "to config.data.dates"),
             ("\"$1,200\"", "it is a number string: move the column from config.data.numeric to config.data.currency"),
             ("abc", "or move the column from config.data.numeric to config.data.categorical")]
    for value, advice in cases:
        path = write_csv(tmp_path / "d.csv", f"a,y\n1,1\n{value},2\n3,3\n")
        with pytest.raises(errors.Error, match=re.escape(advice)):
            tabular.load(data_config(path), 0)
    path = write_csv(tmp_path / "c.csv", "a,y\n$1,1\n18-Dec-09,2\n$3,3\n")
    with pytest.raises(errors.Error, match=r"from config.data.currency to config.data.dates"):
        tabular.load(data_config(path, numeric=(), currency=("a",)), 0)
    path = write_csv(tmp_path / "t.csv", "a,y\n1,1\n2,high\n3,3\n")
    with pytest.raises(errors.Error, match=r"column 'y' has a non-numeric value 'high' at line 3: .*"
                                           r"--config.task=classification"):
        tabular.load(data_config(path), 0)


def test_latin1_file_needs_the_encoding_key(tmp_path):
    path = tmp_path / "latin.csv"
    path.write_bytes("a,who,y\n1,Jose,1\n2,José,2\n3,Ann,3\n".encode("latin-1"))
    offset = path.read_bytes().index(b"\xe9")
    with pytest.raises(errors.Error, match=rf"CSV file .*latin.csv is not utf-8 text: byte 0xe9 at byte offset "
                                           rf"{offset} \(line 3\) does not decode; .*--config.data.encoding=latin-1"):
        tabular.load(data_config(str(path), categorical=("who",)), 0)
    splits = tabular.load(data_config(str(path), categorical=("who",), encoding="latin-1"), 0)
    assert "who=José" in splits.info["feature_names"]
    with pytest.raises(errors.Error, match=r"unknown encoding 'klingon' in config.data.encoding"):
        tabular.load(data_config(str(path), encoding="klingon"), 0)


DATES_CSV = ("a,release_date,y\n1,18-Dec-09,1\n2,\"Dec 18, 2009\",2\n3,2009-12-18,3\n4,12/18/2009,4\n5,,5\n"
             "6,01-Jan-69,6\n7,05-Mar-68,7\n8,14-Jul-2015,8\n")


def test_dates_become_fitted_numeric_features_applied_again_by_transform(tmp_path):
    path = write_csv(tmp_path / "d.csv", DATES_CSV)
    config = data_config(path, dates=("release_date",), date_parts=("year", "month", "weekday"),
                         test_split=0.25, missing="median")
    splits = tabular.load(config, 0)
    names = splits.info["feature_names"]
    assert names == ["a", "release_date_year", "release_date_month", "release_date_weekday"]
    json.dumps(splits.info)
    raw = pd.read_csv(path)
    every = tabular.transform(raw, splits.info["tabular"])
    columns = {c["name"]: c for c in splits.info["tabular"]["columns"]}
    year = every[:, 1] * columns["release_date_year"]["scale"] + columns["release_date_year"]["center"]
    month = every[:, 2] * columns["release_date_month"]["scale"] + columns["release_date_month"]["center"]
    weekday = every[:, 3] * columns["release_date_weekday"]["scale"] + columns["release_date_weekday"]["center"]
    known = [0, 1, 2, 3, 5, 6, 7]  # row 4 has no date: the training median fills it
    # 18 Dec 2009 was a Friday (4); two-digit years: 69 → 1969, 68 → 2068 (strptime's %y pivot)
    np.testing.assert_allclose(year[known], [2009, 2009, 2009, 2009, 1969, 2068, 2015], rtol=1e-6)
    np.testing.assert_allclose(month[known], [12, 12, 12, 12, 1, 3, 7], atol=1e-4)
    np.testing.assert_allclose(weekday[known], [4, 4, 4, 4, 2, 0, 1], atol=1e-4)
    assert year[4] == pytest.approx(columns["release_date_year"]["fill"], rel=1e-6)
    train_rows = tabular.split_rows(raw["y"].to_numpy(np.float32), False, 0, 0.25, 0.0)["train"]
    np.testing.assert_allclose(every[train_rows], splits.train["inputs"], rtol=1e-6)
    np.testing.assert_allclose(splits.train["inputs"].mean(0), 0.0, atol=1e-5)  # standardised like numeric columns
    with pytest.raises(errors.Error, match=r"the rows to transform lack column 'release_date' that the run was"):
        tabular.transform(raw.drop(columns=["release_date"]), splits.info["tabular"])


def test_date_format_key_and_unparseable_dates(tmp_path):
    path = write_csv(tmp_path / "d.csv", "a,day,y\n1,18.12.2009,1\n2,01.02.2010,2\n3,,3\n")
    with pytest.raises(errors.Error, match=r"column 'day' has a value '18.12.2009' at line 2 that is not a date "
                                           r"in any known format .*--config.data.date_format"):
        tabular.load(data_config(path, dates=("day",)), 0)
    splits = tabular.load(data_config(path, dates=("day",), date_format="%d.%m.%Y", standardize=False), 0)
    np.testing.assert_allclose(splits.train["inputs"][:, 1:], [[2009, 12], [2010, 2], [2009.5, 7]])
    with pytest.raises(errors.Error, match=r"'18.12.2009' at line 2 that is not a date in the format '%Y-%m-%d'"):
        tabular.load(data_config(path, dates=("day",), date_format="%Y-%m-%d"), 0)
    with pytest.raises(errors.Error, match=r"config.data.date_format '%Q' is not a strftime format"):
        tabular.load(data_config(path, dates=("day",), date_format="%Q"), 0)
    with pytest.raises(errors.Error, match=r"unknown date part 'hour' in config.data.date_parts"):
        tabular.load(data_config(path, dates=("day",), date_parts=("year", "hour")), 0)
    with pytest.raises(errors.Error, match=r"column 'day' has no values \(all missing\): .*config.data.dates"):
        tabular.load(data_config(write_csv(tmp_path / "e.csv", "a,day,y\n1,,1\n2,,2\n"), dates=("day",)), 0)


# ----------------------------------------------------------------------------------------------------------------
# Parsing and encoding.

def test_currency_strings():
    parsed = tabular.to_number(pd.Series(["$425,000,000", " $1,200.50", None, "-$3", "12"]), "budget", currency=True)
    np.testing.assert_allclose(parsed.to_numpy(), [425e6, 1200.5, np.nan, -3.0, 12.0])
    with pytest.raises(errors.Error, match=r"column 'budget' has a non-numeric value 'n/a\?' at line 3"):
        tabular.to_number(pd.Series(["$1", "n/a?"]), "budget", currency=True)


def test_multi_label_and_categorical_top_k(tmp_path):
    text = "genres;who;y\nAction|Comedy;ann;1\nComedy;bob;2\nDrama|Action;ann;3\n;cy;4\nComedy;ann;5\n"
    path = write_csv(tmp_path / "m.csv", text)
    splits = tabular.load(data_config(path, delimiter=";", numeric=(), multi_label=("genres",),
                                      categorical=("who",), top_k=1), 0)
    names = splits.info["feature_names"]
    # top_k=1 caps both: the single most frequent genre (Comedy) and person (ann) + an "other" slot
    assert names == ["who=ann", "who=(other)", "genres:Comedy"]
    np.testing.assert_array_equal(splits.train["inputs"], [[1, 0, 1], [0, 1, 1], [1, 0, 0], [0, 1, 0], [1, 0, 1]])
    full = tabular.load(data_config(path, delimiter=";", numeric=(), multi_label=("genres",)), 0)
    assert full.info["feature_names"] == ["genres:Action", "genres:Comedy", "genres:Drama"]
    np.testing.assert_array_equal(full.train["inputs"][:, :], [[1, 1, 0], [0, 1, 0], [1, 0, 1], [0, 0, 0], [0, 1, 0]])


def test_derived_target_drops_rows_without_it(tmp_path):
    text = ("budget,gross,x\n\"$100\",150,1\n\"$200\",100,2\n\"$50\",,3\n\"$10\",30,4\n,,5\n\"$40\",10,6\n")
    path = write_csv(tmp_path / "p.csv", text)
    splits = tabular.load(data_config(path, numeric=("x",), currency=("budget",), derived=("profit = gross - budget",),
                                      target="profit > 0", task="binary", standardize=False), 0)
    assert splits.info["num_rows"] == 4 and splits.info["tabular"]["classes"] == [False, True]
    np.testing.assert_array_equal(splits.train["inputs"][:, 0], [1, 2, 4, 6])        # x (not standardised)
    np.testing.assert_array_equal(splits.train["inputs"][:, 1], [100, 200, 10, 40])  # parsed budget
    np.testing.assert_array_equal(splits.train["label"], [1, 0, 1, 0])
    assert splits.info["num_outputs"] == 1 and splits.train["label"].dtype == np.int32


def test_statistics_fitted_on_train_only(tmp_path):
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"a": rng.normal(5, 2, 200).round(3), "b": rng.integers(0, 4, 200),
                          "y": rng.integers(0, 2, 200)})
    frame.loc[::7, "a"] = np.nan
    path = str(tmp_path / "s.csv")
    frame.to_csv(path, index=False)
    config = data_config(path, numeric=("a", "b"), task="binary", test_split=0.25, validation_split=0.2,
                         zero_means_missing=("b",), missing_by_column={"b": "median"})
    splits = tabular.load(config, 3)
    columns = {c["name"]: c for c in splits.info["tabular"]["columns"]}
    raw = pd.read_csv(path)
    rows = tabular.split_rows(raw["y"].to_numpy(), True, 3, 0.25, 0.2)
    train_a = raw["a"].iloc[rows["train"]]
    assert columns["a"]["fill"] == pytest.approx(train_a.mean())
    assert columns["a"]["center"] == pytest.approx(train_a.fillna(train_a.mean()).mean())
    assert columns["a"]["center"] != pytest.approx(raw["a"].mean())
    train_b = raw["b"].iloc[rows["train"]].replace(0, np.nan)
    assert columns["b"]["fill"] == pytest.approx(train_b.median())  # zeros are missing, then the median fills
    np.testing.assert_allclose(splits.train["inputs"].mean(0), 0.0, atol=1e-5)
    np.testing.assert_allclose(splits.train["inputs"].std(0), 1.0, atol=1e-4)
    assert abs(splits.test["inputs"][:, 0].mean()) > 1e-3  # test rows use the train statistics, not their own
    json.dumps(splits.info)  # everything recorded is JSON-able
    np.testing.assert_allclose(tabular.transform(raw.iloc[rows["test"]], splits.info["tabular"]),
                               splits.test["inputs"], rtol=1e-6)


def test_log_and_robust_transforms(tmp_path):
    path = write_csv(tmp_path / "r.csv", "m,n,y\n1,1,1\n10,2,2\n100,3,3\n1000,4,4\n1e10,1000,5\n")
    splits = tabular.load(data_config(path, numeric=("m", "n"), log_columns=("m",), robust_columns=("n",)), 0)
    m, n = splits.info["tabular"]["columns"]
    assert m["log"] and m["center"] == pytest.approx(np.mean(np.log1p([1, 10, 100, 1000, 1e10])))
    assert n["center"] == 3.0 and n["scale"] == 2.0  # median, IQR
    np.testing.assert_allclose(splits.train["inputs"][:, 1], [-1, -0.5, 0, 0.5, 498.5])


def test_stratified_split_and_k_folds_cover_each_row_once():
    labels = np.array([0] * 70 + [1] * 30)
    rows = tabular.split_rows(labels, True, 0, 0.2, 0.25)
    assert sorted(np.concatenate(list(rows.values()))) == list(range(100))
    assert labels[rows["test"]].mean() == pytest.approx(0.3)
    seen = []
    for fold in range(5):
        rows = tabular.split_rows(labels, True, 0, 0.0, 0.0, num_folds=5, fold=fold)
        assert not set(rows["train"]) & set(rows["validation"])
        assert len(rows["train"]) + len(rows["validation"]) == 100
        np.testing.assert_array_equal(rows["test"], rows["validation"])
        assert labels[rows["validation"]].mean() == pytest.approx(0.3)
        seen += rows["validation"].tolist()
    assert sorted(seen) == list(range(100))
    with pytest.raises(errors.Error, match=r"config.data.fold must be in \[0, 5\)"):
        tabular.split_rows(labels, True, 0, 0.0, 0.0, num_folds=5, fold=5)


# ----------------------------------------------------------------------------------------------------------------
# Losses, metrics, generated data.

def test_huber_delta_and_bad_loss_names():
    predictions, targets = np.array([[0.0], [3.0]], np.float32), np.array([1.0, 0.0], np.float32)
    np.testing.assert_allclose(losses.get("huber:2.0")(predictions, targets),
                               optax.huber_loss(predictions[:, 0], targets, delta=2.0), rtol=1e-6)
    np.testing.assert_allclose(losses.get("huber")(predictions, targets), [0.5, 2.5], rtol=1e-6)
    for name in ("mse:2", "huber:-1", "huber:x"):
        with pytest.raises(errors.Error, match="only huber takes a parameter"):
            losses.get(name)


def test_regression_metrics():
    results = regression.regression_metrics(np.array([1.0, 2.0, 5.0]), np.array([1.0, 3.0, 3.0]))
    assert results["test_mae"] == pytest.approx(1.0)
    assert results["test_rmse"] == pytest.approx(np.sqrt(5 / 3))
    assert results["test_r2"] == pytest.approx(1 - 5 / (8 / 3))


def test_logistic_map_series_is_seeded_and_follows_the_map():
    values = logistic_source.series(50, seed=4)
    np.testing.assert_allclose(values[1:], 4 * values[:-1] * (1 - values[:-1]))
    np.testing.assert_array_equal(values, logistic_source.series(50, seed=4))
    assert values[0] != logistic_source.series(50, seed=5)[0]
    splits = logistic_source.load(ConfigDict({"num_points": 100, "test_split": 0.2, "validation_split": 0.1}), 1)
    assert [len(s["label"]) for s in (splits.train, splits.validation, splits.test)] == [70, 10, 20]
    x = splits.test["inputs"][:, 0]
    np.testing.assert_allclose(splits.test["label"], 4 * x * (1 - x), atol=1e-6)


# ----------------------------------------------------------------------------------------------------------------
# End to end: every config and variant on generated CSVs.

def movies_csv(path, rows: int = 160) -> str:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({name: rng.integers(0, 10_000, rows) for name in movies_profit.COUNTS})
    frame["duration"] = rng.integers(80, 180, rows)
    frame["facenumber_in_poster"] = rng.integers(0, 5, rows)
    frame["title_year"] = rng.integers(1980, 2016, rows)
    frame["imdb_score"] = rng.uniform(3, 9, rows).round(1)
    frame["aspect_ratio"] = rng.choice([1.85, 2.35], rows)
    budget = rng.integers(1, 200, rows) * 1_000_000
    frame["budget"] = [f"${value:,}" for value in budget]
    frame["gross"] = (budget * rng.uniform(0.2, 2.5, rows)).astype(np.int64)
    frame["director_name"] = rng.choice(["Ann", "Bob", "Cy", "Di"], rows)
    frame["content_rating"] = rng.choice(["PG", "R", "PG-13"], rows)
    frame["genres"] = rng.choice(["Action|Comedy", "Drama", "Comedy|Romance"], rows)
    frame.loc[::9, "gross"] = None
    frame.loc[::11, "duration"] = None
    frame.to_csv(path, sep=";", index=False)
    return str(path)


def numeric_csv(path, columns, target, rows: int, binary: bool) -> str:
    rng = np.random.default_rng(1)
    frame = pd.DataFrame(rng.normal(10, 3, (rows, len(columns))).round(2), columns=list(columns))
    score = frame.to_numpy() @ rng.normal(size=len(columns))
    frame[target] = (score > np.median(score)).astype(int) if binary else score.round(2)
    frame.to_csv(path, index=False)
    return str(path)


@pytest.mark.parametrize("variant", movies_profit.VARIANTS)
def test_movies_profit_end_to_end(variant, tiny, tmp_path):
    path = movies_csv(tmp_path / "movies.csv")
    config = tiny(movies_profit.get_config(variant), **{"data.path": path})
    summary = experiment.run(config, str(tmp_path / "run"))
    assert 0.0 <= summary["test_accuracy"] <= 1.0 and 0.0 <= summary["test_roc_auc"] <= 1.0
    with open(tmp_path / "run" / "data_info.json") as f:
        info = json.load(f)
    assert info["tabular"]["columns"][0]["name"] == "num_critic_for_reviews" and info["num_outputs"] == 2
    raw = pd.read_csv(path, sep=";").head(5)
    probabilities = predict.load(str(tmp_path / "run")).predict(raw)
    assert probabilities.shape == (5, 2)
    np.testing.assert_allclose(probabilities.sum(-1), 1.0, rtol=1e-5)


@pytest.mark.parametrize("variant", movies_rating.VARIANTS)
def test_movies_rating_end_to_end(variant, tiny, tmp_path):
    config = tiny(movies_rating.get_config(variant), **{"data.path": movies_csv(tmp_path / "movies.csv")})
    summary = experiment.run(config, str(tmp_path))
    assert np.isfinite([summary["test_mae"], summary["test_rmse"], summary["test_r2"]]).all()
    assert os.path.exists(tmp_path / "plots" / "predictions.png")


@pytest.mark.parametrize("variant", diabetes_kfold.VARIANTS)
def test_diabetes_kfold_end_to_end(variant, tiny, tmp_path):
    columns = diabetes_kfold.get_config().data.numeric
    path = numeric_csv(tmp_path / "pima.csv", columns, "Outcome", 96, binary=True)
    config = tiny(diabetes_kfold.get_config(variant), num_epochs=2, **{"data.path": path, "data.num_folds": 3})
    summary = experiment.run(config, str(tmp_path))
    assert summary["num_folds"] == 3 and len(summary["folds"]) == 3
    accuracies = [fold["test_accuracy"] for fold in summary["folds"]]
    assert summary["test_accuracy_mean"] == pytest.approx(np.mean(accuracies))
    assert summary["test_accuracy_std"] == pytest.approx(np.std(accuracies))
    assert len(summary["validation_curves"]["val_accuracy"]["mean"]) == 2
    for name in ("summary.json", "plots/kfold.png", "fold_0/summary.json", "fold_2/history.csv"):
        assert os.path.exists(tmp_path / name), name
    for fold in range(3):
        with open(tmp_path / f"fold_{fold}" / "data_info.json") as f:
            assert json.load(f)["split_rows"] == {"train": 64, "validation": 32, "test": 32}


@pytest.mark.parametrize("variant", boston_linear.VARIANTS)
def test_boston_end_to_end(variant, tiny, tmp_path):
    path = numeric_csv(tmp_path / "boston.csv", boston_linear.COLUMNS, "MEDV", 120, binary=False)
    summary = experiment.run(tiny(boston_linear.get_config(variant), **{"data.path": path}), str(tmp_path))
    assert summary["num_test_examples"] == 24 and np.isfinite(summary["test_rmse"])
    assert os.path.exists(tmp_path / "plots" / "predictions.png")


def test_logistic_map_end_to_end(tiny, tmp_path):
    config = tiny(logistic_map.get_config(), **{"data.num_points": 200})
    summary = experiment.run(config, str(tmp_path))
    assert summary["num_test_examples"] == 40 and np.isfinite(summary["test_mse"])
    assert os.path.exists(tmp_path / "plots" / "predictions.png")
    run = predict.load(str(tmp_path))
    assert run.predict(np.array([[0.5]], np.float32)).shape == (1, 1)
