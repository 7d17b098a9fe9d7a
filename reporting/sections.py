"""The report's sections every task has, and the confusion matrix every classifier has."""
from __future__ import annotations

import glob
import html
import json
import os
import pathlib

from reporting.html import plt, png, table
from reporting.run import artifact_uri, test_predictions

MAX_FEATURE_PLOTS = 6


def components_section(report: dict) -> str:
    rows = [[c["node"], c["state"], c["seconds"]] for c in report["components"]]
    return table(["component", "state", "seconds"], rows)


def statistics_section(report: dict) -> str:
    import tensorflow_data_validation as tfdv

    uri = artifact_uri(report, "StatisticsGen", "statistics")
    if uri is None:
        return "<p>No StatisticsGen output in this run.</p>"
    rows, histograms = [], {}
    for path in sorted(glob.glob(os.path.join(uri, "Split-*", "FeatureStats.pb"))):
        split = pathlib.Path(path).parent.name.removeprefix("Split-")
        stats = tfdv.load_stats_binary(path)
        for dataset in stats.datasets:
            for feature in dataset.features:
                name = feature.path.step[-1] if feature.path.step else feature.name
                if feature.HasField("num_stats"):
                    s = feature.num_stats
                    rows.append([split, name, dataset.num_examples, s.mean, s.std_dev, s.min, s.max])
                    buckets = next((h.buckets for h in s.histograms if h.type == h.STANDARD), None)
                    if buckets:
                        histograms.setdefault(name, {})[split] = buckets
                elif feature.HasField("string_stats"):
                    s = feature.string_stats
                    rows.append([split, name, dataset.num_examples, f"{s.unique} distinct", "",
                                 f"avg {s.avg_length:.1f} chars", ""])  # fmt: skip
                else:
                    rows.append([split, name, dataset.num_examples, "", "", "", ""])
    parts = [table(["split", "feature", "examples", "mean / distinct", "std", "min / length", "max"], rows)]
    names = sorted(histograms)[:MAX_FEATURE_PLOTS]
    if names:
        figure, axes = plt.subplots(1, len(names), figsize=(4.5 * len(names), 3), squeeze=False)
        for ax, name in zip(axes[0], names, strict=True):
            for split, buckets in histograms[name].items():
                centers = [(b.low_value + b.high_value) / 2 for b in buckets]
                total = sum(b.sample_count for b in buckets) or 1
                ax.plot(centers, [b.sample_count / total for b in buckets], label=split)
            ax.set_title(f"{name}: value distribution")
            ax.legend()
        parts.append(png(figure))
    return "".join(parts)


def read_scalars(directory: str) -> dict[str, list[tuple[int, float]]]:
    """TensorBoard scalars (Keras writes them as tensors) of every event file in a directory."""
    import tensorflow as tf

    scalars: dict[str, list[tuple[int, float]]] = {}
    for path in sorted(glob.glob(os.path.join(directory, "events.out.tfevents.*"))):
        for event in tf.compat.v1.train.summary_iterator(path):
            for value in event.summary.value:
                if value.HasField("tensor"):
                    array = tf.make_ndarray(value.tensor)
                    if array.size != 1 or array.dtype.kind not in "fiu":
                        continue
                    number = float(array.reshape(()))
                elif value.HasField("simple_value"):
                    number = value.simple_value
                else:
                    continue
                scalars.setdefault(value.tag, []).append((event.step, number))
    return scalars


def learning_curves_section(report: dict) -> str:
    uri = artifact_uri(report, "Trainer", "model_run")
    if uri is None:
        return "<p>No Trainer model_run in this run.</p>"
    curves = {split: read_scalars(os.path.join(uri, split)) for split in ("train", "validation")}
    metrics = sorted({tag for c in curves.values() for tag in c if tag.startswith("epoch_") and tag != "epoch_learning_rate"})
    if not metrics:
        return f"<p>No epoch scalars in {html.escape(uri)}.</p>"
    figure, axes = plt.subplots(1, len(metrics), figsize=(4.5 * len(metrics), 3), squeeze=False)
    for ax, tag in zip(axes[0], metrics, strict=True):
        for split, scalars in curves.items():
            if tag in scalars:
                steps, values = zip(*scalars[tag], strict=True)
                ax.plot([s + 1 for s in steps], values, marker="o", label=split)
        ax.set_title(tag.removeprefix("epoch_"))
        ax.set_xlabel("epoch")
        ax.legend()
    return png(figure)


