"""The report's section on the served model's inputs (`make monitor`, pipeline/monitor.py):
the last window's skew and drift findings, and each raw input's distribution in serving
next to training's, drawn from the two TFDV statistics the monitor compared; and, when the
monitor was given the truth (TRUTH=...), the live accuracy: each model's mean loss on the
joined requests, and its daily mean over the requests' logged time (the `live.json` of
serving/live_accuracy.py)."""
from __future__ import annotations

import html
import json
import pathlib

from components.anomaly_gate import SCHEMA_DIFF_FILE, STATISTICS_FILE
from reporting.html import plt, png, table

MONITOR_DIR = "monitor"  # under OUTPUT_DIR/<task>/
RESULT = "result.json"  # the last monitor run: window, findings, where its statistics are
LIVE = "live.json"  # in a run's folder, with TRUTH: live accuracy (serving/live_accuracy.py's summary)
TRAINING_STATISTICS = "training_statistics.pb"  # copied into each run's folder: the report needs no store
SPLIT = "serving"  # the window's split name in its ExampleStatistics and ExampleAnomalies artifacts
WINDOW_STATISTICS = f"statistics/Split-{SPLIT}/{STATISTICS_FILE}"  # the ExampleStatistics layout
ANOMALIES = f"anomalies/Split-{SPLIT}/{SCHEMA_DIFF_FILE}"  # the ExampleAnomalies layout


def monitor_dir(task_dir: pathlib.Path) -> pathlib.Path:
    return task_dir / MONITOR_DIR


def result_path(task_dir: pathlib.Path) -> pathlib.Path:
    return monitor_dir(task_dir) / RESULT


def day_summary(watched: dict | None) -> str:
    """One simulated day's monitor result in a few words, for the terminal and the timeline table:
    "monitor: ALARM glucose skew 0.31 > 0.15", "monitor: quiet (glucose skew 0.08 <= 0.15)",
    "monitor: no requests"."""
    if not watched:
        return "monitor: no requests"
    shown = [f for f in watched["findings"] if f["anomaly"]] if watched["alarm"] else watched["findings"]
    said = ", ".join(f"{f['feature']} {f['kind']} {f['value']:.3g} {'>' if f['anomaly'] else '<='} {f['threshold']:.3g}"
                     if f["value"] is not None else f"{f['feature']} {f['kind']}: {f['statistic']}" for f in shown)  # fmt: skip
    return f"monitor: ALARM {said}" if watched["alarm"] else f"monitor: quiet ({said or 'no comparison'})"


def numeric_histogram(feature):
    """(low edges, high edges, share of values) of a numeric feature's standard histogram."""
    histogram = next(h for h in feature.num_stats.histograms if h.type == h.STANDARD)
    total = sum(b.sample_count for b in histogram.buckets) or 1.0
    return ([b.low_value for b in histogram.buckets], [b.high_value for b in histogram.buckets],
            [b.sample_count / total for b in histogram.buckets])  # fmt: skip


def features_by_name(statistics) -> dict:
    return {".".join(f.path.step): f for f in statistics.datasets[0].features}


def distribution_plots(run_dir: pathlib.Path) -> str:
    """One histogram per numeric raw input (serving over training, as shares of the values),
    and a table of the string inputs' lengths and distinct values."""
    import tensorflow_data_validation as tfdv

    training = features_by_name(tfdv.load_stats_binary(str(run_dir / TRAINING_STATISTICS)))
    serving = features_by_name(tfdv.load_stats_binary(str(run_dir / WINDOW_STATISTICS)))
    numeric = [n for n, f in serving.items() if f.HasField("num_stats") and n in training]
    parts = []
    if numeric:
        figure, axes = plt.subplots(1, len(numeric), figsize=(4.5 * len(numeric), 3.2), squeeze=False)
        for axis, name in zip(axes[0], numeric, strict=False):
            for label, feature, color in (("training", training[name], "gray"), ("serving", serving[name], "tab:orange")):
                low, high, share = numeric_histogram(feature)
                axis.stairs(share, [*low, high[-1]], label=label, color=color, fill=label == "training", alpha=0.6)
            axis.set_title(name)
            axis.set_ylabel("share of values")
            axis.legend()
        parts.append(png(figure))
    strings = [n for n, f in serving.items() if f.HasField("string_stats") and n in training]
    if strings:
        rows = [[n, training[n].string_stats.avg_length, serving[n].string_stats.avg_length,
                 training[n].string_stats.unique, serving[n].string_stats.unique] for n in strings]  # fmt: skip
        parts.append(table(["input", "mean length (training)", "mean length (serving)", "distinct (training)",
                            "distinct (serving)"], rows))  # fmt: skip
    return "".join(parts)


