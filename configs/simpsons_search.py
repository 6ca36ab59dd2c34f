"""The lab's KerasTuner RandomSearch on Simpsons-MNIST: Flatten → 1–3 Dense (64–2048 units, step 64, L2 1e-3) →
Dropout → Dense 10, dropout 0.1–0.4, Adam lr 1e-5–1e-3 (log); 10 trials × 3 executions of 20 epochs, objective
the best epoch's validation accuracy (mean over the executions).

    python launch.py --config configs/simpsons_search.py --workdir runs/simpsons_search          # rerun: resumes
    python launch.py --config configs/simpsons_search.py --config.search.sampler=tpe --workdir runs/simpsons_tpe
    python launch.py --config configs/simpsons_search.py:batched --workdir runs/simpsons_batched   # one program
    python launch.py --config configs/simpsons_search.py \\
        --config.search.storage=postgresql://user:pass@host/jaxlab --workdir runs/simpsons_search   # many machines

The search writes WORKDIR/results.md (top trials), trials.csv, best.json (best parameters and a ready
``--config.…`` override line), and with ``retrain`` the best parameters trained again in WORKDIR/best with their
test metrics. The data path is that of configs/simpsons_cnn.py (``--config.data.path`` overrides it).

Measured 2026-12-01 on the shared 2-core CPU, real data, the full search — the first command above as it stands
(10 random trials × 3 executions × 20 epochs, then the best retrained; 22 min for the search + 2.5 min retrain):
  best trial 1: hidden (1984, 832, 1664), dropout 0.231, Adam lr 1.14e-4 → validation accuracy 0.379 (mean of
  0.369 / 0.379 / 0.390 over its 3 executions); retrained with the run's seed: test accuracy 0.354 (best
  validation 0.369). Lab: 0.32 test for its 10 × 3 × 20-epoch KerasTuner search. The other nine trials scored
  0.297–0.355 mean validation; four of the top five have 3 hidden layers, all five an lr of 4e-5–2.5e-4.
Earlier (2026-11-30) a reduced 3 × 1 × 5-epoch search picked the same trial-1 parameters (test 0.259 after 5
epochs). The lab MLP (configs/simpsons_cnn.py:mlp) reaches 0.320.
batched (2026-12-04, the same 10 × 3 × 20 with dropout and lr searched on the lab MLP's (512, 256), one program,
  its lanes one after another on CPU): best trial 8 (on this and the one-at-a-time search alike), mean validation
  0.344; 260 s vs 620 s one at a time (2.4×) vs ~1250 s for the Keras loop (benchmarks/README.md, "Simpsons: a
  batched search").
The L2 penalty uses ``Dense_[0-2]/kernel$``: with fewer than 3 hidden layers it also covers the output layer.
"""
import ml_collections

from configs import simpsons_cnn


def get_config(variant: str = "random") -> ml_collections.ConfigDict:
    """Variants pick the sampler: random (KerasTuner RandomSearch, default) | tpe; batched: the lab MLP's shape
    (512, 256) fixed, dropout and lr searched, 10 trials × 3 executions as ONE vmapped program."""
    if variant not in ("random", "tpe", "batched"):
        raise ValueError(f"unknown variant {variant!r}: random, tpe, batched")
    config = simpsons_cnn.get_config("mlp")
    config.num_epochs = 20
    config.l2 = 1e-3
    config.l2_pattern = r"Dense_[0-2]/kernel$"   # every hidden Dense (1–3 of them), not the output layer
    config.early_stopping.patience = 0
    config.reduce_on_plateau.patience = 0
    config.restore_best = True

    search = ml_collections.ConfigDict()
    search.space = ml_collections.ConfigDict()
    search.space.hidden = dict(type="sequence", key="model.hidden", min_length=1, max_length=3,
                               low=64, high=2048, step=64)
    search.space.dropout = dict(type="float", key="model.dropout", low=0.1, high=0.4)
    search.space.learning_rate = dict(type="float", key="optimizer.learning_rate", low=1e-5, high=1e-3, log=True)
    search.sampler = variant          # random (KerasTuner RandomSearch) | tpe
    search.max_trials = 10
    search.executions_per_trial = 3
    search.objective = "val_accuracy"
    search.direction = "maximize"
    search.pruning = False            # True: MedianPruner on per-epoch val_accuracy (stops bad trials early)
    search.storage = ""               # "" = sqlite WORKDIR/search.db; or an RDB URL shared by several machines
    search.study_name = "search"
    search.top = 10
    search.retrain = True
    search.startup_trials = 5         # tpe: random trials before the model kicks in
    search.batch_size = 1             # K > 1: K trials as one vmapped program (shape-keeping spaces only: not hidden)
    config.search = search
    if variant == "batched":
        config.search.sampler = "random"
        del config.search.space["hidden"]        # searched keys must keep the shapes
        config.model.hidden = (512, 256)          # the lab MLP (configs/simpsons_cnn.py:mlp)
        config.l2_pattern = r"Dense_[01]/kernel$"  # its two hidden layers
        config.restore_best = False               # a per-run host decision: lanes cannot take it
        config.search.batch_size = 10
        config.data.split_seed = 0                # every execution on one split (as KerasTuner's executions)
    return config