def hyperparameter_rows(best: dict, fixed: dict) -> list[list]:
    """[name, value, chosen by]: the Tuner's best values, then the settings the config fixes
    (`model:`), which the Tuner does not search."""
    rows = [[k, v, "Tuner (best trial)"] for k, v in sorted(best.items()) if k not in fixed]
    rows += [[k, v, f"fixed in the config (model.{k})"] for k, v in sorted(fixed.items())]
    return rows


def tuner_section(report: dict, config, objective: tuple[str, str]) -> str:
    """The Tuner's trials; `objective`: (metric, "min" | "max") it optimized."""
    parts = []
    results = artifact_uri(report, "Tuner", "tuner_results")
    trials = []
    if results and os.path.exists(os.path.join(results, "tuner_results.json")):
        with open(os.path.join(results, "tuner_results.json")) as handle:
            trials = json.load(handle)
    best_uri = artifact_uri(report, "Tuner", "best_hyperparameters")
    best = {}
    if best_uri and os.path.exists(os.path.join(best_uri, "best_hyperparameters.txt")):
        with open(os.path.join(best_uri, "best_hyperparameters.txt")) as handle:
            best = json.load(handle).get("values", {})
    rows = hyperparameter_rows(best, config.model)
    if rows:
        parts.append("<p>Hyperparameters of the candidate:</p>" + table(["name", "value", "chosen by"], rows))
    if not trials:
        return "".join(parts) or "<p>No Tuner output in this run.</p>"
    keys = sorted({k for t in trials for k in t} - {"trial_id", "score"})
    objective, direction = objective
    better = "lower is better" if direction == "min" else "higher is better"
    parts.append(table(["trial", f"{objective} ({better})", *keys], [[t.get("trial_id"), t.get("score"), *[t.get(k) for k in keys]] for t in trials]))
    figure, ax = plt.subplots(figsize=(max(4, 0.6 * len(trials) + 2), 3))
    ax.bar([str(t.get("trial_id")) for t in trials], [t.get("score") or 0 for t in trials])
    ax.set_xlabel("trial")
    ax.set_ylabel(f"{objective} ({better})")
    ax.set_title("Tuner trials")
    parts.append(png(figure))
    return "".join(parts)


HEADLINE_BARS = 8  # the chart shows overall metrics only; slices and classes stay in the table


def evaluation_section(report: dict) -> str:
    decision = report.get("evaluation")
    if not decision or "blessed" not in decision:
        return "<p>The Evaluator did not record a decision in this run.</p>"
    verdict = "BLESSED" if decision["blessed"] else "NOT blessed"
    parts = [f"<p><b>{verdict}</b>: {html.escape(decision['why'])}<br>baseline: "
             f"{html.escape(decision['baseline_line'])}</p>"]  # fmt: skip
    metrics = decision["metrics"]
    names = sorted(metrics.get("candidate", {}))
    rules = decision.get("rules") or {}
    rows = [[n, metrics["candidate"].get(n), metrics.get("baseline", {}).get(n, ""),
             metrics.get("diff", {}).get(n, ""), rules.get(n, "")] for n in names]  # fmt: skip
    parts.append(table(["metric", "candidate", "deployed model", "diff", "rule"], rows))
    plotted = [n for n in names if n != "example_count" and metrics["candidate"].get(n) is not None
               and "[" not in n and "{" not in n and not n.endswith(("_rmse", "_ratio"))][:HEADLINE_BARS]  # fmt: skip
    if plotted:
        figure, ax = plt.subplots(figsize=(max(5, 1.2 * len(plotted)), 3))
        width = 0.4
        xs = range(len(plotted))
        ax.bar([x - width / 2 for x in xs], [metrics["candidate"][n] for n in plotted], width, label="candidate")
        if metrics.get("baseline"):
            ax.bar([x + width / 2 for x in xs], [metrics["baseline"].get(n, 0) for n in plotted], width, label="deployed")
        for x, name in zip(xs, plotted, strict=True):
            bound = decision["thresholds"].get(name, {}).get("valueThreshold", {}).get("upperBound")
            if bound is not None:
                ax.hlines(bound, x - 0.45, x + 0.45, colors="red", linestyles="--", label="threshold")
        ax.set_xticks(list(xs), plotted, rotation=20, ha="right")
        ax.legend()
        ax.set_title("Evaluation (eval split)")
        parts.append(png(figure))
    parts += [f"<p>{html.escape(line)}</p>" for line in decision.get("failure_lines", [])]
    return "".join(parts + gate_parts(decision))