def monitor_section(task_dir: pathlib.Path) -> str:
    """What the last `make monitor` found, and the distributions it compared."""
    result = json.loads(result_path(task_dir).read_text())
    count = len(result["anomalies"])
    verdict = f"{count} anomal{'y' if count == 1 else 'ies'}" if count else "no anomaly"
    head = (f"<p>Last monitor run {result['checked_at']}: {result['requests']} requests logged "
            f"{result['window']['first']} .. {result['window']['last']} ({result['window']['selected_by']}), served "
            f"by version(s) {', '.join(map(str, result['versions']))}; deployed version {result['deployed_version']} "
            f"(run {result['deployed_run']}): <b>{verdict}</b>.</p>")  # fmt: skip
    rows = [[f["feature"], f["kind"], f["statistic"], f["value"], f["threshold"], "ANOMALY" if f["anomaly"] else "ok"]
            for f in result["findings"]]  # fmt: skip
    findings = table(["feature", "check", "statistic", "value", "threshold", "verdict"], rows) if rows else ""
    live = live_section(pathlib.Path(result["live"])) if result.get("live") else ""
    return head + findings + distribution_plots(pathlib.Path(result["run_dir"])) + live


def live_section(path: pathlib.Path) -> str:
    """The live accuracy: the requests joined, a table of each model's mean loss and its paired
    difference with the deployed model, and a plot of each model's daily mean loss."""
    live = json.loads(path.read_text())
    loss = live["loss"]
    head = (f"<h3>Live accuracy</h3><p>Truth {html.escape(live['truth'])}, {live['selected_by']}: {live['requests']} requests, "
            f"{live['joined']} joined to their truth, {live['unknown']} whose truth is not known yet, "
            f"{live['no_key']} without a usable key. {loss} of the deployed model's logged predictions and of its "
            "challengers on the same requests; difference = challenger - deployed (positive: the deployed model "
            "is better), with its 95% interval.</p>")  # fmt: skip
    rows = [[name, m["mean"] if m["mean"] is not None else "-", m["requests"], m.get("diff", "-"),
             f"[{m['ci_low']:.4g}, {m['ci_high']:.4g}]" if "ci_low" in m else "-", m.get("verdict", "-")]
            for name, m in live["models"].items()]  # fmt: skip
    parts = [head, table(["model", f"mean {loss}", "requests", "difference", "95% interval", "verdict"], rows)]
    parts += [f"<p><i>{html.escape(note)}</i></p>" for note in live["notes"]]
    if live["daily"]:
        days = [d["day"] for d in live["daily"]]
        figure, axis = plt.subplots(figsize=(8, 3.2))
        for name in live["models"]:
            means = [d["mean"].get(name) for d in live["daily"]]
            axis.plot(days, [float("nan") if m is None else m for m in means], marker="o", label=name,
                      linewidth=2.5 if name == live["deployed"] else 1.2)  # fmt: skip
        axis.set_ylabel(f"daily mean {loss}")
        axis.set_xlabel("day of the requests (UTC)")
        axis.tick_params(axis="x", labelrotation=30)
        axis.legend()
        parts.append(png(figure))
        parts.append(table(["day", "requests", *live["models"]],
                           [[d["day"], d["requests"], *[d["mean"].get(n) if d["mean"].get(n) is not None else "-"
                                                       for n in live["models"]]] for d in live["daily"]]))  # fmt: skip
    return "".join(parts)
