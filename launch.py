"""Entry point: parse flags, set up the platform, call jaxlab.

    python launch.py --config configs/mnist_mlp.py[:variant] [--config.key=value ...] --workdir runs/NAME
    python launch.py --workdir runs/NAME --mode=evaluate          # the run's own config (its config.json)
    python launch.py --config ... --workdir runs/NAME --distributed [--coordinator_address=HOST:PORT \
        --num_processes=N --process_id=I]      # one per process, same command and shared workdir

Rerunning the same command with the same workdir resumes from the latest checkpoint. Settings, the workdir, its
lock and its config are checked before TensorFlow, JAX or any data is loaded. Exit status: 0 done, 1 an error
(one line on stderr), 143 preempted by SIGTERM after saving a checkpoint (rerun to resume).
"""
import re
import signal
import sys

from absl import app, flags
from ml_collections import config_flags

FLAGS = flags.FLAGS
config_flags.DEFINE_config_file("config", None, "Experiment config file (configs/NAME.py[:variant]); optional with "
                                "--mode=evaluate (the run's own config.json).", lock_config=True)
flags.DEFINE_string("workdir", None, "Directory for checkpoints, summaries, history.csv, summary.json and plots.")
flags.DEFINE_enum("mode", "train", ["train", "evaluate"],
                  "train (resumes if the workdir has checkpoints) or evaluate (test metrics of the best checkpoint).")
flags.DEFINE_bool("retest", False, "Rerunning a finished run reprints its test metrics from summary.json; with "
                  "--retest it evaluates the test split again.")
flags.DEFINE_bool("distributed", False,
                  "Run as one of several JAX processes (multi-host): calls jax.distributed.initialize() before any "
                  "device is touched. Every process runs the same command with the same --workdir on a shared "
                  "filesystem; process 0 alone writes logs, history.csv, summary.json and plots, checkpoints go "
                  "through orbax on every process. TPU pods, SLURM, Open MPI and Kubernetes jobs are detected; "
                  "elsewhere give --coordinator_address (or $JAX_COORDINATOR_ADDRESS), --num_processes and "
                  "--process_id. CPU processes use gloo collectives; set each one's device count with "
                  "XLA_FLAGS=--xla_force_host_platform_device_count=N.")
flags.DEFINE_string("coordinator_address", None,
                    "With --distributed: host:port where process 0 runs the coordinator, e.g. 10.0.0.1:1234 "
                    "(default: $JAX_COORDINATOR_ADDRESS, or detected from the cluster).")
flags.DEFINE_integer("num_processes", None, "With --distributed: how many processes take part (default: detected).",
                     lower_bound=1)
flags.DEFINE_integer("process_id", None, "With --distributed: this process's index, 0 … num_processes-1 "
                     "(default: detected).", lower_bound=0)
flags.mark_flags_as_required(["workdir"])


class Terminated(BaseException):
    """SIGTERM before training started: nothing to save yet."""


def _terminated(*_):
    raise Terminated()


def _one_line(text: str) -> str:
    """The last line of a message that embeds a traceback (config files raising in get_config)."""
    lines = [line.strip() for line in str(text).splitlines() if line.strip()]
    return lines[-1] if "Traceback" in text else " ".join(lines)


def parse_flags(argv):
    """absl's parser, with a bad --config file/variant or a mistyped --config.key reported in one line."""
    try:
        return FLAGS(argv)
    except flags.Error as exc:
        sys.exit(f"jaxlab: error: {_one_line(str(exc))} "
                 "(usage: python launch.py --config configs/NAME.py[:variant] --workdir DIR)")
    except (AttributeError, KeyError) as exc:  # ml_collections: unknown key, with "Did you mean ...?"
        detail = re.sub(r"[\\'\"]+n?", " ", str(exc))
        overrides = " ".join(arg for arg in argv[1:] if arg.startswith("--config."))
        sys.exit(f"jaxlab: error: unknown config key in {overrides}: {' '.join(detail.split())}")


def initialize_distributed() -> None:
    """--distributed: joins the other processes; a missing or wrong setting is one line, not a traceback."""
    given = {name: FLAGS[name].value for name in ("coordinator_address", "num_processes", "process_id")
             if FLAGS[name].value is not None}
    if not FLAGS.distributed:
        if given:
            sys.exit(f"jaxlab: error: {', '.join('--' + name for name in given)} set up a multi-process run: add "
                     "--distributed")
        return
    import jax
    try:
        jax.distributed.initialize(**given)
    except (ValueError, TypeError, RuntimeError) as exc:
        sys.exit(f"jaxlab: error: --distributed: {_one_line(str(exc))} (give --coordinator_address, "
                 "--num_processes and --process_id, or run under a cluster jax detects)")


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {' '.join(argv[1:])}")
    from jaxlab import console, errors, rundir, settings   # light: no TensorFlow, no JAX
    console.quiet_libraries(verbose=FLAGS.verbosity >= 1)
    signal.signal(signal.SIGTERM, _terminated)
    try:
        config = FLAGS.config
        if config is None and FLAGS.mode == "train":
            raise errors.Error("--config is required to train (e.g. --config configs/mnist_mlp.py); "
                               "--mode=evaluate alone uses the run's own config")
        if FLAGS.distributed:  # the lock and checks wait for jax.distributed: process 0 takes them
            run(config)
            return
        config = rundir.load_config(FLAGS.workdir) if config is None else config
        settings.check(config)
        with rundir.session(config, FLAGS.workdir, FLAGS.mode):
            done = single_run(config) and not FLAGS.retest and rundir.finished_summary(config, FLAGS.workdir)
            if FLAGS.mode == "train" and done:   # before TensorFlow and JAX load: a second, not 20
                rundir.say_finished(done, FLAGS.workdir)
                return
            run(config)
    except errors.Error as exc:
        sys.stderr.write(f"jaxlab: error: {exc}\n")
        sys.exit(1)
    except OSError as exc:   # a full disk, a lost mount, permissions: one line, nothing saved is touched
        where = f": {exc.filename}" if exc.filename else ""
        sys.stderr.write(f"jaxlab: error: {exc.strerror or exc}{where}\n")
        sys.exit(1)
    except errors.Preempted as exc:
        console.notice(str(exc))
        sys.exit(rundir.PREEMPTED_EXIT)
    except Terminated:
        console.notice("stopped by SIGTERM outside training (nothing to save); rerun the same command")
        sys.exit(rundir.PREEMPTED_EXIT)


def single_run(config) -> bool:
    """Whether `config` is one training run (not a search, k folds or many seeds, whose runs are in subfolders)."""
    return not config.get("search", None) and not config.data.get("num_folds", 0) and config.num_seeds <= 1


def run(config) -> None:
    """Platform set-up, then the experiment (in the session `main` holds)."""
    from jaxlab import console
    tf = console.import_tensorflow()   # its start-up lines hidden unless --verbosity=1
    tf.config.set_visible_devices([], "GPU")  # tf.data/tfds only; keep accelerator memory for JAX
    import jax
    initialize_distributed()
    from jaxlab import experiment
    console.set_lead(jax.process_index() == 0)
    if FLAGS.mode == "evaluate":
        experiment.evaluate(config, FLAGS.workdir)
    else:
        experiment.run(config, FLAGS.workdir, retest=FLAGS.retest)


if __name__ == "__main__":
    app.run(main, flags_parser=parse_flags)
