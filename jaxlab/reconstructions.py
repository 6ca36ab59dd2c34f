"""The `reconstructions` analysis: plots/reconstructions.png with rows noisy / denoised / clean test images."""
import os

import numpy as np

from jaxlab import figures

NUM_IMAGES = 10


def plot(outputs: np.ndarray, test: dict, info: dict, workdir: str) -> dict[str, float]:
    """`outputs` are the model's per-pixel logits for every test example; returns the test mean absolute error."""
    plt = figures.pyplot()

    clean = np.asarray(test["label"], np.float32)
    denoised = 1.0 / (1.0 + np.exp(-np.asarray(outputs, np.float32).reshape(clean.shape)))
    rows = [("noisy", np.asarray(test["inputs"])), ("denoised", denoised), ("clean", clean)]
    count = min(NUM_IMAGES, len(clean))
    fig, axes = plt.subplots(len(rows), count, figsize=(1.2 * count, 1.3 * len(rows)), squeeze=False)
    for row, (title, images) in enumerate(rows):
        for column in range(count):
            ax = axes[row][column]
            ax.imshow(np.squeeze(images[column]), cmap="gray", vmin=0.0, vmax=1.0)
            ax.set_xticks([])
            ax.set_yticks([])
        axes[row][0].set_ylabel(title)
    fig.suptitle(f"denoising, noise factor {info.get('noise_factor', '?')}")
    figures.save(fig, os.path.join(workdir, "plots", "reconstructions.png"))
    return {"test_mean_absolute_error": float(np.abs(denoised - clean).mean())}
