"""One self-contained HTML report of a pipeline run (plots embedded as base64 PNG, no network).

    python -m pipeline.report --task timeseries [--output-dir output] [--run RUN] [--out report.html]

Sections, each read from the run's artifacts found through ML Metadata (pipeline.inspect_mlmd):
components, data statistics (StatisticsGen), learning curves (the Trainer's TensorBoard logs),
tuner trials (Tuner outputs), evaluation against thresholds and the deployed model (TFMA),
and predictions of the pushed model on the test split: forecast against actual values for
time series, a confusion matrix for text. A section whose inputs are missing says why.
"""
from __future__ import annotations

import argparse
import base64
import glob
import html
import io
import json
import os
import pathlib
import sys
from collections.abc import Callable

import matplotlib

matplotlib.use("Agg")  # no display; PNGs only
import matplotlib.pyplot as plt  # noqa: E402

from pipeline import inspect_mlmd  # noqa: E402

REPORT_FILE = "report.html"
MAX_FEATURE_PLOTS = 6
FORECAST_WINDOWS = 4


# -- HTML helpers --------------------------------------------------------------------
def png(figure) -> str:
    buffer = io.BytesIO()
    figure.tight_layout()
    figure.savefig(buffer, format="png", dpi=90)
    plt.close(figure)
    return f'<img src="data:image/png;base64,{base64.b64encode(buffer.getvalue()).decode()}">'


def table(header: list[str], rows: list[list]) -> str:
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(cell(c))}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def cell(value) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return value if isinstance(value, str) else json.dumps(value)


def artifact_uri(report: dict, node: str, key: str) -> str | None:
    return next((a["uri"] for a in report["artifacts"] if a["node"] == node and a["key"] == key), None)


# -- sections ------------------------------------------------------------------------
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


def tuner_objective(config) -> tuple[str, str]:
    """(metric, "min" | "max") the task's Tuner optimizes (its module's TUNER_OBJECTIVE)."""
    import importlib

    from pipeline.create_pipeline import task_spec

    objective = importlib.import_module(task_spec(config.task).module).TUNER_OBJECTIVE
    return objective.name, objective.direction


def hyperparameter_rows(best: dict, fixed: dict) -> list[list]:
    """[name, value, chosen by]: the Tuner's best values, then the settings the config fixes
    (`model:`), which the Tuner does not search."""
    rows = [[k, v, "Tuner (best trial)"] for k, v in sorted(best.items()) if k not in fixed]
    rows += [[k, v, f"fixed in the config (model.{k})"] for k, v in sorted(fixed.items())]
    return rows


def tuner_section(report: dict, config) -> str:
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
    objective, direction = tuner_objective(config)
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
             f"{html.escape(inspect_mlmd.baseline_line(decision))}</p>"]  # fmt: skip
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
    return "".join(parts)


def test_examples(report: dict, limit: int | None = None) -> list[bytes]:
    from components import examples_io

    return examples_io.read_split(artifact_uri(report, "ExampleGen", "examples") or "", "test", limit)


def serving_function(report: dict):
    import tensorflow as tf

    if not report["pushed_models"]:
        raise LookupError("no model has been pushed")
    model = tf.saved_model.load(report["pushed_models"][-1]["destination"])
    return model, model.signatures["serving_default"]


def candidate_model(report: dict):
    """The run's candidate (the Trainer's model, pushed or not) and a description of it."""
    import tensorflow as tf
    from tfx.utils import path_utils

    uri = artifact_uri(report, "Trainer", "model")
    if uri:
        return tf.saved_model.load(path_utils.serving_model_path(uri)), "this run's candidate"
    model, _ = serving_function(report)
    return model, f"pushed model {report['pushed_models'][-1]['version']}"


FORECASTER_STYLE = {  # the model and each challenger: colour and line style, in every plot
    "model": ("tab:orange", "-"),
    "persistence": ("tab:gray", ":"),
    "seasonal_naive": ("tab:green", "--"),
    "linear": ("tab:blue", "-."),
}


