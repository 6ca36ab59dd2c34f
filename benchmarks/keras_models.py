"""Keras 3 twins of the jaxlab nets the benchmarks time: same layers, widths, BatchNorm settings, logits out, and
`l2` on every kernel as jaxlab's `config.l2` (Keras' kernel_regularizer=L2(l2)). Uncompiled. Keras is imported inside
each builder, after the caller has chosen its backend; jaxlab is never imported here (TF and JAX stay apart).
tests/test_benchmarks.py checks each twin's parameter count against the jaxlab model of its config.
"""
import numpy as np

# jaxlab.models.vgg.VGG16 (tests/test_benchmarks.py keeps the two equal).
VGG16 = (64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M")


def _l2(l2: float):
    import keras
    return keras.regularizers.L2(l2) if l2 else None


def mnist_mlp(num_classes: int = 10, hidden: int = 100):
    """configs/mnist_mlp.py (the lab's): Flatten → Dense 100 relu → Dense 10."""
    import keras
    from keras import layers
    return keras.Sequential([keras.Input((28, 28, 1)), layers.Flatten(), layers.Dense(hidden, activation="relu"),
                             layers.Dense(num_classes)])


def lab_cnn(num_classes: int = 10):
    """configs/mnist_cnn.py default (jaxlab `cnn` with LAB_CNN): Conv 32 relu → MaxPool → BN → Conv 16 relu →
    MaxPool → BN → Flatten → Dense 10."""
    import keras
    from keras import layers
    return keras.Sequential([
        keras.Input((28, 28, 1)),
        layers.Conv2D(32, 3, padding="same", activation="relu"), layers.MaxPooling2D(), layers.BatchNormalization(),
        layers.Conv2D(16, 3, padding="same", activation="relu"), layers.MaxPooling2D(), layers.BatchNormalization(),
        layers.Flatten(), layers.Dense(num_classes)])


def vgg16(num_classes: int = 100, l2: float = 0.0, input_shape=(32, 32, 3), dense=(512,), dropout: float = 0.5):
    """jaxlab.models.vgg.VGG (configs/cifar_vgg.py): 13 × [Conv 3×3 no bias → BN → relu] with 2×2 max pools, then
    Dense 512 no bias → BN → relu → Dropout 0.5 → Dense(num_classes); BN momentum 0.9, eps 1e-5 (as jaxlab)."""
    import keras
    from keras import layers

    def norm():
        return layers.BatchNormalization(momentum=0.9, epsilon=1e-5)

    stack = [keras.Input(input_shape)]
    for width in VGG16:
        if width == "M":
            stack.append(layers.MaxPooling2D())
        else:
            stack += [layers.Conv2D(width, 3, padding="same", use_bias=False, kernel_regularizer=_l2(l2)), norm(),
                      layers.ReLU()]
    stack.append(layers.Flatten())
    for units in dense:
        stack += [layers.Dense(units, use_bias=False, kernel_regularizer=_l2(l2)), norm(), layers.ReLU(),
                  layers.Dropout(dropout)]
    stack.append(layers.Dense(num_classes, kernel_regularizer=_l2(l2)))
    return keras.Sequential(stack)


def imdb_bow(vocab_size: int = 10_000, l2: float = 1e-4, hidden=(100, 10)):
    """configs/imdb_bow.py (jaxlab `bow_concat`) on a dense count matrix (`bow_counts`): counts → Dense 100 relu →
    Dense 10 relu → concatenate(counts, that) → Dense 1 logit."""
    import keras
    from keras import layers
    inputs = keras.Input((vocab_size,))
    x = inputs
    for units in hidden:
        x = layers.Dense(units, activation="relu", kernel_regularizer=_l2(l2))(x)
    logit = layers.Dense(1, kernel_regularizer=_l2(l2))(layers.Concatenate()([inputs, x]))
    return keras.Model(inputs, logit)


def bow_counts(ids: np.ndarray, vocab_size: int, counts: str = "raw", idf=None) -> np.ndarray:
    """Token ids [N, length] (0 = padding) → the dense float32 [N, vocab_size] input of `imdb_bow`, encoded as
    jaxlab.ops.bag.word_counts does: raw counts, binary presence, log1p(count) or tf-idf (with `idf`)."""
    matrix = np.zeros((len(ids), vocab_size), np.float32)
    rows = np.repeat(np.arange(len(ids)), ids.shape[1])
    np.add.at(matrix, (rows, ids.reshape(-1)), (ids.reshape(-1) > 0).astype(np.float32))
    if counts == "binary":
        return (matrix > 0).astype(np.float32)
    if counts == "tfidf":  # scikit-learn's TfidfTransformer(sublinear_tf=True) with the given idf
        from sklearn.preprocessing import normalize
        present = matrix > 0
        matrix[present] = 1.0 + np.log(matrix[present])
        return normalize(matrix * np.asarray(idf, np.float32)[None, :]).astype(np.float32)
    return np.log1p(matrix, out=matrix) if counts == "log1p" else matrix


def movies_bn(num_features: int, hidden=(64, 128, 128, 64, 64), num_classes: int = 2):
    """Net 1 of configs/movies_profit.py:bn: [Dense → BN → relu] × 5 → Dense 2 logits."""
    import keras
    from keras import layers
    stack = [keras.Input((num_features,))]
    for units in hidden:
        stack += [layers.Dense(units), layers.BatchNormalization(), layers.Activation("relu")]
    return keras.Sequential(stack + [layers.Dense(num_classes)])
