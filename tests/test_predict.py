"""`predict.Run.predict` on raw inputs of the shapes people pass: with or without the channel axis, one or many."""
import numpy as np
import pytest

from configs import mnist_mlp, mnist_permuted
from jaxlab import errors, experiment, predict


def test_images_without_the_channel_axis(mock_tfds, tiny, tmp_path):
    experiment.run(tiny(mnist_mlp.get_config()), str(tmp_path))
    run = predict.load(str(tmp_path))
    assert run.info["input_shape"] == [28, 28, 1]
    images = np.random.default_rng(0).integers(0, 256, (5, 28, 28, 1), dtype=np.uint8)
    expected = run.predict(images)
    assert expected.shape == (5, 10)
    np.testing.assert_allclose(run.predict(images[..., 0]), expected, rtol=1e-6)        # [N, 28, 28]
    np.testing.assert_allclose(run.predict(images[0, ..., 0]), expected[:1], rtol=1e-6)  # one [28, 28] image
    np.testing.assert_allclose(run.predict(images[0]), expected[:1], rtol=1e-6)          # one [28, 28, 1] image
    with pytest.raises(errors.Error, match=r"inputs of shape \[5, 32, 32, 3\] do not fit this run: it takes "
                                           r"\[N, 28, 28, 1\] or one input of shape \[28, 28, 1\]"):
        run.predict(np.zeros((5, 32, 32, 3), np.uint8))


def test_a_permuted_pixel_run_predicts_as_it_was_tested(mock_tfds, tiny, tmp_path):
    """predict applies the run's fixed pixel permutation to raw images, as its training and test data had."""
    from jaxlab.data import tfds_images
    summary = experiment.run(tiny(mnist_permuted.get_config("dense"), num_epochs=2), str(tmp_path))
    test = tfds_images.read_split("mnist", "test", None)      # the raw images, as a user has them
    predicted = predict.load(str(tmp_path), which="latest").predict(test["image"]).argmax(-1)
    assert np.mean(predicted == test["label"]) == pytest.approx(summary["test_accuracy"], abs=1e-6)


@pytest.mark.parametrize("given, input_shape, expected", [
    ((4, 28, 28), (28, 28, 1), (4, 28, 28, 1)),
    ((28, 28), (28, 28, 1), (1, 28, 28, 1)),
    ((28, 28, 1), (28, 28, 1), (1, 28, 28, 1)),
    ((4, 32, 32, 3), (32, 32, 3), (4, 32, 32, 3)),
    ((6,), (1,), (6, 1)),              # one feature: a column of values
    ((2, 5), (5,), (2, 5)),
])
def test_as_batch(given, input_shape, expected):
    assert predict.as_batch(np.zeros(given), list(input_shape)).shape == expected


@pytest.mark.parametrize("given, input_shape", [((4, 32, 32), (32, 32, 3)), ((4, 28, 28, 3), (28, 28, 1)),
                                                ((28,), (28, 28, 1)), ((2, 4), (5,))])
def test_as_batch_names_the_expected_shape(given, input_shape):
    with pytest.raises(errors.Error, match=rf"inputs of shape \[{', '.join(map(str, given))}\] do not fit"):
        predict.as_batch(np.zeros(given), list(input_shape))