def forecast_section(report: dict, config) -> str:
    import numpy as np
    import tensorflow as tf

    from components import export
    from data import features
    from tasks.timeseries import challengers
    from tasks.timeseries import scores as forecast_scores

    model, which = candidate_model(report)
    series = config.series
    uri = artifact_uri(report, "ExampleGen", "examples")
    signature = model.signatures.get(export.EVALUATION_SIGNATURE) or model.signatures[export.SERVING_SIGNATURE]
    records, windows, truth = forecast_scores.read_split(uri, "test", series)
    picks = np.linspace(0, len(records) - 1, FORECAST_WINDOWS).astype(int)
    chosen = [records[i] for i in picks]
    forecasts = {}
    if export.EVALUATION_SIGNATURE in model.signatures:
        forecasts = forecast_scores.model_forecasts(signature, chosen, series.target_columns)
    else:  # a model exported before the evaluation signature: its own forecasts only
        outputs = signature(examples=tf.constant(chosen))
        forecasts["model"] = np.stack(
            [outputs[features.forecast_output_key(c)].numpy() for c in series.target_columns], axis=-1
        )
    forecasts.update(challengers.naive_forecasts(windows[picks], series.horizon, series.season))
    columns = series.target_columns
    figure, axes = plt.subplots(len(columns), len(picks), figsize=(4 * len(picks), 3 * len(columns)), squeeze=False)
    for col, column in enumerate(columns):
        for i, pick in enumerate(picks):
            ax = axes[col][i]
            history = windows[pick, :, col]
            future = range(1, series.horizon + 1)
            ax.plot(range(-len(history) + 1, 1), history, color="black", alpha=0.5, label="history")
            ax.plot(future, truth[pick, :, col], color="black", label="actual")
            for name, forecast in forecasts.items():
                color, style = FORECASTER_STYLE.get(name, ("tab:red", "-"))
                ax.plot(future, forecast[i, :, col], color=color, linestyle=style, label=name)
            ax.set_title(f"{column}: test window {pick + 1}")
            ax.set_xlabel("steps")
    axes[0][0].legend(fontsize=7)
    named = ", ".join(columns)
    return f"<p>{html.escape(which)} and the challengers on test windows of {html.escape(named)}.</p>" + png(figure)


def horizon_section(report: dict, config) -> str:
    """MAE of each horizon step, model and challengers, from the Scorer (test split)."""
    key = report.get("scores_key")
    by_step = (report.get(key) or {}).get("mae_by_step", {}) if key else {}
    if not by_step:
        return "<p>No per-step scores in this run (no Scorer output).</p>"
    parts = []
    figure, axes = plt.subplots(1, len(by_step), figsize=(6 * len(by_step), 3.5), squeeze=False)
    for ax, (split, curves) in zip(axes[0], by_step.items(), strict=True):
        for name, values in curves.items():
            color, style = FORECASTER_STYLE.get(name, ("tab:red", "-"))
            ax.plot(range(1, len(values) + 1), values, color=color, linestyle=style, marker=".", label=name)
        ax.set_xlabel("horizon step")
        ax.set_ylabel("MAE (data units)")
        ax.set_title(f"MAE by horizon step ({split})")
    axes[0][0].legend(fontsize=8)
    parts.append(
        "<p>A curve that falls at the last steps, or jumps between neighbours, points at the forecast head "
        "(for example a flatten head overfitting single steps) rather than at the data: the challengers' "
        "curves show how error should grow with the horizon.</p>"
    )
    parts.append(png(figure))
    return "".join(parts)


