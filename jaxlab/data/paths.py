"""Where the data that tfds does not manage lives: one data root, ``$JAXLAB_DATA_DIR`` (default ``~/jaxlab_data``).

Layout under the root (``python -m jaxlab.data.fetch NAME|all`` fills it; README "Data"):
  csv/movie_metadata.csv   csv/pima_diabetes.csv   csv/boston_housing.csv
  simpsons/grayscale/{train,test}/<class>/*.jpg
Configs name their files relative to the root (``data.path = "csv/pima_diabetes.csv"``); an absolute path (or one
starting with ``~``) is used as it is.
"""
import os

from jaxlab import errors

ENV = "JAXLAB_DATA_DIR"
DEFAULT_ROOT = "~/jaxlab_data"
LAYOUT = {  # dataset name (for the fetch command) → its place under the root
    "movies": "csv/movie_metadata.csv",
    "pima": "csv/pima_diabetes.csv",
    "boston": "csv/boston_housing.csv",
    "simpsons": "simpsons/grayscale",
}


def data_root() -> str:
    """The absolute data root: ``$JAXLAB_DATA_DIR`` when set, else ``~/jaxlab_data``."""
    return os.path.abspath(os.path.expanduser(os.environ.get(ENV) or DEFAULT_ROOT))


def is_relative(path: str) -> bool:
    return not os.path.isabs(os.path.expanduser(path))


def resolve(path: str) -> str:
    """`path` under the data root when relative; an absolute (or ``~``) path as it is."""
    return os.path.join(data_root(), path) if is_relative(path) else os.path.expanduser(path)


def existing(path: str, kind: str = "CSV file", check=os.path.isfile) -> str:
    """The resolved `path` if `check` (isfile / isdir) passes; otherwise one line naming the file, the data root
    and the fetch command."""
    full = resolve(path)
    if check(full):
        return full
    if not is_relative(path):
        raise errors.Error(f"{kind} {full} does not exist: set --config.data.path to an existing "
                           f"{'file' if check is os.path.isfile else 'directory'}")
    names = [name for name, place in LAYOUT.items() if os.path.normpath(path) == os.path.normpath(place)]
    get = f"run `python -m jaxlab.data.fetch {names[0]}`" if names else "put it there"
    raise errors.Error(f"{kind} {path} is not in the data root {data_root()} (${ENV}, default {DEFAULT_ROOT}): "
                       f"{get}, set {ENV}, or give --config.data.path=/absolute/path")
