"""Pima Indians diabetes, 10-fold cross-validation: Dense 24 → BN → Dense 12 → BN → Dense 1 (sigmoid).

    python launch.py --config configs/diabetes_kfold.py --workdir runs/diabetes_kfold
    python launch.py --config configs/diabetes_kfold.py:regularized --workdir runs/diabetes_kfold_reg

Zeros in Glucose / BloodPressure / SkinThickness / Insulin / BMI mean "not measured": they are filled with the
training folds' mean (fitted per fold on its own training rows), then all 8 columns are standardised.
Stratified 10 folds (seed 0); fold k trains on the other 9 and is scored on fold k (its validation and test split).
Writes fold_k/ run directories, summary.json (per fold, mean ± std of test accuracy and ROC AUC) and
plots/kfold.png (mean validation accuracy and loss ± std per epoch). No early stopping or best-epoch restore:
those would select on the scored fold.
Variants: lab (default: Adam 1e-3, batch 16, 100 epochs, relu) and regularized (the same net, 50 epochs, L2 1e-3
and dropout 0.2 after each hidden layer).

Measured 2026-11-30 on the shared 2-core CPU, real file (768 rows), lab (first command): 10-fold test accuracy
0.756 ± 0.055 (ROC AUC 0.812 ± 0.070) — goal ≥ 0.78 NOT met (anchor: logistic regression 0.775 ± 0.043; the lab's
Keras net 0.718 ± 0.036). The mean validation accuracy per epoch stays within 0.75–0.77 from epoch 8 to 100.
regularized (run as the equivalent overrides --config.num_epochs=50 --config.l2=0.001 --config.model.dropout=0.2):
0.760 ± 0.041 (ROC AUC 0.842 ± 0.049), still below 0.78; the only other recipe tried, judged on these same folds.
Ceiling check (2026-12-01, scikit-learn, same imputation and standardisation fitted per fold, StratifiedKFold(10)
with shuffle seeds 0 / 1 / 2): logistic regression C=1 0.768 / 0.769 / 0.768, C=0.1 0.764 / 0.768 / 0.768; RBF SVM
0.751 / 0.746 / 0.750; MLPClassifier(24, 12) alpha 1 0.751 / 0.759 / 0.758, alpha 3 0.766 / 0.766 / 0.768, with
early stopping 0.749 / 0.742 / 0.699. 2026-12-01 evening, same partitions: logistic regression with
missing-value indicator columns (SimpleImputer(add_indicator=True), mean or median) 0.773 / 0.771 / 0.772;
log1p of the skewed columns 0.767 / 0.764 / 0.767 (0.766 / 0.767 / 0.771 with indicators); random forest (500
trees, leaves ≥ 3) 0.760 / 0.762 / 0.756; gradient boosting (depth 2, 100 trees) 0.763 / 0.767 / 0.760.
No model tried clears 0.774 on any of the three partitions, so 0.78 would come from picking a lucky partition or
tuning on the scored folds; neither is done here. 2026-12-02, same partitions: linear discriminant analysis
0.771 / 0.766 / 0.762; the mean probability of ten MLPClassifier(24, 12) nets (alpha 3, seeds 0-9) per fold
0.771 / 0.772 / 0.769.
"""
import ml_collections

from configs.common import csv_data, default_config

PATH = "/work/shared/data/csv/pima_diabetes.csv"
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
    config.checkpoint.every_epochs = config.get_ref("num_epochs")
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
