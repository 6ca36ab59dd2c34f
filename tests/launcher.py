"""Run `launch.py` as a user would, in a subprocess: `launch(args)` → (exit status, stdout lines, stderr lines).

With ``mock=True`` the command runs under `tfds.testing.mock_data` (random examples of the dataset's features):
a small wrapper quiets the libraries exactly as `launch.py` does (`jaxlab.console.quiet_libraries` before
TensorFlow loads, then `console.import_tensorflow`), enters the mock and then calls launch.py's own `main`. Without
it, launch.py runs as it is.
"""
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

MOCK_WRAPPER = """
import sys
sys.path.insert(0, {root!r})
sys.argv = ["launch.py"] + {args!r}
from jaxlab import console
console.quiet_libraries(verbose=any(arg.startswith("--verbosity=1") for arg in sys.argv))
console.import_tensorflow()
import tensorflow_datasets as tfds
from absl import app
import launch
with tfds.testing.mock_data(num_examples={num_examples}):
    app.run(launch.main, flags_parser=launch.parse_flags)
"""


def environment(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The tests' environment (8 fake CPU devices, the session's compilation cache), plus `extra`."""
    return {**os.environ, **(extra or {})}


def start(args: list[str], mock: bool = False, num_examples: int = 96, env: dict[str, str] | None = None):
    """The running process (stdout and stderr piped, text)."""
    if mock:
        command = [sys.executable, "-c", MOCK_WRAPPER.format(root=ROOT, args=list(args), num_examples=num_examples)]
    else:
        command = [sys.executable, os.path.join(ROOT, "launch.py"), *args]
    return subprocess.Popen(command, cwd=ROOT, env=environment(env), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def launch(args: list[str], mock: bool = False, num_examples: int = 96, env: dict[str, str] | None = None,
           timeout: float = 300) -> tuple[int, list[str], list[str]]:
    """Runs launch.py with `args` to the end: (exit status, stdout lines, stderr lines)."""
    process = start(args, mock, num_examples, env)
    out, err = process.communicate(timeout=timeout)
    return process.returncode, out.splitlines(), err.splitlines()
