"""The data root ($JAXLAB_DATA_DIR), the fetch command (from local file:// URLs) and a repository free of machine
paths."""
import dataclasses
import hashlib
import io
import os
import re
import subprocess
import tarfile

import pytest
from ml_collections import ConfigDict

from configs import boston_linear, diabetes_kfold, movies_profit, simpsons_cnn
from jaxlab import errors
from jaxlab.data import fetch, image_folder, paths, tabular

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture
def root(tmp_path, monkeypatch):
    folder = tmp_path / "data_root"
    monkeypatch.setenv(paths.ENV, str(folder))
    return folder


# ----------------------------------------------------------------------------------------------------------------
# Resolution.

def test_relative_paths_resolve_under_the_env_var_root(root):
    assert paths.data_root() == str(root)
    assert paths.resolve("csv/pima_diabetes.csv") == os.path.join(str(root), "csv", "pima_diabetes.csv")


def test_default_root_is_jaxlab_data_in_the_home_folder(tmp_path, monkeypatch):
    monkeypatch.delenv(paths.ENV, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert paths.data_root() == os.path.join(str(tmp_path), "jaxlab_data")
    assert paths.resolve("simpsons/grayscale") == os.path.join(str(tmp_path), "jaxlab_data", "simpsons", "grayscale")
    monkeypatch.setenv(paths.ENV, "")  # set but empty: the default too
    assert paths.data_root() == os.path.join(str(tmp_path), "jaxlab_data")


def test_absolute_and_home_paths_are_used_as_they_are(root, tmp_path, monkeypatch):
    absolute = str(tmp_path / "elsewhere" / "my.csv")
    assert paths.resolve(absolute) == absolute
    monkeypatch.setenv("HOME", str(tmp_path))
    assert paths.resolve("~/my.csv") == os.path.join(str(tmp_path), "my.csv")


def test_configs_name_their_files_as_the_fetch_layout_does():
    assert diabetes_kfold.PATH == paths.LAYOUT["pima"]
    assert boston_linear.PATH == paths.LAYOUT["boston"]
    assert movies_profit.PATH == paths.LAYOUT["movies"]
    assert simpsons_cnn.DEFAULT_PATH == paths.LAYOUT["simpsons"]
    assert set(fetch.SOURCES) == set(paths.LAYOUT)


def test_the_csv_loader_reads_a_relative_path_under_the_root(root):
    os.makedirs(root / "csv")
    (root / "csv" / "small.csv").write_text("a,y\n1,0\n2,1\n")
    assert tabular.read_frame("csv/small.csv")["a"].tolist() == [1, 2]
    assert tabular.read_frame(str(root / "csv" / "small.csv"))["y"].tolist() == [0, 1]


# ----------------------------------------------------------------------------------------------------------------
# A missing file: one line naming the file, the root and the fetch command.

def test_missing_csv_names_the_file_the_root_and_the_fetch_command(root):
    with pytest.raises(errors.Error) as info:
        tabular.read_frame(diabetes_kfold.PATH)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith("CSV file csv/pima_diabetes.csv is not in the data root ")
    assert str(root) in message and "$JAXLAB_DATA_DIR" in message
    assert "python -m jaxlab.data.fetch pima" in message


def test_missing_image_folder_names_the_fetch_command(root):
    config = ConfigDict({"name": "image_folder", "path": simpsons_cnn.DEFAULT_PATH, "color": "grayscale"})
    with pytest.raises(errors.Error, match=r"^image folder simpsons/grayscale is not in the data root .*"
                                           r"python -m jaxlab\.data\.fetch simpsons"):
        image_folder.load(config, seed=0)


def test_missing_file_of_no_known_dataset_and_missing_absolute_path(root, tmp_path):
    with pytest.raises(errors.Error, match=r"CSV file csv/mine\.csv is not in the data root .*: put it there, set "
                                           r"JAXLAB_DATA_DIR"):
        tabular.read_frame("csv/mine.csv")
    with pytest.raises(errors.Error, match=r"CSV file .*nope\.csv does not exist: set --config\.data\.path"):
        tabular.read_frame(str(tmp_path / "nope.csv"))


# ----------------------------------------------------------------------------------------------------------------
# Fetch, from local file:// URLs (no network).

RAW_PIMA = "6,148,72,35,0,33.6,0.627,50,1\n1,85,66,29,0,26.6,0.351,31,0\n"
PIMA = fetch.PIMA_HEADER + "\n6,148,72,35,0,33.6,0.627,50,1\n1,85,66,29,0,26.6,0.351,31,0"


def point(monkeypatch, name: str, path, sha256: str) -> None:
    source = dataclasses.replace(fetch.SOURCES[name], url=f"file://{path}", sha256=sha256)
    monkeypatch.setitem(fetch.SOURCES, name, source)


def test_fetch_downloads_converts_and_checks_a_csv(root, tmp_path, monkeypatch, capsys):
    (tmp_path / "raw.csv").write_text(RAW_PIMA)
    point(monkeypatch, "pima", tmp_path / "raw.csv", hashlib.sha256(PIMA.encode()).hexdigest())
    assert fetch.main(["pima"]) == 0
    assert (root / "csv" / "pima_diabetes.csv").read_text() == PIMA
    assert os.listdir(root / "csv") == ["pima_diabetes.csv"]  # no temporary file left
    assert "pima: downloaded, sha256 checked, in place at" in capsys.readouterr().out
    assert fetch.main(["pima"]) == 0
    assert "pima: already in place" in capsys.readouterr().out


def test_whitespace_separated_rows_become_comma_separated():
    convert = fetch.with_header("A,B,C", whitespace=True)
    raw = b" 0.00632  18.00   2.310\n 0.02731   0.00  7.070\n"
    assert convert(raw) == b"A,B,C\n0.00632,18.00,2.310\n0.02731,0.00,7.070"


def test_checksum_mismatch_is_one_line_and_leaves_nothing(root, tmp_path, monkeypatch, capsys):
    (tmp_path / "raw.csv").write_text(RAW_PIMA)
    point(monkeypatch, "pima", tmp_path / "raw.csv", "0" * 64)
    assert fetch.main(["pima"]) == 1
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "pima: the download from file://" in error
    assert f"expected {'0' * 64}; nothing was put in place" in error
    assert not os.path.exists(root / "csv" / "pima_diabetes.csv")
    assert not [name for name in os.listdir(root / "csv") if name.startswith(".fetch-")]


def test_a_failed_download_is_one_line(root, tmp_path, monkeypatch):
    point(monkeypatch, "boston", tmp_path / "absent.data", "0" * 64)
    with pytest.raises(errors.Error, match=r"^cannot download file://.*absent\.data .*: check the network"):
        fetch.fetch("boston")


def test_fetch_puts_an_archive_folder_in_place(root, tmp_path, monkeypatch):
    images = {"train/bart/pic_1.jpg": b"one", "train/lisa/pic_2.jpg": b"two", "test/bart/pic_3.jpg": b"three"}
    reference = tmp_path / "reference"
    for name, content in images.items():
        os.makedirs(reference / os.path.dirname(name), exist_ok=True)
        (reference / name).write_bytes(content)
    archive = tmp_path / "repo.tar.gz"
    members = {f"repo-abc123/dataset/grayscale/{name}": content for name, content in images.items()}
    members["repo-abc123/README.md"] = b"outside the folder"
    members["repo-abc123/dataset/grayscale/../../../evil.jpg"] = b"outside the root"
    with tarfile.open(archive, "w:gz") as tar:
        for name, content in members.items():
            item = tarfile.TarInfo(name)
            item.size = len(content)
            tar.addfile(item, io.BytesIO(content))
    point(monkeypatch, "simpsons", archive, fetch.digest(str(reference)))
    assert fetch.fetch("simpsons").startswith("simpsons: downloaded, sha256 checked")
    assert fetch.digest(str(root / "simpsons" / "grayscale")) == fetch.digest(str(reference))
    assert os.listdir(root / "simpsons") == ["grayscale"]
    point(monkeypatch, "simpsons", archive, "f" * 64)  # in place but different: kept, and said so
    assert "differs from the expected sha256 (kept as it is; remove it to fetch it again)" in fetch.fetch("simpsons")


def test_a_dataset_without_a_url_says_where_to_get_it_and_where_to_put_it(root):
    line = fetch.fetch("movies")
    assert "kaggle.com" in line and os.path.join(str(root), "csv", "movie_metadata.csv") in line
    assert not os.path.exists(root)


# ----------------------------------------------------------------------------------------------------------------
# No machine paths in the repository. Each pattern is written so that its own text does not match it.

MACHINE_PATHS = {
    "an absolute /work path": r"/wor[k]/",
    "a home folder": r"/hom[e]/[A-Za-z_]",
    "root's home folder": r"/roo[t]/",
    "a macOS home folder": r"/User[s]/[A-Za-z_]",
    "a Windows drive path": r"(?<![\\\w])[A-Za-z]:\\{1,2}[A-Za-z_]",
    "the development checkout's ../shared": r"\.\.[/]shared/",
}


def repository_files() -> list[str]:
    try:
        listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                                capture_output=True, text=True, check=True).stdout.splitlines()
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout")
    return [name for name in listed if os.path.isfile(os.path.join(ROOT, name))]


def test_no_machine_paths_in_the_repository():
    found = []
    for name in repository_files():
        with open(os.path.join(ROOT, name), "rb") as f:
            data = f.read()
        if b"\0" in data:
            continue  # binary
        text = data.decode("utf-8", errors="replace")
        for what, pattern in MACHINE_PATHS.items():
            found += [f"{name}:{text.count(chr(10), 0, m.start()) + 1}: {what} ({m.group(0)})"
                      for m in re.finditer(pattern, text)]
    assert not found, "machine paths (use the data roots, README \"Data\"):\n" + "\n".join(found)
