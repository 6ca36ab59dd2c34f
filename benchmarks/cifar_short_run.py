"""A short real-data CIFAR run on a slice of the splits: proves on a CPU that a config's pipeline learns.

    TFDS_DATA_DIR=/path/to/tfds python benchmarks/cifar_short_run.py --config configs/cifar_alexnet.py \
        --workdir /tmp/runs/cifar_short --train_examples 4000 --eval_examples 1000 --config.num_epochs=2

Same as `launch.py` (same config flags, same `jaxlab.experiment.run`), except that the training split keeps its
first `train_examples` images and validation/test their first `eval_examples` (preprocessing statistics are
still fitted on the whole training split). The full recipes need a GPU: see the configs' docstrings.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # configs/, jaxlab/

from absl import app, flags
from ml_collections import config_flags

FLAGS = flags.FLAGS
config_flags.DEFINE_config_file("config", None, "configs/NAME.py[:variant]", lock_config=True)
flags.DEFINE_string("workdir", None, "run directory")
flags.DEFINE_integer("train_examples", 4000, "training images kept")
flags.DEFINE_integer("eval_examples", 1000, "validation and test images kept (each)")
flags.mark_flags_as_required(["config", "workdir"])


def main(argv):
    del argv
    import tensorflow as tf
    tf.config.set_visible_devices([], "GPU")
    from jaxlab import data, experiment, models, parallel, single

    def sliced_build(config, share=data.whole):
        splits = data.build(config.data, config.seed, share)
        cut = {"train": FLAGS.train_examples, "validation": FLAGS.eval_examples, "test": FLAGS.eval_examples}
        for name, keep in cut.items():
            split = getattr(splits, name)
            if split is not None:
                setattr(splits, name, {key: value[:keep] for key, value in split.items()})
        return splits, models.build(config.model, splits.info["num_outputs"], parallel.axis_name(config.parallelism))

    single.build = sliced_build   # what every run of experiment.run builds its data and model with
    summary = experiment.run(FLAGS.config, FLAGS.workdir)
    print({key: summary[key] for key in summary if key.startswith(("test_", "confusion"))}, file=sys.stderr)


if __name__ == "__main__":
    app.run(main)