def scores_section(report: dict) -> str:
    from pipeline import scores

    key = report.get("scores_key")
    if not key:
        return "<p>No Scorer output in this run.</p>"
    if scores.by_acting(report[key]):  # mean returns (the decision task), not splits of examples
        return "<pre>" + html.escape("\n".join(scores.lines(key, report[key]))) + "</pre>"
    header, rows = scores.table_rows(report[key])
    return "<p>Eval chooses (it gates); test chooses nothing.</p>" + table(header, rows)


def return_curve_section(report: dict, config) -> str:
    """Achieved against asked-for return: the Decision Transformer's signature curve."""
    found = report.get(report.get("scores_key") or "", {})
    if "curve" not in found:
        return "<p>No rollout scores in this run.</p>"
    curve = found["curve"]
    asked = [p["target_return"] for p in curve]
    mean = [p["mean_return"] for p in curve]
    spread = [p["std_return"] for p in curve]
    figure, ax = plt.subplots(figsize=(6, 4))
    ax.errorbar(asked, mean, yerr=spread, marker="o", capsize=3, label="Decision Transformer (mean ± std)")
    ax.plot(asked, asked, color="gray", linestyle=":", label="achieved = asked")
    ax.axhline(found["behaviour_cloning"]["mean_return"], color="tab:orange", linestyle="--", label="behaviour cloning")
    ax.axhline(found["data"]["mean_return"], color="tab:red", linestyle="--", label="the data's mean")
    ax.set_xlabel("target return (asked)")
    ax.set_ylabel("achieved return")
    ax.legend(fontsize=8)
    rows = [[p["target_return"], round(p["mean_return"], 1), round(p["std_return"], 1), p["episodes"]] for p in curve]
    return (f"<p>{config.decision.env_id}: seeded episodes per target, asked for each return at the first step.</p>"
            + png(figure) + table(["target", "mean return", "std", "episodes"], rows))  # fmt: skip


def text_statistics_section(report: dict, config) -> str:
    """Vocabulary size (train-fitted), words per text by split, and the share of out-of-vocabulary words."""
    import numpy as np
    import tensorflow as tf
    import tensorflow_transform as tft

    from data import features
    from tasks.text.preprocessing import standardize_and_split

    uri = artifact_uri(report, "ExampleGen", "examples")
    transform = tft.TFTransformOutput(artifact_uri(report, "Transform", "transform_graph"))
    vocabulary = {v.decode() for v in transform.vocabulary_by_name(features.TOKEN_VOCABULARY)}
    rows, lengths = [], {}
    for split in ("train", "eval", "test"):
        files = sorted(glob.glob(os.path.join(uri or "", f"Split-{split}", "*")))
        texts = [tf.train.Example.FromString(r.numpy()).features.feature[features.TEXT_KEY].bytes_list.value[0]
                 for r in tf.data.TFRecordDataset(files, compression_type="GZIP")]  # fmt: skip
        tokens = standardize_and_split(tf.constant(texts), 1).to_list() if texts else []
        counts = np.array([len(t) for t in tokens])
        known = sum(tok.decode() in vocabulary for row in tokens for tok in row)
        lengths[split] = counts
        rows.append([split, len(texts), float(np.median(counts)), float(np.percentile(counts, 95)), int(counts.max()),
                     1 - known / max(1, counts.sum())])  # fmt: skip
    parts = [f"<p>Token vocabulary (fitted on train, <code>text.vocab_size</code> = {config.text.vocab_size}): "
             f"{len(vocabulary)} tokens; texts are cut at <code>text.max_length</code> = {config.text.max_length}.</p>",
             table(["split", "texts", "median words", "95th percentile", "max", "out-of-vocabulary share"], rows)]  # fmt: skip
    figure, ax = plt.subplots(figsize=(6, 3))
    top = max(int(np.percentile(np.concatenate(list(lengths.values())), 99)), 1)
    for split, counts in lengths.items():
        ax.hist(np.minimum(counts, top), bins=30, histtype="step", density=True, label=split)
    ax.axvline(config.text.max_length, color="red", linestyle="--", label="max_length")
    ax.set_xlabel("words per text")
    ax.legend()
    parts.append(png(figure))
    return "".join(parts)


