"""Per-epoch wall-clock seconds of Keras 3 `fit`, shared by the side-by-side benchmarks."""
import time


def epoch_timer(seconds: list):
    """A Keras callback that appends each epoch's wall-clock seconds to `seconds` (Keras is imported here, after the
    caller has chosen its backend)."""
    import keras

    class EpochTimer(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.started = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            seconds.append(time.perf_counter() - self.started)

    return EpochTimer()
