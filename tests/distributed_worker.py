"""One process of tests/test_distributed.py: `launch.py` under mock tfds data, noting the files it writes.

    python tests/distributed_worker.py WRITTEN.json [launch.py flags: --config … --workdir DIR --distributed …]

Runs launch.py's `main` with the given flags inside `tfds.testing.mock_data(num_examples=96)` (the data the
test's 1-process reference sees too; with JAXLAB_TEST_REAL_TFDS=1 in the environment, no mock: the flags point
data_dir at a dataset the test prepared), then writes WRITTEN.json: the files under DIR that this process opened
for writing through Python, outside the checkpoint folders (orbax writes those from every process), the tfds
splits it loaded (e.g. ``train[48:86]``) and its exit code. The environment must give the process its own fake
CPU devices (XLA_FLAGS) before jax is imported.
"""
import contextlib
import builtins
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)


def main(output: str, launch_args: list[str]) -> None:
    from absl import app
    import tensorflow_datasets as tfds

    import launch
    workdir = os.path.abspath(launch_args[launch_args.index("--workdir") + 1])
    written, real_open = set(), builtins.open

    def recording_open(file, mode="r", *args, **kwargs):
        if isinstance(file, (str, os.PathLike)) and any(flag in mode for flag in "wax+"):
            path = os.path.abspath(os.fspath(file))
            if path.startswith(workdir + os.sep) and not os.path.relpath(path, workdir).startswith("checkpoints"):
                written.add(os.path.relpath(path, workdir))
        return real_open(file, mode, *args, **kwargs)

    loaded, real_load = [], tfds.load

    def recording_load(name, *args, split=None, **kwargs):
        loaded.append(str(split))
        return real_load(name, *args, split=split, **kwargs)

    real = os.environ.get("JAXLAB_TEST_REAL_TFDS") == "1"
    code = 0
    builtins.open, tfds.load = recording_open, recording_load
    try:
        with contextlib.nullcontext() if real else tfds.testing.mock_data(num_examples=96):
            app.run(launch.main, argv=[os.path.join(ROOT, "launch.py")] + launch_args,
                    flags_parser=launch.parse_flags)
    except SystemExit as exc:
        if isinstance(exc.code, str):  # launch.py's one-line errors
            sys.stderr.write(exc.code + "\n")
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    finally:
        builtins.open, tfds.load = real_open, real_load
    with open(output, "w") as f:
        json.dump({"written": sorted(written), "loaded": loaded, "exit_code": code}, f)
    sys.exit(code)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