def truth_and_output_keys(task: str) -> tuple[str, str]:
    """(raw feature holding the truth, serving output holding the prediction) of a task."""
    from data import features

    if task == "speech":
        return features.TRANSCRIPT_KEY, features.TRANSCRIPT_KEY
    return features.LABEL_KEY, features.PREDICTED_LABEL_KEY


def test_predictions(report: dict, task: str, limit: int = 2000):
    """(test records, actual labels, predicted labels, which model) of the run's candidate."""
    from components import examples_io, export

    truth_key, output_key = truth_and_output_keys(task)
    records = test_examples(report, limit=limit)
    model, which = candidate_model(report)
    outputs = export.call_in_batches(model.signatures[export.SERVING_SIGNATURE], records, 128)
    predicted = [v.decode() for v in outputs[output_key].reshape(-1)]
    actual = examples_io.first_strings(records, truth_key)
    return records, actual, predicted, which


CONFUSION_MAX_CLASSES = 30  # more distinct labels (open-vocabulary transcripts): a table of the commonest errors


def confusion_section(report: dict, config) -> str:
    import collections

    import numpy as np

    records, actual, predicted, which = test_predictions(report, config.task)
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


MISCLASSIFIED_SHOWN = 24


def misclassified_section(report: dict, config) -> str:
    """A grid of test images the candidate got wrong, each titled actual -> predicted."""
    import tensorflow as tf

    from data import features

    records, actual, predicted, which = test_predictions(report, config.task)
    wrong = [i for i, (a, p) in enumerate(zip(actual, predicted, strict=True)) if a != p]
    if not wrong:
        return f"<p>{html.escape(which)} classifies all {len(records)} test images correctly.</p>"
    shown = wrong[:MISCLASSIFIED_SHOWN]
    columns = min(8, len(shown))
    rows = (len(shown) + columns - 1) // columns
    figure, axes = plt.subplots(rows, columns, figsize=(1.6 * columns, 1.9 * rows), squeeze=False)
    for ax in axes.reshape(-1):
        ax.axis("off")
    for ax, index in zip(axes.reshape(-1), shown, strict=False):
        encoded = tf.train.Example.FromString(records[index]).features.feature[features.IMAGE_KEY].bytes_list.value[0]
        image = tf.io.decode_image(encoded, expand_animations=False).numpy()
        ax.imshow(image.squeeze(), cmap="gray" if image.shape[-1] == 1 else None)
        ax.set_title(f"{actual[index]} -> {predicted[index]}", fontsize=9, color="tab:red")
    return (f"<p>{html.escape(which)}: {len(wrong)} of {len(records)} test images misclassified "
            f"(the first {len(shown)} shown, titled actual -> predicted).</p>" + png(figure))  # fmt: skip


SPECTROGRAMS_SHOWN = 8


def spectrogram_section(report: dict, config) -> str:
    """The first test clips' standardized log-mel spectrograms (what the model reads), titled
    with the reference and the candidate's transcript."""
    from components import export
    from data import features

    records, actual, predicted, which = test_predictions(report, config.task, limit=SPECTROGRAMS_SHOWN)
    model, _ = candidate_model(report)
    transformed = export.call_in_batches(model.signatures[export.TRANSFORM_SIGNATURE], records)
    columns = min(4, len(records))
    rows = (len(records) + columns - 1) // columns
    figure, axes = plt.subplots(rows, columns, figsize=(3.2 * columns, 2.4 * rows), squeeze=False)
    for ax in axes.reshape(-1):
        ax.axis("off")
    for index, ax in enumerate(axes.reshape(-1)[: len(records)]):
        frames = int(transformed[features.FRAMES_KEY][index])
        ax.imshow(transformed[features.SPECTROGRAM_KEY][index, :frames].T, origin="lower", aspect="auto", cmap="magma")
        ok = actual[index] == predicted[index]
        ax.set_title(f"{actual[index]!r} -> {predicted[index]!r}", fontsize=9, color="tab:green" if ok else "tab:red")
    return (f"<p>{html.escape(which)}: log-mel spectrograms of the first {len(records)} test clips "
            f"(time across, mel bins up), titled reference -> transcript.</p>" + png(figure))  # fmt: skip


