"""Puts the datasets that tfds does not manage in place under the data root (`jaxlab.data.paths`).

    python -m jaxlab.data.fetch NAME|all        NAME: pima, boston, simpsons, movies

A dataset with a stable public URL is downloaded, turned into the file jaxlab reads (the CSVs get the header row
the originals lack), checked against the sha256 of that result and only then renamed into place: a failed or
altered download leaves nothing behind. A folder's sha256 is that of its listing of ``relative/path<TAB>sha256``
lines (`digest`). For a dataset without a stable URL the command prints where to get it and where to put it.
The tfds datasets (MNIST, Fashion-MNIST, CIFAR-100, IMDB reviews) are downloaded by tfds itself (README "Data").
"""
import argparse
import dataclasses
import hashlib
import io
import os
import shutil
import sys
import tarfile
import tempfile
import urllib.error
import urllib.request
from typing import Callable, Sequence

from jaxlab import errors
from jaxlab.data import paths

PIMA_HEADER = "Pregnancies,Glucose,BloodPressure,SkinThickness,Insulin,BMI,DiabetesPedigreeFunction,Age,Outcome"
BOSTON_HEADER = "CRIM,ZN,INDUS,CHAS,NOX,RM,AGE,DIS,RAD,TAX,PTRATIO,B,LSTAT,MEDV"
SIMPSONS_COMMIT = "f70f4e60d21a5fac0e6bd99f7879f5751ccef673"


def with_header(header: str, whitespace: bool = False) -> Callable[[bytes], bytes]:
    """Download → CSV: `header` first, then the rows (whitespace-separated fields joined with commas)."""
    def convert(raw: bytes) -> bytes:
        rows = [",".join(line.split()) if whitespace else line for line in raw.decode().splitlines() if line.strip()]
        return "\n".join([header] + rows).encode()
    return convert


@dataclasses.dataclass(frozen=True)
class Source:
    url: str = ""        # "" = no stable public URL: `manual` says where to get it
    sha256: str = ""     # of the result in place (a folder: `digest` of its files)
    convert: Callable[[bytes], bytes] | None = None  # a file: download → file
    member: str = ""     # an archive: the folder in it (below its top folder) to put in place
    manual: str = ""


SOURCES = {
    "pima": Source(
        url="https://raw.githubusercontent.com/jbrownlee/Datasets/master/pima-indians-diabetes.data.csv",
        sha256="3c7023e0935097ac63e03c6f398928b6dfce30974d5591d3af09a9661876d9fe",
        convert=with_header(PIMA_HEADER)),
    "boston": Source(
        url="https://raw.githubusercontent.com/jbrownlee/Datasets/master/housing.data",
        sha256="cd20974acf8d4410da21c3bc274c74da333d393bb5f38250ba610586c4695e79",
        convert=with_header(BOSTON_HEADER, whitespace=True)),
    "simpsons": Source(
        url=f"https://github.com/alvarobartt/simpsons-mnist/archive/{SIMPSONS_COMMIT}.tar.gz",
        sha256="fb18fc9e7c3d292a63e31b6da5d18e299b7efac3d4b8b05b9eddf9b3151fc8dc",
        member="dataset/grayscale"),
    "movies": Source(
        sha256="10a1d0869446bf0c6b86b4b7adf9361851fef3dfcc3fb0de95f56b6da175d7f1",
        manual="no stable public URL: download movie_metadata.csv of Kaggle's \"IMDB 5000 Movie Dataset\" "
               "(https://www.kaggle.com/datasets/carolzhangdc/imdb-5000-movie-dataset) and put it at {target}; "
               "that file is comma-separated, so add --config.data.delimiter=, to the movies configs (they expect "
               "the semicolon-separated copy their results were measured on, sha256 {sha256})"),
}


def sha256_file(path: str) -> str:
    hasher = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            hasher.update(block)
    return hasher.hexdigest()


