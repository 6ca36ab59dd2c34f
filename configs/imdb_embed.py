"""IMDB sentiment from token-id sequences (500 ids, 10,000-word vocabulary fitted on the training part only).

    TFDS_DATA_DIR=../shared/data/tfds python launch.py --config configs/imdb_embed.py:dense --workdir runs/imdb_dense
    TFDS_DATA_DIR=../shared/data/tfds python launch.py --config configs/imdb_embed.py:conv --workdir runs/imdb_conv

Variants: dense (the lab's: Embedding(10k, 32) → Flatten → Dense 100 → Dropout → Dense 10 → Dropout →
concatenate(flattened embeddings, that) → Dense 1; ~1.9M parameters; L2 1e-4 on the Dense kernels, up to 12
epochs with early stopping; goal ≥ 0.87) and conv (Embedding(10k, 16) →
BN → Conv1D 16 → MaxPool → BN → Conv1D 64 → MaxPool → BN → Flatten → Dropout 0.8 → Dense 1; ~172k parameters;
L2 1e-4 on every kernel and the embedding table, up to 16 epochs with early stopping; goal ≥ 0.890; Keras on this
machine: 0.840 after 5 epochs).

Both keep the last 500 tokens of longer reviews (data.keep=end, as Keras pad_sequences).

Results (2-core CPU shared with other jobs, real imdb_reviews: 22,500 train / 2,500 validation / 25,000 test;
restore_best on validation accuracy):

    variant   epochs       test accuracy   test ROC AUC   goal
    dense     7 (best 5)   0.8737          0.9477         0.87 — reached (2026-12-01, the first command, 54 s)
    conv      13 (best 10) 0.8729          0.9447         0.890 (not reached; 2026-12-01, the second command, 161 s)

conv trained on all 25,000 training reviews (no validation hold-out) for a fixed 11 epochs, the best epochs of the
validation runs being 10-11 (2026-12-02): test 0.8798, ROC AUC 0.9492 — the best conv figure measured, still below
0.890:
    TFDS_DATA_DIR=../shared/data/tfds python launch.py --config configs/imdb_embed.py:conv \
        --config.data.validation_split=0 --config.num_epochs=11 --config.early_stopping.patience=0 --workdir runs/c

dense, how the recipe was chosen (2026-12-01; each run early-stopped, chosen on validation accuracy):
    keep the first 500 tokens (2026-11-30 config):        test 0.8575 (its validation figure was not kept)
    keep the last 500 tokens (data.keep=end):             val 0.8732 → test 0.8675
    + Adam 3e-4 instead of 1e-3:                          val 0.8520 → test 0.8465
    + L2 1e-4 on the Dense kernels, Adam 1e-3 (adopted):  val 0.8836 → test 0.8737
conv regularisation, 2026-12-01 evening (test accuracy, best validation accuracy; 10 epochs unless said; "L2 emb" =
L2 on the embedding table too, --config.l2_pattern='kernel$|embedding$'). The earlier recipe (dropout 0.5, no L2,
10 epochs) gave 0.8589 (0.868); training accuracy passed 0.96, so stronger regularisation:
    L2 emb 1e-4: 0.8614 (0.8728)           AdamW, weight decay 0.05: 0.8580 (0.8712)
    dropout 0.7: 0.8662 (0.8832)           dropout 0.8: 0.8675 (0.8828)
    Adam 3e-4, 20 epochs: 0.8508 (0.866)   batch 256, Adam 2e-3: 0.8550 (0.8652)
    dropout 0.7, 16 epochs: 0.8662 (0.8832, early-stopped at 12)
    dropout 0.7 + L2 emb 1e-4: 0.8691 (0.8832);  + cosine decay over 16 epochs: 0.8688 (0.8788)
    dropout 0.7 + L2 emb 3e-4, 16 epochs: 0.8746 (0.8808);  L2 emb 1e-3, 20 epochs: 0.8726 (0.8856)
    dropout 0.5 + L2 emb 3e-4, 20 epochs: 0.8655 (0.876)
    dropout 0.8 + L2 emb 3e-4, 20 epochs: 0.8672 (0.8884, early-stopped at 18)
    dropout 0.8 + L2 emb 1e-4, 16 epochs: 0.8729 (0.8884, early-stopped at 13)  (adopted: the best validation
        accuracy, tied, and the shorter run)
Then, on top of the adopted recipe: dropout 0.9: 0.8729 (0.886); batch 64: 0.8742 (0.8892); L2 2e-4: 0.8742
(0.8848); Adam 2e-3: 0.8731 (0.894) — a plateau at 0.873-0.874 test, differences within the validation noise, so
the recipe stays. Regularising the 160k-weight embedding table is what helps (+1.4 points); 0.89 is not reached.
2026-12-01 night, on top of the adopted recipe (test accuracy, best validation accuracy): max-pool size 4: 0.8692
(0.8852), 8: 0.8044 (0.8176); 1000 ids per review instead of 500: 0.8752 (0.8888, 15 epochs at 17 s); reduce the
learning rate × 0.3 after a flat validation epoch (reduce_on_plateau patience 1), up to 20 epochs: 0.8755 (0.8884).
2026-12-02: evaluation on an exponential moving average of the weights and BatchNorm statistics (decay 0.999 with
TensorFlow's warm-up min(decay, (1 + step) / (10 + step)); a trial build, not kept): 0.8744 (0.8892, 14 epochs).
The same day, a training-time augmentation moving each review's words to a random place in its 500-id row (so
the Flatten head's per-position weights see every part of a review; a trial build, not kept): 0.8712 (0.8848).
Keras' embedding initialiser (uniform ±0.05 instead of flax's normal with std 1; a trial build, not kept): the
net learns much faster (validation 0.874 after 3 epochs instead of 0.72) but overfits as fast: 0.8685 (0.8896);
with L2 on the kernels only 0.8692 (0.896), with L2 3e-4 0.8701 (0.8908), 1e-3 0.8721 (0.8936). Validation
reaches 0.89-0.90 in most of these, test stays at 0.869-0.876 — likely because the 2,500 validation reviews
share movies with the training part while IMDB's test movies are disjoint from the training ones.
The same night, a global max over positions instead of the Flatten head (Dense 1 on 64 features; a trial build,
not kept): dropout 0.8 stayed at chance (early-stopped after 4 epochs), dropout 0.5 0.8606 (0.8708, 16 epochs),
with Keras' embedding initialiser 0.8530 (0.8696) — the head is not what holds this 16-wide net at 0.87.
conv (2026-12-01): the same net trains in 4.7 s per epoch now (steps unrolled on CPU, reshape max-pool) instead of
59-509 s. Validation accuracy per epoch: 0.612, 0.758, 0.812, 0.843, 0.846, 0.854, 0.867, 0.868, 0.868, 0.868.
Also tried (test accuracy, best validation accuracy): cosine decay 0.8477 (0.8604); L2 1e-4 0.8603 (0.8716);
L2 1e-4 + cosine 0.8470 (0.8592); L2 1e-3 + cosine, 15 epochs 0.8574 (0.8728, early-stopped at 13).
2026-12-01, a wider net with a global-max head instead of Flatten (Embedding 32, Conv1D 64 k5 → pool → Conv1D 64
k5 → pool → max over positions → dropout 0.5 → Dense 1; 351k parameters; 14 s per epoch, 10 epochs): test 0.8563
(best validation 0.8664 at epoch 7, overfitting after) — no better, so that code was not kept.
2026-12-01 afternoon (test accuracy, best validation accuracy): dropout of whole word vectors after the embedding
(SpatialDropout1D-like) 0.2: 0.8553 (0.8688); 0.4 over 15 epochs: 0.7906 (0.8116, early-stopped at 6); batch 32
instead of 128: 0.8595 (0.8728); batch 32 with Adam 3e-4: 0.8514 (0.8616). Code not kept. 2026-12-01 evening, wider
convolution windows (--config.model.kernel_size, 174,673 / 177,233 parameters): 5 → 0.8598 (0.8692), 7 → 0.8509
(0.8644). None adopted (all with the recipe of that time, dropout 0.5 and no L2): the validation figures
(0.859-0.873) differ by less than the noise of 2,500 reviews (± 0.007), and all stay at 0.86-0.87 while training
accuracy passes 0.96 — this small net (Flatten of 125 × 64 features into one logit) overfits (a global max-pooling
head, tried later, did no better: above).

conv on 2026-11-30 (first 500 tokens, before data.keep=end; 0.8429 test, AUC 0.9232), exactly as run: the 3-epoch run of this config (0.7782 test, AUC 0.8725 after epoch 3) resumed from its epoch-3
checkpoint in a copy of its workdir with
    nice -n 5 python launch.py --config configs/imdb_embed.py:conv --config.num_epochs=10
        --config.early_stopping.patience=3 --workdir <copy>
(resumed from that checkpoint; constant learning rate). Validation accuracy per epoch:
0.610, 0.764, 0.794, 0.838, 0.845, 0.855, 0.864, 0.865, 0.864, 0.869 (best at the last epoch; val_loss lowest at
epoch 7, 0.379, and rising after, training accuracy 0.967: it overfits while validation accuracy creeps up).
Epochs 4-10 took 59-509 s each on the loaded CPU (28 min). Keras on this machine: 0.840 after 5 epochs.
What might close the gap (measured later, above): more epochs with a decaying learning rate, dropout / L2 on the embedding.

BatchNorm train/inference gap (the lab's "validation at 0.506 while training accuracy rose"): jaxlab shows it.
With Keras' momentum 0.99 the conv net's first epoch ended at validation accuracy 0.498; the same run with
momentum 0.9 (identical weights and training metrics, only the running statistics differ) gave 0.610. The running
averages lag the fast-moving weights early on, so the config uses ``model.bn_momentum = 0.9``.
"""
import ml_collections