PREDICTION_SECTIONS: dict[str, list[tuple[str, Callable]]] = {
    "timeseries": [
        ("Forecasts vs actual, with the challengers (test split)", forecast_section),
        ("Error by horizon step", horizon_section),
    ],
    "text": [
        ("Text statistics", text_statistics_section),
        ("Confusion matrix (test split)", confusion_section),
    ],
    "vision": [
        ("Confusion matrix (test split)", confusion_section),
        ("Misclassified test images", misclassified_section),
    ],
    "speech": [
        ("Test clips: spectrograms and transcripts", spectrogram_section),
        ("Confusions (test split)", confusion_section),
    ],
    "decision": [("Achieved return against target return", return_curve_section)],
}


def guarded(title: str, build: Callable[[], str]) -> str:
    try:
        body = build()
    except Exception as error:  # a missing artifact should not lose the rest of the report
        body = f"<p><i>Not available: {html.escape(type(error).__name__)}: {html.escape(str(error))}</i></p>"
    return f'<section><h2>{html.escape(title)}</h2>{body}</section>'


STYLE = """body{font-family:sans-serif;max-width:1200px;margin:2em auto;color:#222}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:3px 8px;font-size:13px}
th{background:#f0f0f0}img{max-width:100%}h2{border-bottom:1px solid #ddd}"""


def build_report(config, run: str | None = None) -> str:
    report = inspect_mlmd.collect(config.metadata_path, run)
    sections = [
        ("Components", lambda: components_section(report)),
        ("Data statistics", lambda: statistics_section(report)),
        ("Learning curves", lambda: learning_curves_section(report)),
        ("Tuner trials", lambda: tuner_section(report, config)),
        ("Evaluation", lambda: evaluation_section(report)),
        ("Scores of the candidate and the challengers", lambda: scores_section(report)),
    ]
    for title, section in PREDICTION_SECTIONS.get(config.task, []):
        sections.append((title, lambda section=section: section(report, config)))
    body = "".join(guarded(title, build) for title, build in sections)
    title = f"{config.pipeline_name}: run {report['run']}"
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
            f"<style>{STYLE}</style></head><body><h1>{html.escape(title)}</h1>"
            f"<p>ML Metadata: {html.escape(report['store'])}</p>{body}</body></html>")  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    from pipeline import run_config

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--task", default="timeseries")
    parser.add_argument("--config", help="config YAML (default: the one the run recorded, else tasks/<task>/config.yaml)")
    parser.add_argument("--output-dir", default="output", help="OUTPUT_DIR (default: output/)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="config override (as for the run)")
    parser.add_argument("--run", help="run name or index (default: the latest)")
    parser.add_argument("--out", help=f"HTML path (default: OUTPUT_DIR/<task>/{REPORT_FILE})")
    args = parser.parse_args(argv)
    try:  # the run's own config unless CONFIG overrides it (pipeline/run_config.py)
        config = run_config.resolve("report", args.task, args.output_dir, args.config, args.set)
    except (FileNotFoundError, ValueError) as error:
        print(f"report: {error}", file=sys.stderr)
        return 2
    try:
        page = build_report(config, args.run)
    except inspect_mlmd.InspectError as error:
        print(f"report: {error}", file=sys.stderr)
        return 1
    out = pathlib.Path(args.out) if args.out else config.task_dir / REPORT_FILE
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(page)
    print(f"Report: {out} ({len(page) / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
