"""The trivial baseline (majority class / mean predictor) and the model's margin over it."""
import numpy as np
import pytest

from jaxlab import baseline


def test_majority_class_comes_from_the_training_labels():
    train = np.array([2, 2, 2, 1, 0], np.int32)          # majority class 2 in training
    test = np.array([1, 1, 1, 2], np.int32)              # majority 1 in test: predicting it would be peeking
    result = baseline.trivial_baseline("classification", train, test)
    assert result == {"test_majority_accuracy": 0.25}
    margins = baseline.margin({"test_accuracy": 0.75, "test_loss": 0.4}, result)
    assert margins == {"accuracy_over_majority": pytest.approx(0.5)}
    assert baseline.format_baseline({"test_accuracy": 0.75}, result) == "majority 0.2500 (+0.5000)"
    assert baseline.format_baseline({"test_accuracy": 0.1}, result) == "majority 0.2500 (-0.1500)"


def test_binary_labels_as_floats_or_columns():
    train, test = np.array([[0.0], [1.0], [1.0]], np.float32), np.array([1.0, 0.0, 1.0, 1.0], np.float32)
    assert baseline.trivial_baseline("binary", train, test) == {"test_majority_accuracy": 0.75}


def test_regression_mean_predictor_uses_the_training_mean():
    train, test = np.array([1.0, 2.0, 3.0], np.float32), np.array([2.0, 4.0], np.float32)   # train mean 2
    result = baseline.trivial_baseline("regression", train, test)
    assert result == {"test_mean_predictor_mae": pytest.approx(1.0),
                      "test_mean_predictor_rmse": pytest.approx(2 ** 0.5)}
    model = {"test_mae": 0.5, "test_mse": 0.5, "test_loss": 0.5}                # clu metrics: rmse from mse
    margins = baseline.margin(model, result)
    assert margins["mae_below_mean_predictor"] == pytest.approx(0.5)
    assert margins["rmse_below_mean_predictor"] == pytest.approx(2 ** 0.5 - 0.5 ** 0.5)
    with_analysis = {**model, "test_rmse": 1.0}                                # the regression analysis's rmse wins
    assert baseline.margin(with_analysis, result)["rmse_below_mean_predictor"] == pytest.approx(2 ** 0.5 - 1.0)
    assert (baseline.format_baseline(with_analysis, result)
            == "mean predictor mae 1.0000 (-0.5000), rmse 1.4142 (-0.4142)")


@pytest.mark.parametrize("task, shape", [("reconstruction", (4, 28, 28, 1)), ("regression", (4, 3)),
                                         ("classification", (4, 2, 2))])
def test_multi_dimensional_labels_have_no_baseline(task, shape):
    labels = np.zeros(shape, np.float32)
    result = baseline.trivial_baseline(task, labels, labels)
    assert result == {} and baseline.margin({"test_accuracy": 1.0}, result) == {}
    assert baseline.format_baseline({"test_accuracy": 1.0}, result) == ""


def test_empty_split_or_unknown_task_has_no_baseline():
    assert baseline.trivial_baseline("classification", np.array([1]), np.array([], np.int32)) == {}
    assert baseline.trivial_baseline("reconstruction", np.array([1.0]), np.array([1.0])) == {}


def test_line_of_a_summary_shows_metrics_then_the_baseline():
    summary = {"test_loss": 0.5, "test_accuracy": 0.75, "test_majority_accuracy": 0.5, "accuracy_over_majority": 0.25,
               "epochs_run": 3}
    assert baseline.test_line(summary) == "test: loss 0.5000 - accuracy 0.7500 - majority 0.5000 (+0.2500)"
    assert baseline.test_line({"test_loss": 0.5}) == "test: loss 0.5000"
