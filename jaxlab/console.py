"""What the console shows: Keras-like epoch lines (see `jaxlab.report`), one-line notices and errors — and no
library logs unless asked (`launch.py --verbosity=1`, or `quiet_libraries(verbose=True)`).

Light on purpose (no jax, no TensorFlow): `launch.py` calls `quiet_libraries` before importing them, since
TensorFlow prints its start-up lines as it loads.
"""
import logging
import os
import sys
import tempfile
import warnings

LIBRARY_LOGGERS = ("absl", "jax", "jax._src", "orbax", "tensorflow", "tensorflow_datasets", "etils", "optuna",
                   "matplotlib", "h5py", "urllib3")
_state = {"lead": True, "quiet": False}


def set_lead(lead: bool) -> None:
    """Only the lead process (process 0 of a multi-host run) prints notices."""
    _state["lead"] = lead


def is_lead() -> bool:
    return _state["lead"]


def notice(text: str) -> None:
    """One line a user should see (resumed from, checkpoint fallback, preempted, early stop)."""
    if _state["lead"]:
        print(f"jaxlab: {text}", flush=True)


def warn(text: str) -> None:
    """One line about something that went wrong and was handled (to stderr)."""
    if _state["lead"]:
        sys.stderr.write(f"jaxlab: warning: {text}\n")
        sys.stderr.flush()


def quiet_libraries(verbose: bool = False) -> None:
    """Library output off (TensorFlow's C++ start-up lines, absl/orbax/tfds logs, Python warnings of libraries):
    what goes wrong in a library reaches jaxlab as an exception and the user as one line. `verbose` leaves them on."""
    if verbose:
        return
    _state["quiet"] = True
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")   # before TensorFlow loads: its oneDNN / cuda lines
    os.environ.setdefault("GRPC_VERBOSITY", "ERROR")
    for name in LIBRARY_LOGGERS:
        logging.getLogger(name).setLevel(logging.CRITICAL)   # what they report that matters reaches us as an error
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    warnings.filterwarnings("ignore", category=FutureWarning)
    warnings.filterwarnings("ignore", category=UserWarning)
    try:
        from absl import logging as absl_logging
        absl_logging.set_verbosity(absl_logging.FATAL)
        absl_logging.set_stderrthreshold(absl_logging.FATAL)
    except ImportError:
        pass


def import_tensorflow(hide_start_up: bool | None = None):
    """`import tensorflow`, its start-up lines hidden after `quiet_libraries` (or with `hide_start_up`): TensorFlow
    ≥ 2.19 writes some of them (e.g. "oneDNN custom operations are on" on AVX-512 CPUs, cuda factory lines) to file
    descriptor 2 before its C++ logging reads TF_CPP_MIN_LOG_LEVEL, so only a redirection hides them. If the import
    fails, what it wrote is shown with the error."""
    hide = _state["quiet"] if hide_start_up is None else hide_start_up
    if not hide or "tensorflow" in sys.modules:
        import tensorflow
        return tensorflow
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        try:
            try:
                import tensorflow
            finally:
                os.dup2(saved, 2)
                os.close(saved)
        except BaseException:
            captured.seek(0)
            sys.stderr.write(captured.read().decode(errors="replace"))
            raise
    return tensorflow
