"""What a run's report and summary say: rules in words, failures with their value and bound, class names."""
import numpy as np
import tensorflow_model_analysis as tfma
from google.protobuf import json_format

from pipeline import evaluation_results, inspect_mlmd
from pipeline.config import load_config
from reporting import sections
from tasks.timeseries import gate as timeseries_gate


def thresholds_of(eval_config) -> dict:
    """As `make inspect` reads them from the Evaluator's eval_config property."""
    return inspect_mlmd.thresholds(json_format.MessageToJson(eval_config))


def test_forecast_thresholds_read_as_rules():
    rules = {
        name: evaluation_results.rule(name, threshold, words=timeseries_gate)
        for name, threshold in thresholds_of(timeseries_gate.eval_config(load_config("timeseries"))).items()
    }
    assert rules["linear_ratio"] == "MAE below 1 × the linear challenger's MAE"  # 0.9999999999999999, strictly below 1
    assert rules["seasonal_naive_ratio"] == "MAE below 1 × the seasonal_naive challenger's MAE"
    assert rules["forecast_mae"] == "forecast_mae at most 0.01 above the deployed model's"
    assert not any("Threshold" in r or "Bound" in r for r in rules.values())


def test_a_margin_shows_in_the_rule():
    bound = json_format.MessageToDict(
        tfma.MetricThreshold(value_threshold=tfma.GenericValueThreshold(upper_bound={"value": timeseries_gate.challenger_ratio_bound(0.05)}))
    )
    assert evaluation_results.rule("linear_ratio", bound, words=timeseries_gate) == "MAE below 0.95 × the linear challenger's MAE"


def test_a_failed_threshold_names_its_value_and_bound():
    thresholds = {"linear_ratio": {"valueThreshold": {"upperBound": float(np.nextafter(1.0, 0.0))}}}
    metrics = {"candidate": {"linear_ratio": 1.0001, "forecast_mae": 1.7198}}
    line = evaluation_results.failure_line({"metric": "linear_ratio", "message": ""}, metrics, thresholds, words=timeseries_gate)
    assert line == "FAILED linear_ratio = 1.0001, above its bound 1 (rule: MAE below 1 × the linear challenger's MAE)"


def test_a_failed_accuracy_margin_and_change_threshold_read_as_words():
    margin = {"valueThreshold": {"lowerBound": float(np.nextafter(0.0, 1.0))}}
    drop = {"changeThreshold": {"direction": "HIGHER_IS_BETTER", "absolute": -0.01}}
    thresholds = {"accuracy_over_baseline": margin, "sparse_categorical_accuracy": drop}
    metrics = {"candidate": {"accuracy_over_baseline": -0.02}, "diff": {"sparse_categorical_accuracy": -0.05}}
    over = evaluation_results.failure_line({"metric": "accuracy_over_baseline", "message": ""}, metrics, thresholds, "TF-IDF")
    assert over == ("FAILED accuracy_over_baseline = -0.02, not above its bound 0 "
                    "(rule: the candidate's eval accuracy minus the TF-IDF's above 0)")  # fmt: skip
    change = evaluation_results.failure_line({"metric": "sparse_categorical_accuracy", "message": ""}, metrics, thresholds)
    assert change == ("FAILED sparse_categorical_accuracy = -0.05 against the deployed model "
                      "(rule: sparse_categorical_accuracy at most 0.01 below the deployed model's)")  # fmt: skip


def test_per_class_metrics_carry_the_class_names():
    assert evaluation_results.readable("auc[class 1]", ["business", "sport"]) == "auc[sport]"
    assert evaluation_results.readable("precision[class 0]{length_bucket=long}", ["neg", "pos"]) == "precision[neg]{length_bucket=long}"
    assert evaluation_results.readable("auc[class 7]", ["neg", "pos"]) == "auc[class 7]"  # unknown id: left as is


def test_fixed_hyperparameters_are_listed_as_fixed():
    rows = sections.hyperparameter_rows({"learning_rate": 0.001, "variant": "patch"}, {"variant": "patch", "loss": "mae"})
    assert rows == [
        ["learning_rate", 0.001, "Tuner (best trial)"],
        ["loss", "mae", "fixed in the config (model.loss)"],
        ["variant", "patch", "fixed in the config (model.variant)"],
    ]
    assert sections.hyperparameter_rows({}, {"loss": "mae"}) == [["loss", "mae", "fixed in the config (model.loss)"]]