from configs import imdb_bow

VARIANTS = ("dense", "conv")


def base() -> ml_collections.ConfigDict:
    config = imdb_bow.sentiment_base(max_length=500)
    config.data.keep = "end"             # the last 500 tokens, padded in front (Keras pad_sequences' default)
    config.batch_size = 128
    config.num_epochs = 3
    config.early_stopping.patience = 2
    return config


def get_config(variant: str = "conv") -> ml_collections.ConfigDict:
    config = base()
    if variant == "dense":
        config.model.name = "embed_dense"
        config.model.embed_dim = 32
        config.model.hidden = (100, 10)
        config.model.dropout = 0.5
        config.l2 = 1e-4                 # on the Dense kernels (the embedding table is not penalised)
        config.num_epochs = 12
    elif variant == "conv":
        config.model.name = "embed_conv"
        config.model.embed_dim = 16
        config.model.filters = (16, 64)
        config.model.kernel_size = 3
        config.model.pool_size = 2       # measured: 4 → 0.8692 test, 8 → 0.8044 (docstring)
        config.model.dropout = 0.8       # measured: 0.5 → 0.8 with the L2 below, best validation 0.8716 → 0.8884
        config.model.bn_momentum = 0.9   # Keras (0.99) left validation at chance for epochs
        config.l2 = 1e-4                 # on the Dense / Conv kernels and the embedding table
        config.l2_pattern = "kernel$|embedding$"
        config.num_epochs = 16
        config.early_stopping.patience = 3
    else:
        raise ValueError(f"unknown variant {variant!r}: {', '.join(VARIANTS)}")
    return config
