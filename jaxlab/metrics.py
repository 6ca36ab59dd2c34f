"""clu metric collections per task. Every metric is a masked (total, count) pair, so merging across steps and
devices is a sum and padded evaluation examples never count."""
import flax
import jax.numpy as jnp
from clu import metrics

from jaxlab import errors


@flax.struct.dataclass
class TopFiveAccuracy(metrics.Average):

    @classmethod
    def from_model_output(cls, *, logits, labels, **kwargs):
        top5 = jnp.argsort(logits, axis=-1)[..., -5:]
        hit = (top5 == labels[..., None]).any(axis=-1).astype(jnp.float32)
        return cls(**vars(metrics.Average.from_model_output(values=hit, **kwargs)))


@flax.struct.dataclass
class BinaryAccuracy(metrics.Average):

    @classmethod
    def from_model_output(cls, *, logits, labels, **kwargs):
        predicted = (logits.reshape(labels.shape) > 0).astype(jnp.int32)
        hit = (predicted == labels.astype(jnp.int32)).astype(jnp.float32)
        return cls(**vars(metrics.Average.from_model_output(values=hit, **kwargs)))


@flax.struct.dataclass
class MeanAbsoluteError(metrics.Average):

    @classmethod
    def from_model_output(cls, *, logits, labels, **kwargs):
        error = jnp.abs(logits.reshape(labels.shape) - labels).reshape(labels.shape[0], -1).mean(axis=1)
        return cls(**vars(metrics.Average.from_model_output(values=error, **kwargs)))


@flax.struct.dataclass
class MeanSquaredError(metrics.Average):

    @classmethod
    def from_model_output(cls, *, logits, labels, **kwargs):
        error = jnp.square(logits.reshape(labels.shape) - labels).reshape(labels.shape[0], -1).mean(axis=1)
        return cls(**vars(metrics.Average.from_model_output(values=error, **kwargs)))


def _collection(**named):
    return metrics.Collection.create(loss=metrics.Average.from_output("loss"), **named)


COLLECTIONS = {
    "classification": _collection(accuracy=metrics.Accuracy),
    "classification_top5": _collection(accuracy=metrics.Accuracy, top5_accuracy=TopFiveAccuracy),
    "binary": _collection(accuracy=BinaryAccuracy),
    "regression": _collection(mae=MeanAbsoluteError, mse=MeanSquaredError),
    "reconstruction": _collection(),
}


def collection(task: str, num_classes: int = 0):
    """The clu `Collection` class for a task (classification adds top-5 accuracy above 10 classes)."""
    if task == "classification" and num_classes > 10:
        task = "classification_top5"
    if task not in COLLECTIONS:
        raise errors.Error(f"unknown task {task!r}: choose one of {', '.join(sorted(COLLECTIONS))} (--config.task=...)")
    return COLLECTIONS[task]
