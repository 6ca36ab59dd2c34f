"""Matplotlib without a display, and the one way jaxlab labels an epoch panel and writes a figure."""
import os


def pyplot():
    """matplotlib.pyplot on the Agg backend, imported on first use (runs that draw nothing never load matplotlib)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def epoch_panel(ax, title: str) -> None:
    """Epoch on the x axis, a title, a light grid and the legend."""
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
