"""Model registry: `config.model.name` picks a flax.linen Module; the other keys of `config.model` are its fields.

Adding a model is one new module here plus one line in `MODELS`.
"""
import dataclasses

import flax.linen as nn
from ml_collections import ConfigDict

from jaxlab import errors
from jaxlab.models import cnn, mlp
from jaxlab.models import alexnet, vgg
from jaxlab.models import autoencoder
from jaxlab.models import text
from jaxlab.models import concat

MODELS: dict[str, type[nn.Module]] = {
    "mlp": mlp.MLP,
    "cnn": cnn.CNN,
    "alexnet": alexnet.AlexNet, "vgg": vgg.VGG,
    "conv_autoencoder": autoencoder.ConvAutoencoder,
    "bow_concat": text.BowConcat, "embed_dense": text.EmbedDense, "embed_conv": text.EmbedConv,
    "concat": concat.ConcatNet,
}


# Model fields that come from the data (fitted on the training part, saved in the run's data_info.json), not the config.
FROM_DATA = ("idf",)


def build(config: ConfigDict, num_outputs: int, axis_name: str | None = None, info: dict | None = None) -> nn.Module:
    """Instantiates `config.model` with `num_outputs` outputs; `axis_name` is for cross-replica BatchNorm; `info`
    (the data's, `Splits.info`) supplies the fields in `FROM_DATA` that the model has and the data provide."""
    if config.name not in MODELS:
        raise errors.Error(f"unknown model {config.name!r}: choose one of {', '.join(sorted(MODELS))} "
                           "(--config.model.name=...)")
    cls = MODELS[config.name]
    fields = {field.name for field in dataclasses.fields(cls)}
    kwargs = {key: value for key, value in config.items() if key != "name"}
    options = fields - {"parent", "name", "num_outputs", "axis_name", *FROM_DATA}
    unknown = sorted(set(kwargs) - options)
    if unknown:
        raise errors.Error(f"model {config.name!r} has no option {', '.join(unknown)}: its options are "
                           f"{', '.join(sorted(options))}")
    data_vocab = (info or {}).get("vocab_size")
    if data_vocab and "vocab_size" in fields:  # text models index their tables with the data's ids, unchecked
        model_vocab = kwargs.get("vocab_size", {f.name: f.default for f in dataclasses.fields(cls)}["vocab_size"])
        if model_vocab < data_vocab:
            raise errors.Error(f"model.vocab_size {model_vocab} is smaller than the data's vocabulary ({data_vocab} "
                               f"ids): set --config.model.vocab_size={data_vocab} or more")
    kwargs.update({key: info[key] for key in FROM_DATA if key in fields and key in (info or {})})
    kwargs = {key: tuple(value) if isinstance(value, list) else value for key, value in kwargs.items()}
    if "axis_name" in fields:
        kwargs["axis_name"] = axis_name
    return cls(num_outputs=num_outputs, **kwargs)
