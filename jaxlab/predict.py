"""Use a trained run from Python: load its best (or latest) checkpoint and predict on raw arrays.

    from jaxlab import predict
    run = predict.load("runs/mnist_mlp")
    probabilities = run.predict(images)     # raw images, e.g. uint8 [N, 28, 28, 1]; the run's preprocessing applies
    classes = probabilities.argmax(-1)
    predict.load("runs/imdb_bow").predict(["a moving, funny film"])   # text runs: raw strings → P(positive)
"""
import os
from typing import Any, Callable, NamedTuple

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import orbax.checkpoint as ocp

from jaxlab import checkpoint, console, errors, history, jsonfile, models, rundir
from jaxlab.data import preprocess


def as_batch(inputs: np.ndarray, input_shape) -> np.ndarray:
    """Raw inputs as a batch [N, *input_shape]: one input gains the batch axis, and images without their channel
    axis ([N, 28, 28] or [28, 28] for a run of [28, 28, 1]) gain it when the run has one channel."""
    shape, given = tuple(input_shape), list(inputs.shape)
    if shape and shape[-1] == 1 and shape[:-1] in (inputs.shape, inputs.shape[1:]):
        inputs = inputs[..., None]
    if inputs.shape == shape:
        inputs = inputs[None]
    if inputs.shape[1:] != shape:
        raise errors.Error(f"inputs of shape {given} do not fit this run: it takes [N, {', '.join(map(str, shape))}] "
                           f"or one input of shape {list(shape)} (data_info.json input_shape)")
    return inputs


class Run(NamedTuple):
    config: ml_collections.ConfigDict
    info: dict[str, Any]
    epoch: int
    variables: dict[str, Any]
    apply: Callable[[np.ndarray], np.ndarray]   # preprocessed inputs → raw model outputs

    def predict(self, inputs: np.ndarray) -> np.ndarray:
        """Class probabilities (classification), P(positive) (binary) or values (regression) for raw inputs."""
        if "vocabulary" in self.info:  # a text run: raw strings → ids with the run's own vocabulary
            from jaxlab.data import imdb
            texts = [inputs] if isinstance(inputs, (str, bytes)) else list(inputs)
            inputs = imdb.encode(texts, self.info["vocabulary"], self.info["max_length"],
                                 self.info.get("keep", "start"))
            if self.info.get("encoding") == "bag":
                inputs = imdb.bags(inputs)
        if self.info.get("tabular"):  # a CSV run: a pandas DataFrame of raw rows → the run's fitted transform
            from jaxlab.data import tabular
            inputs = tabular.transform(inputs, self.info["tabular"])
        inputs = np.asarray(inputs)
        if "vocabulary" in self.info or self.info.get("tabular"):  # built above (bags of words vary in width)
            inputs = inputs[None] if inputs.ndim == len(self.info["input_shape"]) else inputs
        else:
            inputs = as_batch(inputs, self.info["input_shape"])
        if self.info.get("permute_seed", -1) >= 0:  # permuted-pixel runs: the same fixed permutation
            from jaxlab.data import tfds_images
            inputs = tfds_images.permute_pixels(inputs, tfds_images.pixel_permutation(
                self.info["input_shape"], self.info["permute_seed"]))
        spec = self.info.get("preprocessing")
        outputs = self.apply(preprocess.normalize(inputs, spec) if spec else inputs)
        task = self.info.get("task", "classification")
        if task == "classification":
            return np.asarray(jax.nn.softmax(outputs, axis=-1))
        if task == "binary":
            return np.asarray(jax.nn.sigmoid(outputs)).reshape(len(inputs))
        return np.asarray(outputs)


def _skip(mngr, epoch: int, reason: str) -> None:
    """An unusable checkpoint: predict leaves the run directory as it is, and says so."""
    console.warn(f"checkpoint of epoch {epoch} is unusable ({reason}); trying the next one")


def load(workdir: str, which: str = "best") -> Run:
    """Loads a run directory written by `jaxlab.experiment.run` with its own config (which = "best" by the run's
    monitor, or "latest"). Checkpoints are verified as a resume verifies them (manifest, finite numbers): an
    unusable one is skipped with a warning, and the next one by preference is loaded."""
    paths = {name: os.path.join(workdir, name) for name in ("config.json", "data_info.json", "checkpoints")}
    missing = [name for name, path in paths.items() if not os.path.exists(path)]
    if missing:
        raise errors.Error(f"{workdir} is not a jaxlab run directory (missing {', '.join(missing)})")
    config = rundir.load_config(workdir)
    info = jsonfile.read_json(paths["data_info.json"])
    model = models.build(config.model, info["num_outputs"], info=info)
    with ocp.CheckpointManager(os.path.abspath(paths["checkpoints"])) as mngr:
        saved = mngr.all_steps()
        if not saved:
            raise errors.Error(f"no checkpoint in {paths['checkpoints']}")
        candidates = history.preferred_epochs(workdir, saved, config.monitor, config.monitor_mode, which)
        restored, epoch = checkpoint.restore_first_usable(mngr, candidates, None, on_unusable=_skip)
        if restored is None:
            raise errors.Error(f"no usable checkpoint in {paths['checkpoints']}: train the run again")
    variables = {"params": restored["params"]}
    if restored.get("batch_stats"):
        variables["batch_stats"] = restored["batch_stats"]
    apply = jax.jit(lambda x: model.apply(variables, x, train=False))
    return Run(config, info, epoch, variables, lambda x: np.asarray(apply(jnp.asarray(x))))
