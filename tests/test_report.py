"""history.csv bookkeeping: appended per epoch, rewritten when columns change or a resumed run truncates it."""
from jaxlab import report


def test_append_history_appends_and_rewrites(tmp_path):
    path = str(tmp_path / "history.csv")
    history = [{"epoch": 1, "loss": 0.5}]
    report.append_history(path, history)
    history.append({"epoch": 2, "loss": 0.25})
    report.append_history(path, history)
    assert report.read_history(path) == [{"epoch": 1.0, "loss": 0.5}, {"epoch": 2.0, "loss": 0.25}]
    history.append({"epoch": 3, "loss": 0.125, "lr_scale": 0.5})      # a new column: whole file rewritten
    report.append_history(path, history)
    rows = report.read_history(path)
    assert len(rows) == 3 and rows[2]["lr_scale"] == 0.5
    report.append_history(path, [{"epoch": 1, "loss": 0.75}])          # a fresh run: starts the file anew
    assert report.read_history(path) == [{"epoch": 1.0, "loss": 0.75}]


def test_epoch_line_is_keras_like():
    line = report.epoch_line(3, 10, 2.14, {"loss": 0.41, "accuracy": 0.88, "val_loss": 0.5, "val_accuracy": 0.8})
    assert line == "epoch 3/10 - 2.1s - loss 0.4100 - accuracy 0.8800 - val_loss 0.5000 - val_accuracy 0.8000"
