"""Matplotlib without a display, and the one way jaxlab labels an epoch panel and writes a figure."""
import os


def pyplot():
    """matplotlib.pyplot on the Agg backend, imported on first use (runs that draw nothing never load matplotlib)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def curve(ax, x, y, label: str, **kwargs):
    """One line over epochs with a marker on every point, so that a one-epoch run still shows its point (smaller
    markers on long curves). Returns the matplotlib Line2D."""
    x = list(x)
    kwargs.setdefault("marker", "o")
    kwargs.setdefault("markersize", 4 if len(x) <= 30 else 2)
    return ax.plot(x, list(y), label=label, **kwargs)[0]


def epoch_panel(ax, title: str) -> None:
    """Epoch on the x axis, a title, a light grid and the legend."""
    from matplotlib.ticker import MaxNLocator
    ax.xaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))  # epoch 1, not 0.96 … 1.04 around one point
    ax.set_xlabel("epoch")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()


def save(fig, path: str) -> None:
    """Lays the figure out, writes it to `path` (creating the folder) at 100 dpi and closes it."""
    fig.tight_layout()
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    fig.savefig(path, dpi=100)
    pyplot().close(fig)
