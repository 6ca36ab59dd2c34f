"""Resume and preemption: the newest usable checkpoint (damaged ones moved aside), a mid-epoch checkpoint saved on
SIGTERM, and the SIGTERM flag itself (honoured at the next dispatch boundary)."""
import os
import signal
import threading
from typing import Any

from jaxlab import checkpoint, console, errors, parallel
from jaxlab.programs import Setup


def signal_flag(signum) -> dict:
    """Records `signum` instead of dying (main thread only); `flag["restore"]()` puts the old handler back."""
    flag = {"signalled": False, "restore": lambda: None}
    if threading.current_thread() is not threading.main_thread():
        return flag
    previous = signal.getsignal(signum)

    def handler(*_):
        if not flag["signalled"]:
            console.notice("SIGTERM: saving a checkpoint at the next step boundary, then stopping")
        flag["signalled"] = True

    signal.signal(signum, handler)
    flag["restore"] = lambda: signal.signal(signum, previous)
    return flag


def resume(s: Setup) -> tuple[Any, int]:
    """The state of the newest usable epoch checkpoint (0 = none: a fresh start).

    A checkpoint that fails verification (a changed or missing file, non-finite numbers, unreadable) is moved
    aside with a warning and the one before it restored. When none is usable, one line says so and nothing more
    is touched.
    """
    saved = sorted(s.mngr.all_steps(), reverse=True)
    state, epoch = restore_first_usable(s, saved)
    if state is not None:
        return state, epoch
    unreadable = os.path.join(os.path.dirname(str(s.mngr.directory)), "checkpoints_unreadable")
    if saved or os.path.isdir(unreadable):   # never a silent fresh start over a run whose checkpoints are damaged
        raise errors.Error(f"no usable checkpoint in {s.mngr.directory} (the unusable ones are in {unreadable}): use "
                           "a new --workdir, or delete that folder and history.csv to train this run again from "
                           "epoch 1")
    return s.state, 0


def resume_preempted(s: Setup, preemption, state, start_epoch: int):
    """A mid-epoch checkpoint newer than the last epoch one (any number of epochs later: configs that save every
    N epochs): (state, completed epochs, step offset in the next epoch, its partial totals)."""
    step = preemption.latest_step()
    if step is None or step <= start_epoch * s.steps_per_epoch:
        return state, start_epoch, 0, None
    host_state = parallel.unreplicate(state, s.mode)
    try:
        restored = checkpoint.restore_preempted(preemption, step, host_state, s.metrics_cls.empty())
    except checkpoint.Unusable as exc:  # damaged: the epoch checkpoint stands
        console.warn(f"mid-epoch checkpoint at step {step} is unusable ({exc}); resuming from epoch {start_epoch}")
        return state, start_epoch, 0, None
    if int(restored["steps_per_epoch"]) != s.steps_per_epoch:
        console.warn(f"mid-epoch checkpoint at step {step} has {int(restored['steps_per_epoch'])} steps per epoch, "
                     f"this run {s.steps_per_epoch}; resuming from epoch {start_epoch}")
        return state, start_epoch, 0, None
    return (parallel.replicate(restored["state"], s.mode, s.devices), step // s.steps_per_epoch,
            step % s.steps_per_epoch, restored["totals"])


def restore(s: Setup, epoch: int, like=None):
    """The replicated state saved at `epoch` (`checkpoint.Unusable` when it fails verification); `like` is a live
    replicated state to take the structure from (after training `s.state` has been donated to the train step and
    can no longer be read)."""
    host = checkpoint.restore(s.mngr, epoch, parallel.unreplicate(s.state if like is None else like, s.mode))
    return parallel.replicate(host, s.mode, s.devices)


def restore_first_usable(s: Setup, epochs, like=None) -> tuple[Any, int | None]:
    """The replicated state of the first usable checkpoint among `epochs` (in that order of preference) and its
    epoch, or (None, None); unusable ones are moved aside (`checkpoint.restore_first_usable`)."""
    like = parallel.unreplicate(s.state if like is None else like, s.mode)
    host, epoch = checkpoint.restore_first_usable(s.mngr, epochs, like)
    return (None, None) if host is None else (parallel.replicate(host, s.mode, s.devices), epoch)
