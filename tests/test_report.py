"""Plots of a run's history: a one-epoch run shows its points (markers), not empty axes."""
import numpy as np
import pytest

from jaxlab import compare, figures, report

ONE_EPOCH = [{"epoch": 1.0, "loss": 0.5, "accuracy": 0.8, "val_loss": 0.6, "val_accuracy": 0.75, "lr": 0.01}]


@pytest.fixture
def drawn(monkeypatch):
    """The figures the plot functions save (figures.save still writes them)."""
    saved, save = [], figures.save

    def keep(fig, path):
        saved.append(fig)
        save(fig, path)
    monkeypatch.setattr(figures, "save", keep)
    return saved


def assert_points_visible(fig, num_lines):
    lines = [line for ax in fig.axes for line in ax.get_lines() if len(line.get_xdata()) == 1]
    assert len(lines) == num_lines
    for line in lines:
        assert line.get_marker() not in (None, "", " ", "None") and line.get_markersize() > 0
    for ax in fig.axes:
        assert [float(tick) for tick in ax.get_xticks() if ax.get_xlim()[0] <= tick <= ax.get_xlim()[1]] == [1.0]


def test_curves_of_one_epoch_show_points(drawn, tmp_path):
    report.plot_curves(ONE_EPOCH, str(tmp_path / "curves.png"))
    assert (tmp_path / "curves.png").stat().st_size > 0
    assert_points_visible(drawn[0], num_lines=4)   # loss and accuracy, train and validation


def test_mean_std_of_one_epoch_shows_points_and_spread(drawn, tmp_path):
    histories = [ONE_EPOCH, [{**ONE_EPOCH[0], "loss": 0.7, "val_loss": 0.9}]]
    report.plot_mean_std(histories, str(tmp_path / "kfold.png"), "2 folds")
    assert (tmp_path / "kfold.png").stat().st_size > 0
    fig = drawn[0]
    loss_panel = fig.axes[0]
    means = [line for line in loss_panel.get_lines() if line.get_label().startswith(("train", "validation"))]
    assert [float(line.get_ydata()[0]) for line in means] == [0.6, 0.75]
    bars = [container.lines[2][0].get_segments()[0] for container in loss_panel.containers]  # ± std of one point
    assert sorted(np.ptp(np.asarray(bar)[:, 1]) for bar in bars) == pytest.approx([0.2, 0.3])


def test_comparison_curves_of_one_epoch_show_points(drawn, tmp_path):
    runs = [{"name": "a", "history": ONE_EPOCH}, {"name": "b", "history": [{**ONE_EPOCH[0], "val_loss": 0.4}]}]
    assert compare.plot_validation(runs, str(tmp_path / "c.png"))
    assert_points_visible(drawn[0], num_lines=4)   # val_loss and val_accuracy of two runs
