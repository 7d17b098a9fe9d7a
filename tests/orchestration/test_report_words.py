"""What a run's report and summary say: the paired verdicts in words, TFMA failures with their value and bound, class names."""
import numpy as np

from components import paired_gate
from pipeline import evaluation_results, inspect_mlmd
from reporting import sections

JUDGED = {
    "gate": {
        "persistence": {"diff": 0.0073, "ci_low": -0.0013, "ci_high": 0.0158, "verdict": "no_difference",
                        "label": "the persistence challenger", "rule": "superiority", "margin": 0.0, "passed": False},
        "linear": {"diff": 0.0012, "ci_low": -0.0008, "ci_high": 0.0032, "verdict": "no_difference",
                   "label": "the linear challenger", "rule": "non_inferiority", "margin": 0.02, "passed": True},
    },
    "unit": paired_gate.RELATIVE_UNIT,
    "transformer_gain": {"diff": 0.0012, "ci_low": -0.0008, "ci_high": 0.0032, "kept_epoch": 0, "over": "its ridge start"},
    "statement": "KeepBest kept epoch 0: ...",
}  # fmt: skip


def test_paired_verdicts_read_as_words():
    entries = JUDGED["gate"]
    assert paired_gate.in_words(entries["persistence"], paired_gate.RELATIVE_UNIT) == (
        "no significant difference from the persistence challenger: +0.73% [-0.13%, +1.58%] (must be better: FAILED)")
    assert paired_gate.in_words(entries["linear"], paired_gate.RELATIVE_UNIT).endswith("(may lose at most 2.00%: passed)")
    points = {**entries["linear"], "diff": 0.012, "ci_low": 0.004, "ci_high": 0.02, "verdict": "better"}
    assert paired_gate.in_words(points, paired_gate.POINTS_UNIT).startswith("better than the linear challenger: +1.20 points")


def test_the_decision_says_why_from_the_paired_verdicts():
    lines = [paired_gate.in_words(e, JUDGED["unit"]) for e in JUDGED["gate"].values()]
    judged = {**JUDGED, "lines": lines, "reasons": lines[:1]}
    refused = inspect_mlmd.paired_decision(judged, [], {"blessed": False, "why": "validation failed"})
    assert refused["why"] == lines[0] and refused["gate"] is JUDGED["gate"]
    blessed = inspect_mlmd.paired_decision({**judged, "reasons": []}, [], {"blessed": True, "why": ""})
    assert blessed["why"] == "every paired rule passed (no deployed model compared: first blessed model)"
    shown = inspect_mlmd.gate_lines(refused)
    assert shown[1:3] == [f"    {line}" for line in lines] and shown[-1] == "  KeepBest kept epoch 0: ..."


def test_the_report_shows_each_comparison_with_its_interval():
    html = "".join(sections.gate_parts({**JUDGED, "gate_unit": JUDGED["unit"]}))
    assert "the persistence challenger" in html and "[-0.13, +1.58]" in html and "FAILED" in html
    assert "What the transformer added" in html


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
