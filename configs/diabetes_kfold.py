"""Pima Indians diabetes, 10-fold cross-validation: Dense 24 → BN → Dense 12 → BN → Dense 1 (sigmoid).

    python launch.py --config configs/diabetes_kfold.py --workdir runs/diabetes_kfold
    python launch.py --config configs/diabetes_kfold.py:regularized --workdir runs/diabetes_kfold_reg

Zeros in Glucose / BloodPressure / SkinThickness / Insulin / BMI mean "not measured": they are filled with the
training folds' mean (fitted per fold on its own training rows), then all 8 columns are standardised.
Stratified 10 folds (seed 0); fold k trains on the other 9 and is scored on fold k (its validation and test split).
Writes fold_k/ run directories, summary.json (per fold, mean ± std of test accuracy and ROC AUC) and
plots/kfold.png (mean validation accuracy and loss ± std per epoch). No early stopping or best-epoch restore:
those would select on the scored fold.
Variants:
  lab          (default) Adam 1e-3, batch 16, 100 epochs, relu
  regularized  the same net, 50 epochs, L2 1e-3 and dropout 0.2 after each hidden layer

Measured 2026-11-30 on the shared 2-core CPU, real file (768 rows), lab (first command): 10-fold test accuracy
0.756 ± 0.055 (ROC AUC 0.812 ± 0.070) — goal ≥ 0.78 NOT met (anchor: logistic regression 0.775 ± 0.043; the lab's
Keras net 0.718 ± 0.036). The mean validation accuracy per epoch stays within 0.75–0.77 from epoch 8 to 100.
regularized (run as the equivalent overrides --config.num_epochs=50 --config.l2=0.001 --config.model.dropout=0.2):
0.760 ± 0.041 (ROC AUC 0.842 ± 0.049), still below 0.78; the only other recipe tried, judged on these same folds.
Ceiling check (2026-12-01 and 12-02, scikit-learn on the same three StratifiedKFold(10) partitions, shuffle seeds
0 / 1 / 2): logistic regression C=1 0.768 / 0.769 / 0.768; no model tried clears 0.774 on any of the three
partitions. Every model tried: benchmarks/README.md, "Config notes moved from the config docstrings".
"""
import ml_collections

from configs.common import csv_data, default_config

PATH = "csv/pima_diabetes.csv"   # under the data root $JAXLAB_DATA_DIR: python -m jaxlab.data.fetch pima
MISSING_AS_ZERO = ("Glucose", "BloodPressure", "SkinThickness", "Insulin", "BMI")


VARIANTS = ("lab", "regularized")


def get_config(variant: str = "lab") -> ml_collections.ConfigDict:
    config = default_config()
    config.parallelism = "jit"        # one compile per run (pmap recompiles its train program once)
    config.task = "binary"
    config.loss = "sigmoid_binary_cross_entropy"
    config.num_epochs = 100
    config.batch_size = 16
    config.eval_batch_size = 80
    config.checkpoint.every_epochs = 0   # tiny epochs: save at the end only
    config.analyses = ("roc_auc",)

    data = config.data = csv_data(config, PATH, target="Outcome")
    data.numeric = ("Pregnancies", "Glucose", "BloodPressure", "SkinThickness", "Insulin", "BMI",
                    "DiabetesPedigreeFunction", "Age")
    data.zero_means_missing = MISSING_AS_ZERO
    data.test_split = 0.0
    data.validation_split = 0.0
    data.num_folds = 10

    config.model.name = "mlp"
    config.model.hidden = (24, 12)
    config.model.activations = ("relu",)
    config.model.batch_norm = True
    config.model.dropout = 0.0
    config.model.output_activation = "linear"
    config.optimizer.name = "adam"
    config.optimizer.learning_rate = 1e-3
    if variant == "regularized":
        config.num_epochs = 50
        config.l2 = 1e-3
        config.model.dropout = 0.2
    elif variant != "lab":
        raise ValueError(f"unknown variant {variant!r}: {', '.join(VARIANTS)}")
    return config