def digest(path: str) -> str:
    """sha256 of a file; of a folder, sha256 of its sorted ``relative/path<TAB>sha256`` lines."""
    if os.path.isfile(path):
        return sha256_file(path)
    lines = []
    for folder, _, names in os.walk(path):
        for name in names:
            full = os.path.join(folder, name)
            lines.append(f"{os.path.relpath(full, path).replace(os.sep, '/')}\t{sha256_file(full)}\n")
    return hashlib.sha256("".join(sorted(lines)).encode()).hexdigest()


def download(url: str, destination) -> None:
    """Copies `url` into the open binary file `destination`."""
    try:
        with urllib.request.urlopen(url, timeout=60) as response:
            shutil.copyfileobj(response, destination)
    except (urllib.error.URLError, OSError) as exc:
        raise errors.Error(f"cannot download {url} ({exc}): check the network, or download it by hand "
                           "(README \"Data\")") from exc


def check(name: str, source: Source, got: str) -> None:
    if got != source.sha256:
        raise errors.Error(f"{name}: the download from {source.url} has sha256 {got}, expected {source.sha256}; "
                           "nothing was put in place (the source may have changed: get it by hand, README \"Data\")")


def fetch_file(name: str, source: Source, target: str) -> None:
    raw = io.BytesIO()
    download(source.url, raw)
    content = source.convert(raw.getvalue()) if source.convert else raw.getvalue()
    check(name, source, hashlib.sha256(content).hexdigest())
    with tempfile.NamedTemporaryFile(dir=os.path.dirname(target), prefix=".fetch-", delete=False) as f:
        try:
            f.write(content)
            os.chmod(f.name, 0o644)  # a temporary file is private (0600)
        except OSError:
            os.remove(f.name)
            raise
    os.replace(f.name, target)


def extract(archive: str, member: str, folder: str) -> None:
    """The regular files under `member` (below the archive's top folder) into `folder`."""
    with tarfile.open(archive) as tar:
        for item in tar:
            parts = item.name.split("/")[1:]  # below the top folder
            inner = "/".join(parts)
            if not item.isfile() or not inner.startswith(member + "/") or ".." in parts:
                continue
            path = os.path.join(folder, *inner[len(member) + 1:].split("/"))
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with tar.extractfile(item) as src, open(path, "wb") as dst:
                shutil.copyfileobj(src, dst)


def fetch_folder(name: str, source: Source, target: str) -> None:
    with tempfile.TemporaryDirectory(dir=os.path.dirname(target), prefix=".fetch-") as work:
        archive, folder = os.path.join(work, "archive"), os.path.join(work, "folder")
        with open(archive, "wb") as f:
            download(source.url, f)
        try:
            extract(archive, source.member, folder)
        except tarfile.TarError as exc:
            raise errors.Error(f"{name}: the download from {source.url} is not a readable archive ({exc}); "
                               "nothing was put in place") from exc
        check(name, source, digest(folder) if os.path.isdir(folder) else "(no files)")
        os.replace(folder, target)


def fetch(name: str) -> str:
    """Puts dataset `name` in place (or says how to); returns the line to print."""
    source, target = SOURCES[name], paths.resolve(paths.LAYOUT[name])
    if os.path.exists(target):
        if digest(target) == source.sha256:
            return f"{name}: already in place at {target}"
        again = "; remove it to fetch it again" if source.url else ""
        return f"{name}: {target} is there but differs from the expected sha256 (kept as it is{again})"
    if not source.url:
        return f"{name}: " + source.manual.format(target=target, sha256=source.sha256)
    os.makedirs(os.path.dirname(target), exist_ok=True)
    (fetch_folder if source.member else fetch_file)(name, source, target)
    return f"{name}: downloaded, sha256 checked, in place at {target}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m jaxlab.data.fetch", description=__doc__.split("\n")[0])
    parser.add_argument("name", choices=[*SOURCES, "all"], help="dataset to put in place, or all of them")
    args = parser.parse_args(argv)
    print(f"data root: {paths.data_root()} (${paths.ENV}, default {paths.DEFAULT_ROOT})")
    failed = False
    for name in SOURCES if args.name == "all" else [args.name]:
        try:
            print(fetch(name), flush=True)
        except errors.Error as exc:
            sys.stderr.write(f"jaxlab: error: {exc}\n")
            failed = True
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