def gate_parts(decision: dict) -> list[str]:
    """The paired gate: each comparison's gain with its 95 % interval, as a table and a chart
    whose dashed lines are the rules' bounds (0 for superiority, -margin for non-inferiority)."""
    gate = decision.get("gate")
    if not gate:
        return []
    relative = decision.get("gate_unit", "").startswith("fraction")
    scale, unit = (100.0, "% of the other's MAE") if relative else (100.0, "accuracy points")
    rows = [[entry["label"], entry["verdict"], scale * entry["diff"], f"[{scale * entry['ci_low']:+.2f}, {scale * entry['ci_high']:+.2f}]",
             entry["rule"].replace("_", "-") + (f" (margin {scale * entry['margin']:.2f})" if entry["rule"] == "non_inferiority" else ""),
             "passed" if entry["passed"] else "FAILED"] for entry in gate.values()]  # fmt: skip
    parts = [f"<p>The gate, paired on the same eval examples (gain of the candidate, {unit}; 95 % intervals):</p>",
             table(["compared with", "verdict", "gain", "95 % interval", "rule", "result"], rows)]  # fmt: skip
    figure, ax = plt.subplots(figsize=(6, 0.6 * len(gate) + 1.2))
    for y, entry in enumerate(gate.values()):
        low, high, mid = (scale * entry[k] for k in ("ci_low", "ci_high", "diff"))
        ax.errorbar(mid, y, xerr=[[mid - low], [high - mid]], fmt="o", color="green" if entry["passed"] else "red", capsize=4)
        ax.vlines(-scale * entry["margin"], y - 0.3, y + 0.3, colors="grey", linestyles="--")
    ax.axvline(0, color="black", linewidth=0.8)
    ax.set_yticks(range(len(gate)), [entry["label"][:40] for entry in gate.values()])
    ax.set_xlabel(f"gain of the candidate ({unit})")
    ax.set_title("Paired evidence (dashed: the rule's bound)")
    parts.append(png(figure))
    if decision.get("statement"):
        parts.append(f"<p><b>What the transformer added:</b> {html.escape(decision['statement'])}</p>")
    return parts


CONFUSION_MAX_CLASSES = 30  # more distinct labels (open-vocabulary transcripts): a table of the commonest errors


def confusion_section(report: dict, config, truth_key: str | None = None, output_key: str | None = None) -> str:
    """Actual against predicted on the test split (a classifier's label by default)."""
    import collections

    import numpy as np

    keys = {k: v for k, v in (("truth_key", truth_key), ("output_key", output_key)) if v}
    records, actual, predicted, which = test_predictions(report, **keys)
    if len(set(actual) | set(predicted)) > CONFUSION_MAX_CLASSES:
        errors = collections.Counter((a, p) for a, p in zip(actual, predicted, strict=True) if a != p).most_common(20)
        rows = [[a, p, n] for (a, p), n in errors]
        correct = sum(a == p for a, p in zip(actual, predicted, strict=True))
        return (f"<p>{html.escape(which)}: {correct} of {len(records)} test examples exact; the commonest errors:</p>"
                + table(["actual", "predicted", "count"], rows))  # fmt: skip
    labels = sorted(set(actual) | set(predicted))
    index = {label: i for i, label in enumerate(labels)}
    matrix = np.zeros((len(labels), len(labels)), dtype=int)
    for a, p in zip(actual, predicted, strict=True):
        matrix[index[a], index[p]] += 1
    figure, ax = plt.subplots(figsize=(1 + 0.6 * len(labels), 1 + 0.5 * len(labels)))
    ax.imshow(matrix, cmap="Blues")
    ax.set_xticks(range(len(labels)), labels, rotation=45)
    ax.set_yticks(range(len(labels)), labels)
    for i in range(len(labels)):
        for j in range(len(labels)):
            ax.text(j, i, matrix[i, j], ha="center", va="center")
    ax.set_xlabel("predicted")
    ax.set_ylabel("actual")
    accuracy = float(np.trace(matrix)) / max(1, matrix.sum())
    return f"<p>{html.escape(which)}: test accuracy {accuracy:.3f} on {len(records)} examples.</p>" + png(figure)
