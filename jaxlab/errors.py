"""The one exception type jaxlab raises for problems the user can fix."""


class Error(Exception):
    """A bad config, missing data, malformed input or a diverging run.

    `launch.py` prints it as a single line (no traceback) and exits non-zero. The message names the problem and
    how to fix it.
    """


class Preempted(Exception):
    """SIGTERM arrived during training: a checkpoint was saved and the run stopped cleanly; rerunning the same
    command resumes. `launch.py` exits with status 143 (what a process killed by SIGTERM returns)."""
